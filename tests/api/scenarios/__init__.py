"""Tests of what-if planning in the service: the API and the scenario service."""
