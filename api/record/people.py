"""What personal data the record holds about whom, for the redaction function.

``known_for_referrals`` collects the households' details; ``staff_names`` the names and
e-mail addresses of staff (junior staff names are personal data too, FOIA s.40).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from api.record.redaction import KnownPersonalData
from api.tables import ReferralPersonal, User

_PERSONAL = ReferralPersonal.__table__


def household(
    name: str | None, phone: str | None, address: str | None, postcode: str | None
) -> KnownPersonalData:
    """One household's known personal data."""
    return KnownPersonalData(
        names=(name,) if name else (),
        phones=(phone,) if phone else (),
        addresses=(address,) if address else (),
        postcodes=(postcode,) if postcode else (),
    )


def known_for_referrals(
    bind: Session | Connection, referral_ids: Iterable[int]
) -> KnownPersonalData:
    """Everything personal held about the households of ``referral_ids``, in one bundle."""
    names: list[str] = []
    phones: list[str] = []
    addresses: list[str] = []
    postcodes: list[str] = []
    ids = sorted(set(referral_ids))
    for start in range(0, len(ids), 500):
        rows = bind.execute(
            select(
                _PERSONAL.c.name, _PERSONAL.c.phone, _PERSONAL.c.address, _PERSONAL.c.postcode
            ).where(_PERSONAL.c.referral_id.in_(ids[start : start + 500]))
        ).all()
        for name, phone, address, postcode in rows:
            names += [name] if name else []
            phones += [phone] if phone else []
            addresses += [address] if address else []
            postcodes += [postcode] if postcode else []
    return KnownPersonalData(
        names=tuple(names),
        phones=tuple(phones),
        addresses=tuple(addresses),
        postcodes=tuple(postcodes),
    )


def staff_names(bind: Session | Connection, organisation_ids: Iterable[int]) -> KnownPersonalData:
    """The names and e-mail addresses of the staff of ``organisation_ids``."""
    ids = sorted(set(organisation_ids))
    if not ids:
        return KnownPersonalData()
    rows = bind.execute(
        select(User.display_name, User.email).where(User.organisation_id.in_(ids))
    ).all()
    return KnownPersonalData(
        names=tuple(name for name, _ in rows if name),
        emails=tuple(email for _, email in rows if email),
    )
