"""``foodmatch scenario run`` and ``foodmatch scenario sweep``: what-if planning from a TOML file.

``run`` matches the baseline and every scenario of the file and prints the comparison
(``--out`` writes it as CSV, the same bytes serially and with ``--parallel``). ``sweep``
runs one scenario over many seeded Monte Carlo draws (demand resampled, uncertain factors
drawn from their stated distributions) and prints the spread: quantiles, how often
emergencies go unmet and where. Exit status: 0 with results, 2 on a bad scenario file or bad
CSVs (nothing written), 1 when Dask is needed but missing or unreachable (one line saying
what to do) or on an internal error. Progress bars go to stderr, so stdout stays the tables.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import pandas as pd

    from matching.models import Problem
    from matching.scenarios import MonteCarloSummary, ScenarioFile

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1

scenario_app = typer.Typer(
    name="scenario",
    help="What-if planning: compare scenarios with the baseline, or sweep demand draws.",
    no_args_is_help=True,
)

ScenarioPath = Annotated[
    Path, typer.Argument(help="scenarios.toml (format: docs/scenarios.md)", show_default=False)
]
Parallel = Annotated[
    int,
    typer.Option("--parallel", min=1, help="run on a local Dask cluster of N worker processes"),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        envvar="FOODMATCH_DASK_SCHEDULER",
        help="run on an existing Dask cluster (tcp://host:8786)",
    ),
]
TimeLimit = Annotated[
    float | None,
    typer.Option("--time-limit", min=0.001, help="seconds per match run (overrides the file)"),
]


def _fail(message: str, code: int) -> typer.Exit:
    print(message, file=sys.stderr)
    return typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    """The commands' last line of defence: Dask problems in one line, anything else as internal."""
    from matching.scenarios import ClusterError

    try:
        yield
    except typer.Exit:
        raise
    except ClusterError as err:
        raise _fail(f"error: {err}", EXIT_INTERNAL) from err
    except Exception as err:  # say so, with the traceback for a bug report; exit 1
        traceback.print_exc()
        raise _fail(f"error: internal error: {err}", EXIT_INTERNAL) from err


def _load(path: Path) -> tuple[ScenarioFile, Problem]:
    """The scenario file and its base problem, or exit 2 with every problem listed."""
    from matching.io import InputError, read_problem
    from matching.scenarios import check_scenarios, load_scenario_file

    try:
        file = load_scenario_file(path)
        base = read_problem(file.referrals, file.providers)
        check_scenarios(file.scenarios, base, source=str(path))
    except InputError as err:  # a ScenarioError is an InputError too
        raise _fail(f"error: bad input, nothing written.\n{err}", EXIT_BAD_INPUT) from err
    return file, base


@contextmanager
def _progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; yields the callback that advances it by one."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda _index: bar.advance(task)


def _print_comparison(table: pd.DataFrame) -> None:
    from rich.console import Console
    from rich.table import Table

    from matching.scenarios import DIFF_SUFFIX, format_value

    names = [c for c in table.columns if not str(c).endswith(DIFF_SUFFIX)]
    out = Table(title="Scenarios compared with the baseline", title_justify="left")
    out.add_column("KPI", no_wrap=True)
    for name in names:
        out.add_column(str(name), justify="right")
    for kpi, row in table.iterrows():
        cells = [str(kpi)]
        for name in names:
            cell = format_value(row[name])
            diff = row.get(f"{name}{DIFF_SUFFIX}")
            if name != "baseline" and diff is not None and diff == diff:
                shown = format_value(diff, signed=True)
                cell = f"{cell} ({shown})"
            cells.append(cell)
        out.add_row(*cells)
    Console(width=max(100, 22 + 24 * len(names))).print(out)


def run(
    path: ScenarioPath,
    parallel: Parallel = 1,
    out: Annotated[
        Path | None, typer.Option("--out", help="write the comparison as CSV to this file")
    ] = None,
    scheduler: Scheduler = None,
    time_limit: TimeLimit = None,
) -> None:
    """Match the baseline and every scenario; print and optionally save the comparison."""
    with _errors():
        from matching.scenarios import Scenario, compare, comparison_csv, run_many

        file, base = _load(path)
        runs: list[Scenario | None] = [None, *file.scenarios]
        with _progress_bar("Matching scenarios", len(runs)) as advance:
            results = run_many(
                base,
                runs,
                time_limit=time_limit if time_limit is not None else file.time_limit,
                min_district_households=file.min_district_households,
                parallel=parallel,
                scheduler=scheduler,
                progress=advance,
            )
        table = compare(results[0], results[1:])
        _print_comparison(table)
        if out is not None:
            out.write_bytes(comparison_csv(table).encode("utf-8"))
            print(f"wrote {out}", file=sys.stderr)
        for chosen in file.scenarios:
            if chosen.uncertain:
                stated = "; ".join(
                    f"{n.replace('_', ' ')} {d.describe()}" for n, d in chosen.uncertain
                )
                print(
                    f"note: {chosen.name} states uncertainty ({stated}); this run used the "
                    f"middle value of each. `foodmatch scenario sweep {path} --scenario "
                    f"{chosen.name}` shows the spread.",
                    file=sys.stderr,
                )
        not_proven = [k.name for k in results if k.status != "optimal"]
        if not_proven:
            print(
                "note: not proven optimal within the time limit: " + ", ".join(not_proven),
                file=sys.stderr,
            )


def sweep(
    path: ScenarioPath,
    scenario: Annotated[str, typer.Option("--scenario", help="the scenario to sweep (by name)")],
    draws: Annotated[int, typer.Option("--draws", min=1, help="Monte Carlo draws")] = 200,
    seed: Annotated[int, typer.Option("--seed", min=0, help="seed of the draws' seeds")] = 0,
    parallel: Parallel = 1,
    scheduler: Scheduler = None,
    time_limit: TimeLimit = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="write one row per draw as CSV to this file")
    ] = None,
    districts_out: Annotated[
        Path | None,
        typer.Option("--districts-out", help="write the table by district as CSV to this file"),
    ] = None,
) -> None:
    """Run a scenario over many seeded draws; print the spread and where emergencies go unmet."""
    with _errors():
        from matching.csvsafe import safe_frame
        from matching.scenarios import monte_carlo

        file, base = _load(path)
        try:
            chosen = file.scenario(scenario)
        except KeyError as err:
            raise _fail(f"error: {err.args[0]}", EXIT_BAD_INPUT) from err
        if not chosen.varies:
            raise _fail(
                f"error: scenario {scenario!r} does not scale demand or state an uncertain "
                "factor; expected one with a 'demand' edit or a distribution (every draw would "
                "be the same)",
                EXIT_BAD_INPUT,
            )
        with _progress_bar(f"Sweeping {scenario}", draws) as advance:
            result = monte_carlo(
                base,
                chosen,
                draws=draws,
                seed=seed,
                time_limit=time_limit if time_limit is not None else file.time_limit,
                min_district_households=file.min_district_households,
                parallel=parallel,
                scheduler=scheduler,
                progress=advance,
            )
        summary = result.summary()
        _print_monte_carlo(summary)
        if out is not None:
            out.write_text(
                safe_frame(result.draws).to_csv(lineterminator="\n", float_format="%.6f")
            )
            print(f"wrote {out}", file=sys.stderr)
        if districts_out is not None:
            text = safe_frame(summary.districts).to_csv(lineterminator="\n", float_format="%.6f")
            districts_out.write_text(text)
            print(f"wrote {districts_out}", file=sys.stderr)
        if summary.not_optimal:
            print(
                f"note: {summary.not_optimal} of {summary.draws} draws were not proven optimal "
                "within the time limit",
                file=sys.stderr,
            )


SHOWN_DISTRICTS = 10
"""Districts listed in the sweep's table (all are in ``--districts-out``)."""


def _shown(kpi: str, value: Any) -> str:
    """A sweep figure as people read it: shares in %, km to one decimal, counts whole."""
    if value is None or value != value:
        return ""
    number = float(value)
    if kpi.startswith("share_") or kpi == "utilisation":
        return f"{number:.1%}"
    if kpi.endswith("_km"):
        return f"{number:.1f}"
    if kpi.endswith("_factor") or "_factor_" in kpi:
        return f"x{number:.2f}"
    return f"{number:.0f}" if number.is_integer() else f"{number:.1f}"


def _print_monte_carlo(summary: MonteCarloSummary) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120)
    print(f"{summary.scenario}: {summary.draws} draws (seed {summary.seed})")
    if summary.description:
        print(summary.description)
    for line in summary.assumptions:
        print(f"  {line}")
    spread = Table(title="The spread over the draws", title_justify="left")
    spread.add_column("KPI", no_wrap=True)
    columns = list(summary.kpis.columns)
    for column in columns:
        spread.add_column(str(column), justify="right")
    spread.add_column("today", justify="right")
    for kpi, row in summary.kpis.iterrows():
        today = summary.baseline.get(str(kpi))
        spread.add_row(
            str(kpi), *(_shown(str(kpi), row[c]) for c in columns), _shown(str(kpi), today)
        )
    console.print(spread)
    print(summary.headline())
    at_risk = summary.districts[summary.districts["unmet_emergency_draws"] > 0]
    if at_risk.empty:
        return
    where = Table(
        title="Where emergencies go unmet (chance over the draws, 95% interval)",
        title_justify="left",
    )
    for header in (
        "district",
        "households",
        "unmet today",
        "any emergency unmet",
        "for lack of capacity",
        "unmet households",
    ):
        where.add_column(header, justify="left" if header == "district" else "right")
    for district, row in at_risk.head(SHOWN_DISTRICTS).iterrows():
        today = row["baseline_unmet_emergency"]
        where.add_row(
            str(district),
            f"{row['households_mean']:.0f}",
            "" if today != today else f"{today:.0f}",
            f"{row['unmet_emergency_chance']:.0%} ({row['unmet_low']:.0%}-{row['unmet_high']:.0%})",
            f"{row['short_chance']:.0%} ({row['short_low']:.0%}-{row['short_high']:.0%})",
            f"{row['unmet_households_mean']:.1f}",
        )
    console.print(where)
    more = len(at_risk) - SHOWN_DISTRICTS
    if more > 0:
        print(
            f"... and {more} more districts with an emergency unmet in some draw (--districts-out)."
        )


def register(app: typer.Typer) -> None:
    """Add ``foodmatch scenario run`` and ``foodmatch scenario sweep`` to the CLI."""
    scenario_app.command("run")(run)
    scenario_app.command("sweep")(sweep)
    app.add_typer(scenario_app, name="scenario")
