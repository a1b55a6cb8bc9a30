"""The FOI officer's forms turn what the API schema refuses into field errors, never a crash."""

from __future__ import annotations

from datetime import date

from api.web.forms import export_body, foi_request_body

TODAY = date(2026, 6, 1)


def _request_form(**extra: str) -> dict[str, str]:
    return {"reference": "FOI-1", "summary": "Referrals in May", "received-day": "6",
            "received-month": "1", "received-year": "2025", **extra}  # fmt: skip


def test_request_received_before_foia_is_a_date_error() -> None:
    """A date received before 1 January 2005 is an error on the date field; 2005 is fine."""
    body, errors, _ = foi_request_body(_request_form(**{"received-year": "2004"}), TODAY)
    assert body is None and "1 January 2005" in errors["received"]
    body, errors, _ = foi_request_body(_request_form(**{"received-year": "2005"}), TODAY)
    assert errors == {} and body is not None and body.received_on == date(2005, 1, 6)


def test_nul_in_request_or_export_text_is_a_field_error() -> None:
    """A NUL character typed into the summary or the keywords is a field error, not a 500."""
    body, errors, _ = foi_request_body(_request_form(summary="Referrals\x00"), TODAY)
    assert body is None and "NUL" in errors["summary"]
    made, export_errors = export_body({"keywords": "pallet\x00"})
    assert made is None and "NUL" in export_errors["keywords"]
    made, export_errors = export_body({"keywords": "pallet"})
    assert export_errors == {} and made is not None and made.keywords == "pallet"
