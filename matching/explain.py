"""Why each referral got its provider, and why the unmatched were not matched.

Explanations are plain words a caseworker can read out ("Hope Food Bank, 1.2 km: the nearest
provider in reach with halal stock"). They are built in two steps: first, from the candidate
pairs and the final use of every limit, the sites to name and a :class:`~matching.models.Claim`
for each (which limits of that site apply, which tags it lacks, whether a more urgent household
holds a place there); then the sentence is rendered from those claims alone. Every claim is
true of the final answer, which ``tests/matching/test_explain.py`` checks claim by claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.candidates import Access, Candidates, PairStatus
from matching.models import (
    DIETARY_TAGS,
    Claim,
    Limit,
    Match,
    Mode,
    Problem,
    Reason,
    Referral,
    Urgency,
)

IntArray = npt.NDArray[np.int64]

MAX_LISTED = 3
"""How many nearer or considered providers an explanation names."""
_BY_RANK = {u.rank: u for u in Urgency}


@dataclass(frozen=True)
class Usage:
    """How much of each provider's limits the final answer uses, and by whom."""

    parcels: IntArray
    people: IntArray
    deliveries: IntArray
    tags: dict[tuple[int, str], int]
    top_rank: IntArray
    """The highest urgency rank among each provider's households (0 when it has none)."""

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
        ranks = np.fromiter(
            (problem.referrals[i].urgency.rank for i in refs.tolist()), np.int64, refs.size
        )
        top = np.zeros(m, dtype=np.int64)
        np.maximum.at(top, prov, ranks)
        tags: dict[tuple[int, str], int] = {}
        for i, j in zip(refs.tolist(), prov.tolist(), strict=True):
            for tag in problem.referrals[i].dietary:
                tags[(j, tag)] = tags.get((j, tag), 0) + 1
        return cls(
            parcels=np.bincount(prov, minlength=m).astype(np.int64),
            people=np.bincount(prov, weights=sizes, minlength=m).astype(np.int64),
            deliveries=np.bincount(prov[candidates.deliver[picked]], minlength=m).astype(np.int64),
            tags=tags,
            top_rank=top,
        )

    def limits(
        self, problem: Problem, provider: int, referral: int, deliver: bool
    ) -> tuple[tuple[Limit, ...], tuple[str, ...]]:
        """Every limit of ``provider`` that leaves no room for ``referral`` now, and the
        used-up stocks among them (empty: it has room)."""
        site = problem.providers[provider]
        household = problem.referrals[referral]
        found: list[Limit] = []
        if self.parcels[provider] >= site.capacity:
            found.append(Limit.FULL)
        people = site.people_capacity
        if people is not None and self.people[provider] + household.household_size > people:
            found.append(Limit.PEOPLE)
        if deliver and self.deliveries[provider] >= site.delivery_capacity:
            found.append(Limit.DELIVERY)
        stocks = tuple(
            tag
            for tag in _ordered(household.dietary)
            if (cap := site.dietary.get(tag)) is not None
            and self.tags.get((provider, tag), 0) >= cap
        )
        if stocks:
            found.append(Limit.STOCK)
        return tuple(found), stocks


def _ordered(tags: frozenset[str] | set[str]) -> tuple[str, ...]:
    """The tags in the contract's order of dietary tags."""
    return tuple(t for t in DIETARY_TAGS if t in tags)


def _words(tags: tuple[str, ...]) -> str:
    """Tags as written in a sentence: ``gluten-free and halal``."""
    return " and ".join(t.replace("_", "-") for t in tags)


def _km(distance: float) -> str:
    """A distance as shown: rounded once, from the exact value (never "0.0 km")."""
    return "under 0.1 km" if distance < 0.05 else f"{distance:.1f} km"


@dataclass(frozen=True)
class _Plan:
    """Per referral: its access, how many sites its explanation stands for, where the named
    ones are in the candidate arrays (``MAX_LISTED`` slots) and how many are named."""

    access: npt.NDArray[np.int8]
    count: IntArray
    at: IntArray
    shown: IntArray
    considered: IntArray
    first: IntArray


def _plan(candidates: Candidates, chosen: IntArray) -> _Plan:
    """Which pairs each explanation names, found with array operations for every referral.

    Matched: the pairs strictly nearer than the chosen one. Unmatched: for lack of capacity
    the feasible pairs; outside every service area the pairs with the right stock; for
    dietary needs every pair in reach.
    """
    n = candidates.n_referrals
    status = candidates.status
    bounds = np.searchsorted(candidates.ref, np.arange(n + 1))
    lo, hi = bounds[:-1], bounds[1:]
    matched = chosen >= 0
    access = candidates.access()
    feasible_before = _running_count(status == PairStatus.FEASIBLE)
    stocked_before = _running_count(status != PairStatus.LACKS_DIET)
    steps = np.arange(MAX_LISTED, dtype=np.int64)
    count = np.where(matched, np.maximum(chosen - lo, 0), hi - lo)
    _drop_ties(count, lo, chosen, matched, candidates.distance_km)
    first = lo[:, None] + steps
    at = first.copy()
    for only, before in ((Access.NOT_IN_AREA, stocked_before), (Access.FEASIBLE, feasible_before)):
        rows = np.flatnonzero(~matched & (access == only))
        if rows.size:
            count[rows] = before[hi[rows]] - before[lo[rows]]
            wanted = (before[lo[rows], None] + steps + 1).astype(before.dtype)
            at[rows] = np.searchsorted(before, wanted) - 1
    shown = np.minimum(count, MAX_LISTED)
    last = max(status.size - 1, 0)
    at = np.where(steps < shown[:, None], at, 0).clip(0, last)
    near = np.where(matched, np.clip(chosen + 1 - lo, 0, None), hi - lo)
    considered = np.minimum(near, MAX_LISTED)
    return _Plan(access, count, at, shown, considered, first.clip(0, last))


@dataclass(frozen=True)
class _Named:
    """The candidate values the explanations read, as Python values (the array work done).

    ``prov``, ``status``, ``deliver`` and ``km`` hold the named pairs (``MAX_LISTED`` slots
    per referral, as :attr:`_Plan.at`), ``head`` the providers of each referral's nearest
    pairs (as :attr:`_Plan.first`), ``pick_*`` the chosen pair of each referral.
    """

    prov: list[int]
    status: list[int]
    deliver: list[bool]
    km: list[float]
    head: list[int]
    pick_prov: list[int]
    pick_km: list[float]
    pick_deliver: list[bool]

    @classmethod
    def of(cls, candidates: Candidates, chosen: IntArray, plan: _Plan) -> _Named:
        """Gather the values of the pairs ``plan`` names and of the chosen pairs."""
        pick = np.where(chosen >= 0, chosen, 0)
        return cls(
            prov=_values(candidates.prov, plan.at),
            status=_values(candidates.status, plan.at),
            deliver=_values(candidates.deliver, plan.at),
            km=_values(candidates.distance_km, plan.at),
            head=_values(candidates.prov, plan.first),
            pick_prov=_values(candidates.prov, pick),
            pick_km=_values(candidates.distance_km, pick),
            pick_deliver=_values(candidates.deliver, pick),
        )


_LimitsKey = tuple[int, bool, int, frozenset[str]]


@dataclass
class _Writer:
    """Turns the planned pairs of each referral into its claims, sentence and :class:`Match`."""

    problem: Problem
    usage: Usage
    chosen: IntArray
    plan: _Plan
    named: _Named
    proven: bool
    ids: list[str] = field(init=False)
    names: dict[str, str] = field(init=False)
    cache: dict[_LimitsKey, tuple[tuple[Limit, ...], tuple[str, ...]]] = field(init=False)
    """Limits depend on the site, the mode and the household's size and needs only."""

    def __post_init__(self) -> None:
        """Index the providers once for every referral."""
        self.ids = [p.provider_id for p in self.problem.providers]
        self.names = {p.provider_id: p.name for p in self.problem.providers}
        self.cache = {}

    def claims(self, i: int) -> list[Claim]:
        """What the explanation of referral ``i`` says about each site it names."""
        referral, providers, named = self.problem.referrals[i], self.problem.providers, self.named
        base = MAX_LISTED * i
        claims: list[Claim] = []
        for k in range(base, base + int(self.plan.shown[i])):
            j, state = named.prov[k], named.status[k]
            if state == PairStatus.LACKS_DIET:
                missing = _ordered(set(referral.dietary) - set(providers[j].dietary))
                claims.append(Claim(self.ids[j], named.km[k], (Limit.LACKS_TAGS,), missing))
            elif state == PairStatus.OUT_OF_AREA:
                why = Limit.OUT_OF_AREA if referral.outcode else Limit.NO_POSTCODE
                claims.append(Claim(self.ids[j], named.km[k], (why,)))
            else:
                key = (j, named.deliver[k], referral.household_size, referral.dietary)
                if key not in self.cache:
                    self.cache[key] = self.usage.limits(self.problem, j, i, named.deliver[k])
                limits, stocks = self.cache[key]
                held = None if self.chosen[i] >= 0 else _BY_RANK.get(int(self.usage.top_rank[j]))
                claims.append(
                    Claim(self.ids[j], named.km[k], limits or (Limit.ROOM,), stocks, held)
                )
        return claims

    def match(self, i: int) -> Match:
        """Referral ``i``'s :class:`Match`, with its reason and explanation."""
        referral, named = self.problem.referrals[i], self.named
        claims = self.claims(i)
        base = MAX_LISTED * i
        considered = tuple(
            self.ids[j] for j in named.head[base : base + int(self.plan.considered[i])]
        )
        count = int(self.plan.count[i])
        if self.chosen[i] >= 0:
            j = named.pick_prov[i]
            deliver = bool(named.pick_deliver[i])
            text = _matched_text(
                self.names[self.ids[j]],
                named.pick_km[i],
                deliver,
                referral,
                claims,
                count,
                self.names,
                self.proven,
            )
            return Match(
                referral_id=referral.referral_id,
                reason=Reason.MATCHED,
                provider_id=self.ids[j],
                mode=Mode.DELIVER if deliver else Mode.COLLECT,
                distance_km=round(named.pick_km[i], 3),
                explanation=text,
                considered=considered,
                claims=tuple(claims),
            )
        access = Access(int(self.plan.access[i]))
        text = _unmatched_text(access, referral, claims, count, self.names, self.proven)
        return Match(
            referral_id=referral.referral_id,
            reason=access.reason,
            explanation=text,
            considered=considered,
            claims=tuple(claims),
        )


def explain(
    problem: Problem,
    candidates: Candidates,
    chosen_pair: IntArray,
    usage: Usage,
    *,
    proven: bool = True,
) -> list[Match]:
    """One :class:`Match` per referral, in input order, with its reason and explanation.

    An explanation names at most :data:`MAX_LISTED` providers and counts the rest. ``proven``
    says whether the answer is proven best (else a named site may still have had room).
    The pairs to name are found for every referral at once (:func:`_plan`, arrays); the
    sentences are then written referral by referral (:class:`_Writer`).
    """
    if not problem.referrals:
        return []
    chosen = np.asarray(chosen_pair, dtype=np.int64)
    plan = _plan(candidates, chosen)
    writer = _Writer(problem, usage, chosen, plan, _Named.of(candidates, chosen, plan), proven)
    return [writer.match(i) for i in range(len(problem.referrals))]


def _limit_words(claim: Claim, size: int, proven: bool) -> str:
    """What a claim says about its site, e.g. ``was full and had no delivery slots left``."""
    words = []
    for limit in claim.limits:
        if limit is Limit.FULL:
            words.append("was full")
        elif limit is Limit.PEOPLE:
            words.append(f"had no room for {size} more {'person' if size == 1 else 'people'}")
        elif limit is Limit.DELIVERY:
            words.append("had no delivery slots left")
        elif limit is Limit.STOCK:
            words.append(f"had no {_words(claim.tags)} stock left")
        elif limit is Limit.LACKS_TAGS:
            words.append(f"does not stock {_words(claim.tags)}")
        elif limit is Limit.OUT_OF_AREA:
            words.append("does not serve this district")
        elif limit is Limit.NO_POSTCODE:
            words.append("serves listed postcode districts only and no postcode was given")
        elif limit is Limit.ROOM:
            later = " (the search stopped before it could use that room)"
            words.append("had room" + ("" if proven else later))
    return " and ".join(words)


def _matched_text(
    site: str,
    distance: float,
    deliver: bool,
    referral: Referral,
    claims: list[Claim],
    count: int,
    names: dict[str, str],
    proven: bool,
) -> str:
    """The explanation of a match at ``site``, naming the nearer sites ``claims`` are about."""
    head = f"{site}, {_km(distance)}" + (" (delivered)" if deliver else "")
    tags = _ordered(referral.dietary)
    stock = f" with {_words(tags)} stock" if tags else ""
    if count == 0:
        return f"{head}: the nearest provider in reach{stock}."
    parts = []
    for claim in claims:
        words = _limit_words(claim, referral.household_size, proven)
        if claim.limits == (Limit.OUT_OF_AREA,) and referral.outcode:
            words = f"does not serve {referral.outcode}"
        parts.append(f"{names[claim.provider_id]} {words}")
    return f"{head}: the nearest provider{stock} with room. Nearer: {_listing(parts, count)}."


def _unmatched_text(
    access: Access,
    referral: Referral,
    claims: list[Claim],
    count: int,
    names: dict[str, str],
    proven: bool,
) -> str:
    """The explanation of an unmatched referral, from its access and the sites it names."""
    if access is Access.NONE_IN_REACH:
        if referral.needs_delivery:
            return "No provider delivers to this location."
        return f"No provider within the household's {referral.max_travel_km:g} km travel limit."
    if access is Access.NO_DIET:
        parts = [
            f"{names[c.provider_id]} ({_km(c.distance_km)}) does not stock {_words(c.tags)}"
            for c in claims
        ]
        needs = _words(_ordered(referral.dietary))
        return (
            f"No provider in reach stocks everything this household needs ({needs}): "
            f"{_listing(parts, count)}."
        )
    if access is Access.NOT_IN_AREA:
        parts = [f"{names[c.provider_id]} ({_km(c.distance_km)})" for c in claims]
        if referral.outcode:
            lead = f"Providers in reach with the right stock do not serve {referral.outcode}"
        else:
            lead = (
                "Providers in reach with the right stock serve listed postcode districts only, "
                "and this household gave no postcode"
            )
        return f"{lead}: {_listing(parts, count)}."
    parts = []
    for claim in claims:
        text = f"{names[claim.provider_id]} ({_km(claim.distance_km)}) "
        text += _limit_words(claim, referral.household_size, proven)
        held = claim.most_urgent_held
        if claim.limits != (Limit.ROOM,) and held is not None:
            if held.rank > referral.urgency.rank:
                text += f", holding {held.value} households"
            elif held.rank == referral.urgency.rank:
                text += f", holding {held.value} households like this one"
                if proven:
                    text += " (between equally urgent households the least total distance won)"
            else:
                text += ", holding only less urgent households"
        parts.append(text)
    return (
        f"Every provider that could take this household was at a limit: {_listing(parts, count)}."
        if all(c.limits != (Limit.ROOM,) for c in claims)
        else f"Providers that could take this household: {_listing(parts, count)}."
    )


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


def _listing(shown: list[str], total: int) -> str:
    """The shown parts, then how many more there are (``total`` counts every part)."""
    text = "; ".join(shown)
    more = total - len(shown)
    return f"{text}; and {more} more" if more > 0 else text
