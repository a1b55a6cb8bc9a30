"""The matching domain: referrals, providers, a problem, and the engine's answer.

Plain frozen dataclasses, no behaviour beyond small derived properties, so every layer
(CSV files, the database, scenarios, notebooks) can build and read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Literal, get_args

DietaryTag = Literal[
    "halal",
    "kosher",
    "vegetarian",
    "vegan",
    "gluten_free",
    "dairy_free",
    "nut_free",
    "diabetic",
    "baby",
]
"""A dietary tag the contract knows (the one list: the API's schemas use it too)."""

DIETARY_TAGS: tuple[str, ...] = get_args(DietaryTag)
"""Every dietary tag the contract knows, in a fixed order (bit ``i`` of a tag mask)."""


def dietary_mask(tags: frozenset[str] | set[str] | list[str]) -> int:
    """Bit mask of dietary tags (bit ``i`` = ``DIETARY_TAGS[i]``)."""
    mask = 0
    for tag in tags:
        mask |= 1 << DIETARY_TAGS.index(tag)
    return mask


DEFAULT_MAX_TRAVEL_KM = 5.0
MIN_HOUSEHOLD_SIZE = 1
MAX_HOUSEHOLD_SIZE = 20


class Urgency(StrEnum):
    """How soon a household needs food; higher tiers are matched first."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    STANDARD = "standard"

    @property
    def rank(self) -> int:
        """3 for emergency, 2 for urgent, 1 for standard: larger means more pressing."""
        return _URGENCY_RANK[self]


_URGENCY_RANK = {Urgency.EMERGENCY: 3, Urgency.URGENT: 2, Urgency.STANDARD: 1}
URGENCY_ORDER: tuple[Urgency, ...] = (Urgency.EMERGENCY, Urgency.URGENT, Urgency.STANDARD)


class Mode(StrEnum):
    """How a household receives its parcel."""

    COLLECT = "collect"
    DELIVER = "deliver"


class Reason(StrEnum):
    """Outcome of one referral in a match run (the contract's reason codes)."""

    MATCHED = "matched"
    NO_PROVIDER_IN_REACH = "no_provider_in_reach"
    DIETARY_UNAVAILABLE = "dietary_unavailable"
    NOT_ELIGIBLE = "not_eligible"
    CAPACITY_EXHAUSTED = "capacity_exhausted"


class SolveStatus(StrEnum):
    """Whether the engine proved its answer optimal."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible (time limit)"
    WITHIN_GAP = "feasible (within gap)"
    """Stopped because every tier was within the requested relative gap of its bound."""
    INTERRUPTED = "interrupted"
    """Stopped by the caller (Ctrl-C): the best answer found until then."""


@dataclass(frozen=True, slots=True)
class Referral:
    """One household referred for food.

    ``outcode`` is the postcode district (``LS9``) when a postcode was given; it decides
    service-area eligibility. ``latitude``/``longitude`` are the location used for distance.
    """

    referral_id: str
    latitude: float
    longitude: float
    household_size: int
    urgency: Urgency
    dietary: frozenset[str] = frozenset()
    max_travel_km: float = DEFAULT_MAX_TRAVEL_KM
    needs_delivery: bool = False
    outcode: str | None = None
    postcode: str | None = None


@dataclass(frozen=True, slots=True)
class Provider:
    """One food bank, pantry or charity site and its capacity for the period.

    ``dietary`` maps each listed tag to its cap (``None`` = no cap beyond ``capacity``).
    ``service_area`` holds outward codes (``LS9``) or postcode areas (``LS``); empty = anyone.
    """

    provider_id: str
    name: str
    latitude: float
    longitude: float
    capacity: int
    people_capacity: int | None = None
    dietary: Mapping[str, int | None] = field(default_factory=lambda: MappingProxyType({}))
    delivery_capacity: int = 0
    delivery_radius_km: float = 0.0
    service_area: frozenset[str] = frozenset()
    outcode: str | None = None
    postcode: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.dietary, MappingProxyType):
            object.__setattr__(self, "dietary", MappingProxyType(dict(self.dietary)))


@dataclass(frozen=True, slots=True)
class Problem:
    """The referrals to place and the providers that can take them, both in input order."""

    referrals: tuple[Referral, ...]
    providers: tuple[Provider, ...]


class Limit(StrEnum):
    """What an explanation says about a site it names (each checkable against the answer)."""

    FULL = "full"
    """Every parcel (``capacity``) is used."""
    PEOPLE = "people"
    """Its ``people_capacity`` has no room for this household's size."""
    DELIVERY = "delivery"
    """Every delivery slot (``delivery_capacity``) is used (the household needs delivery)."""
    STOCK = "stock"
    """A capped dietary stock the household needs (``tags``) is used up."""
    LACKS_TAGS = "lacks_tags"
    """The site does not list these of the household's dietary tags (``tags``)."""
    OUT_OF_AREA = "out_of_area"
    """The site's service area does not include the household's postcode district."""
    NO_POSTCODE = "no_postcode"
    """The site serves listed districts only and the household gave no postcode."""
    ROOM = "room"
    """The site had room (only in an answer not proven best: the search stopped first)."""


@dataclass(frozen=True, slots=True)
class Claim:
    """One site an explanation names, at its exact distance, and what it says about it.

    ``limits`` are every limit of the site that applies (empty: the site is only listed as
    considered); ``most_urgent_held`` (for a household left unmatched) the most urgent tier
    among the households that hold a place there (``None``: nobody does).
    """

    provider_id: str
    distance_km: float
    limits: tuple[Limit, ...] = ()
    tags: tuple[str, ...] = ()
    most_urgent_held: Urgency | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """The engine's decision for one referral, with the reason and a plain-words explanation."""

    referral_id: str
    reason: Reason
    provider_id: str | None = None
    mode: Mode | None = None
    distance_km: float | None = None
    explanation: str = ""
    considered: tuple[str, ...] = ()
    claims: tuple[Claim, ...] = ()
    """What the explanation says, site by site, as data (for checking and for other uses)."""

    @property
    def matched(self) -> bool:
        return self.reason is Reason.MATCHED


@dataclass(frozen=True, slots=True)
class TierCounts:
    """Matched households per urgency tier."""

    emergency: int = 0
    urgent: int = 0
    standard: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"emergency": self.emergency, "urgent": self.urgent, "standard": self.standard}

    @property
    def total(self) -> int:
        return self.emergency + self.urgent + self.standard


@dataclass(frozen=True, slots=True)
class MatchResult:
    """What a match run achieved: one :class:`Match` per referral, in input order.

    ``status`` says whether optimality was proven. ``bound`` holds, when the run stopped
    early, the best proven bound on each tier's count and on the distance (else ``None``).
    ``timings`` maps phases (``candidates``, ``build``, ``solve``, ``explain``) to seconds.
    """

    status: SolveStatus
    matches: tuple[Match, ...]
    matched: TierCounts
    total_distance_km: float
    seconds: float
    method: str = ""
    bound: Mapping[str, float] | None = None
    timings: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def unmatched_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for match in self.matches:
            if not match.matched:
                counts[match.reason.value] = counts.get(match.reason.value, 0) + 1
        return counts
