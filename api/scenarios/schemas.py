"""Bodies of ``POST /scenarios`` and ``GET /scenarios/{scenario_id}`` (pydantic).

The request is the scenario document of ``docs/scenarios.md`` as JSON (the TOML file without
``[base]``) plus where the base comes from: the caller's live snapshot or uploaded contract
CSVs. The schema states what the engine's parser accepts, a little tighter where a run must
stay small (the caps are documented on each field and in ``docs/api.md``). What JSON Schema
cannot say (a provider id must be one of the base's, ``combine`` must name another scenario
of the request without a loop, a postcode must be in the offline table, the CSVs must parse)
is checked by the service before anything is queued, as a 422 naming the field.

Optional fields never take ``null``: leave a field out to mean "not given".
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from api.core.schemas import AREA_PATTERN, NO_NUL, POSTCODE_PATTERN, UrgencyName, json_integer
from api.scenarios.service import MAX_SCENARIOS
from matching.scenarios import MAX_DEMAND_FACTOR

MAX_EDITS = 10
"""The most tables one edit key (``open``, ``capacity``, ...) may hold in one scenario."""
MAX_IDS = 100
"""The most provider ids (or areas) one list may name."""
MAX_CSV_CHARS = 900_000
"""Each uploaded CSV's size limit (the whole request is at most 1 MiB)."""
MAX_TIME_LIMIT_S = 300.0
MAX_CAPACITY_FACTOR = 10.0
MAX_PARCELS = 100_000
MAX_SEED = 2**32 - 1

SCENARIO_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$"
PROVIDER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.~-]{0,63}$"
SITE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ,.'&()/-]{0,119}$"
DIETARY_ENTRY_PATTERN = (
    r"^(halal|kosher|vegetarian|vegan|gluten_free|dairy_free|nut_free|diabetic|baby)"
    r"(:[0-9]{1,6})?$"
)
RUN_ID_PATTERN = r"^[0-9a-z]{1,64}$"

RunId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=RUN_ID_PATTERN,
        description="The run's id, from `POST /scenarios`.",
    ),
]

Number = Annotated[float, Field(strict=True)]
ProviderId = Annotated[str, Field(pattern=PROVIDER_ID_PATTERN)]
ScenarioName = Annotated[str, Field(pattern=SCENARIO_NAME_PATTERN)]
Area = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4,
        pattern=AREA_PATTERN,
        description="A postcode district (`LS9`) or a whole area (`LS`).",
    ),
]
ProviderIds = Annotated[list[ProviderId], Field(max_length=MAX_IDS)]
Areas = Annotated[list[Area], Field(max_length=MAX_IDS)]


class Strict(BaseModel):
    """Unknown keys are an error, and an optional key is left out, never ``null``."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("expected a value; leave the key out instead of sending null")
        return value


class CapacityEdit(Strict):
    """Scale and/or add capacity of the chosen sites (neither ``providers`` nor ``areas``: all)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"anyOf": [{"required": ["factor"]}, {"required": ["add"]}]},
    )

    factor: (
        Annotated[float, Field(strict=True, ge=0, le=MAX_CAPACITY_FACTOR)] | SkipJsonSchema[None]
    ) = Field(default=None, description="Scales parcels (e.g. 0.8).")
    add: (
        Annotated[int, Field(ge=-MAX_PARCELS, le=MAX_PARCELS), BeforeValidator(json_integer)]
        | SkipJsonSchema[None]
    ) = Field(default=None, description="Parcels added (or removed).")
    providers: ProviderIds | SkipJsonSchema[None] = None
    areas: Areas | SkipJsonSchema[None] = None


DeliveryCapacity = Annotated[int, Field(ge=0, le=MAX_PARCELS), BeforeValidator(json_integer)]
DeliveryRadius = Annotated[float, Field(strict=True, ge=0, le=100)]


class DeliveryEdit(Strict):
    """Give sites a delivery service (a van)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [{"required": ["delivery_capacity"]}, {"required": ["delivery_radius_km"]}]
        },
    )

    providers: Annotated[list[ProviderId], Field(min_length=1, max_length=MAX_IDS)]
    delivery_capacity: DeliveryCapacity | SkipJsonSchema[None] = None
    delivery_radius_km: DeliveryRadius | SkipJsonSchema[None] = None


class OpenEdit(Strict):
    """Open a new site, placed by ``postcode`` or by ``latitude`` and ``longitude``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [{"required": ["postcode"]}, {"required": ["latitude", "longitude"]}]
        },
    )

    name: Annotated[str, Field(pattern=SITE_NAME_PATTERN)]
    capacity: Annotated[int, Field(ge=0, le=MAX_PARCELS), BeforeValidator(json_integer)]
    provider_id: ProviderId | SkipJsonSchema[None] = Field(
        default=None, description="Default `new-<name>`; must not be a base site's id."
    )
    postcode: (
        Annotated[str, Field(min_length=2, max_length=8, pattern=POSTCODE_PATTERN)]
        | SkipJsonSchema[None]
    ) = Field(default=None, description="Placed at its district's centre (offline table).")
    latitude: Annotated[float, Field(strict=True, ge=-90, le=90)] | SkipJsonSchema[None] = None
    longitude: Annotated[float, Field(strict=True, ge=-180, le=180)] | SkipJsonSchema[None] = None
    people_capacity: (
        Annotated[int, Field(ge=0, le=10 * MAX_PARCELS), BeforeValidator(json_integer)]
        | SkipJsonSchema[None]
    ) = None
    dietary: (
        Annotated[list[Annotated[str, Field(pattern=DIETARY_ENTRY_PATTERN)]], Field(max_length=9)]
        | SkipJsonSchema[None]
    ) = Field(default=None, description="Tags, each `tag` or `tag:limit` (`baby:5`).")
    delivery_capacity: DeliveryCapacity | SkipJsonSchema[None] = None
    delivery_radius_km: DeliveryRadius | SkipJsonSchema[None] = None
    service_area: Areas | SkipJsonSchema[None] = None


class TravelEdit(Strict):
    """Change how far households travel: exactly one of ``max_travel_km`` or ``factor``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [{"required": ["max_travel_km"]}, {"required": ["factor"]}],
        },
    )

    max_travel_km: Annotated[float, Field(strict=True, gt=0, le=500)] | SkipJsonSchema[None] = None
    factor: (
        Annotated[float, Field(strict=True, gt=0, le=MAX_CAPACITY_FACTOR)] | SkipJsonSchema[None]
    ) = None
    urgency: Annotated[list[UrgencyName], Field(max_length=3)] | SkipJsonSchema[None] = None
    areas: Areas | SkipJsonSchema[None] = None


class DemandEdit(Strict):
    """Scale the number of referred households (resampled with ``seed``)."""

    factor: Annotated[Number, Field(gt=0, le=MAX_DEMAND_FACTOR)]
    seed: (
        Annotated[int, Field(ge=0, le=MAX_SEED), BeforeValidator(json_integer)]
        | SkipJsonSchema[None]
    ) = None


CapacityEdits = (
    CapacityEdit | Annotated[list[CapacityEdit], Field(min_length=1, max_length=MAX_EDITS)]
)
DeliveryEdits = (
    DeliveryEdit | Annotated[list[DeliveryEdit], Field(min_length=1, max_length=MAX_EDITS)]
)
OpenEdits = OpenEdit | Annotated[list[OpenEdit], Field(min_length=1, max_length=MAX_EDITS)]
TravelEdits = TravelEdit | Annotated[list[TravelEdit], Field(min_length=1, max_length=MAX_EDITS)]
"""Each edit key takes one table or a list of tables (``[[scenario.open]]`` twice)."""


class ScenarioSpec(Strict):
    """One ``[[scenario]]``: a unique name and any of the edits (see docs/scenarios.md)."""

    name: ScenarioName = Field(description="Unique; not `baseline`. Names the column.")
    description: Annotated[str, Field(max_length=500, pattern=NO_NUL)] | SkipJsonSchema[None] = None
    combine: (
        Annotated[list[ScenarioName], Field(max_length=MAX_SCENARIOS)] | SkipJsonSchema[None]
    ) = Field(default=None, description="Other scenarios of this request to include first.")
    close: ProviderIds | SkipJsonSchema[None] = Field(default=None, description="Sites closed.")
    capacity: CapacityEdits | SkipJsonSchema[None] = None
    delivery: DeliveryEdits | SkipJsonSchema[None] = None
    open: OpenEdits | SkipJsonSchema[None] = None
    travel: TravelEdits | SkipJsonSchema[None] = None
    demand: (
        Annotated[Number, Field(gt=0, le=MAX_DEMAND_FACTOR)] | DemandEdit | SkipJsonSchema[None]
    ) = Field(default=None, description="A factor (`1.2`) or `{factor, seed}`.")


class ScenarioSettings(Strict):
    """Run settings for every match run of the request."""

    time_limit: (
        Annotated[float, Field(strict=True, gt=0, le=MAX_TIME_LIMIT_S)] | SkipJsonSchema[None]
    ) = Field(
        default=None,
        description="Seconds per match run at most; the service's own limit still applies.",
    )
    min_district_households: (
        Annotated[int, Field(ge=1, le=100_000), BeforeValidator(json_integer)]
        | SkipJsonSchema[None]
    ) = Field(default=None, description="Smaller districts skip fairness measures.")


class LiveBase(BaseModel):
    """The caller's council now: its open referrals and every site's free capacity."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["live"]


class UploadedBase(BaseModel):
    """Referrals and providers as contract CSV text (the files ``foodmatch match`` reads)."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["upload"]
    referrals_csv: Annotated[str, Field(min_length=1, max_length=MAX_CSV_CHARS, pattern=NO_NUL)]
    providers_csv: Annotated[str, Field(min_length=1, max_length=MAX_CSV_CHARS, pattern=NO_NUL)]


BaseChoice = Annotated[LiveBase | UploadedBase, Field(discriminator="source")]


class ScenarioRunCreate(Strict):
    """A what-if request: the scenario document and the base it edits."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "base": {"source": "live"},
                    "settings": {"time_limit": 10},
                    "scenario": [
                        {"name": "winter-surge", "demand": {"factor": 1.2, "seed": 2024}},
                        {"name": "less-stock", "capacity": {"factor": 0.8}},
                        {"name": "both", "combine": ["winter-surge", "less-stock"]},
                    ],
                },
                {
                    "base": {
                        "source": "upload",
                        "referrals_csv": "referral_id,postcode,household_size,urgency\n"
                        "R1,LS9 7AB,2,urgent\nR2,LS11 5AA,4,emergency\n",
                        "providers_csv": "provider_id,name,postcode,capacity\n"
                        "P1,Harehills Pantry,LS9 6NP,1\n",
                    },
                    "scenario": [
                        {"name": "pantry-closes", "close": ["P1"]},
                        {
                            "name": "pop-up",
                            "open": {"name": "Pop-up", "postcode": "LS11 5AA", "capacity": 5},
                        },
                    ],
                },
            ]
        },
    )

    # Plain fields, not unions with None: a wrong value is then reported at `base` or
    # `settings` itself, not at a union member's name.
    base: BaseChoice = Field(
        default_factory=lambda: LiveBase(source="live"),
        description="Where the baseline comes from; default the live snapshot.",
    )
    settings: ScenarioSettings = Field(default_factory=lambda: ScenarioSettings())
    scenario: Annotated[list[ScenarioSpec], Field(min_length=1, max_length=MAX_SCENARIOS)]

    def spec(self) -> dict[str, Any]:
        """The scenario document as the engine's parser takes it (no base)."""
        return self.model_dump(exclude_none=True, exclude={"base"})


RunStatus = Literal["queued", "running", "done", "failed"]
Value = str | int | float | bool | None


class ScenarioKPIs(BaseModel):
    """One run's measures: the summary, and per-district and per-site tables (counts only)."""

    name: str
    description: str
    summary: dict[str, Value] = Field(description="Each measure (docs/scenarios.md).")
    districts: list[dict[str, Value]]
    providers: list[dict[str, Value]]


class Comparison(BaseModel):
    """One row per measure: the baseline, each scenario and `<name> (diff)`."""

    columns: list[str]
    rows: list[dict[str, Value]]


class ScenarioResult(BaseModel):
    """The finished run: KPIs of the baseline and of each scenario, and the comparison."""

    baseline: ScenarioKPIs
    scenarios: list[ScenarioKPIs]
    comparison: Comparison
    all_optimal: bool = Field(description="False when a run stopped at its time limit.")


class ScenarioProgress(BaseModel):
    """Match runs finished so far (the baseline counts as one)."""

    done: int = Field(ge=0)
    total: int = Field(ge=1)


class ScenarioRunRead(BaseModel):
    """A what-if run of the caller's council."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f2a9c1d0b7e4f5a8c6d2e1f0a9b8c7d",
                    "status": "running",
                    "title": "API: 3 scenarios on the live snapshot",
                    "progress": {"done": 1, "total": 4},
                    "created_at": "2026-01-05T09:30:00Z",
                    "notes": [],
                    "error": None,
                    "result": None,
                }
            ]
        }
    )

    id: str
    status: RunStatus
    title: str
    progress: ScenarioProgress
    created_at: datetime
    notes: list[str]
    error: str | None = Field(description="Why a failed run stopped.")
    result: ScenarioResult | None = Field(description="Present once the status is `done`.")
    kind: Literal["compare", "sweep"] = Field(
        default="compare",
        description="`compare`: scenarios beside the baseline (`result`); `sweep`: many draws "
        "of one uncertain scenario, started on the planner's page (`sweep`).",
    )
    sweep: dict[str, Any] | None = Field(
        default=None,
        description="A finished sweep's summary: quantiles, chances of unmet emergencies "
        "overall and by district, and figures per draw.",
    )
