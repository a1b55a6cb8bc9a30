"""Tests of the foodmatch command line (service, database and what-if commands)."""
