"""Tests of what every feature shares: settings, errors, limits, migrations, the clock."""
