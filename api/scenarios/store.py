"""The what-if run store: queue a scenario run, follow its progress, read its result.

A run goes through :func:`api.scenarios.service.run_scenarios` on one background worker
thread, so a request answers at once and the run shows its progress. Runs are kept in this
process's memory (the last :data:`KEEP_RUNS` finished), per council: they are working
figures, not part of the record, and are gone after a restart. Only aggregates are kept (the
service's result has no household). Runs started over the API and from the planner's page
share one store, so each shows on the other.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from api.scenarios.service import run_scenarios
from matching.models import Problem
from matching.scenarios import ScenarioError, monte_carlo_from_spec

__all__ = ["KEEP_RUNS", "RUNS", "RunStore", "ScenarioRun"]

KEEP_RUNS = 50


@dataclass
class ScenarioRun:
    """One queued, running or finished what-if run of a council."""

    id: str
    organisation_id: int
    title: str
    total: int
    notes: list[str] = field(default_factory=list)
    done: int = 0
    state: str = "queued"
    error: str | None = None
    result: dict[str, Any] | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    drawn: list[tuple[str, str, str]] | None = None
    """The result's plots as (title, data URI, alt text), once a page has drawn them."""
    kind: str = "compare"
    """``compare`` (scenarios side by side with the baseline) or ``sweep`` (many draws of one
    uncertain scenario; the result is :meth:`MonteCarloSummary.to_dict`)."""

    @property
    def finished(self) -> bool:
        """Whether the run has a result or failed."""
        return self.state in ("done", "failed")

    def names(self) -> list[str]:
        """The baseline and each scenario's name."""
        if self.result is None or self.kind != "compare":
            return []
        return ["baseline", *(s["name"] for s in self.result["scenarios"])]

    def kpis(self, name: str) -> dict[str, Any] | None:
        """The KPIs of the baseline or one scenario."""
        if self.result is None or self.kind != "compare":
            return None
        if name == "baseline":
            baseline: dict[str, Any] = self.result["baseline"]
            return baseline
        return next((s for s in self.result["scenarios"] if s["name"] == name), None)


class RunStore:
    """The runs of this process; one worker thread runs them in order."""

    def __init__(self) -> None:
        self._runs: dict[str, ScenarioRun] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scenarios")
        return self._executor

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued run has finished (False if ``timeout`` seconds pass first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if all(r.finished for r in self._runs.values()):
                    return True
            time.sleep(0.02)
        return False

    def get(self, run_id: str, organisation_id: int) -> ScenarioRun | None:
        """A run of this council, or ``None`` (another council's runs are not found)."""
        with self._lock:
            run = self._runs.get(run_id)
        return run if run is not None and run.organisation_id == organisation_id else None

    def recent(self, organisation_id: int) -> list[ScenarioRun]:
        """This council's runs, newest first."""
        with self._lock:
            runs = [r for r in self._runs.values() if r.organisation_id == organisation_id]
        return sorted(runs, key=lambda r: r.created_at, reverse=True)

    def start(
        self,
        *,
        organisation_id: int,
        title: str,
        base: Problem,
        spec: Mapping[str, Any],
        seconds: float,
        notes: Sequence[str] = (),
    ) -> ScenarioRun:
        """Queue a checked spec on ``base``; returns the run to follow."""
        run = ScenarioRun(
            id=uuid.uuid4().hex,
            organisation_id=organisation_id,
            title=title,
            total=1 + len(spec.get("scenario", [])),
            notes=list(notes),
        )
        self._keep(run)
        self._pool().submit(self._work, run, base, dict(spec), seconds)
        return run

    def start_sweep(
        self,
        *,
        organisation_id: int,
        title: str,
        base: Problem,
        spec: Mapping[str, Any],
        draws: int,
        seed: int,
        seconds: float,
        notes: Sequence[str] = (),
    ) -> ScenarioRun:
        """Queue a sweep of the spec's one (checked) scenario: ``draws`` draws from ``seed``."""
        run = ScenarioRun(id=uuid.uuid4().hex, organisation_id=organisation_id, title=title,
                          total=draws, notes=list(notes), kind="sweep")  # fmt: skip
        self._keep(run)
        sweep = {"draws": draws, "seed": seed}
        self._pool().submit(self._work, run, base, dict(spec), seconds, sweep)
        return run

    def _keep(self, run: ScenarioRun) -> None:
        with self._lock:
            self._runs[run.id] = run
            finished = sorted(
                (r for r in self._runs.values() if r.finished), key=lambda r: r.created_at
            )
            for old in finished[: max(0, len(self._runs) - KEEP_RUNS)]:
                del self._runs[old.id]

    @staticmethod
    def _work(
        run: ScenarioRun,
        base: Problem,
        spec: dict[str, Any],
        seconds: float,
        sweep: Mapping[str, int] | None = None,
    ) -> None:
        run.state = "running"

        def progress(done: int, total: int) -> None:
            run.done, run.total = done, total

        try:
            if sweep is None:
                result = run_scenarios(
                    base=base, spec=spec, max_time_limit=seconds, on_progress=progress
                )
            else:
                result = monte_carlo_from_spec(base, spec, draws=sweep["draws"],
                                               seed=sweep["seed"], max_time_limit=seconds,
                                               on_progress=progress)  # fmt: skip
            run.result = result
            run.state = "done"
        except ScenarioError as err:
            run.error = str(err)
            run.state = "failed"
        except Exception as err:  # shown to the planner, never raised
            run.error = f"The run stopped with an internal error ({type(err).__name__})."
            run.state = "failed"


RUNS = RunStore()
"""The process's one store (the API's and the pages' runs alike)."""
