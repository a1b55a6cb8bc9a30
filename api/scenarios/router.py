"""What-if scenarios for planners: queue a run against a snapshot, then read its KPIs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response

from api.auth.tokens import Principal, require_roles
from api.core.deps import AUTHED, DbDep, SettingsDep, problems
from api.core.vocabulary import Role
from api.scenarios import runs as scenario_runs
from api.scenarios.schemas import RunId, ScenarioRunCreate, ScenarioRunRead

router = APIRouter(tags=["scenarios"])
Planner = Annotated[Principal, Depends(require_roles(Role.PLANNER))]


@router.post(
    "/scenarios",
    response_model=ScenarioRunRead,
    status_code=202,
    summary="Queue what-if scenarios",
    responses={
        202: {
            "description": "Queued; follow the run at `Location`.",
            "headers": {
                "Location": {
                    "description": "The run's URL (`/scenarios/{scenario_id}`).",
                    "schema": {"type": "string"},
                }
            },
        },
        **problems(*AUTHED),
    },
)
def create_scenario_run(
    principal: Planner,
    db: DbDep,
    settings: SettingsDep,
    response: Response,
    body: Annotated[ScenarioRunCreate, Body()],
) -> ScenarioRunRead:
    """Run the baseline and each scenario in the background; answers at once with the run.

    The base is your council's live snapshot (open referrals, every site's free capacity
    now; nothing is booked) or uploaded contract CSVs. The scenario document is the
    scenario file's content as JSON (docs/scenarios.md). Everything is checked first: a bad
    scenario or CSV is a 422 naming each field and row, and nothing is queued. Follow the
    run with `GET /scenarios/{scenario_id}`. At most 20 scenarios per request.
    """
    run = scenario_runs.start_scenario_run(db, settings, principal, body)
    response.headers["Location"] = f"/scenarios/{run.id}"
    return run


@router.get(
    "/scenarios/{scenario_id}",
    response_model=ScenarioRunRead,
    summary="Read a what-if run",
    responses=problems(*AUTHED, 404),
)
def get_scenario_run(scenario_id: RunId, principal: Planner) -> ScenarioRunRead:
    """Status and progress; once done, the KPIs of the baseline and each scenario side by side.

    Runs are kept in the server's memory (the last 50 finished) and are gone after a
    restart. Another council's runs are not found.
    """
    return scenario_runs.get_scenario_run(principal, scenario_id)
