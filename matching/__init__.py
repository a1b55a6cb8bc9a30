"""foodmatch's matching engine: a pure library (no web, no database, no network).

Typical use::

    from matching.io import read_problem, write_matches
    from matching.engine import solve

    problem = read_problem("referrals.csv", "providers.csv")
    result = solve(problem, time_limit=30)
    write_matches(result, "matches.csv")
"""
