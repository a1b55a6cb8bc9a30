"""The engine's model: items choose at most one arc under capacity rows, and how a problem
becomes one.

Items (households) choose at most one arc (a provider, by a mode) at an integer cost; rows
(a provider's parcels, people, delivery slots, a dietary stock) cap a weighted sum of the
chosen arcs. The objective is lexicographic: first the most items of the highest rank, then
of the next, ..., then the least total cost. Every solver in :mod:`matching.engine` works
on this one model; :func:`build_model` is the only place that knows the domain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from matching.candidates import Candidates
from matching.models import DIETARY_TAGS, Problem, dietary_mask

COST_UNITS_PER_KM = 100_000
"""Distances are optimised in whole centimetres: within half a centimetre per household of the
exact optimum, far below the metre that `distance_km` in matches.csv shows."""

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class AssignmentModel:
    """Items, arcs and capacity rows (sparse incidence: ``entry_row``, ``entry_arc``, weight).

    ``item_rank`` >= 1 (larger is more important); ``arc_cost`` >= 0; every row belongs to one
    bin (``row_bin``) and holds only arcs of that bin (``arc_bin``).
    """

    n_items: int
    item_rank: IntArray
    arc_item: IntArray
    arc_bin: IntArray
    arc_cost: IntArray
    row_bin: IntArray
    row_capacity: IntArray
    entry_row: IntArray
    entry_arc: IntArray
    entry_weight: IntArray

    @property
    def n_arcs(self) -> int:
        return int(self.arc_item.size)

    @property
    def n_rows(self) -> int:
        return int(self.row_capacity.size)


@dataclass(frozen=True)
class AssignmentSolution:
    """The chosen arc per item (``-1`` = unmatched) and what is proven about it.

    ``proven`` is True when the choice is lexicographically optimal. ``rank_bound`` maps each
    rank to an upper bound on the items of that rank any solution could match (from the
    relaxation); ``cost_bound`` a lower bound on the cost when it is known.
    """

    chosen: IntArray
    proven: bool
    method: str
    rank_bound: dict[int, int] = field(default_factory=dict)
    cost_bound: float | None = None
    timings: dict[str, float] = field(default_factory=dict)


def build_model(problem: Problem, candidates: Candidates) -> AssignmentModel:
    """The assignment model of a problem's feasible pairs and its providers' limits.

    Rows per provider: parcels (``capacity``), people (``people_capacity``), delivery slots
    (``delivery_capacity``) and one per capped dietary tag (``tag:limit``).
    """
    feasible = candidates.feasible
    ref = candidates.ref[feasible]
    prov = candidates.prov[feasible]
    deliver = candidates.deliver[feasible]
    cost = np.rint(candidates.distance_km[feasible] * COST_UNITS_PER_KM).astype(np.int64)
    n, m = len(problem.referrals), len(problem.providers)
    arcs = np.arange(ref.size, dtype=np.int64)
    sizes = np.fromiter((r.household_size for r in problem.referrals), np.int64, count=n)
    rank = np.fromiter((r.urgency.rank for r in problem.referrals), np.int64, count=n)
    masks = np.fromiter((dietary_mask(r.dietary) for r in problem.referrals), np.int64, count=n)

    row_bin: list[IntArray] = [np.arange(m, dtype=np.int64)]
    row_cap: list[IntArray] = [np.fromiter((p.capacity for p in problem.providers), np.int64, m)]
    e_row: list[IntArray] = [prov]
    e_arc: list[IntArray] = [arcs]
    e_weight: list[IntArray] = [np.ones(ref.size, dtype=np.int64)]
    next_row = m

    def add_rows(
        row_of_provider: IntArray,
        caps: list[int],
        selected: npt.NDArray[np.bool_],
        weights: IntArray,
        owners: list[int],
    ) -> None:
        nonlocal next_row
        row_bin.append(np.asarray(owners, dtype=np.int64))
        row_cap.append(np.asarray(caps, dtype=np.int64))
        take = selected & (row_of_provider[prov] >= 0)
        e_row.append(row_of_provider[prov[take]])
        e_arc.append(arcs[take])
        e_weight.append(weights[take])
        next_row += len(caps)

    people = [j for j, p in enumerate(problem.providers) if p.people_capacity is not None]
    if people:
        row_of = np.full(m, -1, dtype=np.int64)
        row_of[people] = next_row + np.arange(len(people))
        caps = [int(problem.providers[j].people_capacity or 0) for j in people]
        add_rows(row_of, caps, np.ones(ref.size, dtype=bool), sizes[ref], people)
    delivering = [j for j, p in enumerate(problem.providers) if p.delivery_capacity > 0]
    if delivering:
        row_of = np.full(m, -1, dtype=np.int64)
        row_of[delivering] = next_row + np.arange(len(delivering))
        caps = [problem.providers[j].delivery_capacity for j in delivering]
        add_rows(row_of, caps, deliver, np.ones(ref.size, dtype=np.int64), delivering)
    for bit, tag in enumerate(DIETARY_TAGS):
        capped = [j for j, p in enumerate(problem.providers) if p.dietary.get(tag) is not None]
        if not capped:
            continue
        row_of = np.full(m, -1, dtype=np.int64)
        row_of[capped] = next_row + np.arange(len(capped))
        caps = [int(problem.providers[j].dietary[tag] or 0) for j in capped]
        has_tag = ((masks[ref] >> bit) & 1).astype(bool)
        add_rows(row_of, caps, has_tag, np.ones(ref.size, dtype=np.int64), capped)

    return AssignmentModel(
        n_items=n,
        item_rank=rank,
        arc_item=ref,
        arc_bin=prov,
        arc_cost=cost,
        row_bin=np.concatenate(row_bin),
        row_capacity=np.concatenate(row_cap),
        entry_row=np.concatenate(e_row),
        entry_arc=np.concatenate(e_arc),
        entry_weight=np.concatenate(e_weight),
    )
