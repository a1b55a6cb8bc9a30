"""Grouping interchangeable households: exact, whatever the hash does."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matching.engine.classes import group_items


@st.composite
def arc_lists(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Items with short, sorted sequences of arc types drawn from a tiny alphabet."""
    n = draw(st.integers(1, 12))
    rank = np.array(draw(st.lists(st.integers(1, 2), min_size=n, max_size=n)), dtype=np.int64)
    items: list[int] = []
    types: list[int] = []
    for i in range(n):
        seq = sorted(draw(st.lists(st.integers(0, 3), min_size=0, max_size=3)))
        items += [i] * len(seq)
        types += seq
    return np.array(items, dtype=np.int64), np.array(types, dtype=np.int64), rank


@given(arc_lists())
def test_classes_are_exactly_the_identical_households(
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """Two households share a class if and only if their rank and arc types are the same."""
    item_of_arc, arc_type, rank = data
    classes = group_items(item_of_arc, arc_type, rank)
    seqs = {
        int(i): (int(rank[i]), tuple(arc_type[item_of_arc == i].tolist()))
        for i in classes.items.tolist()
    }
    for a, ia in enumerate(classes.items.tolist()):
        for b, ib in enumerate(classes.items.tolist()):
            same = classes.item_class[a] == classes.item_class[b]
            assert same == (seqs[ia] == seqs[ib])
    assert classes.count.sum() == classes.items.size
    reps = classes.representative
    assert (classes.item_class[reps] == np.arange(classes.n_classes)).all()
    assert classes.representative_arcs().size == classes.n_arcs[reps].sum()


def test_a_hash_collision_only_splits() -> None:
    """Households whose sequences differ never share a class, even if they hash alike."""
    # Same rank and length: only the element-by-element check can tell these apart.
    item_of_arc = np.array([0, 0, 1, 1, 2, 2], dtype=np.int64)
    arc_type = np.array([1, 2, 1, 2, 1, 3], dtype=np.int64)
    classes = group_items(item_of_arc, arc_type, np.ones(3, dtype=np.int64))
    assert classes.n_classes == 2
    assert classes.item_class[0] == classes.item_class[1] != classes.item_class[2]
