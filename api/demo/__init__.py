"""The demonstration region: seeds a database with sample organisations, sites and referrals."""
