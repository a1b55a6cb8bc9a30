"""Read-only lookups that pages show and no service offers: names and a decision, for display.

Each is a read-only lookup of what a page already may show (the caller has read the offer,
referral or thread through its service first); nothing here decides who may see what, or
changes anything.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from api.core.db import Database
from api.core.tables import MatchRunItem, Organisation, Provider


def site_names(db: Database, provider_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """``{site id: (site name, charity name)}`` for display next to offers."""
    ids = sorted(set(provider_ids))
    if not ids:
        return {}
    with db.read() as session:
        rows = session.execute(
            select(Provider.id, Provider.name, Organisation.name)
            .join(Organisation, Organisation.id == Provider.organisation_id)
            .where(Provider.id.in_(ids))
        ).all()
    return {pid: (site, charity) for pid, site, charity in rows}


def organisation_names(db: Database, organisation_ids: Iterable[int]) -> dict[int, str]:
    """``{organisation id: name}`` for message authors."""
    ids = sorted(set(organisation_ids))
    if not ids:
        return {}
    with db.read() as session:
        rows = session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))
        ).all()
    return {oid: name for oid, name in rows}


def latest_decision(db: Database, referral_id: int) -> tuple[str, str] | None:
    """The engine's latest (reason, explanation) for a referral, if a match run saw it.

    Callers have already checked that the viewer's council owns the referral.
    """
    with db.read() as session:
        row = session.execute(
            select(MatchRunItem.reason, MatchRunItem.explanation)
            .where(MatchRunItem.referral_id == referral_id)
            .order_by(MatchRunItem.id.desc())
            .limit(1)
        ).first()
    return None if row is None else (row[0], row[1])
