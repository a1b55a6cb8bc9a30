"""The one redaction function through which record text leaves for FOI export and search.

``redact`` removes personal data from free text: the names, phones, e-mails, addresses,
postcodes and birth dates known for the record's people (from ``referral_personal``), plus
whatever looks like personal data in the text itself: titled names ("Mrs Okafor", "her name is
Ana Silva"), UK phone numbers, e-mail addresses, dates after a birth cue, street addresses and
full postcodes (reduced to their district, which is not personal). It returns the redacted text
and counts per category, never the removed values, so the counts can go into a redaction log.

It errs towards removing too much: a surname that is also a common word is removed everywhere
it appears in the scope it was given. It is pure (no clock, no I/O): callers pass ``today``
when old dates should be treated as birth dates.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache


class Category(StrEnum):
    """Kinds of personal data the redaction log counts."""

    NAME = "name"
    PHONE = "phone"
    EMAIL = "email"
    DATE_OF_BIRTH = "date_of_birth"
    POSTCODE = "postcode"
    ADDRESS = "address"


PLACEHOLDER: Mapping[Category, str] = {
    Category.NAME: "[name]",
    Category.PHONE: "[phone]",
    Category.EMAIL: "[email]",
    Category.DATE_OF_BIRTH: "[date of birth]",
    Category.ADDRESS: "[address]",
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


NOTHING_KNOWN = KnownPersonalData()


@dataclass(frozen=True)
class Redaction:
    """Redacted text and how many items of each category were removed from it."""

    text: str
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Number of items removed."""
        return sum(self.counts.values())


# --- patterns ---------------------------------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

_PHONE = re.compile(
    r"(?<!\d)(?:"
    r"(?:\+|00)[ ]?44[ ]?(?:\(0\)[ ]?)?\(?[1-9]\d{1,4}\)?(?:[ .\-]?\d){5,8}"
    r"|\(0[1-9]\d{1,4}\)[ ]?\d(?:[ .\-]?\d){4,8}"
    r"|0[1-9](?:[ .\-]?\d){8,9}"
    r")(?!\d)"
)

# Outward code (area + district) then inward code (sector + unit).
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,2}[0-9][A-Za-z0-9]?)[ \t]{0,2}([0-9][A-Za-z]{2})(?![A-Za-z0-9])"
)

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH_NAME = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATE = re.compile(
    r"(?<![\d/.\-])(?:"
    r"(?P<d1>\d{1,2})[/.\-](?P<m1>\d{1,2})[/.\-](?P<y1>\d{4}|\d{2})"
    r"|(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})"
    rf"|(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?[ ]+(?:of[ ]+)?(?P<m3>{_MONTH_NAME})\.?,?[ ]+"
    r"(?P<y3>\d{4})"
    rf"|(?P<m4>{_MONTH_NAME})\.?[ ]+(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?,?[ ]+(?P<y4>\d{{4}})"
    r")(?![\d/])",
    re.IGNORECASE,
)
_BIRTH_CUE = re.compile(
    r"(?:\bd\.?\s?o\.?\s?b\b\.?|\bdate\s+of\s+birth|\bborn(?:\s+on)?|\bbirth\s?day|\bb\.)"
    r"[\s:\-–,]*(?:is\s+|was\s+|on\s+)?$",
    re.IGNORECASE,
)

_STREET_SUFFIX = (
    r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Close|Cl|Drive|Dr|Way|Court|Ct|Crescent|Cres"
    r"|Place|Pl|Gardens|Gdns|Terrace|Tce|Grove|Gr|Hill|Park|Square|Sq|Walk|Row|Mews|Rise|Green"
    r"|Parade|Vale|View|Boulevard|Fold|Croft|Gate|Chase|Meadows?|Wharf|Yard|Heights|Estate)"
)
_ADDRESS = re.compile(
    r"(?:\b(?:Flat|Apartment|Apt|Unit|Room)\.?[ ]+\d{1,4}[A-Za-z]?\b,?[ ]*)?"
    r"\b\d{1,4}[A-Za-z]?,?[ ]+(?:[A-Z][A-Za-z'’\-]*[ ]+){1,3}" + _STREET_SUFFIX + r"\b"
    r"|\b(?:Flat|Apartment|Apt)\.?[ ]+\d{1,4}[A-Za-z]?\b"
)

# A capitalised word in any Latin script ("Zoë", "Łukasz", "O'Neil", "Smith-Jones"); titles
# themselves are not names.
_NAME_WORD = r"(?!(?:Mr|Mrs|Ms|Miss|Mx|Dr)\b)[^\W\d_a-zß-öø-ÿ](?:[^\W\d_]|['’\-](?=[^\W\d_]))*"
_NAME_CUE = re.compile(
    r"(?P<cue>(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Master)\.?[ ]+"
    r"|(?i:\bname\s+is|\bname's|\bnamed|\bknown\s+as|\bspoke\s+(?:to|with)|\bdear)[ ]+)"
    rf"(?P<name>{_NAME_WORD}(?:[ ]+{_NAME_WORD}){{0,2}})"
)

_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’](?=[^\W\d_]))*")
_NAME_RUN = re.compile(r"\[name\](?:[ \-]+\[name\])+")


class _Counter:
    """Wraps ``re.sub`` so each replacement is counted under its category."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def sub(self, pattern: re.Pattern[str], category: Category, text: str) -> str:
        placeholder = PLACEHOLDER[category]

        def replace(_: re.Match[str]) -> str:
            self.counts[category.value] += 1
            return placeholder

        return pattern.sub(replace, text)


# --- helpers ------------------------------------------------------------------------------


def _parse_date(match: re.Match[str], today: date | None) -> date | None:
    """The calendar date a ``_DATE`` match denotes (day first, as written in the UK)."""
    groups = match.groupdict()
    try:
        if groups["d1"]:
            day, month, year_text = int(groups["d1"]), int(groups["m1"]), groups["y1"]
        elif groups["y2"]:
            day, month, year_text = int(groups["d2"]), int(groups["m2"]), groups["y2"]
        elif groups["d3"]:
            day, month, year_text = int(groups["d3"]), _month(groups["m3"]), groups["y3"]
        else:
            day, month, year_text = int(groups["d4"]), _month(groups["m4"]), groups["y4"]
        year = int(year_text)
        if len(year_text) == 2:
            pivot = (today.year % 100) if today else 30
            year += 2000 if year <= pivot else 1900
        return date(year, month, day)
    except ValueError:
        return None


def _month(name: str) -> int:
    return _MONTHS[name.lower().rstrip(".")[: 4 if name.lower().startswith("sept") else 3]]


def _address_phrases(addresses: Iterable[str]) -> list[str]:
    """Whole addresses, their identifying lines and street names, longest first.

    A line identifies a household when it holds a number (house or flat) or is the first line;
    bare towns and localities are left alone so "Leeds" is not removed from every text.
    """
    phrases: set[str] = set()
    for address in addresses:
        address = address.strip()
        if not address:
            continue
        phrases.add(address)
        lines = [line.strip() for line in re.split(r"[,\n]+", address) if line.strip()]
        for index, line in enumerate(lines):
            if _POSTCODE.fullmatch(line):
                continue
            if index == 0 or re.search(r"\d", line):
                phrases.add(line)
                street = re.sub(r"^\d{1,4}[A-Za-z]?\s+", "", line)
                if street != line and len(street.split()) >= 2:
                    phrases.add(street)
    return sorted(phrases, key=len, reverse=True)


def _name_tokens(names: Iterable[str]) -> frozenset[str]:
    tokens: set[str] = set()
    for name in names:
        for word in _WORD.findall(name.replace("’", "'")):
            if len(word) >= 2:
                tokens.add(word.casefold())
            tokens.update(part.casefold() for part in word.split("'") if len(part) >= 2)
    return frozenset(tokens)


def _digits(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if digits.startswith("44"):
        digits = digits[2:]
        if not digits.startswith("0"):
            digits = "0" + digits
    return digits


def outward_code(postcode: str) -> str | None:
    """The district (outward code) of a full UK postcode, upper-case; None if not a postcode."""
    match = _POSTCODE.fullmatch(postcode.strip())
    return match.group(1).upper() if match else None


@dataclass(frozen=True)
class _CompiledKnown:
    addresses: re.Pattern[str] | None
    phones: re.Pattern[str] | None
    name_tokens: frozenset[str]


@lru_cache(maxsize=32)
def _compile_known(known: KnownPersonalData) -> _CompiledKnown:
    """One pattern per kind for a bundle of known data (an export passes many households)."""
    phrases = [
        r"[\s,]+".join(re.escape(word) for word in re.findall(r"[^\s,]+", phrase))
        for phrase in _address_phrases(known.addresses)
    ]
    addresses = (
        re.compile(r"(?<![\w])(?:" + "|".join(p for p in phrases if p) + r")(?![\w])", re.I)
        if any(phrases)
        else None
    )
    loose = sorted(
        {
            r"[\s().\-]*".join(re.escape(d) for d in _digits(phone).lstrip("0"))
            for phone in known.phones
            if len(_digits(phone)) >= 6
        },
        key=len,
        reverse=True,
    )
    phones = (
        re.compile(r"(?<!\d)(?:(?:\+?44|0)[\s().\-]*)?(?:" + "|".join(loose) + r")(?!\d)")
        if loose
        else None
    )
    return _CompiledKnown(addresses, phones, _name_tokens(known.names))


# --- the function ------------------------------------------------------------------------


def redact(
    text: str,
    known: KnownPersonalData = NOTHING_KNOWN,
    *,
    today: date | None = None,
    min_age_years: int = 16,
) -> Redaction:
    """Remove personal data from ``text``; return the result and counts per category.

    ``known`` names the people the text may mention; their names, phones, e-mails, addresses
    and birth dates are removed wherever they appear, in any case or common format. Patterns
    catch the rest. With ``today``, any full date at least ``min_age_years`` years old is taken
    to be a birth date too (adults' birth dates rarely carry a cue in casework notes).
    """
    counter = _Counter()
    out = text

    out = counter.sub(_EMAIL, Category.EMAIL, out)

    compiled = _compile_known(known)
    if compiled.addresses is not None:
        out = counter.sub(compiled.addresses, Category.ADDRESS, out)
    out = counter.sub(_PHONE, Category.PHONE, out)
    if compiled.phones is not None:
        # Known numbers written in unusual layouts: their digits with any separators.
        out = counter.sub(compiled.phones, Category.PHONE, out)

    out = _redact_dates(out, counter, known, today, min_age_years)

    def reduce_postcode(match: re.Match[str]) -> str:
        counter.counts[Category.POSTCODE.value] += 1
        return match.group(1).upper()

    out = _POSTCODE.sub(reduce_postcode, out)
    out = counter.sub(_ADDRESS, Category.ADDRESS, out)

    out = _redact_names(out, counter, compiled.name_tokens)
    return Redaction(text=out, counts=dict(counter.counts))


def _redact_dates(
    text: str, counter: _Counter, known: KnownPersonalData, today: date | None, min_age: int
) -> str:
    birth_dates = set(known.birth_dates)
    cutoff = date(today.year - min_age, today.month, min(today.day, 28)) if today else None

    def replace(match: re.Match[str]) -> str:
        when = _parse_date(match, today)
        preceding = text[max(0, match.start() - 30) : match.start()]
        is_birth = (
            (when is not None and when in birth_dates)
            or (cutoff is not None and when is not None and when <= cutoff)
            or _BIRTH_CUE.search(preceding) is not None
        )
        if not is_birth:
            return match.group(0)
        counter.counts[Category.DATE_OF_BIRTH.value] += 1
        return PLACEHOLDER[Category.DATE_OF_BIRTH]

    return _DATE.sub(replace, text)


def _redact_names(text: str, counter: _Counter, tokens: frozenset[str]) -> str:
    found = 0

    def replace_token(match: re.Match[str]) -> str:
        nonlocal found
        original = match.group(0)
        word = original.replace("’", "'").casefold()
        suffix = ""
        if word.endswith("'s") and word[:-2] in tokens:
            word, suffix = word[:-2], original[-2:]
        if word in tokens or any(part in tokens for part in word.split("'") if len(part) >= 2):
            found += 1
            return PLACEHOLDER[Category.NAME] + suffix
        return original

    out = _WORD.sub(replace_token, text) if tokens else text

    def replace_cued(match: re.Match[str]) -> str:
        nonlocal found
        found += 1
        return match.group("cue") + PLACEHOLDER[Category.NAME]

    out = _NAME_CUE.sub(replace_cued, out)

    def collapse(match: re.Match[str]) -> str:
        nonlocal found
        found -= match.group(0).count("[name]") - 1
        return PLACEHOLDER[Category.NAME]

    out = _NAME_RUN.sub(collapse, out)
    if found:
        counter.counts[Category.NAME.value] += found
    return out
