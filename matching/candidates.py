"""Who may go where: every referral-provider pair in reach, classified by the contract.

Candidate pairs are found with a k-d tree over points on the unit sphere, so the cost grows
with the pairs that are in reach, not with referrals x providers. Each pair in reach gets a
:class:`PairStatus` (feasible, lacks the household's dietary tags, outside the service
area), in the order the contract tests its reasons, so the unmatched reasons, the model and
the explanations all come from the same arrays.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from matching.geo import EARTH_RADIUS_KM, Spherical, great_circle, postcode_area, spherical
from matching.models import Problem, Reason, dietary_mask

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class PairStatus(IntEnum):
    """Why an in-reach pair is or is not feasible, in the contract's order of reasons."""

    FEASIBLE = 0
    LACKS_DIET = 1
    """The provider does not list every dietary tag of the referral."""
    OUT_OF_AREA = 2
    """Tags fine, but the provider's service area does not take the referral."""


class Access(IntEnum):
    """What a referral's pairs allow as a whole: the reason it gets if left unmatched."""

    FEASIBLE = 0
    """Some provider is feasible: unmatched means ``capacity_exhausted``."""
    NONE_IN_REACH = 1
    NO_DIET = 2
    NOT_IN_AREA = 3

    @property
    def reason(self) -> Reason:
        """The contract's reason code for an unmatched referral with this access."""
        return _ACCESS_REASON[self]


_ACCESS_REASON = {
    Access.FEASIBLE: Reason.CAPACITY_EXHAUSTED,
    Access.NONE_IN_REACH: Reason.NO_PROVIDER_IN_REACH,
    Access.NO_DIET: Reason.DIETARY_UNAVAILABLE,
    Access.NOT_IN_AREA: Reason.NOT_ELIGIBLE,
}

_BLOCK = 1 << 15
"""Pairs per block in :func:`_in_reach` and :func:`_copy_out`: small enough for their
temporaries to stay in cache, large enough for the per-block overhead not to matter."""


@dataclass(frozen=True)
class Candidates:
    """Every referral-provider pair in reach, and which of them are feasible.

    Arrays are parallel, sorted by referral then distance; ``status`` holds each pair's
    :class:`PairStatus`.
    ``deliver`` says whether the pair is a delivery (else collection).
    """

    ref: IntArray
    prov: IntArray
    distance_km: FloatArray
    deliver: BoolArray
    status: npt.NDArray[np.int8]
    n_referrals: int

    @property
    def feasible(self) -> BoolArray:
        """Per pair, whether the contract allows it."""
        return np.asarray(self.status == PairStatus.FEASIBLE)

    def access(self) -> npt.NDArray[np.int8]:
        """Per referral, its :class:`Access` (the first reason that applies if unmatched)."""
        n = self.n_referrals
        any_reach = np.bincount(self.ref, minlength=n) > 0
        diet_ok = np.bincount(self.ref[self.status != PairStatus.LACKS_DIET], minlength=n) > 0
        feasible = np.bincount(self.ref[self.status == PairStatus.FEASIBLE], minlength=n) > 0
        codes = np.full(n, Access.FEASIBLE, dtype=np.int8)
        codes[~feasible] = Access.NOT_IN_AREA
        codes[~diet_ok] = Access.NO_DIET
        codes[~any_reach] = Access.NONE_IN_REACH
        return codes

    def unmatched_reasons(self) -> list[Reason]:
        """Per referral, the contract's reason code if it is left unmatched."""
        return [Access(code).reason for code in self.access().tolist()]


def candidate_pairs(problem: Problem) -> Candidates:
    """All pairs in reach by the mode each referral needs, classified per the contract.

    Collection: distance <= the referral's ``max_travel_km``. Delivery: the provider delivers
    (``delivery_capacity`` > 0) and distance <= its ``delivery_radius_km``.

    Most referrals are geocoded to a district centroid, so many of them ask the same question
    (same point, same mode, same travel limit). The spatial index and the distances are worked
    out once per distinct question, the pair statuses once per question, dietary needs and
    outward code, and the sorted answers are then copied out to every referral that asked.
    """
    referrals, providers = problem.referrals, problem.providers
    n, m = len(referrals), len(providers)
    if n == 0 or m == 0:
        return _no_candidates(n)
    r_lat = np.fromiter((r.latitude for r in referrals), dtype=np.float64, count=n)
    r_lon = np.fromiter((r.longitude for r in referrals), dtype=np.float64, count=n)
    p_lat = np.fromiter((p.latitude for p in providers), dtype=np.float64, count=m)
    p_lon = np.fromiter((p.longitude for p in providers), dtype=np.float64, count=m)
    needs_delivery = np.fromiter((r.needs_delivery for r in referrals), dtype=bool, count=n)
    travel = np.fromiter((r.max_travel_km for r in referrals), dtype=np.float64, count=n)
    radius = np.fromiter((p.delivery_radius_km for p in providers), dtype=np.float64, count=m)
    delivers = np.fromiter(
        (p.delivery_capacity > 0 and p.delivery_radius_km >= 0 for p in providers),
        dtype=bool,
        count=m,
    )

    # Questions: referrals at the same point (bit for bit) needing the same mode and, when
    # collecting, with the same travel limit, find exactly the same providers at the same
    # distances. ``asker`` is one referral per question, ``question`` each referral's.
    asker, question = _groups(
        r_lat.view(np.int64),
        r_lon.view(np.int64),
        needs_delivery.astype(np.int64),
        np.where(needs_delivery, 0, travel.view(np.int64)),
    )
    q_lat, q_lon, q_travel = r_lat[asker], r_lon[asker], travel[asker]
    q_deliver = needs_delivery[asker]
    q_xyz, p_xyz = _unit_vectors(q_lat, q_lon), _unit_vectors(p_lat, p_lon)

    q_parts: list[IntArray] = []
    p_parts: list[IntArray] = []
    # Collection: each collecting question looks for providers within its travel limit.
    collect = np.flatnonzero(~q_deliver)
    if collect.size:
        hits = cKDTree(p_xyz).query_ball_point(
            q_xyz[collect], _chord(q_travel[collect]), return_sorted=False
        )
        lengths, flat = _flatten(hits)
        q_parts.append(np.repeat(collect, lengths))
        p_parts.append(flat)
    # Delivery: each delivering provider looks for delivery questions within its radius.
    deliver_q, deliver_p = np.flatnonzero(q_deliver), np.flatnonzero(delivers)
    if deliver_q.size and deliver_p.size:
        found = cKDTree(q_xyz[deliver_q]).query_ball_point(
            p_xyz[deliver_p], _chord(radius[deliver_p]), return_sorted=False
        )
        lengths, flat = _flatten(found)
        q_parts.append(deliver_q[flat])
        p_parts.append(np.repeat(deliver_p, lengths))
    qs = np.concatenate(q_parts) if q_parts else np.zeros(0, dtype=np.int64)
    ps = np.concatenate(p_parts) if p_parts else np.zeros(0, dtype=np.int64)
    if qs.size == 0:
        return _no_candidates(n)

    dist, keep = _in_reach(
        (spherical(q_lat, q_lon), q_deliver, q_travel), qs, (spherical(p_lat, p_lon), radius), ps
    )
    qs, ps, dist = qs[keep], ps[keep], dist[keep]
    order = _pair_order(qs, dist, ps, n_groups=asker.size, n_providers=m)
    qs, ps, dist = qs[order], ps[order], dist[order]
    q_len = np.bincount(qs, minlength=asker.size)
    q_start = np.cumsum(q_len) - q_len

    # Classes: a question asked with the same dietary needs from the same outward code; the
    # status of each of its pairs is the same for every referral in the class.
    outcode_of: dict[str | None, int] = {None: 0}
    r_code = np.fromiter(
        (outcode_of.setdefault(r.outcode, len(outcode_of)) for r in referrals),
        dtype=np.int64,
        count=n,
    )
    mask_of = {tags: dietary_mask(tags) for tags in {r.dietary for r in referrals}}
    r_mask = np.fromiter((mask_of[r.dietary] for r in referrals), dtype=np.int64, count=n)
    member, klass = _groups(question, r_mask, r_code)
    c_len = q_len[question[member]]
    c_pair = _segments(q_start[question[member]], c_len)
    c_prov = ps[c_pair]
    c_ref = np.repeat(member, c_len)
    c_status = np.full(c_pair.size, PairStatus.FEASIBLE, dtype=np.int8)
    c_status[~_service_area_allows(problem, r_code[c_ref], c_prov, list(outcode_of))] = (
        PairStatus.OUT_OF_AREA
    )
    p_mask = np.fromiter((dietary_mask(set(p.dietary)) for p in providers), dtype=np.int64, count=m)
    c_status[(r_mask[c_ref] & ~p_mask[c_prov]) != 0] = PairStatus.LACKS_DIET

    # Every referral gets its class's pairs, in referral order.
    return _copy_out(klass, c_len, c_prov, dist[c_pair], c_status, needs_delivery)


def _copy_out(
    klass: IntArray,
    c_len: IntArray,
    c_prov: IntArray,
    c_dist: FloatArray,
    c_status: npt.NDArray[np.int8],
    needs_delivery: BoolArray,
) -> Candidates:
    """The candidate arrays: each referral's class's pairs (``c_*``), referral after referral.

    Filled block by block, so the only arrays as long as the output are the output itself.
    """
    n = klass.size
    r_len = c_len[klass]
    r_end = np.cumsum(r_len)
    c_start = np.cumsum(c_len) - c_len
    total = int(r_end[-1]) if n else 0
    ref = np.empty(total, dtype=np.int64)
    prov = np.empty(total, dtype=np.int64)
    dist = np.empty(total, dtype=np.float64)
    deliver = np.empty(total, dtype=bool)
    status = np.empty(total, dtype=np.int8)
    cuts = np.unique(np.searchsorted(r_end, np.arange(0, total, _BLOCK), side="right"))
    for a, b in itertools.pairwise([*cuts.tolist(), n]):
        lo, hi = int(r_end[a] - r_len[a]), int(r_end[b - 1])
        pair = _segments(c_start[klass[a:b]], r_len[a:b])
        ref[lo:hi] = np.repeat(np.arange(a, b, dtype=np.int64), r_len[a:b])
        # mode="clip" only so that numpy writes straight into ``out`` (every index is valid).
        np.take(c_prov, pair, out=prov[lo:hi], mode="clip")
        np.take(c_dist, pair, out=dist[lo:hi], mode="clip")
        np.take(c_status, pair, out=status[lo:hi], mode="clip")
        np.take(needs_delivery, ref[lo:hi], out=deliver[lo:hi], mode="clip")
    return Candidates(ref, prov, dist, deliver, status, n)


def _unit_vectors(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Points as unit vectors in 3-D, where a k-d tree finds everything within a chord."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))


def _chord(radius_km: FloatArray) -> FloatArray:
    """Chord length on the unit sphere for a great-circle radius, padded against rounding."""
    angle = np.minimum(np.asarray(radius_km, dtype=np.float64) / EARTH_RADIUS_KM, np.pi)
    return np.asarray(2.0 * np.sin(angle / 2.0) * (1.0 + 1e-9) + 1e-12, dtype=np.float64)


def _in_reach(
    questions: tuple[Spherical, BoolArray, FloatArray],
    qs: IntArray,
    providers: tuple[Spherical, FloatArray],
    ps: IntArray,
) -> tuple[FloatArray, BoolArray]:
    """Distance of each (question, provider) pair and whether it is within the pair's limit.

    ``questions`` is (points, needs delivery, travel limit), ``providers`` (points, delivery
    radius): a delivery pair's limit is the radius, a collection pair's the travel limit.
    Worked out block by block, which keeps the dozen temporaries of the formula small instead
    of each as long as the pairs.
    """
    (q_sph, q_deliver, q_travel), (p_sph, p_radius) = questions, providers
    dist = np.empty(qs.size, dtype=np.float64)
    keep = np.empty(qs.size, dtype=bool)
    for lo in range(0, qs.size, _BLOCK):
        q, p = qs[lo : lo + _BLOCK], ps[lo : lo + _BLOCK]
        d = great_circle(
            (q_sph[0][q], q_sph[1][q], q_sph[2][q]), (p_sph[0][p], p_sph[1][p], p_sph[2][p])
        )
        dist[lo : lo + _BLOCK] = d
        keep[lo : lo + _BLOCK] = d <= np.where(q_deliver[q], p_radius[p], q_travel[q])
    return dist, keep


def _groups(*columns: IntArray) -> tuple[IntArray, IntArray]:
    """Rows equal in every column, as ``(first row of each group, group of each row)``."""
    order = np.lexsort(columns[::-1])
    changed = np.zeros(order.size, dtype=bool)
    if order.size:
        changed[0] = True
    for column in columns:
        ordered = column[order]
        changed[1:] |= ordered[1:] != ordered[:-1]
    group = np.empty(order.size, dtype=np.int64)
    group[order] = np.cumsum(changed) - 1
    return order[changed], group


def _flatten(lists: npt.NDArray[np.object_]) -> tuple[IntArray, IntArray]:
    """The lengths of a k-d tree's hit lists and their items, concatenated."""
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    items = np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64, count=lengths.sum())
    return lengths, items


def _segments(starts: IntArray, lengths: IntArray) -> IntArray:
    """``starts[k], starts[k] + 1, ..., starts[k] + lengths[k] - 1`` for every k, concatenated.

    Built as a running sum of steps (1 within a segment, a jump at each segment's start), so
    it needs one array of the output's length rather than several.
    """
    used = lengths > 0
    starts, lengths = starts[used], lengths[used]
    total = int(lengths.sum())
    steps = np.ones(total, dtype=np.int64)
    if total == 0:
        return steps
    heads = np.cumsum(lengths) - lengths
    steps[heads[0]] = starts[0]
    steps[heads[1:]] = starts[1:] - (starts[:-1] + lengths[:-1] - 1)
    return np.cumsum(steps, out=steps)


def _pair_order(
    group: IntArray, dist: FloatArray, prov: IntArray, *, n_groups: int, n_providers: int
) -> IntArray:
    """The permutation sorting pairs by group, then distance, then provider.

    One sort of a packed key (group, rank of the distance, provider) when it fits in 64 bits,
    which is several times faster than a three-key ``lexsort``; the ``lexsort`` otherwise.
    """
    distinct, rank = np.unique(dist, return_inverse=True)
    if n_groups * distinct.size * n_providers >= 2**63:
        return np.asarray(np.lexsort((prov, dist, group)), dtype=np.int64)
    key = (group * distinct.size + rank.reshape(-1)) * n_providers + prov
    return np.asarray(np.argsort(key), dtype=np.int64)


def _no_candidates(n: int) -> Candidates:
    """No pair at all for ``n`` referrals."""
    none = np.zeros(0, dtype=np.int64)
    return Candidates(none, none, np.zeros(0), np.zeros(0, dtype=bool), np.zeros(0, np.int8), n)


def _service_area_allows(
    problem: Problem, r_code: IntArray, prov: IntArray, names: list[str | None]
) -> BoolArray:
    """Whether each pair passes the provider's service area (empty area = anyone).

    ``r_code`` is each pair's referral outward code as an index into ``names``.
    """
    restricted = [j for j, p in enumerate(problem.providers) if p.service_area]
    allowed = np.ones(prov.size, dtype=bool)
    if not restricted:
        return allowed
    known = [(idx, name, postcode_area(name)) for idx, name in enumerate(names) if name is not None]
    table = np.zeros((len(restricted), len(names)), dtype=bool)
    for row, j in enumerate(restricted):
        entries = problem.providers[j].service_area
        for idx, name, area in known:
            if name in entries or area in entries:
                table[row, idx] = True
    row_index = np.full(len(problem.providers), -1, dtype=np.int64)
    row_index[restricted] = np.arange(len(restricted))
    rows = row_index[prov]
    limited = rows >= 0
    allowed[limited] = table[rows[limited], r_code[limited]]
    return allowed
