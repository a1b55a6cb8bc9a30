"""``foodmatch scenario run`` and ``foodmatch scenario sweep``: what-if planning from a TOML file.

``run`` matches the baseline and every scenario of the file and prints the comparison
(``--out`` writes it as CSV, the same bytes serially and with ``--parallel``). ``sweep``
re-runs one demand scenario over many seeded draws (Monte Carlo) and prints the spread.
Exit status: 0 with results, 2 on a bad scenario file or bad CSVs (nothing written),
1 on an internal error. Progress bars go to stderr, so stdout stays the table.
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
    from matching.scenarios import ScenarioFile

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
    typer.Option("--scheduler", help="run on an existing Dask cluster (tcp://host:8786)"),
]
TimeLimit = Annotated[
    float | None,
    typer.Option("--time-limit", min=0.001, help="seconds per match run (overrides the file)"),
]


def _fail(message: str, code: int) -> typer.Exit:
    print(message, file=sys.stderr)
    return typer.Exit(code)


def _load(path: Path) -> tuple[ScenarioFile, Problem]:
    """The scenario file and its base problem, or exit 2 with every problem listed."""
    from matching.io import InputError, read_problem
    from matching.scenarios import ScenarioError, check_scenarios, load_scenario_file

    try:
        file = load_scenario_file(path)
        base = read_problem(file.referrals, file.providers)
        check_scenarios(file.scenarios, base, source=str(path))
    except (ScenarioError, InputError) as err:
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
    try:
        from matching.csvsafe import safe_frame
        from matching.scenarios import Scenario, compare, comparison_csv
        from matching.sweep import run_many

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
            out.write_bytes(comparison_csv(safe_frame(table)).encode("utf-8"))
            print(f"wrote {out}", file=sys.stderr)
        not_proven = [k.name for k in results if k.status != "optimal"]
        if not_proven:
            print(
                "note: not proven optimal within the time limit: " + ", ".join(not_proven),
                file=sys.stderr,
            )
    except typer.Exit:
        raise
    except Exception as err:  # the CLI's last line of defence: say so, exit 1
        traceback.print_exc()
        raise _fail(f"error: internal error: {err}", EXIT_INTERNAL) from err


def sweep(
    path: ScenarioPath,
    scenario: Annotated[
        str, typer.Option("--scenario", help="the demand scenario to sweep (by name)")
    ],
    draws: Annotated[int, typer.Option("--draws", min=1, help="Monte Carlo draws")] = 200,
    seed: Annotated[int, typer.Option("--seed", min=0, help="seed of the draws' seeds")] = 0,
    parallel: Parallel = 1,
    scheduler: Scheduler = None,
    time_limit: TimeLimit = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="write one row per draw as CSV to this file")
    ] = None,
) -> None:
    """Re-run a demand scenario over many seeded draws; print the spread of its KPIs."""
    try:
        from rich.console import Console
        from rich.table import Table

        from matching.sweep import summarise_sweep
        from matching.sweep import sweep as run_sweep

        file, base = _load(path)
        try:
            chosen = file.scenario(scenario)
        except KeyError as err:
            raise _fail(f"error: {err.args[0]}", EXIT_BAD_INPUT) from err
        if not chosen.has_demand:
            raise _fail(
                f"error: scenario {scenario!r} does not scale demand; expected one with a "
                "'demand' edit (every draw would be the same)",
                EXIT_BAD_INPUT,
            )
        with _progress_bar(f"Sweeping {scenario}", draws) as advance:
            frame = run_sweep(
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
        summary = summarise_sweep(frame)
        table = Table(title=f"{scenario}: {draws} draws (seed {seed})", title_justify="left")
        table.add_column("KPI", no_wrap=True)
        for column in summary.columns:
            table.add_column(str(column), justify="right")
        for kpi, row in summary.iterrows():
            table.add_row(str(kpi), *(_fmt(v) for v in row))
        Console(width=120).print(table)
        if out is not None:
            from matching.csvsafe import safe_frame

            out.write_text(safe_frame(frame).to_csv(lineterminator="\n", float_format="%.6f"))
            print(f"wrote {out}", file=sys.stderr)
    except typer.Exit:
        raise
    except Exception as err:
        traceback.print_exc()
        raise _fail(f"error: internal error: {err}", EXIT_INTERNAL) from err


def _fmt(value: Any) -> str:
    from matching.scenarios import format_value

    return format_value(value)


def register(app: typer.Typer) -> None:
    """Add ``foodmatch scenario run`` and ``foodmatch scenario sweep`` to the CLI."""
    scenario_app.command("run")(run)
    scenario_app.command("sweep")(sweep)
    app.add_typer(scenario_app, name="scenario")
