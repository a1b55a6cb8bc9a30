"""What-if runs over the API: check a request, queue it in the background, report on it.

``POST /scenarios`` builds the base (the caller's live snapshot, read-only, or uploaded
contract CSVs), checks the scenario document against it while the request is open (a bad
spec or CSV is a 422 naming each field and nothing is queued), then hands it to the run
store (:data:`api.scenarios.store.RUNS`): one background worker, runs kept in memory per
council. The planner's page queues its runs through :func:`queue_run` too, so a run started
here shows on the page and the other way round. Results hold counts only (see
:mod:`api.scenarios.service`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from api.auth.tokens import Principal
from api.core import clock
from api.core import repository as repo
from api.core.config import Settings
from api.core.db import Database
from api.core.errors import FieldProblem, ProblemError, not_found
from api.core.vocabulary import OrganisationKind
from api.match_runs import adapter as convert
from api.record.trail import audit
from api.scenarios.schemas import (
    ScenarioProgress,
    ScenarioResult,
    ScenarioRunCreate,
    ScenarioRunRead,
    UploadedBase,
)
from api.scenarios.service import field_problems, validate_spec
from api.scenarios.store import RUNS, ScenarioRun
from matching.io import InputError, parse_providers, parse_referrals
from matching.models import Problem
from matching.scenarios import ScenarioError

__all__ = [
    "get_scenario_run",
    "live_problem",
    "own_run",
    "queue_run",
    "recent_runs",
    "start_scenario_run",
    "uploaded_problem",
]

T = TypeVar("T")


def live_problem(db: Database, organisation_id: int) -> Problem:
    """The council's open referrals and every site's free capacity today, as a match run sees."""
    with db.read() as session:
        referrals = repo.open_referrals(session, organisation_id)
        supply = repo.current_supply(session, clock.today())
        return convert.problem(referrals, supply)


def uploaded_problem(upload: UploadedBase) -> Problem:
    """The base from uploaded CSV text; a 422 lists every problem of both files by row."""
    errors: list[FieldProblem] = []

    def parsed(parse: Callable[[str, str], list[T]], text: str, name: str, key: str) -> list[T]:
        try:
            return parse(text, name)
        except InputError as err:
            errors.extend(
                FieldProblem(field=f"base.{key}", location="body", message=str(p))
                for p in err.problems
            )
            return []

    referrals = parsed(parse_referrals, upload.referrals_csv, "referrals.csv", "referrals_csv")
    providers = parsed(parse_providers, upload.providers_csv, "providers.csv", "providers_csv")
    if errors:
        raise ProblemError(
            422,
            f"The uploaded CSV has {len(errors)} problem{'s' if len(errors) != 1 else ''}; "
            "nothing was run.",
            errors=errors,
        )
    return Problem(tuple(referrals), tuple(providers))


def _read(run: ScenarioRun) -> ScenarioRunRead:
    done = run.state == "done" and run.result is not None
    compared = done and run.kind == "compare"
    return ScenarioRunRead(
        id=run.id,
        status=run.state,
        title=run.title,
        progress=ScenarioProgress(done=run.done, total=max(run.total, 1)),
        created_at=run.created_at,
        notes=list(run.notes),
        error=run.error,
        result=ScenarioResult.model_validate(run.result) if compared else None,
        kind="sweep" if run.kind == "sweep" else "compare",
        sweep=run.result if done and run.kind == "sweep" else None,
    )


def start_scenario_run(
    db: Database, settings: Settings, principal: Principal, body: ScenarioRunCreate
) -> ScenarioRunRead:
    """Check the request against its base and queue it; the run goes on in the background."""
    if principal.organisation_kind is not OrganisationKind.COUNCIL:
        raise ProblemError(403, "Only a council's planner runs what-if scenarios.")
    spec = body.spec()
    if isinstance(body.base, UploadedBase):
        base, where = uploaded_problem(body.base), "uploaded CSVs"
    else:
        base, where = live_problem(db, principal.organisation_id), "the live snapshot"
    try:
        validate_spec(base=base, spec=spec)
    except ScenarioError as err:
        items = [FieldProblem(**item) for item in field_problems(err)]
        raise ProblemError(
            422,
            f"The scenarios have {len(items)} problem{'s' if len(items) != 1 else ''}; "
            "nothing was run.",
            errors=items,
        ) from err
    count = len(body.scenario)
    run = queue_run(
        db,
        principal,
        title=f"API: {count} scenario{'s' if count != 1 else ''} on {where}",
        base=base,
        spec=spec,
        seconds=settings.match_time_limit_s,
        where=where,
    )
    return _read(run)


def queue_run(
    db: Database,
    principal: Principal,
    *,
    title: str,
    base: Problem,
    spec: Mapping[str, Any],
    seconds: float,
    where: str,
    notes: Sequence[str] = (),
) -> ScenarioRun:
    """Queue a spec already checked against ``base`` for the caller's council, and audit it.

    The one way a run starts: ``POST /scenarios`` and the planner's page both come here.
    """
    run = RUNS.start(
        organisation_id=principal.organisation_id,
        title=title,
        base=base,
        spec=spec,
        seconds=seconds,
        notes=notes,
    )
    record_run_started(db, principal, run, base, spec, where)
    return run


def queue_sweep(
    db: Database,
    principal: Principal,
    *,
    title: str,
    base: Problem,
    spec: Mapping[str, Any],
    draws: int,
    seed: int,
    seconds: float,
    notes: Sequence[str] = (),
) -> ScenarioRun:
    """Queue a sweep of a spec's one scenario, already checked against ``base``, and audit it."""
    run = RUNS.start_sweep(organisation_id=principal.organisation_id, title=title, base=base,
                           spec=spec, draws=draws, seed=seed, seconds=seconds,
                           notes=notes)  # fmt: skip
    record_run_started(db, principal, run, base, spec, title)
    return run


def record_run_started(
    db: Database,
    principal: Principal,
    run: ScenarioRun,
    base: Problem,
    spec: Mapping[str, Any],
    where: str,
) -> None:
    """The audit event of a what-if run being started, from the API or the planner page."""
    with db.write() as session:
        audit(
            session,
            principal,
            action="scenario.run",
            entity_type="scenario_run",
            entity_id=run.id,
            after={
                "base": where,
                "scenarios": [str(item.get("name", "")) for item in spec.get("scenario", [])],
                "referrals": len(base.referrals),
                "sites": len(base.providers),
            },
        )


def own_run(principal: Principal, run_id: str) -> ScenarioRun:
    """One of the caller's council's runs as stored; 404 otherwise (another council's too)."""
    run = RUNS.get(run_id, principal.organisation_id)
    if run is None:
        raise not_found("scenario run", run_id)
    return run


def recent_runs(principal: Principal) -> list[ScenarioRun]:
    """The caller's council's runs, newest first."""
    return RUNS.recent(principal.organisation_id)


def get_scenario_run(principal: Principal, run_id: str) -> ScenarioRunRead:
    """One of the caller's council's runs (another council's is not found)."""
    return _read(own_run(principal, run_id))
