"""Tests of the postcode directory and councils' areas."""
