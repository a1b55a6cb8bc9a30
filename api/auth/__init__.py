"""Who may act: signed tokens and page sessions, API keys, accounts, passwords and sign-in
throttling.
"""
