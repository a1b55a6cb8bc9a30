"""The redaction function: no canary personal data survives, and the log carries no values."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from api.record.redaction import KnownPersonalData, outward_code, redact
from tests.api.record.canaries import Canary, canary, filler, leaks


def _known(item: Canary) -> KnownPersonalData:
    return KnownPersonalData(
        names=(item.name,),
        phones=(item.phone,),
        emails=(item.email,),
        addresses=(f"{item.street}, Leeds, {item.postcode}",),
        postcodes=(item.postcode,),
        birth_dates=(item.birth_date,),
    )


@settings(max_examples=300)
@given(item=canary, layout=st.integers(0, 11), gaps=st.lists(filler, min_size=8, max_size=8))
def test_known_household_data_never_survives(item: Canary, layout: int, gaps: list[str]) -> None:
    """A household's own data, mixed into arbitrary text in many layouts, is all removed."""
    pieces = item.mentions(layout)
    text = " ".join(f"{gap} {piece}" for gap, piece in zip(gaps, pieces, strict=False))
    result = redact(text + " " + gaps[-1], _known(item))
    assert leaks(result.text, item) == []


@settings(max_examples=300)
@given(item=canary, layout=st.integers(0, 11), gaps=st.lists(filler, min_size=8, max_size=8))
def test_cued_data_of_strangers_is_removed(item: Canary, layout: int, gaps: list[str]) -> None:
    """With nothing known, titled names, phones, e-mails, cued birth dates and postcodes go."""
    pieces = [p for p in item.mentions(layout) if not p.islower()]  # the bare surname needs a key
    text = " ".join(f"{gap} {piece}" for gap, piece in zip(gaps, pieces, strict=False))
    result = redact(text)
    assert leaks(result.text, item) == []


@given(item=canary, gap=filler)
def test_log_counts_categories_without_values(item: Canary, gap: str) -> None:
    """The redaction log holds category names and counts only, never the removed values."""
    result = redact(f"{gap} Mrs {item.name} on {item.phone}, {item.email}", _known(item))
    assert set(result.counts) <= {"name", "phone", "email", "date_of_birth", "postcode", "address"}
    assert result.counts["phone"] >= 1 and result.counts["email"] == 1
    assert all(isinstance(v, int) and v > 0 for v in result.counts.values())
    assert leaks(repr(result.counts), item) == []


def test_postcode_is_reduced_to_its_district() -> None:
    """A full postcode keeps its district (useful, not personal) and loses its unit."""
    result = redact("Lives near LS6 3AB and ls63ab.")
    assert result.text == "Lives near LS6 and LS6."
    assert result.counts == {"postcode": 2}
    assert outward_code("sw1a 1aa") == "SW1A"


def test_ordinary_record_text_is_kept() -> None:
    """Operational words, dates and figures that are not personal data stay readable."""
    text = "Offer made for 14/11/2025: 3 parcels, vegetarian, Leeds North Food Bank, LS6 area."
    assert redact(text, today=date(2025, 11, 20)) == redact(text)
    assert redact(text).text == text


def test_old_dates_count_as_birth_dates_when_today_is_given() -> None:
    """Given today, a date sixteen or more years back is treated as a birth date."""
    result = redact("Seen 03/02/1979 and 03/02/2025.", today=date(2025, 11, 20))
    assert result.text == "Seen [date of birth] and 03/02/2025."


def test_staff_and_household_names_in_prose() -> None:
    """Names after cues and known names in any case are replaced, titles kept."""
    known = KnownPersonalData(names=("Amira Haddad",))
    result = redact(
        "Spoke to Mr Jones; amira HADDAD's name is on file. Her name is Zoë Brown.", known
    )
    assert result.text == "Spoke to Mr [name]; [name]'s name is on file. Her name is [name]."
