"""The directory's own state, beside the service's tables: where a site or charity came from.

A site created in foodmatch has no row here; a site taken in from an ORUK feed or a council's
spreadsheet has one, holding the keys it is found by on the next import (ORUK ids, or the
spreadsheet's ``provider_id`` within its charity) and what the directory says that foodmatch
does not match on (description, schedules, service areas in words, address). Published ids of
objects made in foodmatch come from the installation's namespace (``ids``), kept here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.core.tables import Base, _enum, utcnow


class DirectorySource(StrEnum):
    """Where an imported site came from."""

    ORUK = "oruk"
    SPREADSHEET = "spreadsheet"


class DirectoryInstallation(Base):
    """One row: the random namespace this installation's published UUIDs are made in."""

    __tablename__ = "directory_installation"

    id: Mapped[int] = mapped_column(primary_key=True)
    namespace: Mapped[str] = mapped_column(String(36))


class DirectoryOrganisation(Base):
    """A charity taken in from an ORUK feed: its ORUK id and what the feed says about it."""

    __tablename__ = "directory_organisations"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    oruk_id: Mapped[str] = mapped_column(String(36), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(500), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DirectorySite(Base):
    """An imported site: its keys in the source and the directory facts kept for display."""

    __tablename__ = "directory_sites"
    __table_args__ = (
        UniqueConstraint("organisation_id", "sheet_provider_id", name="uq_directory_sites_sheet"),
    )

    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    source: Mapped[DirectorySource] = mapped_column(_enum(DirectorySource, "directory_source"))
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), default=None)
    oruk_service_id: Mapped[str | None] = mapped_column(String(36), index=True, default=None)
    oruk_location_id: Mapped[str | None] = mapped_column(String(36), default=None)
    oruk_service_at_location_id: Mapped[str | None] = mapped_column(
        String(36), unique=True, default=None
    )
    sheet_provider_id: Mapped[str | None] = mapped_column(String(200), default=None)
    service_name: Mapped[str | None] = mapped_column(String(200), default=None)
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500), default=None)
    location_name: Mapped[str | None] = mapped_column(String(200), default=None)
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    schedules: Mapped[list[Any]] = mapped_column(JSON, default=list)
    service_areas: Mapped[list[Any]] = mapped_column(JSON, default=list)
    dietary: Mapped[str] = mapped_column(String(200), default="")
    closed_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    capacity_id: Mapped[int | None] = mapped_column(ForeignKey("capacity.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DirectoryImport(Base):
    """One import that changed something: who ran it, from what, and its report."""

    __tablename__ = "directory_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), default=None
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    source: Mapped[str] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(16))
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
