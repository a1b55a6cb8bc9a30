"""Match runs from the pages: start one, see past runs and what each decided.

A caseworker or planner starts a run over the council's open referrals (the same
:func:`api.match_runs.service.run_matching` as ``POST /match-runs``); the page then shows
the run: how many households of each urgency got a place, why the others did not, and each
decision with its reason. Scheduled runs are not set up here yet, and the page says so.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse

from api.core import lookups
from api.core.deps import DbDep, ObjectId, SettingsDep
from api.core.errors import ProblemError
from api.core.vocabulary import Role
from api.match_runs import service as matching
from api.web.deps import Form, PageQuery, page_router, page_viewer, posted_viewer, see_other
from api.web.render import render
from api.web.security import Viewer

router = page_router()

RunsPage = Annotated[Viewer, Depends(page_viewer(Role.CASEWORKER, Role.PLANNER))]
RunsPost = Annotated[Viewer, Depends(posted_viewer(Role.CASEWORKER, Role.PLANNER))]

DECISIONS_SHOWN = 200
"""How many of a run's decisions its page lists (households without a place first)."""


@router.get("/app/match-runs")
def match_runs(request: Request, viewer: RunsPage, db: DbDep, page: PageQuery = 1) -> HTMLResponse:
    """Past match runs, newest first, and a button to start one now."""
    runs = matching.list_match_runs(db, viewer.principal, page, 20)
    return render(request, "matchruns/list.html", viewer, title="Match runs", runs=runs)


@router.post("/app/match-runs")
def start_match_run(
    request: Request, viewer: RunsPost, form: Form, db: DbDep, settings: SettingsDep
) -> Response:
    """Match every open referral now, then show the run."""
    del form  # read for its CSRF token only
    try:
        run = matching.run_matching(db, settings, viewer.principal, None)
    except ProblemError as problem:
        if problem.status != 409:
            raise
        runs = matching.list_match_runs(db, viewer.principal, 1, 20)
        errors = {"start": f"The match run could not start: {problem.detail}"}
        return render(
            request,
            "matchruns/list.html",
            viewer,
            status_code=409,
            title="Match runs",
            runs=runs,
            errors=errors,
        )
    return see_other(f"/app/match-runs/{run.id}", "match-run")


@router.get("/app/match-runs/{run_id}")
def match_run(request: Request, run_id: ObjectId, viewer: RunsPage, db: DbDep) -> HTMLResponse:
    """One run: households placed per urgency, why the rest were not, and each decision."""
    run = matching.get_match_run(db, viewer.principal, run_id)
    ordered = sorted(run.matches, key=lambda m: (m.reason == "matched", m.referral_id))
    shown = ordered[:DECISIONS_SHOWN]
    sites = lookups.site_names(db, [m.provider_id for m in shown if m.provider_id is not None])
    return render(
        request,
        "matchruns/run.html",
        viewer,
        title=f"Match run {run.id}",
        run=run,
        decisions=shown,
        sites=sites,
        placed=sum(1 for m in run.matches if m.reason == "matched"),
        links=viewer.role is Role.CASEWORKER,
    )
