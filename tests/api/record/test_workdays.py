"""FOI due dates: twenty working days after receipt, England and Wales bank holidays."""

from __future__ import annotations

from datetime import date

import pytest

from api.record.workdays import bank_holidays, easter_sunday, foi_due_date, is_working_day

# From the published England and Wales lists, checked by hand against a calendar.
PUBLISHED = {
    2020: ["01-01", "04-10", "04-13", "05-08", "05-25", "08-31", "12-25", "12-28"],
    2021: ["01-01", "04-02", "04-05", "05-03", "05-31", "08-30", "12-27", "12-28"],
    2022: ["01-03", "04-15", "04-18", "05-02", "06-02", "06-03", "08-29", "09-19", "12-26",
           "12-27"],
    2023: ["01-02", "04-07", "04-10", "05-01", "05-08", "05-29", "08-28", "12-25", "12-26"],
    2024: ["01-01", "03-29", "04-01", "05-06", "05-27", "08-26", "12-25", "12-26"],
    2025: ["01-01", "04-18", "04-21", "05-05", "05-26", "08-25", "12-25", "12-26"],
    2026: ["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"],
}  # fmt: skip


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_bank_holidays_match_published_lists(year: int) -> None:
    """Computed bank holidays equal the published list, substitutes and one-offs included."""
    expected = {date.fromisoformat(f"{year}-{day}") for day in PUBLISHED[year]}
    assert bank_holidays(year) == expected


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2008, "03-23"), (2011, "04-24"), (2019, "04-21"), (2024, "03-31"), (2025, "04-20"),
     (2027, "03-28"), (2038, "04-25")],
)  # fmt: skip
def test_easter_sunday(year: int, easter: str) -> None:
    """Easter Sunday is computed correctly, including the earliest and latest cases seen."""
    assert easter_sunday(year) == date.fromisoformat(f"{year}-{easter}")


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Christmas 2024: 25, 26 Dec and 1 Jan skipped.
        ("2024-12-13", "2025-01-15"),
        # Christmas 2021 fell on a Saturday: substitutes Mon 27, Tue 28 Dec and Mon 3 Jan 2022.
        ("2021-12-20", "2022-01-20"),
        # Easter 2025: Good Friday 18 and Easter Monday 21 April skipped.
        ("2025-04-01", "2025-05-01"),
        # Easter 2024 straddled March/April: 29 March and 1 April skipped.
        ("2024-03-20", "2024-04-19"),
        # Received on a Saturday: Monday is day one.
        ("2025-01-04", "2025-01-31"),
        # Received on a bank holiday (Boxing Day 2025): the next working day is day one.
        ("2025-12-26", "2026-01-26"),
        # An ordinary month with no holidays.
        ("2025-10-01", "2025-10-29"),
    ],
)
def test_foi_due_date(received: str, due: str) -> None:
    """The due date is the twentieth working day after receipt (hand-counted)."""
    assert foi_due_date(date.fromisoformat(received)) == date.fromisoformat(due)


def test_extra_holiday_moves_due_date() -> None:
    """A newly proclaimed holiday passed as ``extra`` pushes the deadline by one day."""
    received = date(2025, 10, 1)
    assert foi_due_date(received, extra=[date(2025, 10, 10)]) == date(2025, 10, 30)


def test_weekend_and_holiday_are_not_working_days() -> None:
    """Weekends and bank holidays are not working days; an ordinary Tuesday is."""
    assert not is_working_day(date(2025, 12, 25))
    assert not is_working_day(date(2025, 12, 27))
    assert is_working_day(date(2025, 12, 30))


def test_unsupported_year_is_refused() -> None:
    """Years before the modern pattern raise a clear error instead of guessing."""
    with pytest.raises(ValueError, match="1978"):
        bank_holidays(1970)
