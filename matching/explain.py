"""Why each referral got its provider, and why the unmatched were not matched.

Explanations are plain words a caseworker can read out ("Hope Food Bank, 1.2 km: the nearest
provider in reach with halal stock"), built from the candidate pairs and the final usage of
every provider's limits. Also used for the baseline, so both answers explain themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.candidates import Candidates, PairStatus
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


def explain(
    problem: Problem, candidates: Candidates, chosen_pair: IntArray, usage: Usage
) -> list[Match]:
    """One :class:`Match` per referral, in input order, with its reason and explanation.

    An explanation names at most :data:`MAX_LISTED` providers and counts the rest, so the
    per-referral work is done only for the pairs it names: which pairs those are, how many
    others there are, and each referral's reason code are all found with array operations.
    """
    referrals, providers = problem.referrals, problem.providers
    n = len(referrals)
    if n == 0:
        return []
    status = candidates.status
    bounds = np.searchsorted(candidates.ref, np.arange(n + 1))
    lo, hi = bounds[:-1], bounds[1:]
    chosen = np.asarray(chosen_pair, dtype=np.int64)
    matched = chosen >= 0

    # Per referral: its reason code (as Candidates.first_reason_codes) and, for each kind of
    # explanation, how many pairs it would list and where its first MAX_LISTED of them are.
    feasible_before = _running_count(status == PairStatus.FEASIBLE)
    stocked_before = _running_count(status != PairStatus.LACKS_DIET)
    n_feasible = feasible_before[hi] - feasible_before[lo]
    n_stocked = stocked_before[hi] - stocked_before[lo]
    code = np.zeros(n, dtype=np.int64)
    code[n_feasible == 0] = 3
    code[n_stocked == 0] = 2
    code[hi == lo] = 1
    steps = np.arange(MAX_LISTED, dtype=np.int64)
    listed = np.where(matched, np.maximum(chosen - lo, 0), hi - lo)
    _drop_ties(listed, lo, chosen, matched, candidates.distance_km)
    first = lo[:, None] + steps
    at = first.copy()
    # Not eligible lists the pairs with the right stock; capacity exhausted the feasible ones.
    for only_code, before, how_many in (
        (3, stocked_before, n_stocked),
        (0, feasible_before, n_feasible),
    ):
        rows = np.flatnonzero(~matched & (code == only_code))
        if rows.size:
            listed[rows] = how_many[rows]
            wanted = (before[lo[rows], None] + steps + 1).astype(before.dtype)
            at[rows] = np.searchsorted(before, wanted) - 1
    shown = np.minimum(listed, MAX_LISTED)
    last = max(status.size - 1, 0)
    at = np.where(steps < shown[:, None], at, 0).clip(0, last)
    near = np.minimum(np.where(matched, np.clip(chosen + 1 - lo, 0, None), hi - lo), MAX_LISTED)

    # Python values for just the pairs that are named, flat: [MAX_LISTED * i, ...) for referral i.
    at_prov, at_status, at_deliver, at_km = (
        _values(array, at)
        for array in (candidates.prov, status, candidates.deliver, candidates.distance_km)
    )
    head_prov = _values(candidates.prov, first.clip(0, last))
    pick = np.where(matched, chosen, 0)
    pick_prov, pick_km, pick_deliver = (
        _values(array, pick)
        for array in (candidates.prov, candidates.distance_km, candidates.deliver)
    )

    names = [p.name for p in providers]
    ids = [p.provider_id for p in providers]
    needs = {tags: _needs(tags) for tags in {r.dietary for r in referrals}}
    # Usage.blocker depends on the provider, the mode and the household's size and needs only.
    blockers: dict[tuple[int, bool, int, frozenset[str]], str | None] = {}
    matched_reason, deliver_mode, collect_mode = Reason.MATCHED, Mode.DELIVER, Mode.COLLECT
    matches: list[Match] = []
    for i, (referral, pair, reason_code, count, shown_i, near_i) in enumerate(
        zip(
            referrals,
            chosen.tolist(),
            code.tolist(),
            listed.tolist(),
            shown.tolist(),
            near.tolist(),
            strict=True,
        )
    ):
        base = MAX_LISTED * i
        dietary = referral.dietary
        considered = tuple(map(ids.__getitem__, head_prov[base : base + near_i])) if near_i else ()
        # The named pairs: nearer ones passed over (matched), else the ones considered.
        parts: list[str] = []
        for k in range(base, base + shown_i):
            j, state = at_prov[k], at_status[k]
            if pair < 0 and reason_code != 0:  # dietary_unavailable or not_eligible
                parts.append(f"{names[j]} ({at_km[k]:.1f} km)")
            elif state == PairStatus.LACKS_DIET:
                parts.append(f"{names[j]} does not stock {needs[dietary]}")
            elif state != PairStatus.FEASIBLE:
                parts.append(f"{names[j]} does not serve {referral.outcode or 'this location'}")
            else:
                key = (j, at_deliver[k], referral.household_size, dietary)
                if key in blockers:
                    why = blockers[key]
                else:
                    why = blockers[key] = usage.blocker(problem, j, i, at_deliver[k])
                if pair >= 0:
                    why = (
                        why or "had room, but not without leaving a more urgent household unmatched"
                    )
                    parts.append(f"{names[j]} {why}")
                else:
                    parts.append(f"{names[j]} ({at_km[k]:.1f} km) {why or 'had room'}")
        if pair >= 0:
            j = pick_prov[i]
            distance = round(pick_km[i], 3)
            deliver = pick_deliver[i]
            head = f"{names[j]}, {distance:.1f} km"
            if deliver:
                head += " (delivered)"
            stock = f" with {needs[dietary]} stock" if dietary else ""
            if count == 0:
                text = f"{head}: the nearest provider in reach{stock}."
            else:
                listing = _listing_of(parts, count)
                text = f"{head}: the nearest provider{stock} with room. Nearer: {listing}."
            matches.append(
                Match(
                    referral_id=referral.referral_id,
                    reason=matched_reason,
                    provider_id=ids[j],
                    mode=deliver_mode if deliver else collect_mode,
                    distance_km=distance,
                    explanation=text,
                    considered=considered,
                )
            )
            continue
        reason = _REASONS.get(reason_code, Reason.CAPACITY_EXHAUSTED)
        if reason is Reason.NO_PROVIDER_IN_REACH:
            if referral.needs_delivery:
                text = "No provider delivers to this location."
            else:
                limit = f"{referral.max_travel_km:g} km"
                text = f"No provider within the household's {limit} travel limit."
        elif reason is Reason.DIETARY_UNAVAILABLE:
            listing = _listing_of(parts, count)
            text = f"Providers in reach do not stock {needs[dietary]}: {listing}."
        elif reason is Reason.NOT_ELIGIBLE:
            where = referral.outcode or "this location"
            text = (
                f"Providers in reach with the right stock do not serve {where}: "
                f"{_listing_of(parts, count)}."
            )
        else:
            text = (
                "Every provider that could take this household used its capacity for more "
                f"urgent households or ones with no other option: {_listing_of(parts, count)}."
            )
        matches.append(
            Match(
                referral_id=referral.referral_id,
                reason=reason,
                explanation=text,
                considered=considered,
            )
        )
    return matches


def _drop_ties(
    listed: IntArray, lo: IntArray, chosen: IntArray, matched: npt.NDArray[np.bool_],
    distance_km: npt.NDArray[np.float64],
) -> None:  # fmt: skip
    """Count as "nearer" only pairs strictly nearer than the chosen one (as written, to the
    metre): a site at the same distance was not passed over, the engine broke a tie.

    Pairs are sorted by distance within a referral, so the tied ones sit just before the
    chosen pair; ties are rare, so the few referrals with one are walked back one by one.
    """
    if not distance_km.size:
        return
    metres = np.round(distance_km * 1000.0)
    prev = np.maximum(chosen - 1, 0)
    tied = np.flatnonzero(matched & (listed > 0) & (metres[prev] >= metres[np.maximum(chosen, 0)]))
    for i in tied.tolist():
        k, at = int(chosen[i]), int(chosen[i]) - 1
        while at >= lo[i] and metres[at] >= metres[k]:
            at -= 1
        listed[i] = at + 1 - lo[i]


def _running_count(flags: npt.NDArray[np.bool_]) -> npt.NDArray[Any]:
    """``out[k]`` = how many of ``flags[:k]`` are true (length ``flags.size + 1``).

    In 32 bits when that is enough: half the memory of 64, for an array as long as the pairs.
    """
    out = np.zeros(flags.size + 1, dtype=np.int32 if flags.size < 2**30 else np.int64)
    np.cumsum(flags, out=out[1:])
    return out


def _values(array: npt.NDArray[Any], at: IntArray) -> list[Any]:
    """``array[at]``, flattened, as Python values (zeros when there are no pairs at all)."""
    if array.size == 0:
        return np.zeros(at.size, dtype=array.dtype).tolist()  # type: ignore[no-any-return]
    return array[at.ravel()].tolist()  # type: ignore[no-any-return]


def _listing_of(shown: list[str], total: int) -> str:
    """The shown parts, then how many more there are (``total`` counts every part)."""
    text = "; ".join(shown)
    more = total - len(shown)
    return f"{text}; and {more} more" if more > 0 else text
