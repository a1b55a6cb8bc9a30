"""What every feature shares: settings, the database, migrations, the clock, errors, logs,
tables and dependencies.
"""
