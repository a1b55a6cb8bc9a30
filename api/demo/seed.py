"""Demo data: a council, charities, users, and the sample region's referrals and sites.

``foodmatch db seed-demo`` and ``foodmatch serve --demo`` call :func:`seed_demo`; tests and
the benchmark use the smaller builders (:func:`add_organisation`, :func:`add_user`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from api.auth.tokens import hash_password
from api.core.clock import current_week
from api.core.db import Database
from api.core.tables import Capacity, Organisation, Provider, Referral, ReferralPersonal, User
from api.core.vocabulary import OrganisationKind, ReferralStatus, Role
from api.match_runs import adapter as convert
from matching.io import read_providers, read_referrals
from matching.models import Referral as ReferralModel

DEMO_PASSWORD = "foodmatch-demo"
DEMO_COUNCIL = "Leeds City Council (demo)"
DEMO_AREA = "LS"
"""The demo council's area: the sample region is Leeds, the LS postcode area."""
SITES_PER_CHARITY = 4


@dataclass(frozen=True, slots=True)
class SignIn:
    """A demo account to print at start-up."""

    email: str
    password: str
    role: str
    organisation: str


def add_organisation(session: Session, name: str, kind: OrganisationKind) -> Organisation:
    """Create an organisation."""
    org = Organisation(name=name, kind=kind)
    session.add(org)
    session.flush()
    return org


def add_user(
    session: Session,
    organisation: Organisation,
    email: str,
    role: Role,
    password: str,
    *,
    password_hash: str | None = None,
) -> User:
    """Create a user (``password_hash`` lets callers reuse one hash for speed)."""
    user = User(
        organisation_id=organisation.id,
        email=email.lower(),
        display_name=email.split("@")[0],
        role=role,
        password_hash=password_hash or hash_password(password),
    )
    session.add(user)
    session.flush()
    return user


def seed_demo(db: Database, referrals_csv: Path, providers_csv: Path) -> list[SignIn]:
    """Load the sample region with demo organisations and users; returns the sign-ins.

    Does nothing (but still returns the sign-ins) if the demo council already exists.
    """
    referrals = read_referrals(referrals_csv)
    providers = read_providers(providers_csv)
    hashed = hash_password(DEMO_PASSWORD)
    n_charities = max(1, -(-len(providers) // SITES_PER_CHARITY))
    sign_ins = [
        SignIn(
            f"{role.value.replace('_', '-')}@leeds.demo", DEMO_PASSWORD, role.value, DEMO_COUNCIL
        )
        for role in (Role.CASEWORKER, Role.PLANNER, Role.FOI_OFFICER, Role.ADMIN)
    ]
    sign_ins += [
        SignIn(f"charity{i + 1}@charity.demo", DEMO_PASSWORD, "charity", f"Demo Charity {i + 1}")
        for i in range(n_charities)
    ]
    with db.write() as session:
        if session.scalar(select(Organisation.id).where(Organisation.name == DEMO_COUNCIL)):
            return sign_ins
        council = add_organisation(session, DEMO_COUNCIL, OrganisationKind.COUNCIL)
        council.area = DEMO_AREA  # a postcode outside it asks the caseworker to confirm
        for sign_in in sign_ins[:4]:
            add_user(session, council, sign_in.email, Role(sign_in.role), "", password_hash=hashed)
        charities = []
        for i in range(n_charities):
            org = add_organisation(session, f"Demo Charity {i + 1}", OrganisationKind.CHARITY)
            add_user(session, org, sign_ins[4 + i].email, Role.CHARITY, "", password_hash=hashed)
            charities.append(org)
        start, end = current_week()
        for index, model in enumerate(providers):
            provider = Provider(
                organisation_id=charities[index // SITES_PER_CHARITY].id,
                **convert.provider_fields(model),
            )
            session.add(provider)
            session.flush()
            session.add(
                Capacity(
                    provider_id=provider.id,
                    period_start=start,
                    period_end=end,
                    **convert.capacity_fields(model),
                )
            )
        add_referrals(session, council, referrals)
    return sign_ins


def add_referrals(
    session: Session, council: Organisation, referrals: list[ReferralModel]
) -> list[int]:
    """Bulk-insert open referrals (with synthetic personal data) for ``council``."""
    rows = [
        {
            **convert.referral_fields(model),
            "organisation_id": council.id,
            "consent_to_share": index % 4 != 0,
            "status": ReferralStatus.OPEN,
        }
        for index, model in enumerate(referrals)
    ]
    if not rows:
        return []
    ids = list(
        session.scalars(
            insert(Referral).returning(Referral.id, sort_by_parameter_order=True), rows
        ).all()
    )
    session.execute(
        insert(ReferralPersonal),
        [
            {
                "referral_id": rid,
                "name": f"Household {model.referral_id}",
                "phone": None,
                "address": None,
                "postcode": model.postcode,
                "notes": None,
            }
            for rid, model in zip(ids, referrals, strict=True)
        ],
    )
    return ids
