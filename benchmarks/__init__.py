"""Benchmarks for the matching engine (not part of the installed product).

- ``generate``: deterministic synthetic instances in the matching contract's CSV format,
  including the demo region shipped in ``data/sample/``.
- ``fcfs``: runs the first-come-first-served baseline on one instance (own process).
- ``staged_cpsat``: a straightforward staged CP-SAT model, kept only for comparison.
- ``summary``: the summary JSON shape shared with ``foodmatch match --summary-json``, and an
  independent checker that holds any answer to the contract.
- ``gap``: the OR-Library / Yagiura generalised assignment instances and their bounds.
- ``run``: ``python -m benchmarks.run`` runs everything and writes ``docs/benchmarks.md``.
"""
