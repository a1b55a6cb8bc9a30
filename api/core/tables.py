"""SQLAlchemy 2.0 typed tables: the service's persistent state.

Personal data (name, phone, full address, full postcode, free-text notes) lives only in
``referral_personal``; the matching fields of a referral (household size, dietary needs,
district, urgency) live in ``referrals``. Anything that leaves the council passes through
``api.core.minimise``. Other areas (``api.record``) declare their tables on the same :class:`Base`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from api.core.vocabulary import (
    DeclineReason,
    OfferStatus,
    OrganisationKind,
    ReferralStatus,
    Role,
    WithdrawalReason,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (the only clock the tables use)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that always comes back timezone-aware (SQLite drops it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base for every foodmatch table (shared with ``api.record``)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 (read by SQLAlchemy, never mutated)
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
    }


def _enum(cls: type[StrEnum], name: str) -> Enum:
    """A portable enum column: a VARCHAR with a CHECK constraint, storing the values."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


DISTRICT = "district"
"""``located_by``: placed at its postcode district's centre (approximate)."""
POSTCODE = "postcode"
"""``located_by``: placed at its full postcode's centroid (from the postcode directory)."""

_ACTIVE_SQL = "status IN ('offered', 'accepted', 'collected', 'delivered')"


class Organisation(Base):
    """A council or a charity; every other object belongs to exactly one."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(_enum(OrganisationKind, "organisation_kind"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    area: Mapped[str] = mapped_column(String(500), default="", server_default="")
    """A council's area: districts and postcode areas, ``;``-joined (empty: anywhere)."""


class User(Base):
    """A person who signs in; their organisation and role bound what they see and do."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    session_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    """Goes up when the person signs out, is deactivated or gets a new password; every token
    and page session carries the value it was issued under and stops working once it differs."""

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class SignInAttempt(Base):
    """A counted sign-in attempt: a failure, or one whose password is being checked.

    ``key`` is a keyed hash of the e-mail address or the client address (never the value
    itself); rows older than the sign-in window are deleted as new attempts arrive.
    """

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)


class SignInLink(Base):
    """A one-time link with which a person chooses their password: an invitation to a new
    account, or a reset an admin made. Stored as a hash; it works once, until it expires or
    a newer link for the same person replaces it."""

    __tablename__ = "sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "invitation" or "reset"
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class ApiKey(Base):
    """A system-to-system credential of one organisation: stored as a hash, revocable."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "api_key_role"))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class Referral(Base):
    """A household referred for food: only the fields matching needs (no personal data)."""

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint("household_size BETWEEN 1 AND 20", name="household_size_range"),
        CheckConstraint("max_travel_km > 0", name="max_travel_positive"),
        CheckConstraint("urgency IN ('emergency', 'urgent', 'standard')", name="urgency_known"),
        Index("ix_referrals_org_status", "organisation_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    household_size: Mapped[int] = mapped_column(Integer)
    dietary: Mapped[str] = mapped_column(String(200), default="")
    urgency: Mapped[str] = mapped_column(String(16))
    outcode: Mapped[str | None] = mapped_column(String(8))
    latitude: Mapped[float]
    longitude: Mapped[float]
    located_by: Mapped[str] = mapped_column(String(8), default=DISTRICT, server_default=DISTRICT)
    max_travel_km: Mapped[float]
    needs_delivery: Mapped[bool] = mapped_column(default=False)
    consent_to_share: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ReferralStatus] = mapped_column(
        _enum(ReferralStatus, "referral_status"), default=ReferralStatus.OPEN
    )
    withdrawal_reason: Mapped[WithdrawalReason | None] = mapped_column(
        _enum(WithdrawalReason, "withdrawal_reason"), default=None
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    personal: Mapped[ReferralPersonal | None] = relationship(
        back_populates="referral", uselist=False, lazy="raise"
    )

    @property
    def dietary_tags(self) -> list[str]:
        """The dietary tags as a sorted list."""
        return [t for t in self.dietary.split(";") if t]


class ReferralPersonal(Base):
    """The household's personal data, kept apart so it never travels by accident."""

    __tablename__ = "referral_personal"

    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(500))
    postcode: Mapped[str | None] = mapped_column(String(10))
    notes: Mapped[str | None] = mapped_column(Text)

    referral: Mapped[Referral] = relationship(back_populates="personal")


class Provider(Base):
    """One site (food bank, pantry) run by a charity organisation."""

    __tablename__ = "providers"
    __table_args__ = (
        CheckConstraint("delivery_radius_km >= 0", name="delivery_radius_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(10))
    outcode: Mapped[str | None] = mapped_column(String(8))
    latitude: Mapped[float]
    longitude: Mapped[float]
    located_by: Mapped[str] = mapped_column(String(8), default=DISTRICT, server_default=DISTRICT)
    service_area: Mapped[str] = mapped_column(String(500), default="")
    delivery_radius_km: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)  # closed sites get no matches


class Capacity(Base):
    """What a site can give in one period; a new figure supersedes, never overwrites.

    The ``*_booked`` counters sum the offers holding a place here; they change only under
    this row's lock and are checked in the database, so no interleaving of requests can take
    them past the figure or below zero.
    """

    __tablename__ = "capacity"
    __table_args__ = (
        CheckConstraint("parcels >= 0", name="parcels_nonnegative"),
        CheckConstraint("people IS NULL OR people >= 0", name="people_nonnegative"),
        CheckConstraint("delivery >= 0", name="delivery_nonnegative"),
        CheckConstraint(
            "parcels_booked >= 0 AND parcels_booked <= parcels", name="booked_within_parcels"
        ),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        CheckConstraint(
            "people_booked >= 0 AND (people IS NULL OR people_booked <= people)",
            name="people_booked_within",
        ),
        CheckConstraint(
            "delivery_booked >= 0 AND delivery_booked <= delivery", name="delivery_booked_within"
        ),
        Index("ix_capacity_current", "provider_id", "superseded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    parcels: Mapped[int]
    people: Mapped[int | None]
    delivery: Mapped[int] = mapped_column(default=0)
    dietary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    parcels_booked: Mapped[int] = mapped_column(default=0)
    people_booked: Mapped[int] = mapped_column(default=0)
    delivery_booked: Mapped[int] = mapped_column(default=0)
    dietary_booked: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(default=None)


class MatchRun(Base):
    """One run of the engine over a council's open referrals, stored whole or not at all."""

    __tablename__ = "match_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(Text, default="")
    referral_count: Mapped[int]
    provider_count: Mapped[int]
    matched_emergency: Mapped[int]
    matched_urgent: Mapped[int]
    matched_standard: Mapped[int]
    total_distance_km: Mapped[float]
    seconds: Mapped[float]
    unmatched_by_reason: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatchRunItem(Base):
    """The engine's decision for one referral in one run, with its explanation."""

    __tablename__ = "match_run_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_run_id: Mapped[int] = mapped_column(
        ForeignKey("match_runs.id", ondelete="CASCADE"), index=True
    )
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    mode: Mapped[str | None] = mapped_column(String(16))
    distance_km: Mapped[float | None]
    reason: Mapped[str] = mapped_column(String(32))
    explanation: Mapped[str] = mapped_column(Text, default="")


class Offer(Base):
    """A place offered to a household at one site; holds the place until freed."""

    __tablename__ = "offers"
    __table_args__ = (
        Index(
            "uq_offers_active_referral",
            "referral_id",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
        Index("ix_offers_provider_status", "provider_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    capacity_id: Mapped[int] = mapped_column(ForeignKey("capacity.id"), index=True)
    match_run_id: Mapped[int | None] = mapped_column(ForeignKey("match_runs.id"))
    mode: Mapped[str] = mapped_column(String(16))
    distance_km: Mapped[float]
    distance_approximate: Mapped[bool] = mapped_column(default=True, server_default=true())
    """Measured from a district centre at one end or both (no full-postcode directory)."""
    explanation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[OfferStatus] = mapped_column(
        _enum(OfferStatus, "offer_status"), default=OfferStatus.OFFERED
    )
    decline_reason: Mapped[DeclineReason | None] = mapped_column(
        _enum(DeclineReason, "decline_reason"), default=None
    )
    decline_note: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IdempotencyKey(Base):
    """The first response to a keyed POST, replayed on every retry with the same key."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("organisation_id", "key", name="uq_idempotency_org_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    key: Mapped[str] = mapped_column(String(255))
    operation: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
