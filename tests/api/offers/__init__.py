"""Tests of offers: accepting, declining, outcomes and the race for the last place."""
