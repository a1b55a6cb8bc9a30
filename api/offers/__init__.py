"""Offers: a charity accepts, declines or records the outcome of a place offered to a household."""
