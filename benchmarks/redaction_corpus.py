# ruff: noqa: E501 (templates are whole messages, one a line)
"""A labelled corpus of council-charity messages for measuring the redaction component.

Each message is built from a template whose slots are filled with planted personal data of a
known kind (a household the service holds, a name it does not, an NHS number, a phone, ...),
so every character of the message is labelled: planted data that must go, and plain text that
must stay. The plain text is written to be hard: role and product words ("FOI", "Charity"),
FOI references ("FOI-2026-014"), column names ("charity_organisation_id"), site names that
hold given names ("St Aidan's Food Share", "Hope Food Hub"), ordinary words that are also the
names of households the service holds ("green beans" when a household is called Green),
dates that are not birth dates, quantities, times and districts.

Where the names come from, and why that keeps the measure honest:

- Names the service holds (households and staff) are drawn from Faker's locales: en_GB
  (ONS's most common given names and surnames), and pl_PL, ro_RO, en_PK, en_IN, ig_NG,
  yo_NG, en_IE, lt_LT, tw_GH for the rest of the UK's population, plus households whose names
  are ordinary English words ("Grace Green", "Will Rose"). The redaction is given them as the
  service would (its directory); recall on them is expected to be complete.
- Names the service does not hold are drawn from the same Faker locales but never from the
  held names, and the redaction's gazetteer (``data/given-names.txt``) is a different source:
  US Social Security Administration baby names. Nothing in this generator reads the gazetteer,
  so a name is caught only if the SSA list happens to hold it or the text around it gives it
  away (a title, "ask for", "her son", a verb such as "called"). ``redaction_bench`` reports
  how many unknown names the gazetteer holds, and the recall on those it does not.

The corpus is written to ``benchmarks/redaction_corpus.json`` (committed, so the measure does
not move when Faker changes). Usage::

    python -m benchmarks.redaction_corpus          # rewrite the corpus (needs faker)
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import string
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "benchmarks" / "redaction_corpus.json"
SEED = 20261202
MESSAGES = 600
TODAY = date(2026, 11, 20)

LOCALES = (
    ("en_GB", 56), ("pl_PL", 7), ("ro_RO", 6), ("en_PK", 8), ("en_IN", 6), ("ig_NG", 3),
    ("yo_NG", 3), ("en_IE", 4), ("lt_LT", 2), ("tw_GH", 2), ("sk_SK", 1), ("cs_CZ", 1),
    ("hu_HU", 1),
)  # fmt: skip
ORDINARY_FIRST = ("Grace", "Rose", "Holly", "Jack", "Mark", "Will", "Daisy", "Ruby", "Amber",
                  "Faith", "Hope", "Joy", "Dawn", "Iris", "Ivy", "Frank", "Pearl")  # fmt: skip
ORDINARY_LAST = ("Green", "Brown", "Bell", "Hill", "Wood", "White", "Young", "Rose", "Hope",
                 "Marsh", "Fox", "Lamb", "Moss", "Frost", "Stone", "Field", "Church")  # fmt: skip
STAFF_ROLE_ACCOUNTS = ("foi-officer", "caseworker", "charity1", "charity2", "planner", "admin")
PLACES_IN_VOCABULARY = ("Harehills", "Chapeltown", "Armley", "Seacroft", "Beeston", "Headingley")
PLACES_OUTSIDE = ("Todmorden", "Mirfield", "Cleckheaton", "Heckmondwike", "Sowerby Bridge",
                  "Brighouse", "Elland", "Holmfirth")  # fmt: skip
STREET_SUFFIXES = ("Road", "Street", "Close", "Avenue", "Lane", "Crescent", "Drive", "Grove",
                   "Terrace", "Way", "Court", "Gardens")  # fmt: skip
STREET_WORDS = ("Larkspur", "Ashgrove", "Beech", "Cavendish", "Harold", "Stanmore", "Thornhill",
                "Brudenell", "Kirkwood", "Elmfield", "Gledhow", "Rowan", "Mafeking", "Recreation",
                "Victoria", "Cowper", "Bayswater", "Conway", "Nowell", "Ivy")  # fmt: skip

KINDS = ("known_name", "unknown_name", "nhs_number", "ni_number", "card_number", "iban",
         "bank_details", "phone", "email", "postcode", "address", "date_of_birth")  # fmt: skip
CHECKSUM_KINDS = ("nhs_number", "card_number", "iban")


@dataclass
class Household:
    """A household the service holds."""

    name: str
    phone: str
    address: str
    postcode: str


@dataclass
class Message:
    """One labelled message: its text, the planted items (start, end, kind) and the thread."""

    text: str = ""
    items: list[tuple[int, int, str]] = field(default_factory=list)
    thread: str = "referral"
    household: int | None = None

    def add(self, piece: str, kind: str | None = None) -> None:
        if kind is not None and piece:
            self.items.append((len(self.text), len(self.text) + len(piece), kind))
        self.text += piece


# --- identifiers ------------------------------------------------------------------------------


def nhs_number(rng: random.Random) -> str:
    """A valid NHS number (mod-11 check digit), in one of its usual layouts."""
    while True:
        digits = [rng.randint(4, 9)] + [rng.randint(0, 9) for _ in range(8)]
        total = sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            break
    number = "".join(map(str, [*digits, check]))
    return rng.choice([f"{number[:3]} {number[3:6]} {number[6:]}", number,
                       f"{number[:3]}-{number[3:6]}-{number[6:]}"])  # fmt: skip


def ni_number(rng: random.Random) -> str:
    """A National Insurance number with a prefix HMRC issues."""
    first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    while first + second in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
        second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    digits = "".join(rng.choice(string.digits) for _ in range(6))
    suffix = rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
    return f"{first}{second}{digits}{suffix}"


def _luhn_complete(stem: str) -> str:
    total = 0
    for index, ch in enumerate(reversed(stem)):
        value = int(ch)
        if index % 2 == 0:
            value *= 2
            value -= 9 if value > 9 else 0
        total += value
    return stem + str((10 - total % 10) % 10)


def card_number(rng: random.Random) -> str:
    """A Luhn-valid card number (Visa, Mastercard or Amex ranges), grouped or not."""
    kind = rng.choice(["visa", "mc", "amex"])
    if kind == "amex":
        number = _luhn_complete(rng.choice(["34", "37"]) + "".join(
            rng.choice(string.digits) for _ in range(12)))  # fmt: skip
        return rng.choice([number, f"{number[:4]} {number[4:10]} {number[10:]}"])
    prefix = "4" if kind == "visa" else str(rng.randint(51, 55))
    number = _luhn_complete(
        prefix + "".join(rng.choice(string.digits) for _ in range(15 - len(prefix)))
    )
    groups = " ".join(number[i : i + 4] for i in range(0, 16, 4))
    return rng.choice([number, groups, groups.replace(" ", "-")])


def iban(rng: random.Random) -> str:
    """A valid GB IBAN (mod-97 check), spaced in fours or not."""
    bank = rng.choice(["NWBK", "BARC", "LOYD", "HBUK", "MIDL", "NAIA"])
    sort = "".join(rng.choice(string.digits) for _ in range(6))
    account = "".join(rng.choice(string.digits) for _ in range(8))
    bban = bank + sort + account
    numeric = "".join(str(int(ch, 36)) for ch in bban + "GB00")
    check = 98 - int(numeric) % 97
    value = f"GB{check:02d}{bban}"
    return rng.choice([value, " ".join(value[i : i + 4] for i in range(0, len(value), 4))])


def sort_code(rng: random.Random) -> str:
    digits = [f"{rng.randint(0, 99):02d}" for _ in range(3)]
    return rng.choice(["-".join(digits), " ".join(digits), "".join(digits)])


def account_number(rng: random.Random) -> str:
    return "".join(rng.choice(string.digits) for _ in range(8))


def phone(rng: random.Random) -> str:
    """A UK mobile or landline in one of the usual layouts, or a Polish mobile."""
    mobile = "07" + "".join(rng.choice(string.digits) for _ in range(9))
    leeds = "0113" + "".join(rng.choice(string.digits) for _ in range(7))
    layouts = [
        f"{mobile[:5]} {mobile[5:]}", mobile, f"+44 {mobile[1:5]} {mobile[5:]}",
        f"+44 (0){mobile[1:5]} {mobile[5:8]} {mobile[8:]}", f"{mobile[:5]}-{mobile[5:8]}-{mobile[8:]}",
        f"{leeds[:4]} {leeds[4:7]} {leeds[7:]}", f"({leeds[:4]}) {leeds[4:]}",
        f"+48 {rng.randint(500, 799)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
    ]  # fmt: skip
    return rng.choice(layouts)


def email(rng: random.Random, first: str, last: str) -> str:
    local = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 99)}"])
    local = re.sub(r"[^a-z0-9.]", "", _ascii(local).lower()) or "user"
    domain = rng.choice(["gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk",
                         "btinternet.com", "icloud.com"])  # fmt: skip
    return f"{local}@{domain}"


def _ascii(text: str) -> str:
    import unicodedata

    text = text.replace("ł", "l").replace("Ł", "L")
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )


def postcode(rng: random.Random, outcodes: list[str]) -> str:
    inward = str(rng.randint(1, 9)) + "".join(rng.choice("ABDEFGHJLNPQRSTUWXYZ") for _ in range(2))
    code = f"{rng.choice(outcodes)} {inward}"
    return rng.choice([code, code, code.replace(" ", ""), code.lower()])


def address(rng: random.Random) -> str:
    street = f"{rng.randint(1, 240)} {rng.choice(STREET_WORDS)} {rng.choice(STREET_SUFFIXES)}"
    return rng.choice([street, street, f"Flat {rng.randint(1, 30)}, {street}"])


def birth_date(rng: random.Random) -> str:
    born = date(1940, 1, 1) + timedelta(days=rng.randint(0, 365 * 62))
    return rng.choice([born.strftime("%d/%m/%Y"), born.strftime("%d %B %Y"),
                       born.strftime("%Y-%m-%d"), born.strftime("%-d %b %Y"),
                       born.strftime("%d.%m.%Y")])  # fmt: skip


# --- names ------------------------------------------------------------------------------------


class Names:
    """Faker-drawn names by locale, with the held ones kept apart from the unknown ones."""

    def __init__(self, rng: random.Random) -> None:
        from faker import Faker

        self.rng = rng
        self.fakers = {}
        for locale, _weight in LOCALES:
            faker = Faker(locale)
            faker.seed_instance(rng.randint(0, 10**9))
            self.fakers[locale] = faker
        self.used: set[str] = set()

    def person(self) -> tuple[str, str]:
        locales = [locale for locale, _ in LOCALES]
        weights = [weight for _, weight in LOCALES]
        for _attempt in range(200):
            faker = self.fakers[self.rng.choices(locales, weights)[0]]
            first, last = faker.first_name(), faker.last_name()
            if " " in last or first.lower() in self.used or last.lower() in self.used:
                continue
            self.used.update({first.lower(), last.lower()})
            return first, last
        raise RuntimeError("could not draw a fresh name")


# --- templates --------------------------------------------------------------------------------

# Slots: {K} a held household's full name, {Kf} its first name, {Kl} its surname, {kf} its
# first name in lower case; {U}, {Uf}, {Ul}, {uf} the same for a name nobody holds; {S} a
# member of staff's name, {Sf} their first name; {nhs} {nino} {card} {iban} {sort} {acct}
# {phone} {email} {postcode} {address} {dob}: identifiers; {site} {place} {ref} {date} {n}
# {time} {day} {run} {referral} {outcode}: plain text.
TEMPLATES: dict[str, list[str]] = {
    "referral": [
        "Hi, {K} is happy with a collection at {site} on {day}. Please ask for {uf} at the desk, she volunteers there.",
        "{Kf} called this morning, her NHS number is {nhs} if the GP needs it. Parcel for {n} please.",
        "Spoke to {Uf} {Ul} from the housing team; {Kf} moves to {address} next week, postcode {postcode}.",
        "Mrs {Kl} can't collect on {day}, could you deliver to {address}? Mobile {phone}.",
        "Delivery for {Kf} {Kl} (DOB {dob}) confirmed for {time}. Her son {Uf} will open the door.",
        "{Uf} rang to say the {Kl} family have no gas credit until {day}. They need {n} parcels.",
        "NI number {nino} for the hardship claim. {Kf} has the letter from the DWP.",
        "Please call {Kf} on {phone} rather than the landline, she works nights.",
        "Thanks for fitting {K} in. Her daughter {Uf} has a nut allergy, so no peanut butter.",
        "The {Kl}s moved out, new address {address}, {postcode}. Referral {referral} still open.",
        "Dropped off at {time}, nobody in. Left a card. Neighbour {Uf} said {Kf} is at the hospital.",
        "Email from {Kf}: {email} - she prefers e-mail to texts.",
        "{Kf} asked if we can swap the tins for fresh veg, she has green beans and rice already.",
        "Could {site} hold the parcel until {day}? {Kf}'s carer {U} will collect.",
        "Refused: wrong address given ({address}). Caseworker will check with {Kf} and the council.",
        "Our volunteer {Sf} took the parcel round; {kf} wasn't in so it went back to {site}.",
        "Baby {Uf} born last month, date of birth {dob}. Formula and nappies please.",
        "Paid the top-up with card {card} as agreed with {S}. Receipt in the shared drive.",
        "Housing benefit goes into IBAN {iban}; sort code {sort}, account {acct} for the grant.",
        "{Uf} called back: {Kf} wants to collect herself. Will you tell the {place} team?",
        "Delivery missed twice. Ring {phone} or e-mail {email} before {time}.",
        "For the food voucher: {Kf} {Kl}, {address}, {postcode}, NHS {nhs}, mobile {phone}.",
        "She read out her card number {card} over the phone, please don't store it. IBAN {iban} for the refund.",
    ],
    "organisation": [
        "Capacity for {day}: {site} has {n} parcels left, the {place} hub is full. FOI-2026-014 figures attached.",
        "Does anyone know {U}? She turned up at {site} asking for help, no referral yet.",
        "Reminder: the {Kl} family from {place} are on the list for Christmas hampers.",
        "Thanks all. {Sf} from the council will send the rota. Regards, {S}",
        "Van booked for {time} on {day}. Driver is {Uf}, mobile {phone}.",
        "The FOI officer asked for referral counts by ward. Charity figures by {date} please.",
        "We had {n} no-shows at {site} this week; one was Mr {Ul} who moved to {place}.",
        "Please stop sending NHS numbers in this thread. Use the referral page instead.",
        "Hi {Sf}, can you check charity_organisation_id {n} in the export? It shows the old site.",
        "Will you cover {day}? {site} is short of drivers and {place} is closed for Eid.",
        "Met {U} from the mosque food share, they can take {n} halal parcels a week.",
        "Lost property at {site}: a purse with a card for {U}. Call {phone} to claim it.",
        "{Uf} from {place} Community Centre says their freezer is broken until {date}.",
        "The {K} referral is a duplicate of {referral}, please close one.",
        "Training on {date} at {time}: safeguarding and FOI requests. Charity staff welcome.",
    ],
    "note": [
        "Household of {n}. {Kf} is diabetic, NHS no. {nhs}. Previous address {address}.",
        "Lives with partner {U} and {n} children. Contact {phone}. DOB {dob}.",
        "Self-referred via {site}. Spoke to {kf} by phone, needs halal, no pork.",
        "{K}, NI {nino}. Universal Credit payment late, next one due {date}.",
        "Known to the council since {date}. Prefers Mx {Ul} as a contact name for the carer.",
        "Ask for {uf} at the door, {Kf} is hard of hearing.",
        "Do not leave parcels outside. Postcode {postcode}, the flat is round the back.",
        "Sister {U} helps with shopping; her email is {email}.",
        "Born {dob}. Moved from {place} in {month}. Bank: sort code {sort}, acc {acct}.",
        "Card used for the emergency top-up: {card}.",
        "Details from the GP letter: NHS number {nhs}, DOB {dob}, tel {phone}, {address}, {postcode}.",
        "Hardship payment: IBAN {iban}. Card on file {card}. NI {nino}.",
        "New NHS number {nhs} after the move; old one {nhs} is no longer used.",
        "{K}: the card she used was {card}, expiry 09/28. Refund to sort code {sort}, account number {acct}.",
    ],
    "decision": [
        "Offer declined: {Kf} cannot get to {site} before {time}. Offered {site} instead.",
        "Match run {run}: matched. {site}, 1.2 km: the nearest provider in reach with halal stock.",
        "Offer accepted by {S} at {site} for referral {referral}.",
        "Declined: household moved. New contact {U}, {phone}.",
        "Match run {run}: unmatched, no capacity in {outcode} on {day}.",
    ],
}
# Written after the rules were tuned on TEMPLATES and measured once, untouched, to check that
# the figures are not an artefact of tuning (see docs/benchmarks.md).
HELD_OUT_TEMPLATES: dict[str, list[str]] = {
    "referral": [
        "hiya, {kf} says the last parcel was short on tins. can someone ring her on {phone}",
        "Re: referral {referral} - {K} (NHS {nhs}) is now at {address}. Old postcode was {postcode}.",
        "URGENT: {Kf} has no food until {day}. Her partner {Uf} can pick up from {site}.",
        "Collected by {U} on behalf of {Kf}. ID checked.",
        "Message from {Kf}'s social worker, {U}: please use email {email} not the phone.",
        "We tried {phone} three times. Is there another number for Mr {Kl}?",
        "{Kf} {Kl} asked whether the {site} team can do a home visit on {day}.",
        "Not at home. Spoke with neighbour ({Uf}) who said the family are away until {date}.",
        "Checked ID for {K}, date of birth {dob}, matches the referral.",
        "Can we add {Uf} (her brother) as a second contact? His number is {phone}.",
        "Parcel left with Mrs {Ul} at number {n} as agreed.",
        "{Kf} says thank you to the volunteers at {site}!",
        "Refund of 20 pounds to the card {Kf} read out on the phone: {card} (please delete after).",
        "Payment details for the fuel voucher: sort code {sort} acc no {acct}, name {K}.",
    ],
    "organisation": [
        "Morning all, {site} is closed {day} for a deep clean. Contact {Sf} on {phone} with questions.",
        "Minutes from {date}: attendees {S}, {U}, the FOI officer and two charity reps.",
        "Has anyone got a contact at the {place} mosque? {U} runs the food share there I think.",
        "Reminder that referrals should not include NHS numbers or DOBs in free text.",
        "{Uf} {Ul} has joined as volunteer coordinator at {site}, say hello!",
        "The charity_organisation_id column in the FOI export is blank for {site}. Ticket raised.",
        "Hamper list closes {date}. So far {n} families from {place}, including the {Kl}s.",
        "Stock update: {site} needs tinned fish, UHT milk and nappies size {n}.",
        "Thanks {Sf} - figures look right. Kind regards, {S}, Leeds City Council",
    ],
    "note": [
        "Referred by the GP surgery, Dr {Ul}. NHS {nhs}. Lives alone.",
        "{K} - two children aged {n} and {n}. Prefers collection. Tel {phone}.",
        "Address: {address}, {postcode}. Ring bell twice.",
        "NINO {nino}. UC claim started {date}.",
        "Emergency contact: {U} ({phone}).",
        "DOB: {dob}. Type 2 diabetes. No sugar in the parcel please.",
        "Bank details for the crisis grant: {iban}.",
        "Card details taken in error and deleted from the case: {card}.",
    ],
    "decision": [
        "Offer made: {site}, collection {day} {time}. Household of {n}.",
        "Offer declined by {Kf}: too far to travel with the children.",
        "Offer expired - no answer on {phone}.",
        "Match run {run}: unmatched (no capacity with halal stock in {outcode}).",
    ],
}
# Written after the rules were revised on what the first held-out set missed, and measured
# once, untouched: the figure that says how the revised rules do on text they were not
# shaped by.
SECOND_HELD_OUT_TEMPLATES: dict[str, list[str]] = {
    "referral": [
        "FW: from {U} at the housing office - {K} is being rehoused on {day}, new address {address}.",
        "- parcel for {n}\n- collect {day} {time}\n- contact: {Kf} {phone}",
        "txt from {kf}: cant make it 2day, can {Uf} come instead?",
        "Following up on {K}: GP confirmed NHS number {nhs}. Diet: halal, no nuts.",
        "Door code for the flat is on the referral. {Kf} said ask for her mum {Uf} if she's out.",
        "Hello {Sf}, {K} rang the office twice. Could you call her back on {phone}?",
        "{Kf} and her partner {U} have moved in with friends at {postcode} for now.",
        "She gave her date of birth as {dob} and NI as {nino} for the grant form.",
        "Collected {time}. Signed for by {U} (friend). {Kf} unwell.",
        "I have passed this to {S}, who looks after {place}.",
    ],
    "organisation": [
        "Dear all,\nThe {site} rota for {day}: {U}, {U} and {Sf}.\nThanks,\n{S}",
        "Good news: {Uf} {Ul} from {place} Rotary has donated {n} crates of tins.",
        "Can someone from the council update the FOI-2026-011 spreadsheet? charity_organisation_id is wrong for {site}.",
        "Apologies from {U} for the meeting on {date}.",
        "Does anyone have a number for {U}? She used to run the {place} breakfast club.",
        "New volunteer {Uf} starts at {site} on {day}; please show her the stock room.",
        "Quick one: is the {Kl} family still on the Christmas list? Their caseworker left.",
        "We're collecting toys for the hampers again. Drop-off at {site} until {date}.",
    ],
    "note": [
        "Lives at {address} with {n} children. Eldest {Uf} is {n}.",
        "Carer: {U}, tel {phone}, email {email}.",
        "DOB {dob} NHS {nhs} NI {nino}",
        "Previously known as {U}. Prefers {Kf}.",
        "Grant paid to {iban} on {date}.",
        "Do not contact ex-partner {U}.",
    ],
    "decision": [
        "Offer declined: {Kf} is in hospital until {day}.",
        "Offer accepted at {site}; {U} will collect for the household.",
        "Match run {run}: matched to {site}, collection on {day}.",
    ],
}
SECOND_HELD_OUT_SEED = 991
SECOND_HELD_OUT_MESSAGES = 300
HELD_OUT_SEED = 7305
HELD_OUT_MESSAGES = 400
SITES = ("St Aidan's Food Share", "Hope Food Hub", "Holy Trinity Food Share", "Kirkgate Community Cupboard",
         "Oak Tree Community Cupboard", "Canal Side Community Larder", "Good Neighbour Community Larder",
         "Bread of Life Food Bank", "Sunrise Community Kitchen", "Beacon Food Share")  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTHS = ("January", "March", "May", "June", "August", "October")


def _directory(
    rng: random.Random, names: Names, outcodes: list[str]
) -> tuple[list[Household], list[str]]:
    households = []
    for index in range(70):
        if index % 5 == 4:
            first, last = rng.choice(ORDINARY_FIRST), rng.choice(ORDINARY_LAST)
            names.used.update({first.lower(), last.lower()})
        else:
            first, last = names.person()
        households.append(
            Household(f"{first} {last}", phone(rng), address(rng), postcode(rng, outcodes).upper())
        )
    staff = []
    for _ in range(14):
        first, last = names.person()
        staff.append(f"{first} {last}")
    return households, staff


def build(seed: int = SEED, count: int = MESSAGES) -> dict[str, Any]:
    """The corpus: the service's directory (households, staff, sites) and labelled messages,
    ``count`` from the development templates and ``HELD_OUT_MESSAGES`` from the held-out ones
    (their own seed)."""
    rng = random.Random(seed)
    outcodes = [row["outcode"] for row in csv.DictReader((REPO / "data" / "uk-postcode-outcodes.csv").open())
                if row["outcode"].startswith(("LS", "BD", "WF", "HX", "HD"))]  # fmt: skip
    names = Names(rng)
    households, staff = _directory(rng, names, outcodes)
    messages: list[tuple[str, Message]] = []
    for split, bank, split_rng, total in (
        ("development", TEMPLATES, rng, count),
        ("held_out", HELD_OUT_TEMPLATES, random.Random(HELD_OUT_SEED), HELD_OUT_MESSAGES),
        (
            "second_held_out",
            SECOND_HELD_OUT_TEMPLATES,
            random.Random(SECOND_HELD_OUT_SEED),
            SECOND_HELD_OUT_MESSAGES,
        ),
    ):
        kinds = list(bank)
        for number in range(total):
            thread = kinds[number % len(kinds)] if number % 7 else "referral"
            template = split_rng.choice(bank[thread])
            household_index = split_rng.randrange(len(households))
            filled = _fill(
                template, thread, household_index, households, staff, names, split_rng, outcodes
            )
            messages.append((split, filled))
    return {
        "about": "Labelled council-charity messages; see benchmarks/redaction_corpus.py.",
        "seed": seed,
        "today": TODAY.isoformat(),
        "faker_version": _faker_version(),
        "households": [h.__dict__ for h in households],
        "staff": staff,
        "staff_accounts": list(STAFF_ROLE_ACCOUNTS),
        "sites": list(SITES),
        "messages": [
            {
                "split": split,
                "thread": m.thread,
                "household": m.household,
                "text": m.text,
                "items": [list(item) for item in m.items],
            }
            for split, m in messages
        ],
    }


def _faker_version() -> str:
    from importlib.metadata import version

    return version("faker")


def _fill(
    template: str,
    thread: str,
    household_index: int,
    households: list[Household],
    staff: list[str],
    names: Names,
    rng: random.Random,
    outcodes: list[str],
) -> Message:
    household = households[household_index]
    k_first, k_last = household.name.split(" ", 1)
    u_first, u_last = names.person()
    s_name = rng.choice(staff)
    message = Message(
        thread=thread, household=household_index if thread != "organisation" else None
    )
    for literal, slot in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
        message.add(literal)
        if not slot:
            continue
        value, kind = _slot(
            slot, household, k_first, k_last, u_first, u_last, s_name, rng, outcodes
        )
        if kind == "unknown_name" and slot in ("U",):
            u_first, u_last = names.person()  # a second {U} is another person
        message.add(value, kind)
    return message


def _slot(slot: str, household: Household, k_first: str, k_last: str, u_first: str, u_last: str,
          s_name: str, rng: random.Random, outcodes: list[str]) -> tuple[str, str | None]:  # fmt: skip
    plain: dict[str, str] = {
        "site": rng.choice(SITES),
        "place": rng.choice(PLACES_IN_VOCABULARY + PLACES_OUTSIDE),
        "ref": f"FOI-2026-{rng.randint(1, 300):03d}",
        "date": (TODAY + timedelta(days=rng.randint(-40, 40))).strftime(
            rng.choice(["%d/%m/%Y", "%d %B", "%-d %b %Y"])),
        "n": str(rng.randint(1, 12)),
        "time": rng.choice(["9am", "10:30", "2pm", "4.30pm", "noon", "17:00"]),
        "day": rng.choice(DAYS),
        "month": rng.choice(MONTHS),
        "run": str(rng.randint(1, 400)),
        "referral": str(rng.randint(100, 9999)),
        "outcode": rng.choice(outcodes),
    }  # fmt: skip
    if slot in plain:
        return plain[slot], None
    named: dict[str, tuple[str, str]] = {
        "K": (household.name, "known_name"),
        "Kf": (k_first, "known_name"),
        "Kl": (k_last, "known_name"),
        "kf": (k_first.lower(), "known_name"),
        "U": (f"{u_first} {u_last}", "unknown_name"),
        "Uf": (u_first, "unknown_name"),
        "Ul": (u_last, "unknown_name"),
        "uf": (u_first.lower(), "unknown_name"),
        "S": (s_name, "known_name"),
        "Sf": (s_name.split(" ", 1)[0], "known_name"),
    }
    if slot in named:
        return named[slot]
    values: dict[str, tuple[str, str]] = {
        "nhs": (nhs_number(rng), "nhs_number"),
        "nino": (ni_number(rng), "ni_number"),
        "card": (card_number(rng), "card_number"),
        "iban": (iban(rng), "iban"),
        "sort": (sort_code(rng), "bank_details"),
        "acct": (account_number(rng), "bank_details"),
        "phone": (rng.choice([phone(rng), household.phone]), "phone"),
        "email": (email(rng, k_first, k_last), "email"),
        "postcode": (rng.choice([postcode(rng, outcodes), household.postcode]), "postcode"),
        "address": (rng.choice([address(rng), household.address]), "address"),
        "dob": (birth_date(rng), "date_of_birth"),
    }
    return values[slot]


def main(argv: list[str] | None = None) -> None:
    """Write the corpus."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=MESSAGES)
    args = parser.parse_args(argv)
    corpus = build(count=args.count)
    CORPUS.write_text(json.dumps(corpus, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    planted = sum(len(m["items"]) for m in corpus["messages"])
    print(
        f"{CORPUS.relative_to(REPO)}: {len(corpus['messages'])} messages, {planted} planted items"
    )


if __name__ == "__main__":
    main()
