"""Per-organisation API keys: made by an admin, shown once, stored hashed, revocable."""

from __future__ import annotations

from sqlalchemy import select

from api.auth.tokens import Principal, new_api_key
from api.core.db import Database
from api.core.errors import ProblemError, conflict, not_found
from api.core.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from api.core.tables import ApiKey, utcnow
from api.core.views import api_key_read
from api.core.vocabulary import OrganisationKind, Role

_ROLES_BY_KIND = {
    OrganisationKind.COUNCIL: {Role.CASEWORKER, Role.PLANNER, Role.FOI_OFFICER},
    OrganisationKind.CHARITY: {Role.CHARITY},
}


def create_key(db: Database, principal: Principal, body: ApiKeyCreate) -> ApiKeyCreated:
    """A new key for the admin's organisation, in a role that organisation can hold."""
    role = Role(body.role)
    if role not in _ROLES_BY_KIND[principal.organisation_kind]:
        raise ProblemError(
            403,
            f"role: a {principal.organisation_kind.value} cannot hold the role {role.value}; "
            "an API key acts in a role of its own organisation.",
        )
    key, prefix, digest = new_api_key()
    with db.write() as session:
        row = ApiKey(
            organisation_id=principal.organisation_id,
            name=body.name,
            role=role,
            prefix=prefix,
            key_hash=digest,
            created_by_id=principal.user_id,
        )
        session.add(row)
        session.flush()
        return ApiKeyCreated(**api_key_read(row).model_dump(), key=key)


def list_keys(db: Database, principal: Principal) -> list[ApiKeyRead]:
    """The admin's organisation's keys (never the keys themselves)."""
    with db.read() as session:
        rows = session.scalars(
            select(ApiKey)
            .where(ApiKey.organisation_id == principal.organisation_id)
            .order_by(ApiKey.id)
        ).all()
        return [api_key_read(r) for r in rows]


def revoke_key(db: Database, principal: Principal, key_id: int) -> ApiKeyRead:
    """Revoke a key of the admin's organisation; it stops working at once."""
    with db.write() as session:
        row = session.get(ApiKey, key_id, with_for_update=True)
        if row is None or row.organisation_id != principal.organisation_id:
            raise not_found("API key", key_id)
        if row.revoked_at is not None:
            raise conflict(f"API key {key_id} is already revoked.", reason="already_revoked")
        row.revoked_at = utcnow()
        session.flush()
        return api_key_read(row)
