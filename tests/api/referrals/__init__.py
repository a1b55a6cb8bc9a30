"""Tests of referrals: withdrawal and what it gives back."""
