"""Referrals: caseworkers submit, read, place and withdraw a household's referral."""
