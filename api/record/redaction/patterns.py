"""Structured personal data the redaction finds by pattern, and the data known per call.

Patterns for e-mail addresses, phones, NHS and National Insurance numbers, card and bank
details, postcodes, street addresses and dates (checksums from python-stdnum); the known data
of a call compiled once per bundle (:func:`compile_known`); both turned into findings
(:func:`known_spans`, :func:`pattern_spans`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from stdnum import iban as stdnum_iban
from stdnum import luhn as stdnum_luhn
from stdnum.gb import nhs as stdnum_nhs

from api.record.redaction.spans import PLACEHOLDER, Category, KnownPersonalData, Span
from api.record.redaction.words import NameIndex

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+|00)[ ]?44[ ]?(?:\(0\)[ ]?)?\(?[1-9]\d{1,4}\)?(?:[ .\-]?\d){5,8}"
    r"|\(0[1-9]\d{1,4}\)[ ]?\d(?:[ .\-]?\d){4,8}"
    r"|0[1-9](?:[ .\-]?\d){8,9}"
    r"|(?:\+|00)(?!44)[1-9]\d{0,2}(?:[ .\-]?\(?\d{1,4}\)?){2,5}"
    r")(?![\w])"
)

# NHS number: 3-3-4 digits (Presidio's NhsRecognizer), valid by the mod-11 check, or any
# such number right after "NHS" (a typo in the check digit is still someone's number).
_NHS = re.compile(r"(?<![\w/.\-])\d{3}[ \-]?\d{3}[ \-]?\d{4}(?![\w/\-]|\.\d)")
_NHS_CUE = re.compile(r"\bNHS\b[^\d\n]{0,20}$", re.IGNORECASE)

# National Insurance number: HMRC's prefix rules (Presidio's UkNinoRecognizer). Without the
# final letter only after a cue ("NI number", "National Insurance").
_NINO = re.compile(
    r"(?<![A-Za-z0-9])(?!(?:BG|GB|KN|NK|NT|TN|ZZ))"
    r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][ ]?\d{2}[ ]?\d{2}[ ]?\d{2}(?:[ ]?(?P<suffix>[A-D]))?"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_LOOSE_NINO = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}[ ]?\d{2}[ ]?\d{2}[ ]?\d{2}(?:[ ]?[A-Z])?(?![A-Za-z0-9])", re.I
)
_NINO_CUE = re.compile(r"(?:\bN\.?I\.?\b|national\s+insurance|\bNINO\b)[^\n]{0,20}$", re.I)

# Card numbers: 13-19 digits in any grouping, valid by the Luhn check (or 16 after "card").
_CARD = re.compile(r"(?<![\w\-])[1-9](?:[ \-]?\d){12,18}(?![\w\-])")
_CARD_CUE = re.compile(r"\b(?:card|visa|mastercard|amex|debit|credit)\b[^\n]{0,20}$", re.I)

_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{1,4}){3,8}(?![A-Za-z0-9])")
_SORT_CODE = re.compile(r"(?<![\d\-])\d{2}([ \-])\d{2}\1\d{2}(?![\d\-])|(?<!\d)\d{6}(?!\d)")
_SORT_CUE = re.compile(r"\bsort(?:\s*-?\s*code)?\b[^\n\d]{0,12}$", re.I)
_ACCOUNT = re.compile(r"(?<!\d)\d{8}(?!\d)|(?<!\d)\d{4}[ ]\d{4}(?!\d)")
_ACCOUNT_CUE = re.compile(
    r"(?:\baccount(?:\s+(?:number|no\.?))?|\bacc(?:t)?\.?(?:\s*no\.?)?|\ba/c(?:\s*no\.?)?)"
    r"[^\n\d]{0,12}$",
    re.I,
)

# Full UK postcodes: outward code (area and district) then inward code (sector and unit), in
# any case. Looser than Presidio's UkPostcodeRecognizer (which applies the letter rules of
# each position): a postcode mistyped with a letter never issued is still someone's address.
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,2}[0-9][A-Za-z0-9]?)[ \t]{0,2}([0-9][A-Za-z]{2})(?![A-Za-z0-9])"
)
_LOOSE_POSTCODE = re.compile(r"([A-Za-z]{1,2}[0-9][A-Za-z0-9]?)[ \t]{0,2}([0-9][A-Za-z]{2})")

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

# --- known data ---------------------------------------------------------------------------


def _digits(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if digits.startswith("44"):
        digits = digits[2:]
        if not digits.startswith("0"):
            digits = "0" + digits
    return digits


def outward_code(postcode: str) -> str | None:
    """The district (outward code) of a full UK postcode, upper-case; None if not a postcode."""
    match = _LOOSE_POSTCODE.fullmatch(postcode.strip())
    return match.group(1).upper() if match else None


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
            if _LOOSE_POSTCODE.fullmatch(line):
                continue
            if index == 0 or re.search(r"\d", line):
                phrases.add(line)
                street = re.sub(r"^\d{1,4}[A-Za-z]?\s+", "", line)
                if street != line and len(street.split()) >= 2:
                    phrases.add(street)
    return sorted(phrases, key=len, reverse=True)


@dataclass(frozen=True)
class CompiledKnown:
    """The data known for a call, as one pattern per kind (None: nothing of that kind)."""

    addresses: re.Pattern[str] | None
    phones: re.Pattern[str] | None
    emails: re.Pattern[str] | None
    postcodes: re.Pattern[str] | None
    names: NameIndex | None
    birth_dates: frozenset[date]


@lru_cache(maxsize=64)
def compile_known(known: KnownPersonalData) -> CompiledKnown:
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
    emails = (
        re.compile("|".join(re.escape(e) for e in sorted(set(known.emails), key=len)[::-1]), re.I)
        if known.emails
        else None
    )
    codes = sorted(
        {re.sub(r"\s+", "", code) for code in known.postcodes if code and code.strip()},
        key=len,
        reverse=True,
    )
    postcodes = (
        re.compile(
            r"(?<![A-Za-z0-9])(?:"
            + "|".join(r"[ \t]{0,2}".join(re.escape(ch) for ch in code) for code in codes)
            + r")(?![A-Za-z0-9])",
            re.I,
        )
        if codes
        else None
    )
    names = NameIndex(known.names) if known.names else None
    return CompiledKnown(addresses, phones, emails, postcodes, names, frozenset(known.birth_dates))


# --- dates ----------------------------------------------------------------------------------


def _month(name: str) -> int:
    return _MONTHS[name.lower().rstrip(".")[: 4 if name.lower().startswith("sept") else 3]]


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


# --- patterns to spans ----------------------------------------------------------------------


def _span(match: re.Match[str], category: Category, replacement: str | None = None) -> Span:
    return Span(match.start(), match.end(), category, replacement or PLACEHOLDER.get(category, ""))


def known_spans(text: str, compiled: CompiledKnown) -> list[Span]:
    """Findings of the known phones, e-mails, addresses, postcodes and birth dates."""
    found: list[Span] = []
    if compiled.emails is not None:
        found += [_span(m, Category.EMAIL) for m in compiled.emails.finditer(text)]
    if compiled.addresses is not None:
        found += [_span(m, Category.ADDRESS) for m in compiled.addresses.finditer(text)]
    if compiled.phones is not None:
        found += [_span(m, Category.PHONE) for m in compiled.phones.finditer(text)]
    if compiled.postcodes is not None:
        for m in compiled.postcodes.finditer(text):
            district = outward_code(m.group(0)) or ""
            found.append(_span(m, Category.POSTCODE, district))
    if compiled.birth_dates:
        for m in _DATE.finditer(text):
            if _parse_date(m, None) in compiled.birth_dates:
                found.append(_span(m, Category.DATE_OF_BIRTH))
    return found


def _before(text: str, match: re.Match[str], width: int = 30) -> str:
    return text[max(0, match.start() - width) : match.start()]


def pattern_spans(
    text: str, compiled: CompiledKnown, today: date | None, min_age: int
) -> list[Span]:
    """Findings of structured personal data by pattern (and checksum), known or not."""
    found: list[Span] = [_span(m, Category.EMAIL) for m in _EMAIL.finditer(text)]
    for m in _IBAN.finditer(text):
        compact = m.group(0).replace(" ", "")
        for length in range(len(compact), 14, -1):
            if stdnum_iban.is_valid(compact[:length]):
                end = m.start() + _consumed(m.group(0), compact[:length])
                found.append(Span(m.start(), end, Category.BANK_DETAILS, "[bank details]"))
                break
    for m in _CARD.finditer(text):
        if _COUNTRY_CODE_BEFORE.search(_before(text, m, 6)):
            continue  # "+44 020 1234 5678" is a phone number
        digits = re.sub(r"\D", "", m.group(0))
        cued = _CARD_CUE.search(_before(text, m)) is not None and len(digits) >= 15
        if cued or (13 <= len(digits) <= 19 and stdnum_luhn.is_valid(digits)):
            found.append(_span(m, Category.CARD_NUMBER))
    for m in _NHS.finditer(text):
        if _COUNTRY_CODE_BEFORE.search(_before(text, m, 6)):
            continue  # "+44 113 2696291" is a phone number
        digits = re.sub(r"\D", "", m.group(0))
        if stdnum_nhs.is_valid(digits) or _NHS_CUE.search(_before(text, m)):
            found.append(_span(m, Category.NHS_NUMBER))
    for m in _LOOSE_NINO.finditer(text):
        if _NINO_CUE.search(_before(text, m)):
            found.append(_span(m, Category.NI_NUMBER))
    for m in _NINO.finditer(text):
        cued = _NINO_CUE.search(_before(text, m)) is not None
        if cued or (m.group("suffix") and m.group(0).isupper()):
            found.append(_span(m, Category.NI_NUMBER))
    for m in _SORT_CODE.finditer(text):
        cued = _SORT_CUE.search(_before(text, m, 20)) is not None
        dashed = m.group(1) == "-"
        if cued or (dashed and not _is_date(m.group(0))):
            found.append(_span(m, Category.BANK_DETAILS))
    for m in _ACCOUNT.finditer(text):
        if _ACCOUNT_CUE.search(_before(text, m, 24)):
            found.append(_span(m, Category.BANK_DETAILS))
    found += [
        _span(m, Category.PHONE)
        for m in _PHONE.finditer(text)
        if sum(ch.isdigit() for ch in m.group(0)) >= 9
    ]
    found += _date_spans(text, compiled.birth_dates, today, min_age)
    for m in _POSTCODE.finditer(text):
        inward = m.group(2)
        if m.group(0).islower() and inward[1:].lower() in ("st", "nd", "rd", "th"):
            continue
        found.append(_span(m, Category.POSTCODE, m.group(1).upper()))
    found += [_span(m, Category.ADDRESS) for m in _ADDRESS.finditer(text)]
    return found


_COUNTRY_CODE_BEFORE = re.compile(r"(?:\+|(?<!\d)00)\d{0,3}[ ]?(?:\(0\)[ ]?)?$|\+$")


def _consumed(raw: str, compact: str) -> int:
    """How many characters of ``raw`` (with spaces) spell ``compact``."""
    seen = 0
    for index, ch in enumerate(raw):
        if ch != " ":
            seen += 1
        if seen == len(compact):
            return index + 1
    return len(raw)


def _is_date(value: str) -> bool:
    day, month, _year = (int(part) for part in re.split(r"[ \-]", value))
    return 1 <= day <= 31 and 1 <= month <= 12


def _date_spans(
    text: str, birth_dates: frozenset[date], today: date | None, min_age: int
) -> list[Span]:
    cutoff = date(today.year - min_age, today.month, min(today.day, 28)) if today else None
    found = []
    for match in _DATE.finditer(text):
        when = _parse_date(match, today)
        is_birth = (
            (when is not None and when in birth_dates)
            or (cutoff is not None and when is not None and when <= cutoff)
            or _BIRTH_CUE.search(_before(text, match)) is not None
        )
        if is_birth:
            found.append(_span(match, Category.DATE_OF_BIRTH))
    return found
