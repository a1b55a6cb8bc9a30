"""Match runs: the engine adapter (database rows to an engine problem, capacity booking) and
the run service.
"""
