"""Form posts -> the services' request bodies, with GOV.UK-style messages per field.

Each parser keeps what the person typed (to show it again) and returns either a valid body
or a mapping of field name -> message, in the order the fields appear on the page. The rules
themselves stay in the schemas (``api.core.schemas``, ``api.record.schemas``); this module only
turns text into typed values and pydantic's complaints into plain words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from api.core.errors import ProblemError
from api.core.schemas import CapacityUpdate, DeclineRequest, ReferralCreate
from api.match_runs import adapter as convert
from api.record.schemas import FOIA_IN_FORCE, MAX_ID, ExportCreate, FoiRequestCreate
from matching.models import DIETARY_TAGS

Errors = dict[str, str]

REFERRAL_FIELDS = (
    "postcode",
    "outside_area",
    "household_size",
    "dietary",
    "urgency",
    "delivery",
    "max_travel_km",
    "consent",
    "name",
    "phone",
    "notes",
)

FormValues = Mapping[str, str | list[str]]


def text(form: FormValues, name: str) -> str:
    """One text field, trimmed ('' when missing)."""
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.strip()


def password(form: FormValues, name: str) -> str:
    """A password field exactly as typed (spaces are part of a password; '' when missing)."""
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value


_WHOLE = re.compile(r"[0-9]{1,12}")
_DECIMAL = re.compile(r"[0-9]{1,12}(\.[0-9]{1,12})?|\.[0-9]{1,12}")


def whole_number(raw: str, low: int, high: int, *, commas: bool = True) -> int | None:
    """``raw`` as a whole number from ``low`` to ``high``, or ``None``.

    Only the digits 0-9 count (with ``commas``, also commas between them: ``1,000``).
    Python's ``int`` would also take other scripts' digits (``٣``), underscores and spaces,
    so it never sees text that is not plainly a number.
    """
    compact = raw.replace(",", "") if commas else raw
    if not _WHOLE.fullmatch(compact):
        return None
    number = int(compact)
    return number if low <= number <= high else None


def decimal_number(raw: str, low: float, high: float) -> float | None:
    """``raw`` as a number above ``low`` and at most ``high`` (``2`` or ``2.5``), or ``None``."""
    if not _DECIMAL.fullmatch(raw):
        return None
    number = float(raw)
    return number if low < number <= high else None


def problem_errors(problem: ProblemError, known: Sequence[str], fallback: str) -> Errors:
    """A service's 422/409 as page errors: on its field if the page has one, else ``fallback``."""
    errors: Errors = {}
    for item in problem.errors or []:
        name = _BODY_TO_FORM.get(item.field.split(".")[0], item.field.split(".")[0])
        errors.setdefault(name if name in known else fallback, item.message)
    if not errors:
        detail = problem.detail
        name = detail.split(":", 1)[0].split(".")[0] if ":" in detail else ""
        message = detail.split(":", 1)[1].strip() if name in known else detail
        errors[name if name in known else fallback] = message[:1].upper() + message[1:]
    return errors


@dataclass
class ReferralForm:
    """The 'refer a household' answers as typed."""

    postcode: str = ""
    outside_area: str = ""
    household_size: str = ""
    dietary: list[str] = field(default_factory=list)
    urgency: str = ""
    delivery: str = ""
    max_travel_km: str = "5"
    consent: str = ""
    name: str = ""
    phone: str = ""
    notes: str = ""

    @classmethod
    def from_form(cls, form: FormValues) -> ReferralForm:
        """The answers posted by the form (or by the check-your-answers page)."""
        raw = form.get("dietary", [])
        dietary = [raw] if isinstance(raw, str) else list(raw)
        return cls(
            postcode=text(form, "postcode").upper(),
            outside_area="yes" if text(form, "outside_area") == "yes" else "",
            household_size=text(form, "household_size"),
            dietary=[d for d in DIETARY_TAGS if d in dietary],
            urgency=text(form, "urgency"),
            delivery=text(form, "delivery"),
            max_travel_km=text(form, "max_travel_km"),
            consent=text(form, "consent"),
            name=text(form, "name"),
            phone=text(form, "phone"),
            notes=text(form, "notes"),
        )

    def hidden(self) -> list[tuple[str, str]]:
        """Every answer as (name, value) pairs for hidden inputs."""
        pairs = [(n, str(getattr(self, n))) for n in REFERRAL_FIELDS if n != "dietary"]
        return pairs + [("dietary", d) for d in self.dietary]

    def validate(self) -> tuple[ReferralCreate | None, Errors]:
        """The referral to submit, or the errors to show (nothing is stored either way)."""
        errors: Errors = {}
        if not self.postcode:
            errors["postcode"] = "Enter the household's postcode"
        elif convert.locate(self.postcode) is None:
            errors["postcode"] = "Enter a real postcode in the UK, like LS9 7AB"
        size = whole_number(self.household_size, 1, 20)
        if not self.household_size:
            errors["household_size"] = "Enter how many people live in the household"
        elif size is None:
            errors["household_size"] = "Household size must be a whole number from 1 to 20"
        if self.urgency not in ("emergency", "urgent", "standard"):
            errors["urgency"] = "Select how urgently the household needs food"
        if self.delivery not in ("collect", "deliver"):
            errors["delivery"] = "Select whether the household can collect or needs delivery"
        travel = decimal_number(self.max_travel_km, 0, 100)
        if self.delivery != "deliver" and travel is None:
            errors["max_travel_km"] = (
                "Enter how far the household can travel, in kilometres, from 0.1 to 100"
            )
        if self.consent not in ("yes", "no"):
            errors["consent"] = "Select whether the household agrees to share contact details"
        if len(self.notes) > 2000:
            errors["notes"] = "Notes must be 2,000 characters or fewer"
        if len(self.name) > 200:
            errors["name"] = "Name must be 200 characters or fewer"
        if self.phone and not 3 <= len(self.phone) <= 40:
            errors["phone"] = "Enter a phone number, like 0113 496 0000"
        if errors:
            return None, _ordered(errors, REFERRAL_FIELDS)
        body: dict[str, Any] = {
            "household_size": size,
            "dietary": self.dietary,
            "urgency": self.urgency,
            "postcode": self.postcode,
            "outside_area_confirmed": self.outside_area == "yes",
            "needs_delivery": self.delivery == "deliver",
            "max_travel_km": travel if travel is not None else 5.0,
            "consent_to_share": self.consent == "yes",
            "name": self.name or None,
            "phone": self.phone or None,
            "notes": self.notes or None,
        }
        try:
            return ReferralCreate.model_validate(body), {}
        except ValidationError as err:
            return None, _pydantic_errors(err, REFERRAL_FIELDS, "postcode")


def _ordered(errors: Errors, order: Sequence[str]) -> Errors:
    return {k: errors[k] for k in order if k in errors} | {
        k: v for k, v in errors.items() if k not in order
    }


_BODY_TO_FORM = {
    "needs_delivery": "delivery",
    "consent_to_share": "consent",
    "outside_area_confirmed": "outside_area",
    "received_on": "received",
    "date_from": "from",
    "date_to": "to",
}


def _pydantic_errors(err: ValidationError, order: Sequence[str], fallback: str) -> Errors:
    errors: Errors = {}
    for item in err.errors():
        loc = [str(p) for p in item.get("loc", ())]
        name = _BODY_TO_FORM.get(loc[0], loc[0]) if loc else fallback
        message = str(item.get("msg", "is not valid")).removeprefix("Value error, ")
        errors.setdefault(name if name in order else fallback, message[:1].upper() + message[1:])
    return _ordered(errors, order)


# --- charity -------------------------------------------------------------------------------

CAPACITY_FIELDS = ("parcels", "people", "delivery", "dietary")


@dataclass
class CapacityForm:
    """A site's capacity for this week, as typed."""

    parcels: str = ""
    people: str = ""
    delivery: str = "0"
    dietary: list[str] = field(default_factory=list)
    caps: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form: FormValues) -> CapacityForm:
        """The posted capacity form."""
        raw = form.get("dietary", [])
        listed = [raw] if isinstance(raw, str) else list(raw)
        return cls(
            parcels=text(form, "parcels"),
            people=text(form, "people"),
            delivery=text(form, "delivery"),
            dietary=[d for d in DIETARY_TAGS if d in listed],
            caps={d: text(form, f"cap_{d}") for d in DIETARY_TAGS},
        )

    def validate(self, start: date, end: date) -> tuple[CapacityUpdate | None, Errors]:
        """The capacity figure to record, or the errors to show."""
        errors: Errors = {}
        parcels = whole_number(self.parcels, 0, 100_000)
        if not self.parcels:
            errors["parcels"] = "Enter how many households you can give a parcel to this week"
        elif parcels is None:
            errors["parcels"] = "Parcels must be a whole number from 0 to 100,000"
        people = whole_number(self.people, 0, 1_000_000) if self.people else None
        if self.people and people is None:
            errors["people"] = "People must be a whole number from 0 to 1,000,000, or left empty"
        delivery = whole_number(self.delivery or "0", 0, 100_000)
        if delivery is None:
            errors["delivery"] = "Deliveries must be a whole number from 0 to 100,000"
        dietary: dict[str, int | None] = {}
        for tag in self.dietary:
            cap_text = self.caps.get(tag, "")
            cap = whole_number(cap_text, 0, 100_000) if cap_text else None
            if cap_text and cap is None:
                errors.setdefault(
                    "dietary", f"The limit for {tag.replace('_', ' ')} must be a whole number"
                )
            dietary[tag] = cap
        if errors:
            return None, _ordered(errors, CAPACITY_FIELDS)
        body = {
            "period_start": start,
            "period_end": end,
            "parcels": parcels,
            "people": people,
            "delivery": delivery,
            "dietary": dietary,
        }
        try:
            return CapacityUpdate.model_validate(body), {}
        except ValidationError as err:
            return None, _pydantic_errors(err, CAPACITY_FIELDS, "parcels")


def decline_body(form: FormValues) -> tuple[DeclineRequest | None, Errors]:
    """The decline reason and note, or the errors to show."""
    reason = text(form, "reason")
    note = text(form, "note")
    errors: Errors = {}
    if reason not in (
        "no_stock",
        "no_capacity",
        "cannot_meet_dietary",
        "out_of_area",
        "household_unreachable",
        "not_eligible",
        "other",
    ):
        errors["reason"] = "Select why you are declining this offer"
    if reason == "other" and not note:
        errors["note"] = "Say why you are declining this offer"
    if len(note) > 500:
        errors["note"] = "The note must be 500 characters or fewer"
    if errors:
        return None, errors
    return DeclineRequest.model_validate({"reason": reason, "note": note or None}), {}


# --- FOI -----------------------------------------------------------------------------------


def date_parts(form: FormValues, prefix: str) -> tuple[dict[str, str], date | None, str | None]:
    """A GOV.UK date input (day, month, year): what was typed, the date, or what is wrong."""
    parts = {k: text(form, f"{prefix}-{k}") for k in ("day", "month", "year")}
    if not any(parts.values()):
        return parts, None, None
    missing = [k for k, v in parts.items() if not v]
    if missing:
        return parts, None, "must include a " + " and ".join(missing)
    year = whole_number(parts["year"], 0, 9999, commas=False)
    month = whole_number(parts["month"], 1, 12, commas=False)
    day = whole_number(parts["day"], 1, 31, commas=False)
    if year is not None and year < 1900:
        return parts, None, "must have a 4-digit year, like 2026"
    if year is None or month is None or day is None:
        return parts, None, "must be a real date"
    try:
        return parts, date(year, month, day), None
    except ValueError:  # 31 April, 29 February in a common year
        return parts, None, "must be a real date"


FOI_REQUEST_FIELDS = ("reference", "summary", "received")
EXPORT_FIELDS = ("from", "to", "referral_id", "keywords", "foi_request_id")


def foi_request_body(
    form: FormValues, today: date
) -> tuple[FoiRequestCreate | None, Errors, dict[str, str]]:
    """A register entry to log, the errors to show, and the typed date parts."""
    errors: Errors = {}
    reference = text(form, "reference")
    summary = text(form, "summary")
    parts, received, wrong = date_parts(form, "received")
    if not reference:
        errors["reference"] = "Enter the council's reference for the request"
    elif len(reference) > 40:
        errors["reference"] = "The reference must be 40 characters or fewer"
    if not summary:
        errors["summary"] = "Enter what the requester asked for"
    elif len(summary) > 5000:
        errors["summary"] = "The summary must be 5,000 characters or fewer"
    if received is None:
        errors["received"] = (
            f"The date received {wrong}" if wrong else "Enter the date the request was received"
        )
    elif received > today:
        errors["received"] = "The date received must be today or in the past"
    elif received < FOIA_IN_FORCE:
        errors["received"] = (
            "The date received must be on or after 1 January 2005, when FOIA came into force"
        )
    if errors:
        return None, errors, parts
    try:
        body = FoiRequestCreate.model_validate(
            {"reference": reference, "summary": summary, "received_on": received}
        )
    except ValidationError as err:  # what the checks above cannot see, such as a NUL
        return None, _pydantic_errors(err, FOI_REQUEST_FIELDS, "summary"), parts
    return body, {}, parts


def export_body(form: FormValues) -> tuple[ExportCreate | None, Errors]:
    """What to export, or the errors to show."""
    errors: Errors = {}
    keywords = text(form, "keywords")
    request_id = text(form, "foi_request_id")
    referral = text(form, "referral_id")
    _, date_from, wrong_from = date_parts(form, "from")
    _, date_to, wrong_to = date_parts(form, "to")
    if wrong_from:
        errors["from"] = f"The start date {wrong_from}"
    if wrong_to:
        errors["to"] = f"The end date {wrong_to}"
    if date_from and date_to and date_to < date_from:
        errors["to"] = "The end date must be the same as or after the start date"
    referral_id = whole_number(referral, 1, MAX_ID) if referral else None
    if referral and referral_id is None:
        errors["referral_id"] = "Enter a referral number, like 1234, or leave it empty"
    if len(keywords) > 500:
        errors["keywords"] = "Keywords must be 500 characters or fewer"
    if errors:
        return None, errors
    try:
        body = ExportCreate.model_validate(
            {
                "keywords": keywords,
                "date_from": date_from,
                "date_to": date_to,
                "referral_id": referral_id,
                "foi_request_id": whole_number(request_id, 1, MAX_ID, commas=False),
            }
        )
    except ValidationError as err:  # what the checks above cannot see, such as a NUL
        return None, _pydantic_errors(err, EXPORT_FIELDS, "keywords")
    return body, {}
