"""A planner's pages: start a what-if run, follow it, and read its table, plots and map.

Runs start through the same service as ``POST /scenarios``
(:func:`api.scenarios.runs.queue_run`); the form only chooses the base (the shipped
sample region, uploaded CSVs or today's live snapshot) and the scenarios.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse

from api.core import clock
from api.core.deps import DbDep
from api.core.errors import ProblemError
from api.core.vocabulary import Role
from api.scenarios import runs as scenario_runs
from api.scenarios.schemas import RunId
from api.scenarios.store import ScenarioRun
from api.web import builder, forms, planner, sweep
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
from matching.models import Problem

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
    if run.kind == "sweep":
        return _sweep_run_page(request, viewer, run)
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


def _sweep_run_page(request: Request, viewer: Viewer, run: ScenarioRun) -> HTMLResponse:
    """A sweep's progress, then the spread, the chances and the districts."""
    done = run.result is not None and run.state == "done"
    if done and run.drawn is None:
        drawn = sweep.scatter(run.result or {})
        run.drawn = [("The draws", *drawn)] if drawn else []
    return render(
        request,
        "planner/sweep_run.html",
        viewer,
        title=f"Sweep: {run.title}",
        run=run,
        view=sweep.sweep_view(run.result) if done and run.result else None,
        plots=run.drawn or [],
        plots_missing=None if run.drawn or not done else planner.PLOTS_NEED_EXTRA,
    )


def _sweep_page(
    request: Request, viewer: Viewer, errors: dict[str, str], form: FormValues | None = None
) -> HTMLResponse:
    values = form or {}
    typed = {k: forms.text(values, k) if k in values else v for k, v in sweep.DEFAULTS.items()}
    return render(request, "planner/sweep.html", viewer, status_code=400 if errors else 200,
                  title="How sure are the figures? Sweep demand", errors=errors, typed=typed,
                  max_draws=sweep.MAX_DRAWS, max_seconds=int(planner.MAX_SECONDS))  # fmt: skip


@router.get("/app/planner/sweep")
def sweep_form(request: Request, viewer: PlannerPage) -> HTMLResponse:
    """Ranges for demand (and capacity), how many draws, and the base to sweep."""
    return _sweep_page(request, viewer, {})


@router.post("/app/planner/sweep")
def start_sweep(request: Request, viewer: PlannerPost, form: Form, db: DbDep) -> Response:
    """Check the ranges and queue the sweep; its page shows progress, then the spread."""
    kind = forms.text(form, "base")
    if kind not in builder.BASES:
        return _sweep_page(request, viewer, {"base": "Select what to sweep"}, form)
    base = _builder_base(kind, db, viewer)
    if not base.referrals:
        message = "There are no open referrals today to sweep: choose the Leeds sample region"
        return _sweep_page(request, viewer, {"base": message}, form)
    asked, errors = sweep.sweep_request(form, base, planner.MAX_SECONDS)
    if asked is None:
        return _sweep_page(request, viewer, errors, form)
    title = f"{asked.title} on {builder.BASES[kind]}"
    run = scenario_runs.queue_sweep(db, viewer.principal, title=title, base=base,
                                    spec=asked.spec, draws=asked.draws, seed=asked.seed,
                                    seconds=asked.seconds)  # fmt: skip
    return see_other(f"/app/planner/runs/{run.id}")


@router.get("/app/planner/runs/{run_id}/comparison.csv")
def run_csv(run_id: RunId, viewer: PlannerPage) -> Response:
    """The comparison table as CSV (the same bytes the CLI writes)."""
    run = scenario_runs.own_run(viewer.principal, run_id)
    if run.result is None or run.kind != "compare":
        raise ProblemError(404, "The run has no comparison (yet).")
    return Response(
        planner.csv_text(run.result).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="scenario-comparison-{run_id[:8]}.csv"',
            "Cache-Control": "no-store",
        },
    )


# --- the scenario builder ------------------------------------------------------------------


def _builder_base(kind: str, db: DbDep, viewer: Viewer) -> Problem:
    if kind == "live":
        return scenario_runs.live_problem(db, viewer.principal.organisation_id)
    return planner.sample_problem()


def _builder_page(
    request: Request,
    viewer: Viewer,
    *,
    kind: str,
    base: Problem,
    draft: list[dict[str, object]],
    errors: dict[str, str],
    form: FormValues | None = None,
    added: str = "",
) -> HTMLResponse:
    """The builder with the scenarios so far, what was typed (kept on an error) and errors."""
    values = form or {}
    sites = builder.sites_of(base)
    kept: FormValues = {n: values.get(n, "") for n in builder.SCENARIO_FIELDS} if errors else {}
    return render(
        request,
        "planner/build.html",
        viewer,
        status_code=400 if errors else 200,
        title="Build what-if scenarios",
        errors=errors,
        kind=kind,
        base_title=builder.BASES[kind],
        other_kind="sample" if kind == "live" else "live",
        sites=sites,
        site_options=[(site.provider_id, site.label) for site in sites],
        draft=builder.draft_text(draft),
        drafted=builder.drafted(draft, base),
        full=len(draft) >= builder.MAX_DRAFT,
        typed={n: forms.text(kept, n) for n in builder.SCENARIO_FIELDS},
        ticked={n: builder.ticked(kept, n) for n in ("close", "capacity_sites")},
        seconds=forms.text(values, "seconds") or "10",
        added=added,
        max_seconds=int(planner.MAX_SECONDS),
    )


@router.get("/app/planner/build")
def build_page(request: Request, viewer: PlannerPage, db: DbDep) -> HTMLResponse:
    """An empty builder on the chosen base (the sample region unless ``?base=live``)."""
    kind = choice(request, "base", list(builder.BASES)) or "sample"
    base = _builder_base(kind, db, viewer)
    return _builder_page(request, viewer, kind=kind, base=base, draft=[], errors={})


@router.post("/app/planner/build", response_model=None)
def build_post(request: Request, viewer: PlannerPost, form: Form, db: DbDep) -> Response:
    """Add a scenario, remove one, run the comparison or download it as TOML."""
    kind = forms.text(form, "base")
    if kind not in builder.BASES:
        raise ProblemError(400, "The form does not say which base to build on; start again.")
    base = _builder_base(kind, db, viewer)
    draft, errors = builder.read_draft(forms.text(form, "draft"), base)
    if errors:
        return _builder_page(
            request, viewer, kind=kind, base=base, draft=[], errors=errors, form=form
        )
    action = forms.text(form, "action")
    if action.startswith("remove-"):
        index = forms.whole_number(action.removeprefix("remove-"), 0, len(draft) - 1)
        if index is not None:
            del draft[index]
        return _builder_page(request, viewer, kind=kind, base=base, draft=draft, errors={})
    if action not in {"add", "run", "download"}:
        raise ProblemError(400, "The form was sent without a choice of what to do; try again.")
    added = ""
    if action == "add" or builder.has_scenario(form):
        if len(draft) >= builder.MAX_DRAFT:
            errors["name"] = (
                f"A comparison holds at most {builder.MAX_DRAFT} scenarios; remove one first"
            )
        else:
            taken = [str(s["name"]) for s in draft]
            scenario, errors = builder.scenario_from_form(form, base, taken)
            if scenario is not None:
                draft.append(scenario)
                added = str(scenario["name"])
    if not errors and not draft:
        errors["name"] = "Build at least one scenario: give it a name and say what changes"
    seconds = forms.decimal_number(forms.text(form, "seconds"), 0, planner.MAX_SECONDS) or -1.0
    if action != "add" and not 1 <= seconds <= planner.MAX_SECONDS:
        errors["seconds"] = f"Enter a number of seconds from 1 to {planner.MAX_SECONDS:.0f}"
    if errors or action == "add":
        return _builder_page(
            request,
            viewer,
            kind=kind,
            base=base,
            draft=draft,
            errors=errors,
            form=form,
            added=added,
        )
    if action == "download":
        text = builder.download_text(draft, kind, seconds, clock.today())
        return Response(
            text.encode("utf-8"),
            media_type="application/toml; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="what-if-scenarios.toml"',
                "Cache-Control": "no-store",
            },
        )
    names = ", ".join(str(s["name"]) for s in draft)
    title = f"{names} on {builder.BASES[kind]}"
    run = scenario_runs.queue_run(
        db,
        viewer.principal,
        title=title,
        base=base,
        spec={"scenario": draft},
        seconds=seconds,
        where=title,
    )
    return see_other(f"/app/planner/runs/{run.id}")
