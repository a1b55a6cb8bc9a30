"""Hypothesis strategies for canary personal data and the checks that it is gone.

Shared by the pure redaction tests and the database-backed export and search tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from hypothesis import strategies as st

from api.record.redaction import lexicon

RESERVED = {"name", "phone", "email", "date", "birth", "address", "dear", "named", "known"}

# A canary's names are never ordinary words: the policy keeps "green" in lower case even when
# a household is called Green (test_redaction_policy covers those names).
name_word = st.from_regex(r"[A-Z][a-z]{3,9}", fullmatch=True).filter(
    lambda w: w.lower() not in RESERVED and w.lower() not in lexicon().ordinary
)
full_name = st.tuples(name_word, name_word).map(" ".join)


def _mobile(digits: str, layout: int) -> str:
    national = "07" + digits[:9]
    return [
        f"{national[:5]} {national[5:]}",
        national,
        f"+44 {national[1:5]} {national[5:]}",
        f"+44 (0){national[1:5]} {national[5:8]} {national[8:]}",
        f"{national[:5]}-{national[5:8]}-{national[8:]}",
        f"0044 {national[1:]}",
    ][layout]


def _landline(digits: str, layout: int) -> str:
    area, local = "0113", digits[:7]
    if layout % 2:
        area, local = "020", digits[:8]
    return [f"{area} {local[:3]} {local[3:]}", f"({area}) {local}", f"+44 {area[1:]} {local}"][
        layout % 3
    ]


phone = st.one_of(
    st.builds(_mobile, st.from_regex(r"[0-9]{9}", fullmatch=True), st.integers(0, 5)),
    st.builds(_landline, st.from_regex(r"[0-9]{8}", fullmatch=True), st.integers(0, 5)),
)
email = st.builds(
    "{}@{}.{}".format,
    st.from_regex(r"[a-z][a-z0-9._]{1,12}[a-z0-9]", fullmatch=True),
    st.from_regex(r"[a-z]{2,10}", fullmatch=True),
    st.sampled_from(["org.uk", "co.uk", "com", "gov.uk"]),
)
postcode = st.from_regex(r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}", fullmatch=True)
birth_date = st.dates(min_value=date(1930, 1, 1), max_value=date(2024, 12, 31))
DATE_LAYOUTS = ("%d/%m/%Y", "%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%d.%m.%Y")
street = st.builds(
    "{} {} {}".format,
    st.integers(1, 999),
    name_word,
    st.sampled_from(["Road", "Street", "Close", "Avenue", "Lane", "Crescent", "Way", "Drive"]),
)
filler = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz    .,;:!?()'-0123456789\n"),
    max_size=40,
)


@dataclass(frozen=True)
class Canary:
    """One household's personal data as seeded into the record."""

    name: str
    phone: str
    email: str
    postcode: str
    birth_date: date
    street: str

    def mentions(self, layout: int) -> list[str]:
        """The ways this household's data can turn up inside free text."""
        dob = self.birth_date.strftime(DATE_LAYOUTS[layout % len(DATE_LAYOUTS)])
        return [
            f"Mrs {self.name}",
            self.name.split()[1].lower(),
            f"call {self.phone}",
            f"e-mail {self.email}",
            f"at {self.street}, Leeds {self.postcode}",
            f"postcode {self.postcode.replace(' ', '').lower()}",
            f"DOB {dob}",
        ]


canary = st.builds(Canary, full_name, phone, email, postcode, birth_date, street)


def _word(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![^\W\d_]){re.escape(value)}(?![^\W\d_])", re.IGNORECASE)


def leaks(text: str, item: Canary) -> list[str]:
    """Which kinds of the canary's data still appear in ``text`` (empty when none)."""
    found = []
    if any(_word(part).search(text) for part in item.name.split()):
        found.append("name")
    compact = re.sub(r"[\s().+-]", "", text)
    subscriber = re.sub(r"\D", "", item.phone)[-6:]
    if item.phone in text or subscriber in compact:
        found.append("phone")
    if item.email.lower() in text.lower():
        found.append("email")
    if item.postcode.replace(" ", "").lower() in text.replace(" ", "").lower():
        found.append("postcode")
    for layout in DATE_LAYOUTS:
        if item.birth_date.strftime(layout).lower() in text.lower():
            found.append("date_of_birth")
            break
    if _word(item.street).search(text) or _word(item.street.split(" ", 1)[1]).search(text):
        found.append("address")
    return found
