"""An offer's decision reads as plain sentences in FOI search and exports."""

from __future__ import annotations

import re

import pytest

from api.core.tables import Offer
from api.core.vocabulary import DeclineReason, OfferStatus
from api.record.indexing import offer_text

EXPLANATION = "Canal Side Community Pantry, 2.9 km: the nearest provider in reach."


@pytest.mark.parametrize("status", list(OfferStatus))
def test_every_status_reads_as_words(status: OfferStatus) -> None:
    """No status is shown by its code name (``no_show``), and each sentence ends once."""
    text = offer_text(Offer(status=status, explanation=EXPLANATION))
    assert "_" not in text
    assert ".." not in text and text.endswith(".")
    assert EXPLANATION in text


def test_a_declined_offer_gives_the_reason_and_note_in_sentences() -> None:
    """The charity's reason and note follow the engine's reason, each its own sentence."""
    offer = Offer(
        status=OfferStatus.DECLINED,
        explanation=EXPLANATION,
        decline_reason=DeclineReason.CANNOT_MEET_DIETARY,
        decline_note="No halal stock until Friday",
    )
    assert offer_text(offer) == (
        "Offer declined. Canal Side Community Pantry, 2.9 km: the nearest provider in reach. "
        "Reason for declining: cannot meet the household's dietary needs. "
        "Note: No halal stock until Friday."
    )


@pytest.mark.parametrize("reason", list(DeclineReason))
def test_every_decline_reason_has_words(reason: DeclineReason) -> None:
    """Each reason a charity can give is written out, never as its code."""
    text = offer_text(Offer(status=OfferStatus.DECLINED, decline_reason=reason))
    assert re.search(r"Reason for declining: [a-z]", text)
    assert "_" not in text
