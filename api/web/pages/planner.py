"""A planner's pages: start a what-if run, follow it, and read its table, plots and map.

Runs start through the same service as ``POST /scenarios``
(:func:`api.scenarios.runs.queue_run`); the form only chooses the base (the shipped
sample region, uploaded CSVs or today's live snapshot) and the scenarios.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse

from api.core.deps import DbDep
from api.core.errors import ProblemError
from api.core.vocabulary import Role
from api.scenarios import runs as scenario_runs
from api.scenarios.schemas import RunId
from api.web import forms, planner
from api.web.deps import (
    Files,
    Form,
    FormValues,
    choice,
    page_router,
    page_viewer,
    posted_viewer,
    see_other,
)
from api.web.render import render
from api.web.security import Viewer

router = page_router()

PlannerPage = Annotated[Viewer, Depends(page_viewer(Role.PLANNER))]
PlannerPost = Annotated[Viewer, Depends(posted_viewer(Role.PLANNER))]


def _planner_page(
    request: Request, viewer: Viewer, errors: dict[str, str], form: FormValues | None = None
) -> HTMLResponse:
    """The what-if form (with what was chosen and any errors) and the council's recent runs."""
    values = form or {}
    shipped = planner.shipped_scenarios()
    chosen = values.get("scenarios", [])
    return render(
        request,
        "planner/home.html",
        viewer,
        status_code=400 if errors else 200,
        title="What-if scenarios",
        errors=errors,
        scenario_options=[(s.name, f"{s.name}: {s.description}") for s in shipped],
        runs=planner.distinct_titles(scenario_runs.recent_runs(viewer.principal)),
        source=forms.text(values, "source") or "shipped",
        base=forms.text(values, "base") or "live",
        chosen=chosen if isinstance(chosen, list) else [chosen],
        seconds=forms.text(values, "seconds") or "10",
    )


@router.get("/app/planner")
def planner_home(request: Request, viewer: PlannerPage) -> HTMLResponse:
    """Choose the shipped what-ifs or upload a scenario file, and see recent runs."""
    return _planner_page(request, viewer, {})


@router.post("/app/planner/runs")
def start_run(
    request: Request, viewer: PlannerPost, form: Form, files: Files, db: DbDep
) -> Response:
    """Check the request and queue the run; the run's page shows progress and results."""
    errors: dict[str, str] = {}
    seconds = forms.decimal_number(forms.text(form, "seconds"), 0, planner.MAX_SECONDS) or -1.0
    if not 1 <= seconds <= planner.MAX_SECONDS:
        errors["seconds"] = f"Enter a number of seconds from 1 to {planner.MAX_SECONDS:.0f}"
    source = forms.text(form, "source")
    try:
        if source == "shipped":
            chosen = form.get("scenarios", [])
            picked = chosen if isinstance(chosen, list) else []
            base, spec, notes = planner.shipped_request(picked)
            title = f"{', '.join(picked)} on the Leeds sample region"
        elif source == "upload":
            name, content = files.get("scenario_file", ("", b""))
            spec, notes = planner.uploaded_spec(name, content)
            base_kind = forms.text(form, "base")
            if base_kind == "upload":
                base = planner.uploaded_base(
                    files.get("referrals_file", ("", b"")), files.get("providers_file", ("", b""))
                )
                base_title = "uploaded CSVs"
            elif base_kind == "sample":
                base = planner.sample_problem()
                base_title = "the sample region"
            else:
                base = scenario_runs.live_problem(db, viewer.principal.organisation_id)
                base_title = "today's open referrals and free places"
            planner.check_against(base, spec, "scenario_file")
            title = f"{name or 'Uploaded file'} on {base_title}"
        else:
            errors["source"] = "Select which scenarios to run"
    except planner.RunRequestError as err:
        errors.update(err.errors)
    if errors:
        return _planner_page(request, viewer, errors, form)
    run = scenario_runs.queue_run(
        db,
        viewer.principal,
        title=title,
        base=base,
        spec=spec,
        seconds=seconds,
        where=title,
        notes=notes,
    )
    return see_other(f"/app/planner/runs/{run.id}")


@router.get("/app/planner/runs/{run_id}")
def run_page(request: Request, run_id: RunId, viewer: PlannerPage) -> HTMLResponse:
    """Progress, then the comparison table, plots and the map of unmet need."""
    run = scenario_runs.own_run(viewer.principal, run_id)
    names, rows = planner.comparison_rows(run.result) if run.result else ([], [])
    shown = choice(request, "map", names or ["baseline"]) or "baseline"
    kpis = run.kpis(shown)
    points = planner.unmet_map(kpis) if kpis else []
    districts = kpis["districts"] if kpis else []
    worst = sorted(districts, key=lambda d: -(d.get("unmet_households") or 0))[:10]
    return render(
        request,
        "planner/run.html",
        viewer,
        title=f"Scenario run: {run.title}",
        run=run,
        plots=planner.run_plots(run),
        plots_missing=planner.plots_missing(run),
        names=names,
        rows=rows,
        shown=shown,
        points=points,
        worst=worst,
        legend=planner.MAP_LEGEND,
        map_width=planner.MAP_WIDTH,
        map_height=planner.MAP_HEIGHT,
    )


@router.get("/app/planner/runs/{run_id}/comparison.csv")
def run_csv(run_id: RunId, viewer: PlannerPage) -> Response:
    """The comparison table as CSV (the same bytes the CLI writes)."""
    run = scenario_runs.own_run(viewer.principal, run_id)
    if run.result is None:
        raise ProblemError(404, "The run has no results yet.")
    return Response(
        planner.csv_text(run.result).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="scenario-comparison-{run_id[:8]}.csv"',
            "Cache-Control": "no-store",
        },
    )
