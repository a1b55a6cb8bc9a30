"""Run the first-come-first-served baseline on one instance, as the benchmarks do.

Writes a summary in the same JSON shape as ``foodmatch match --summary-json`` (plus the
candidate pair counts and an independent validity check), so ``benchmarks.run`` can put it
next to the engine. Run in its own process so its time and memory are measured alone::

    python -m benchmarks.fcfs REFERRALS.csv PROVIDERS.csv --summary-json FILE
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.summary import assignment_of, check, write_json
from matching.baseline import first_come_first_served
from matching.candidates import candidate_pairs
from matching.io import read_problem
from matching.report import run_summary


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: read, run the baseline, check it, write the summary JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fcfs")
    parser.add_argument("referrals", type=Path)
    parser.add_argument("providers", type=Path)
    parser.add_argument("--summary-json", type=Path)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    problem = read_problem(args.referrals, args.providers)
    read_seconds = time.perf_counter() - started
    result = first_come_first_served(problem)
    verdict = check(problem, assignment_of(result))
    # Pair counts for the report (computed again here, outside the timed run).
    candidates = candidate_pairs(problem)
    summary = run_summary(
        result,
        problem,
        {
            "seconds": round(read_seconds + result.seconds, 3),
            "pairs_in_reach": int(candidates.ref.size),
            "pairs_feasible": int(candidates.feasible.sum()),
            "valid": verdict.valid,
            "errors": verdict.errors,
        },
    )
    summary["timings"]["read"] = round(read_seconds, 4)
    if args.summary_json:
        write_json(summary, args.summary_json)
    print({k: v for k, v in summary.items() if k != "errors"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
