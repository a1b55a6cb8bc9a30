"""The redaction component meets its targets on the labelled corpus (benchmarks/).

A quality test, not a timing test: the same measurement as ``python -m
benchmarks.redaction_bench``, on the committed corpus of council-charity messages.
"""

from __future__ import annotations

import pytest

from benchmarks.redaction_bench import load, measure
from benchmarks.redaction_corpus import CHECKSUM_KINDS, KINDS


@pytest.mark.parametrize("split", ["development", "held_out", "second_held_out", None])
def test_recall_and_over_redaction_meet_the_targets(split: str | None) -> None:
    """Known names and checksum-valid identifiers: 100%; other identifiers >= 99%; unknown
    names >= 90%; fewer than 1% of plain words touched, on each part of the corpus and on
    the whole."""
    corpus = load()
    result = measure(corpus, split)
    assert result.messages >= 300
    if split is None:
        assert all(result.planted[kind] >= 30 for kind in KINDS), result.planted
    assert result.failures() == [], result.failures()
    assert result.recall("known_name") == 1.0
    assert all(result.recall(kind) == 1.0 for kind in CHECKSUM_KINDS)


def test_the_measure_can_fail() -> None:
    """With the directory emptied, known names are missed: the measure is not a tautology."""
    corpus = load()
    blind = {**corpus, "households": [], "staff": [], "staff_accounts": []}
    # Households are still looked up by index for their phone and address.
    blind["households"] = [
        {**household, "name": "Nobody Known"} for household in corpus["households"]
    ]
    result = measure(blind, "development")
    assert result.recall("known_name") < 1.0
