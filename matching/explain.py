"""Why each referral got its provider, and why the unmatched were not matched.

Explanations are plain words a caseworker can read out ("Hope Food Bank, 1.2 km: the nearest
provider in reach with halal stock"), built from the candidate pairs and the final usage of
every provider's limits. Also used for the baseline, so both answers explain themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.geo import PAIR_FEASIBLE, PAIR_LACKS_DIET, Candidates
from matching.models import DIETARY_TAGS, Match, Mode, Problem, Reason

IntArray = npt.NDArray[np.int64]

MAX_LISTED = 3
"""How many nearer or considered providers an explanation names."""

_REASONS = {
    1: Reason.NO_PROVIDER_IN_REACH,
    2: Reason.DIETARY_UNAVAILABLE,
    3: Reason.NOT_ELIGIBLE,
}


@dataclass(frozen=True)
class Usage:
    """How much of each provider's limits the final answer uses."""

    parcels: IntArray
    people: IntArray
    deliveries: IntArray
    tags: dict[tuple[int, str], int]

    @classmethod
    def of(cls, problem: Problem, candidates: Candidates, chosen_pair: IntArray) -> Usage:
        """Usage implied by ``chosen_pair`` (index into the candidate arrays, -1 = unmatched)."""
        m = len(problem.providers)
        picked = chosen_pair[chosen_pair >= 0]
        prov = candidates.prov[picked]
        refs = candidates.ref[picked]
        sizes = np.fromiter(
            (problem.referrals[i].household_size for i in refs.tolist()), np.int64, refs.size
        )
        tags: dict[tuple[int, str], int] = {}
        for i, j in zip(refs.tolist(), prov.tolist(), strict=True):
            for tag in problem.referrals[i].dietary:
                tags[(j, tag)] = tags.get((j, tag), 0) + 1
        return cls(
            parcels=np.bincount(prov, minlength=m).astype(np.int64),
            people=np.bincount(prov, weights=sizes, minlength=m).astype(np.int64),
            deliveries=np.bincount(prov[candidates.deliver[picked]], minlength=m).astype(np.int64),
            tags=tags,
        )

    def blocker(self, problem: Problem, provider: int, referral: int, deliver: bool) -> str | None:
        """Which limit of ``provider`` leaves no room for ``referral`` now (None = it has room)."""
        site = problem.providers[provider]
        household = problem.referrals[referral]
        if self.parcels[provider] >= site.capacity:
            return "was full"
        if (
            site.people_capacity is not None
            and self.people[provider] + household.household_size > site.people_capacity
        ):
            return f"had no room for {household.household_size} more people"
        if deliver and self.deliveries[provider] >= site.delivery_capacity:
            return "had no delivery slots left"
        for tag in sorted(household.dietary):
            limit = site.dietary.get(tag)
            if limit is not None and self.tags.get((provider, tag), 0) >= limit:
                return f"had no {_words(tag)} stock left"
        return None


def _words(tag: str) -> str:
    return tag.replace("_", "-")


def _needs(referral_tags: frozenset[str]) -> str:
    ordered = [_words(t) for t in DIETARY_TAGS if t in referral_tags]
    return " and ".join(ordered)


def _listing(parts: list[str]) -> str:
    shown = parts[:MAX_LISTED]
    more = len(parts) - len(shown)
    text = "; ".join(shown)
    return f"{text}; and {more} more" if more > 0 else text


def explain(
    problem: Problem, candidates: Candidates, chosen_pair: IntArray, usage: Usage
) -> list[Match]:
    """One :class:`Match` per referral, in input order, with its reason and explanation."""
    n = len(problem.referrals)
    first_reason = candidates.first_reason_codes()
    starts = np.searchsorted(candidates.ref, np.arange(n + 1))
    providers = problem.providers
    matches: list[Match] = []
    for i, referral in enumerate(problem.referrals):
        lo, hi = int(starts[i]), int(starts[i + 1])
        pair = int(chosen_pair[i])
        if pair >= 0:
            matches.append(_matched(problem, candidates, usage, i, lo, pair))
            continue
        code = int(first_reason[i])
        reason = _REASONS.get(code, Reason.CAPACITY_EXHAUSTED)
        considered = [int(j) for j in candidates.prov[lo:hi][:MAX_LISTED].tolist()]
        if reason is Reason.NO_PROVIDER_IN_REACH:
            if referral.needs_delivery:
                text = "No provider delivers to this location."
            else:
                limit = f"{referral.max_travel_km:g} km"
                text = f"No provider within the household's {limit} travel limit."
        elif reason is Reason.DIETARY_UNAVAILABLE:
            names = [
                f"{providers[j].name} ({candidates.distance_km[k]:.1f} km)"
                for k, j in zip(range(lo, hi), candidates.prov[lo:hi].tolist(), strict=True)
            ]
            text = f"Providers in reach do not stock {_needs(referral.dietary)}: {_listing(names)}."
        elif reason is Reason.NOT_ELIGIBLE:
            names = [
                f"{providers[int(candidates.prov[k])].name} ({candidates.distance_km[k]:.1f} km)"
                for k in range(lo, hi)
                if candidates.status[k] != PAIR_LACKS_DIET
            ]
            where = referral.outcode or "this location"
            text = (
                f"Providers in reach with the right stock do not serve {where}: {_listing(names)}."
            )
        else:
            parts = []
            for k in range(lo, hi):
                if candidates.status[k] != PAIR_FEASIBLE:
                    continue
                j = int(candidates.prov[k])
                why = usage.blocker(problem, j, i, bool(candidates.deliver[k])) or "had room"
                parts.append(f"{providers[j].name} ({candidates.distance_km[k]:.1f} km) {why}")
            text = (
                "Every provider that could take this household used its capacity for more "
                f"urgent households or ones with no other option: {_listing(parts)}."
            )
        matches.append(
            Match(
                referral_id=referral.referral_id,
                reason=reason,
                explanation=text,
                considered=tuple(providers[j].provider_id for j in considered),
            )
        )
    return matches


def _matched(
    problem: Problem, candidates: Candidates, usage: Usage, i: int, lo: int, pair: int
) -> Match:
    referral = problem.referrals[i]
    j = int(candidates.prov[pair])
    site = problem.providers[j]
    distance = round(float(candidates.distance_km[pair]), 3)
    mode = Mode.DELIVER if candidates.deliver[pair] else Mode.COLLECT
    head = f"{site.name}, {distance:.1f} km"
    if mode is Mode.DELIVER:
        head += " (delivered)"
    nearer: list[str] = []
    for k in range(lo, pair):
        other = int(candidates.prov[k])
        name = problem.providers[other].name
        status = int(candidates.status[k])
        if status == PAIR_LACKS_DIET:
            nearer.append(f"{name} does not stock {_needs(referral.dietary)}")
        elif status != PAIR_FEASIBLE:
            nearer.append(f"{name} does not serve {referral.outcode or 'this location'}")
        else:
            why = usage.blocker(problem, other, i, bool(candidates.deliver[k]))
            why = why or "had room, but not without leaving a more urgent household unmatched"
            nearer.append(f"{name} {why}")
    stock = f" with {_needs(referral.dietary)} stock" if referral.dietary else ""
    if not nearer:
        text = f"{head}: the nearest provider in reach{stock}."
    else:
        text = f"{head}: the nearest provider{stock} with room. Nearer: {_listing(nearer)}."
    considered = candidates.prov[lo : min(pair + 1, lo + MAX_LISTED)].tolist()
    return Match(
        referral_id=referral.referral_id,
        reason=Reason.MATCHED,
        provider_id=site.provider_id,
        mode=mode,
        distance_km=distance,
        explanation=text,
        considered=tuple(problem.providers[int(k)].provider_id for k in considered),
    )
