"""What the redaction finds and returns: categories, findings, and how findings are merged.

A finding (:class:`Span`) marks a stretch of text as personal data of one :class:`Category`;
overlapping findings are resolved by priority and a run of names becomes one placeholder
(:func:`resolve`); :func:`apply_spans` writes the placeholders and counts them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Category(StrEnum):
    """Kinds of personal data the redaction log counts."""

    NAME = "name"
    PHONE = "phone"
    EMAIL = "email"
    DATE_OF_BIRTH = "date_of_birth"
    POSTCODE = "postcode"
    ADDRESS = "address"
    NHS_NUMBER = "nhs_number"
    NI_NUMBER = "ni_number"
    BANK_DETAILS = "bank_details"
    CARD_NUMBER = "card_number"


PLACEHOLDER: Mapping[Category, str] = {
    Category.NAME: "[name]",
    Category.PHONE: "[phone]",
    Category.EMAIL: "[email]",
    Category.DATE_OF_BIRTH: "[date of birth]",
    Category.ADDRESS: "[address]",
    Category.NHS_NUMBER: "[NHS number]",
    Category.NI_NUMBER: "[NI number]",
    Category.BANK_DETAILS: "[bank details]",
    Category.CARD_NUMBER: "[card number]",
}

# When two findings overlap, the one of higher priority wins (an e-mail address holding a
# name is an e-mail address; a known address holding a postcode is an address).
_PRIORITY: Mapping[Category, int] = {
    Category.EMAIL: 10,
    Category.BANK_DETAILS: 9,
    Category.CARD_NUMBER: 9,
    Category.NHS_NUMBER: 8,
    Category.NI_NUMBER: 8,
    Category.PHONE: 6,
    Category.DATE_OF_BIRTH: 5,
    Category.ADDRESS: 4,
    Category.POSTCODE: 3,
    Category.NAME: 2,
}


@dataclass(frozen=True)
class KnownPersonalData:
    """Personal data known for the people a text may mention (e.g. a referral's household)."""

    names: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    postcodes: tuple[str, ...] = ()
    birth_dates: tuple[date, ...] = ()

    def merged(self, other: KnownPersonalData) -> KnownPersonalData:
        """Both sets of known data together."""
        return KnownPersonalData(
            names=self.names + other.names,
            phones=self.phones + other.phones,
            emails=self.emails + other.emails,
            addresses=self.addresses + other.addresses,
            postcodes=self.postcodes + other.postcodes,
            birth_dates=self.birth_dates + other.birth_dates,
        )

    @property
    def empty(self) -> bool:
        """True when nothing is known."""
        return not (
            self.names
            or self.phones
            or self.emails
            or self.addresses
            or self.postcodes
            or self.birth_dates
        )


NOTHING_KNOWN = KnownPersonalData()


@dataclass(frozen=True)
class Span:
    """One finding: ``text[start:end]`` is personal data of ``category``."""

    start: int
    end: int
    category: Category
    replacement: str


@dataclass(frozen=True)
class Redaction:
    """Redacted text and how many items of each category were removed from it."""

    text: str
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Number of items removed."""
        return sum(self.counts.values())


def resolve(text: str, spans: list[Span]) -> list[Span]:
    """Keep the best of overlapping findings; merge a run of names into one."""
    ordered = sorted(spans, key=lambda s: (-_PRIORITY[s.category], -(s.end - s.start), s.start))
    kept: list[Span] = []
    for span in ordered:
        if span.end <= span.start:
            continue
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    kept.sort(key=lambda s: s.start)
    merged: list[Span] = []
    for span in kept:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.category is Category.NAME
            and span.category is Category.NAME
            and re.fullmatch(r"[ \-.]{1,3}", text[last.end : span.start])
        ):
            merged[-1] = Span(last.start, span.end, Category.NAME, last.replacement)
        else:
            merged.append(span)
    return merged


def apply_spans(text: str, spans: list[Span]) -> Redaction:
    """``text`` with each finding replaced by its placeholder, and the counts per category."""
    counts: Counter[str] = Counter()
    pieces: list[str] = []
    position = 0
    for span in spans:
        pieces.append(text[position : span.start])
        pieces.append(span.replacement)
        counts[span.category.value] += 1
        position = span.end
    pieces.append(text[position:])
    return Redaction(text="".join(pieces), counts=dict(counts))
