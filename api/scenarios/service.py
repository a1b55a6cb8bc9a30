"""What-if scenarios for planners: run a scenario spec against a base problem, as JSON.

This is the use case behind ``POST /scenarios`` and ``GET /scenarios/{id}``. It is pure
(no database, no HTTP): the caller builds the base :class:`~matching.models.Problem` (from
the live snapshot via ``api.match_runs.adapter`` or from uploaded CSVs via
``matching.io``), validates the spec with :func:`validate_spec` while the request is open
(so a bad spec is a 422 at
once), then runs :func:`run_scenarios` in the background and stores its dict as the run's
result. Only aggregates come out (counts per tier, district and provider): no referral
id, postcode or household detail, so the result may be shown to any planner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from matching.models import Problem
from matching.scenarios import (
    DEFAULT_MIN_DISTRICT_HOUSEHOLDS,
    Scenario,
    ScenarioError,
    ScenarioProblem,
    check_scenarios,
    compare,
    parse_scenarios,
    run_many,
)

__all__ = [
    "MAX_SCENARIOS",
    "field_problems",
    "run_scenarios",
    "validate_spec",
]

MAX_SCENARIOS = 20
"""The most scenarios one request may run (each is a full match run)."""

SOURCE = "body"


def _settings(spec: Mapping[str, Any]) -> tuple[float | None, int]:
    settings = spec.get("settings", {})
    limit = settings.get("time_limit")
    least = settings.get("min_district_households", DEFAULT_MIN_DISTRICT_HOUSEHOLDS)
    return (None if limit is None else float(limit)), int(least)


def validate_spec(
    *, base: Problem, spec: Mapping[str, Any], max_scenarios: int = MAX_SCENARIOS
) -> tuple[Scenario, ...]:
    """The spec's scenarios, checked against ``base``; raises ScenarioError listing problems.

    ``spec`` is the scenario file's content as JSON (see ``docs/scenarios.md``):
    ``{"settings": {...}?, "scenario": [{"name": ..., "close": [...], ...}, ...]}``.
    A ``base`` key is refused: over the API the base is the live snapshot or the uploaded
    CSVs, never a path on the server.
    """
    problems: list[ScenarioProblem] = []
    if not isinstance(spec, Mapping):
        raise ScenarioError([ScenarioProblem("expected a JSON object", SOURCE)])
    if "base" in spec:
        problems.append(
            ScenarioProblem(
                "not accepted over the API; expected the base to come from the live snapshot "
                "or uploaded CSVs",
                SOURCE,
                key="base",
            )
        )
    try:
        scenarios = parse_scenarios({k: v for k, v in spec.items() if k != "base"}, source=SOURCE)
    except ScenarioError as err:
        raise ScenarioError([*problems, *err.problems]) from err
    if len(scenarios) > max_scenarios:
        problems.append(
            ScenarioProblem(
                f"{len(scenarios)} scenarios; expected at most {max_scenarios} per request",
                SOURCE,
                key="scenario",
            )
        )
    if problems:
        raise ScenarioError(problems)
    check_scenarios(scenarios, base, source=SOURCE)
    return scenarios


def run_scenarios(
    *,
    base: Problem,
    spec: Mapping[str, Any],
    max_time_limit: float | None = None,
    parallel: int = 1,
    scheduler: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run the baseline and every scenario of ``spec`` on ``base``; KPIs and comparison as JSON.

    Parameters
    ----------
    base
        The problem the scenarios edit (live snapshot or uploaded CSVs).
    spec
        The scenario document as parsed JSON (same shape as the TOML file without
        ``[base]``). Checked with :func:`validate_spec` first; raises ``ScenarioError``.
    max_time_limit
        The service's ceiling on seconds per match run; the spec's
        ``settings.time_limit`` may only lower it.
    parallel, scheduler
        Run on a Dask LocalCluster of ``parallel`` workers, or on the cluster at
        ``scheduler``; the numbers are the same as a serial run's.
    on_progress
        Called as ``on_progress(done, total)`` after each match run (baseline included).

    Returns
    -------
    dict
        ``{"baseline": KPIs, "scenarios": [KPIs, ...], "comparison": {"columns": [...],
        "rows": [{"kpi": ..., "baseline": ..., "<name>": ..., "<name> (diff)": ...}]},
        "all_optimal": bool}``, where each KPIs is ``{"name", "description", "summary":
        {kpi: value}, "districts": [row, ...], "providers": [row, ...]}``. Undefined values
        (e.g. a mean distance with nobody matched) are ``null``; everything is JSON-able.
    """
    scenarios = validate_spec(base=base, spec=spec)
    limit, least = _settings(spec)
    if max_time_limit is not None:
        limit = max_time_limit if limit is None else min(limit, max_time_limit)
    runs: list[Scenario | None] = [None, *scenarios]
    done = 0

    def progress(_index: int) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done, len(runs))

    results = run_many(
        base,
        runs,
        time_limit=limit,
        min_district_households=least,
        parallel=parallel,
        scheduler=scheduler,
        progress=progress,
    )
    baseline, others = results[0], results[1:]
    table = compare(baseline, others).reset_index()
    rows = [{str(k): _json_value(v) for k, v in row.items()} for row in table.to_dict("records")]
    return {
        "baseline": baseline.to_dict(),
        "scenarios": [kpis.to_dict() for kpis in others],
        "comparison": {"columns": [str(c) for c in table.columns], "rows": rows},
        "all_optimal": all(k.status == "optimal" for k in results),
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def field_problems(error: ScenarioError) -> list[dict[str, str]]:
    """The error's problems as ``{"field", "location", "message"}`` items for a 422 body."""
    items = []
    for problem in error.problems:
        parts = ["scenario", problem.scenario] if problem.scenario else []
        if problem.key:
            parts.append(problem.key)
        items.append(
            {
                "field": ".".join(parts) or "body",
                "location": "body",
                "message": problem.message,
            }
        )
    return items
