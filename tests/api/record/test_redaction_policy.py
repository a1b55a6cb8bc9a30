"""The written redaction policy (docs/foi.md), rule by rule, on the pure component."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.record.redaction import KnownPersonalData, NameIndex, Redactor, redact

STAFF = NameIndex(
    ["foi_officer", "charity1", "caseworker", "Household 12", "Grace Green", "Amara Okafor"],
    protected=["St Aidan's Food Share", "Hope Food Hub"],
)


def _clean(text: str) -> str:
    return Redactor(STAFF).redact(text, today=date(2026, 11, 20)).text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NHS number 943 476 5919", "NHS number [NHS number]"),
        ("ref 9434765919 on file", "ref [NHS number] on file"),
        ("NHS no. 943 476 5918", "NHS no. [NHS number]"),  # bad check digit, but cued
        ("order 943 476 5918 shipped", "order 943 476 5918 shipped"),  # neither
        ("NI AB 12 34 56 C", "NI [NI number]"),
        ("nino QQ123456C", "nino [NI number]"),  # an example prefix, but cued
        ("card 4111 1111 1111 1111", "card [card number]"),
        ("paid 4111111111111112 once", "paid 4111111111111112 once"),  # fails Luhn
        ("IBAN GB82 WEST 1234 5698 7654 32", "IBAN [bank details]"),
        (
            "sort code 12-34-56, account 12345678",
            "sort code [bank details], account [bank details]",
        ),
        ("ring 07700 900123 or +48 512 345 678", "ring [phone] or [phone]"),
        ("mail amara.o@example.org", "mail [email]"),
        ("at 14 Larkspur Close, LS9 6QW", "at [address], LS9"),
        ("DOB 03/04/1985", "DOB [date of birth]"),
        ("seen 03/04/1961, next visit 14/11/2026", "seen [date of birth], next visit 14/11/2026"),
    ],
)
def test_structured_identifiers(text: str, expected: str) -> None:
    """Each identifier kind is removed (checksums where the kind has one; cues otherwise)."""
    assert _clean(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "reference FOI-2026-014: foi request created",
        "charity_organisation_id 3 council_organisation_id 1",
        "The Charity told the Council and the FOI officer; the caseworker agreed.",
        "Household size 4, 3 parcels at 10:30 on Thursday from St Aidan's Food Share.",
        "Will you deliver? Hope Food Hub has space in May. We have green beans.",
        "Match run 12: matched. LS9 district, 1.2 km, halal stock.",
    ],
)
def test_role_and_product_words_stay(text: str) -> None:
    """Role words, references, identifiers, sites, months and ordinary words are not names,
    even when staff display names are made of them or a household is called Green."""
    assert _clean(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ask for Sam at the door", "ask for [name] at the door"),
        ("ask for sam", "ask for [name]"),
        ("Muzhir called back", "[name] called back"),
        ("her son Tomasz has asthma", "her son [name] has asthma"),
        ("Thanks,\nKrzysztof", "Thanks,\n[name]"),
        ("Mrs Nwosu and Dr J. Smith", "Mrs [name] and Dr [name]"),
        ("the Kowalczyk family", "the [name] family"),
        ("Spoke to Łukasz Zięcik today", "Spoke to [name] today"),
    ],
)
def test_names_nobody_holds(text: str, expected: str) -> None:
    """Unknown names go after a cue, by the gazetteer, as a sentence's subject, with a
    title (kept) or before "family"."""
    assert _clean(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("okafor rang; OKAFOR's parcel", "[name] rang; [name]'s parcel"),
        ("Grace called. Grace Green will come.", "[name] called. [name] will come."),
        ("green beans for the Greens", "green beans for the [name]"),
        ("spoke to grace", "spoke to [name]"),
    ],
)
def test_names_the_service_holds(text: str, expected: str) -> None:
    """A held name that is not an ordinary word goes in any case; one that is goes where it
    is written as a name."""
    assert _clean(text) == expected


@settings(max_examples=200)
@given(
    st.text(alphabet=st.sampled_from("Mrs Okafor 0770 0900123 NHS 943 476 5919 .,\n"), max_size=80)
)
def test_redacting_twice_changes_nothing(text: str) -> None:
    """Redacted text redacts to itself: placeholders are never taken for data."""
    once = _clean(text)
    assert _clean(once) == once


def test_known_only_redaction_leaves_other_data() -> None:
    """Erasure's redaction of someone else's record removes only the erased household."""
    known = KnownPersonalData(names=("Amara Okafor",), phones=("07700 900468",))
    result = Redactor(STAFF).redact_known(
        "Amara Okafor or Sam on 07700 900468 / 07700 900123", known
    )
    assert result.text == "[name] or Sam on [phone] / 07700 900123"


def test_counts_never_values() -> None:
    """The counts name categories only."""
    result = redact("Mrs Okafor, NHS 943 476 5919, 07700 900123", names=STAFF)
    assert result.counts == {"name": 1, "nhs_number": 1, "phone": 1}
