"""Referral links, attribution of sources, anti-fraud signals and viral statistics."""
