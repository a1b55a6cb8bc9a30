"""Shared helpers for the benchmark runners: a summary in the CLI's JSON shape, and a checker.

The engine's ``foodmatch match --summary-json`` writes ``status``, ``matched`` (per tier),
``total_distance_km``, ``seconds`` and ``timings`` (:func:`matching.report.run_summary`); the
baseline and the staged CP-SAT runners write the same keys so ``benchmarks.run`` can
tabulate all three alike. :func:`check` holds
any assignment to the contract independently of the code that produced it (distances are
recomputed here, limits re-counted), so a method cannot look good by breaking a rule.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matching.geo import distance_km, postcode_area
from matching.models import MatchResult, Mode, Problem, Provider, Referral

Assignment = Mapping[str, tuple[str, Mode] | None]
"""referral_id -> (provider_id, mode), or None when unmatched."""


def write_json(data: Mapping[str, Any], path: Path) -> None:
    """Write ``data`` as indented JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def assignment_of(result: MatchResult) -> dict[str, tuple[str, Mode] | None]:
    """The assignment a MatchResult makes."""
    return {
        m.referral_id: (m.provider_id, m.mode)
        if m.provider_id is not None and m.mode is not None
        else None
        for m in result.matches
    }


def read_matches_csv(path: Path) -> dict[str, tuple[str, Mode] | None]:
    """The assignment in a matches.csv written by ``foodmatch match``."""
    out: dict[str, tuple[str, Mode] | None] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            pid = row["provider_id"].strip()
            out[row["referral_id"]] = (pid, Mode(row["mode"].strip())) if pid else None
    return out


@dataclass
class CheckReport:
    """What :func:`check` found: tier counts, distance, and every broken rule (if any)."""

    matched: dict[str, int] = field(default_factory=dict)
    total_distance_km: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def _in_area(referral: Referral, provider: Provider) -> bool:
    if not provider.service_area:
        return True
    code = referral.outcode
    return code is not None and (
        code in provider.service_area or postcode_area(code) in provider.service_area
    )


def check(problem: Problem, assignment: Assignment, *, max_errors: int = 20) -> CheckReport:
    """Check an assignment against the contract: feasible pairs, modes and every limit."""
    report = CheckReport(matched={"emergency": 0, "urgent": 0, "standard": 0})
    providers = {p.provider_id: p for p in problem.providers}
    load: dict[str, int] = dict.fromkeys(providers, 0)
    people = dict(load)
    delivered = dict(load)
    tagged: dict[tuple[str, str], int] = {}

    def error(message: str) -> None:
        if len(report.errors) < max_errors:
            report.errors.append(message)

    seen = set()
    for referral in problem.referrals:
        seen.add(referral.referral_id)
        if referral.referral_id not in assignment:
            error(f"{referral.referral_id}: missing from the result")
            continue
        pick = assignment[referral.referral_id]
        if pick is None:
            continue
        pid, mode = pick
        provider = providers.get(pid)
        if provider is None:
            error(f"{referral.referral_id}: unknown provider {pid}")
            continue
        d = distance_km(
            referral.latitude, referral.longitude, provider.latitude, provider.longitude
        )
        if referral.needs_delivery:
            ok = mode is Mode.DELIVER and provider.delivery_capacity > 0
            ok = ok and d <= provider.delivery_radius_km
        else:
            ok = mode is Mode.COLLECT and d <= referral.max_travel_km
        if not ok:
            error(f"{referral.referral_id} -> {pid}: out of reach by {mode} ({d:.3f} km)")
        if not referral.dietary <= set(provider.dietary):
            error(f"{referral.referral_id} -> {pid}: dietary tags not listed")
        if not _in_area(referral, provider):
            error(f"{referral.referral_id} -> {pid}: outside the service area")
        load[pid] += 1
        people[pid] += referral.household_size
        delivered[pid] += referral.needs_delivery
        for tag in referral.dietary:
            tagged[pid, tag] = tagged.get((pid, tag), 0) + 1
        report.matched[referral.urgency.value] += 1
        report.total_distance_km += d
    extra = set(assignment) - seen
    if extra:
        error(f"{len(extra)} unknown referral ids in the result")
    for p in problem.providers:
        pid = p.provider_id
        if load[pid] > p.capacity:
            error(f"{pid}: {load[pid]} parcels > capacity {p.capacity}")
        if p.people_capacity is not None and people[pid] > p.people_capacity:
            error(f"{pid}: {people[pid]} people > people_capacity {p.people_capacity}")
        if delivered[pid] > p.delivery_capacity:
            error(f"{pid}: {delivered[pid]} deliveries > delivery_capacity {p.delivery_capacity}")
        for tag, limit in p.dietary.items():
            if limit is not None and tagged.get((pid, tag), 0) > limit:
                error(f"{pid}: {tagged[pid, tag]} {tag} > limit {limit}")
    report.total_distance_km = round(report.total_distance_km, 3)
    return report
