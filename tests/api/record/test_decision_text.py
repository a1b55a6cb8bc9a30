"""An offer's decision reads as plain sentences in FOI search and exports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import api
from api.core.tables import Offer
from api.core.vocabulary import DeclineReason, OfferStatus
from api.record.indexing import offer_text
from api.record.wording import HEADLINES, MATCH_REASONS, event_sentence, match_decision_sentence

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


def _actions_in_source() -> set[str]:
    """Every audit action the service writes with a literal name."""
    root = Path(api.__file__).parent
    found: set[str] = set()
    for path in root.rglob("*.py"):
        found.update(re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text("utf-8")))
    return found


def test_every_audit_action_the_service_writes_has_a_plain_headline() -> None:
    """A new kind of event must be given words (else FOI search would show its code)."""
    actions = _actions_in_source() | {f"offer.{status.value}" for status in OfferStatus}
    assert {"referral.created", "offer.declined", "site.created"} <= actions
    missing = sorted(a for a in actions if a not in HEADLINES and a != "offer.offered")
    assert not missing, f"actions without words in api.record.wording: {missing}"


@pytest.mark.parametrize("action", sorted(HEADLINES))
def test_every_headline_reads_as_sentences(action: str) -> None:
    text = event_sentence(action, "thing", 7, {"status": "offered"}, {"status": "no_show"})
    assert "_" not in text and ".." not in text and text.endswith(".")
    assert "Status changed from offered to no-show." in text


def test_an_event_says_what_changed_in_words() -> None:
    """Codes and field names become words; values set, changed and removed each say so."""
    text = event_sentence(
        "offer.declined",
        "offer",
        12,
        {"status": "offered", "provider_id": 7},
        {"status": "declined", "decline_reason": "cannot_meet_dietary", "needs_delivery": True},
    )
    assert text == (
        "Offer 12: the food bank declined the household. Status changed from offered to "
        "declined. Reason for declining: cannot meet the household's dietary needs. "
        "Needs a delivery: yes. Site was 7."
    )
    unknown = event_sentence("pantry.restocked", "pantry_shelf", 3, None, {"tins_added": 40})
    assert unknown == "Pantry shelf 3: restocked. Tins added: 40."


@pytest.mark.parametrize("reason", sorted(MATCH_REASONS))
def test_every_match_decision_reads_as_sentences(reason: str) -> None:
    text = match_decision_sentence(4, reason, EXPLANATION)
    assert text.startswith("Match run 4: ") and "_" not in text and ".." not in text
    assert text.endswith(EXPLANATION)
    assert match_decision_sentence(4, reason, None).endswith(".")
