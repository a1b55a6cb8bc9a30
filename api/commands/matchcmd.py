"""``foodmatch match`` (the contract's batch command) and ``foodmatch demo``.

Exit status: 0 with a result (optimal or not), 2 on bad input (nothing written), 1 on an
internal error. Progress goes to stderr, so stdout stays the summary.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from matching.models import MatchResult, Problem

T = TypeVar("T")

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1


@contextmanager
def _progress(message: str) -> Iterator[None]:
    """A spinner on stderr while a step runs (silent when stderr is not a terminal)."""
    from rich.console import Console

    console = Console(stderr=True)
    if console.is_terminal:
        with console.status(message):
            yield
    else:
        yield


def _step(message: str, action: Callable[[], T], timings: dict[str, float], key: str) -> T:
    started = time.perf_counter()
    with _progress(message):
        value = action()
    timings[key] = time.perf_counter() - started
    return value


def _print_summary(summary: dict[str, Any]) -> None:
    matched = summary["matched"]
    print(
        f"matched: {summary['matched_total']} of {summary['referrals']} referrals "
        f"(emergency {matched['emergency']}, urgent {matched['urgent']}, "
        f"standard {matched['standard']})"
    )
    if summary["unmatched"]:
        from matching.report import UNMATCHED_WORDS

        words = {r.value: label.split(": ", 1)[1] for r, label in UNMATCHED_WORDS.items()}
        parts = ", ".join(
            f"{words.get(k, k.replace('_', ' '))} {v}"
            for k, v in sorted(summary["unmatched"].items())
        )
        print(f"not matched: {parts}")
    print(f"total distance: {summary['total_distance_km']:.3f} km")
    print(f"status: {summary['status']} ({summary['method']})")
    print(f"time: {summary['seconds']:.2f} s (solve {summary['solve_seconds']:.2f} s)")


def _bad_input(err: Exception) -> None:
    print(f"error: bad input, nothing written.\n{err}", file=sys.stderr)
    raise typer.Exit(EXIT_BAD_INPUT)


PROGRESS_EVERY = 2.0
"""Seconds between progress lines on stderr while the engine works."""
GRACE = 1.0
"""After Ctrl-C, how long the engine may take to hand back its own answer before the best
answer posted so far is taken instead (a solver in mid-run cannot be asked to return)."""


def solve_anytime(
    problem: Problem,
    *,
    time_limit: float,
    gap: float,
    progress_every: float = PROGRESS_EVERY,
) -> MatchResult:
    """Run the engine in a worker thread, print progress, and stop it cleanly on Ctrl-C.

    Progress lines go to stderr every ``progress_every`` seconds, terminal or not. On
    SIGINT the engine is told to stop; its answer (or, if it does not return within
    :data:`GRACE` seconds, the best answer it had posted) comes back with status
    ``interrupted``.
    """
    from matching.engine import solve
    from matching.engine.budget import Watch
    from matching.engine.solve import interrupted_result

    watch = Watch()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = solve(problem, time_limit=time_limit, gap=gap, watch=watch)
        except BaseException as exc:  # handed to the main thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="foodmatch-engine", daemon=True)
    interrupted = threading.Event()

    def on_sigint(_signum: int, _frame: object) -> None:
        interrupted.set()
        watch.stop()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        worker.start()
        next_line = time.perf_counter() + progress_every
        while worker.is_alive():
            worker.join(timeout=0.1)
            if interrupted.is_set():
                print("interrupted: finishing with the best answer so far…", file=sys.stderr)
                worker.join(timeout=GRACE)
                break
            if time.perf_counter() >= next_line:
                next_line += progress_every
                last = watch.last
                if last is not None:
                    line = last.line(time.perf_counter() - watch.started)
                    # The same line again still says the engine is alive and how long it has
                    # been; a log reader sees the elapsed time move.
                    print(line, file=sys.stderr, flush=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    if "error" in outcome:
        raise outcome["error"]
    result: MatchResult | None = outcome.get("result")
    if result is None:  # interrupted, and the engine is still inside a solver
        result = interrupted_result(watch)
    return result


def match(
    referrals: Annotated[Path, typer.Argument(help="referrals.csv (matching contract v1)")],
    providers: Annotated[Path, typer.Argument(help="providers.csv (matching contract v1)")],
    out: Annotated[Path, typer.Option("--out", help="where to write matches.csv")],
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="stop after this many seconds with the best found "
            "(default: 0.75 s per 1,000 referrals, at least 5 s, at most 120 s)",
        ),
    ] = None,
    gap: Annotated[
        float | None,
        typer.Option(
            "--gap",
            help="stop each tier once it is within this relative gap of its bound (0.001 = 0.1%)",
        ),
    ] = None,
    explain_file: Annotated[
        Path | None,
        typer.Option("--explain", help="also write why each referral got what it got (CSV)"),
    ] = None,
    summary_json: Annotated[
        Path | None, typer.Option("--summary-json", help="also write the summary as JSON")
    ] = None,
    progress_every: Annotated[
        float,
        typer.Option("--progress-every", help="seconds between progress lines on stderr", min=0.05),
    ] = PROGRESS_EVERY,
) -> None:
    """Match referrals to providers optimally and write matches.csv."""
    try:
        from matching.engine.budget import default_time_limit
        from matching.io import InputError, read_problem, write_explanations, write_matches
        from matching.report import run_summary

        if time_limit is not None and time_limit <= 0:
            print("error: --time-limit must be a number of seconds greater than 0", file=sys.stderr)
            raise typer.Exit(EXIT_BAD_INPUT)
        if gap is not None and not 0 < gap < 1:
            print("error: --gap must be a fraction between 0 and 1 (0.001 = 0.1%)", file=sys.stderr)
            raise typer.Exit(EXIT_BAD_INPUT)
        timings: dict[str, float] = {}
        try:
            problem = _step(
                "Reading and geocoding…",
                lambda: read_problem(referrals, providers),
                timings,
                "read",
            )
        except InputError as err:
            _bad_input(err)
        budget = (
            time_limit if time_limit is not None else default_time_limit(len(problem.referrals))
        )
        print(
            f"matching {len(problem.referrals):,} referrals to {len(problem.providers):,} "
            f"providers (time limit {budget:g} s{'' if time_limit else ', the default'}; "
            "Ctrl-C stops with the best answer so far)",
            file=sys.stderr,
            flush=True,
        )
        started = time.perf_counter()
        result = solve_anytime(
            problem, time_limit=budget, gap=gap or 0.0, progress_every=progress_every
        )
        timings["match"] = time.perf_counter() - started
        _step("Writing matches…", lambda: write_matches(result, out), timings, "write")
        if explain_file is not None:
            write_explanations(result, explain_file)
        summary = run_summary(
            result,
            problem,
            {
                "time_limit": budget,
                "gap_requested": gap,
                "seconds": round(sum(timings.values()), 3),
                "timings": {k: round(v, 4) for k, v in {**timings, **result.timings}.items()},
            },
        )
        if summary_json is not None:
            summary_json.parent.mkdir(parents=True, exist_ok=True)
            summary_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        _print_summary(summary)
    except typer.Exit:
        raise
    except Exception:
        traceback.print_exc()
        print("error: internal error (please report it with the message above)", file=sys.stderr)
        raise typer.Exit(EXIT_INTERNAL) from None


def demo(
    data: Annotated[
        Path | None, typer.Option(help="folder with referrals.csv and providers.csv")
    ] = None,
    out: Annotated[Path, typer.Option(help="where to write the matches")] = Path(
        "out/sample-matches.csv"
    ),
    time_limit: Annotated[float, typer.Option(help="solver time limit in seconds")] = 60.0,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="also name the solvers and the time per step")
    ] = False,
) -> None:
    """Run the engine on the sample region and compare it with first-come-first-served."""
    from matching.baseline import first_come_first_served
    from matching.engine import solve
    from matching.geo import data_dir
    from matching.io import InputError, read_problem, write_matches
    from matching.report import comparison_table, plain_method, trade_off

    folder = data or data_dir() / "sample"
    timings: dict[str, float] = {}
    try:
        problem = _step(
            "Reading the sample region…",
            lambda: read_problem(folder / "referrals.csv", folder / "providers.csv"),
            timings,
            "read",
        )
    except InputError as err:
        _bad_input(err)
    optimal = _step(
        "Finding the optimal assignment…",
        lambda: solve(problem, time_limit=time_limit),
        timings,
        "optimal",
    )
    fcfs = _step(
        "Replaying first-come-first-served…",
        lambda: first_come_first_served(problem),
        timings,
        "baseline",
    )
    write_matches(optimal, out)
    print(
        f"Sample region: {len(problem.referrals)} referrals, {len(problem.providers)} providers "
        f"({folder})\n"
    )
    print(
        comparison_table(problem, {"optimal (foodmatch)": optimal, "first-come-first-served": fcfs})
    )
    print(f"\nfoodmatch's answer: {plain_method(optimal)}.")
    print(trade_off(problem, optimal, fcfs))
    if verbose:
        print(
            f"Method: {optimal.status.value} ({optimal.method}) in "
            f"{timings['optimal']:.2f} s; baseline in {timings['baseline']:.2f} s."
        )
    print(f"Matches written to {out}")
    example = next((m for m in optimal.matches if m.matched and "Nearer" in m.explanation), None)
    if example is not None:
        print(f"\nExample explanation ({example.referral_id}): {example.explanation}")


def register(app: typer.Typer) -> None:
    """Add ``match`` and ``demo`` to the CLI."""
    app.command("match")(match)
    app.command("demo")(demo)
