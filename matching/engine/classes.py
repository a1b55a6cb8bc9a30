"""Households with identical options, found exactly and fast: the engine's aggregation.

Two items (households) are interchangeable in a model when they have the same rank and,
option for option, the same kind of arc (same site or row, same cost, same weights). Many
households referred from one postcode district with the same needs are exactly that, so
the solvers work on classes with counts instead of on every household.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def mix64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """A 64-bit mixing function (splitmix64's finaliser), elementwise, wrapping."""
    with np.errstate(over="ignore"):
        z = values + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


@dataclass(frozen=True)
class Classes:
    """Items grouped into classes of interchangeable ones.

    The arcs given were sorted by item, then by type; ``items`` are the distinct items in that
    order, item ``i`` owning arcs ``first_arc[i] .. first_arc[i] + n_arcs[i] - 1`` (each at
    ``position`` 0, 1, ... within its item). ``item_class`` labels every item ``0..k-1``;
    ``representative[c]`` is the first item of class ``c``; members of one class have the
    same arc type at every position.
    """

    items: IntArray
    first_arc: IntArray
    n_arcs: IntArray
    position: IntArray
    item_class: IntArray
    representative: IntArray
    count: IntArray

    @property
    def n_classes(self) -> int:
        return int(self.count.size)

    def representative_arcs(self) -> IntArray:
        """Indices (into the sorted arcs) of every class's representative arcs, class by class."""
        reps = self.representative
        lengths = self.n_arcs[reps]
        starts = np.concatenate(([0], np.cumsum(lengths)))[:-1]
        return np.asarray(
            np.repeat(self.first_arc[reps] - starts, lengths) + np.arange(int(lengths.sum())),
            dtype=np.int64,
        )

    def members(self) -> tuple[IntArray, IntArray]:
        """Item indices sorted by class, and where each class starts in that list."""
        order = np.argsort(self.item_class, kind="stable")
        starts = np.concatenate(([0], np.cumsum(self.count)))
        return np.asarray(order, dtype=np.int64), np.asarray(starts, dtype=np.int64)


def group_items(item_of_arc: IntArray, arc_type: IntArray, item_rank: IntArray) -> Classes:
    """Group items whose rank and sequence of arc types are identical.

    ``item_of_arc`` and ``arc_type`` are per arc, sorted by item and then by type;
    ``item_rank`` is indexed by item id. Grouping uses a 64-bit hash of each sequence and is
    then checked element by element, so a hash collision can only split a class, never merge
    two different ones.
    """
    items, first_arc, n_arcs = np.unique(item_of_arc, return_index=True, return_counts=True)
    if items.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Classes(empty, empty, empty, empty, empty, empty, empty)
    owner = np.repeat(np.arange(items.size), n_arcs)
    position = np.arange(item_of_arc.size) - first_arc[owner]
    with np.errstate(over="ignore"):
        token = mix64(
            arc_type.astype(np.uint64) * np.uint64(0x100000001B3) + position.astype(np.uint64)
        )
    signature = np.zeros(items.size, dtype=np.uint64)
    np.add.at(signature, owner, token)
    rank = item_rank[items]
    keys = np.column_stack((rank, n_arcs, signature.view(np.int64)))
    _, group = np.unique(keys, axis=0, return_inverse=True)
    group = np.asarray(group, dtype=np.int64).ravel()
    rep = _first_index(group)
    same = arc_type[first_arc[rep[group]][owner] + position] == arc_type
    broken = np.unique(owner[~same])
    if broken.size:  # a collision: those items become classes of their own
        group = group.copy()
        group[broken] = group.max() + 1 + np.arange(broken.size)
        _, group = np.unique(group, return_inverse=True)
        group = np.asarray(group, dtype=np.int64).ravel()
        rep = _first_index(group)
    count = np.bincount(group).astype(np.int64)
    return Classes(
        np.asarray(items, dtype=np.int64),
        np.asarray(first_arc, dtype=np.int64),
        np.asarray(n_arcs, dtype=np.int64),
        np.asarray(position, dtype=np.int64),
        group,
        rep,
        count,
    )


def _first_index(group: IntArray) -> IntArray:
    """For labels ``0..k-1``, the first position holding each label."""
    first = np.full(int(group.max()) + 1 if group.size else 0, group.size, dtype=np.int64)
    np.minimum.at(first, group, np.arange(group.size))
    return first
