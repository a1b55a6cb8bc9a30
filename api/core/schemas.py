"""Request and response bodies (pydantic): ``XCreate`` in, ``XRead`` out.

Inputs forbid unknown fields, so a client cannot slip in ``organisation_id`` or ``status``.
Two referral views exist: the council's (:class:`ReferralRead`) and the minimised one a
charity gets (:class:`ReferralForCharity`), built only by ``api.core.minimise``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from api.core.patterns import known_postcode_pattern
from api.core.vocabulary import DeclineReason, OfferStatus, ReferralStatus, Role, WithdrawalReason
from matching.models import DietaryTag

T = TypeVar("T")

UrgencyName = Literal["emergency", "urgent", "standard"]
ModeName = Literal["collect", "deliver"]
OutcomeName = Literal["collected", "delivered", "no_show"]

POSTCODE_PATTERN = r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?([0-9][A-Za-z]{2})?$"
AREA_PATTERN = r"^[A-Za-z]{1,2}([0-9][A-Za-z0-9]?)?$"
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?( ?[0-9][A-Z]{2})?\Z")

NO_NUL = r"^[^\x00]*$"
"""Free text may hold anything but the NUL character (which no database stores)."""

Text200 = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]


def _known_postcode_schema(schema: dict[str, Any]) -> None:
    schema["pattern"] = known_postcode_pattern()


Postcode = Annotated[
    str,
    StringConstraints(min_length=2, max_length=8, pattern=POSTCODE_PATTERN),
    Field(
        description="UK postcode (`LS9 7AB`) or outward code (`LS9`), any case, of a district "
        "in the service's offline table (the pattern lists them all); a well-formed postcode "
        "of another district is refused with 422.",
        examples=["LS9 7AB"],
        json_schema_extra=_known_postcode_schema,
    ),
]
AreaEntry = Annotated[
    str,
    StringConstraints(min_length=1, max_length=4, pattern=AREA_PATTERN),
    Field(description="An outward code (`LS9`) or a postcode area (`LS`)."),
]


def json_integer(value: object) -> object:
    """JSON Schema's integer: a whole number (``3`` or ``3.0``), never ``"3"`` or ``true``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("expected a whole number")
        return int(value)
    return value


def _check_postcode(value: str) -> str:
    compact = value.upper()
    if not _POSTCODE.match(compact):
        raise ValueError("expected a UK postcode such as 'LS9 7AB' or an outward code 'LS9'")
    return compact


class Input(BaseModel):
    """Base for request bodies: unknown fields are an error. Numbers and booleans are strict
    (``false`` is not a number, ``"3"`` is not an integer); dates are ISO strings."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list (Open Referral UK style envelope)."""

    items: list[T]
    total_items: int = Field(ge=0)
    total_pages: int = Field(ge=0)
    page_number: int = Field(ge=1)
    size: int = Field(ge=1)

    @classmethod
    def of(cls, items: Sequence[T], total: int, page: int, size: int) -> Page[T]:
        """The envelope of ``items``, page ``page`` of ``size``, out of ``total`` in all."""
        return cls(
            items=list(items),
            total_items=total,
            total_pages=(total + size - 1) // size,
            page_number=page,
            size=size,
        )


class TokenRead(BaseModel):
    """A bearer token and what it carries."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")
    role: Role
    organisation_id: int


class WhoAmI(BaseModel):
    """The authenticated caller."""

    organisation_id: int
    organisation_kind: Literal["council", "charity"]
    role: Role
    user_id: int | None
    api_key_id: int | None


class PersonalDetails(BaseModel):
    """A household's personal data: only for its council, or a charity after consent + accept."""

    name: str | None
    phone: str | None
    address: str | None
    postcode: str | None
    notes: str | None = None


class ReferralCreate(Input):
    """A caseworker's referral of one household."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "household_size": 3,
                    "dietary": ["halal"],
                    "urgency": "urgent",
                    "postcode": "LS9 7AB",
                    "needs_delivery": False,
                    "max_travel_km": 5,
                    "consent_to_share": True,
                    "name": "A. Household",
                    "phone": "0113 496 0000",
                    "address": "1 Example Street, Leeds",
                    "notes": "Prefers a morning collection.",
                }
            ]
        },
    )

    household_size: int = Field(ge=1, le=20, description="People in the household, 1..20.")
    dietary: list[DietaryTag] = Field(
        default_factory=list,
        max_length=9,
        description="Dietary needs, each at most once; empty = none.",
        json_schema_extra={"uniqueItems": True},
    )
    urgency: UrgencyName
    postcode: Postcode
    needs_delivery: bool = Field(
        default=False, strict=True, description="Cannot collect; must be delivered."
    )
    max_travel_km: float = Field(
        default=5.0,
        strict=True,
        gt=0,
        le=100,
        description="How far the household can travel to collect.",
    )
    consent_to_share: bool = Field(
        strict=True,
        description="The household agrees its contact details go to the charity that accepts.",
    )
    name: Text200 | None = None
    phone: Annotated[str, StringConstraints(min_length=3, max_length=40, pattern=NO_NUL)] | None = (
        None
    )
    address: (
        Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NO_NUL)] | None
    ) = None
    notes: Annotated[str, StringConstraints(max_length=2000, pattern=NO_NUL)] | None = None
    outside_area_confirmed: bool = Field(
        default=False,
        strict=True,
        description="The postcode is outside the council's area, "
        "and the caseworker has checked that it is right.",
    )

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str) -> str:
        return _check_postcode(value)

    _whole_household = field_validator("household_size", mode="before")(json_integer)

    @field_validator("dietary")
    @classmethod
    def _unique_dietary(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each dietary tag may appear only once")
        return sorted(value)


class OfferBrief(BaseModel):
    """The current offer of a referral, as its council sees it."""

    id: int
    provider_id: int
    status: OfferStatus
    mode: ModeName
    distance_km: float
    distance_approximate: bool = Field(default=True, description="From a district centre.")


class ReferralRead(BaseModel):
    """A referral as its council sees it (including personal data)."""

    view: Literal["council"] = "council"
    id: int
    status: ReferralStatus
    household_size: int
    dietary: list[str]
    urgency: UrgencyName
    district: str | None = Field(description="Postcode district (outward code), if known.")
    needs_delivery: bool
    max_travel_km: float
    consent_to_share: bool
    created_at: datetime
    personal: PersonalDetails | None
    current_offer: OfferBrief | None = None
    withdrawal_reason: WithdrawalReason | None = Field(
        default=None, description="Why the council withdrew it (status ``withdrawn`` only)."
    )
    withdrawn_at: datetime | None = None
    located_by: Literal["postcode", "district"] = Field(
        default="district", description="At its own postcode's centroid, or its district's centre."
    )


class ReferralForCharity(BaseModel):
    """A referral as a charity sees it: what it needs to decide, nothing more.

    ``contact`` is filled only after the charity accepted and only if the household consented.
    """

    view: Literal["charity"] = "charity"
    id: int
    household_size: int
    dietary: list[str]
    urgency: UrgencyName
    district: str | None
    needs_delivery: bool
    offer_id: int
    offer_status: OfferStatus
    contact: PersonalDetails | None = None
    notes: str | None = None
    """Notes for the food bank, redacted: only once accepted, only with consent."""


ReferralView = Annotated[ReferralRead | ReferralForCharity, Field(discriminator="view")]


class ProviderCreate(Input):
    """A new site of the caller's charity."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Harehills Community Pantry",
                    "postcode": "LS9 6NP",
                    "service_area": ["LS9", "LS8"],
                    "delivery_radius_km": 3,
                }
            ]
        },
    )

    name: Text200
    postcode: Postcode
    service_area: list[AreaEntry] = Field(
        default_factory=list,
        max_length=50,
        description="Outward codes (`LS9`) or areas (`LS`) it serves; empty = anyone.",
    )
    delivery_radius_km: float = Field(default=0.0, strict=True, ge=0, le=100)

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str) -> str:
        return _check_postcode(value)

    @field_validator("service_area")
    @classmethod
    def _area(cls, value: list[str]) -> list[str]:
        return sorted({entry.upper() for entry in value})


class CapacityUpdate(Input):
    """A site's capacity for one period (replaces the figure for that period; history kept)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "period_start": "2026-01-05",
                    "period_end": "2026-01-11",
                    "parcels": 40,
                    "people": 120,
                    "delivery": 5,
                    "dietary": {"halal": 10, "vegetarian": None},
                }
            ]
        },
    )

    period_start: date = Field(description="First day of the period.")
    period_end: date = Field(
        description="Last day of the period: on or after `period_start` and at most 366 days "
        "after it (a rule between two fields, which JSON Schema cannot state: 422 otherwise)."
    )
    parcels: int = Field(ge=0, le=100_000, description="Households it can serve.")
    people: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="Most people in total; null = no limit.",
    )
    delivery: int = Field(
        default=0, ge=0, le=100_000, description="Parcels it can deliver: at most `parcels` (422)."
    )
    dietary: dict[DietaryTag, Annotated[int, Field(ge=0, le=100_000)] | None] = Field(
        default_factory=dict,
        description="Dietary needs it can meet, each with a cap at most `parcels` (null = none).",
    )

    _whole_numbers = field_validator("parcels", "delivery", mode="before")(json_integer)

    @field_validator("people", mode="before")
    @classmethod
    def _whole_people(cls, value: object) -> object:
        return None if value is None else json_integer(value)

    @field_validator("dietary", mode="before")
    @classmethod
    def _whole_caps(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: None if v is None else json_integer(v) for k, v in value.items()}
        return value

    @field_validator("period_end")
    @classmethod
    def _period(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("period_start")
        if isinstance(start, date):
            if value < start:
                raise ValueError(f"must be on or after period_start ({start})")
            if (value - start).days > 366:
                raise ValueError("a period may last at most a year")
        return value


class CapacityRead(BaseModel):
    """One recorded capacity figure."""

    id: int
    provider_id: int
    period_start: date
    period_end: date
    parcels: int
    people: int | None
    delivery: int
    dietary: dict[str, int | None]
    parcels_booked: int
    parcels_free: int
    created_at: datetime
    superseded_at: datetime | None


class ProviderRead(BaseModel):
    """A site and its current capacity."""

    id: int
    organisation_id: int
    name: str
    postcode: str
    district: str
    latitude: float
    longitude: float
    service_area: list[str]
    delivery_radius_km: float
    current_capacity: CapacityRead | None


class MatchRunCreate(Input):
    """Options for a match run (all optional)."""

    time_limit_s: float | None = Field(
        default=None,
        strict=True,
        gt=0,
        le=300,
        description="Engine time limit; default from settings.",
    )


class MatchItem(BaseModel):
    """The engine's decision for one referral in a run."""

    referral_id: int
    provider_id: int | None
    offer_id: int | None
    mode: ModeName | None
    distance_km: float | None
    reason: str
    explanation: str


class TierCountsRead(BaseModel):
    """Matched households per urgency tier."""

    emergency: int
    urgent: int
    standard: int


class MatchRunRead(BaseModel):
    """A stored match run: how well it did and every decision, explained."""

    id: int
    status: str = Field(description="`optimal` or `feasible (time limit)`.")
    method: str
    created_at: datetime
    referral_count: int
    provider_count: int
    matched: TierCountsRead
    total_distance_km: float
    seconds: float
    unmatched_by_reason: dict[str, int]
    matches: list[MatchItem]


class MatchRunSummary(BaseModel):
    """A match run without its per-referral decisions (for lists)."""

    id: int
    status: str
    created_at: datetime
    referral_count: int
    matched: TierCountsRead


class OfferRead(BaseModel):
    """A place offered at one site to one household."""

    id: int
    referral_id: int
    provider_id: int
    match_run_id: int | None
    status: OfferStatus
    mode: ModeName
    distance_km: float
    distance_approximate: bool = Field(default=True, description="From a district centre.")
    explanation: str
    decline_reason: DeclineReason | None
    decline_note: str | None
    created_at: datetime
    updated_at: datetime


class WithdrawRequest(Input):
    """Why the council withdraws the referral."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "helped_elsewhere"}]}
    )

    reason: WithdrawalReason


class DeclineRequest(Input):
    """Why the charity declines the offer."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "no_stock", "note": "Halal stock ran out."}]},
    )

    reason: DeclineReason
    note: Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)] | None = None


class OutcomeRequest(Input):
    """What happened to an accepted offer."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"outcome": "collected"}]}
    )

    outcome: OutcomeName


class OfferChange(BaseModel):
    """An offer after a lifecycle step, and whether the household was matched again."""

    offer: OfferRead
    rematched: bool = Field(
        description="A freed place led to a new offer for the household elsewhere."
    )
    reoffered_to: Literal["same_charity", "another_charity"] | None = Field(
        default=None, description="Where the new offer went (null: waiting for a place)."
    )


class ApiKeyCreate(Input):
    """A new API key for the caller's organisation."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Housing system", "role": "caseworker"}]},
    )

    name: Text200
    role: Literal["caseworker", "charity", "planner", "foi_officer"]


class ApiKeyRead(BaseModel):
    """An API key's record (never the key itself)."""

    id: int
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    """A freshly made key: ``key`` is shown this once and never stored."""

    key: str


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, Any] = Field(default_factory=dict)
