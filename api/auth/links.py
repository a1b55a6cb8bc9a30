"""One-time sign-in links: an admin invites a person, or resets a forgotten password.

The admin's page shows the link once; the person opens it, chooses their own password and is
signed in. Only a SHA-256 hash of the link's secret is stored. A link works once, for
:data:`LINK_DAYS` days, and a newer link for the same person replaces any earlier one. Making
a reset link ends the person's sessions and stops their old password at once (a reset is what
an admin does when a password is forgotten or may be known to someone else). Every link made
and used is in the audit log, never the link itself.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.auth.accounts import UNUSABLE_PASSWORD, add_member, check_password, own_member
from api.auth.tokens import Principal, hash_password
from api.core.db import Database
from api.core.errors import ProblemError
from api.core.tables import SignInLink, User, utcnow
from api.core.vocabulary import Role
from api.record.audit import record_event
from api.record.trail import actor_label

LINK_DAYS = 7
"""How long a link works, in days."""

INVITATION = "invitation"
RESET = "reset"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class MadeLink:
    """A link just made: its secret (shown once) and when it stops working."""

    user_id: int
    token: str
    expires_at: datetime


def _new_link(session: Session, principal: Principal, user: User, purpose: str) -> MadeLink:
    """Replace the person's unused links with a new one, audited (never the secret)."""
    now = utcnow()
    session.execute(
        update(SignInLink)
        .where(SignInLink.user_id == user.id, SignInLink.used_at.is_(None))
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(days=LINK_DAYS)
    session.add(SignInLink(user_id=user.id, token_hash=_hash(token), purpose=purpose,
                           created_by_id=principal.user_id, created_at=now,
                           expires_at=expires))  # fmt: skip
    record_event(session, actor_user_id=principal.user_id, organisation_id=user.organisation_id,
                 action="user.sign_in_link_made", entity_type="user", entity_id=user.id,
                 before=None, after={"purpose": purpose, "expires_at": expires.isoformat()},
                 actor_label=actor_label(principal))  # fmt: skip
    return MadeLink(user.id, token, expires)


def invite_member(
    db: Database, principal: Principal, email: str, display_name: str, role: Role
) -> MadeLink:
    """Add a person to the admin's organisation with no password yet, and make their
    invitation link (the same checks as :func:`api.auth.accounts.add_member`)."""
    user = add_member(db, principal, email, display_name, role, None)
    with db.write() as session:
        return _new_link(session, principal, own_member(session, principal, user.id), INVITATION)


def reset_link(db: Database, principal: Principal, user_id: int) -> MadeLink:
    """A link with which a person of the admin's organisation chooses a new password; their
    old password and every session end now. Another organisation's person is not found."""
    with db.write() as session:
        user = own_member(session, principal, user_id)
        session.refresh(user, with_for_update={"of": User})
        user.password_hash = UNUSABLE_PASSWORD
        user.session_version += 1
        return _new_link(session, principal, user, RESET)


@dataclass(frozen=True)
class LinkHolder:
    """Whose a working link is, as the page that opens it greets them."""

    user_id: int
    email: str
    display_name: str
    organisation_name: str
    role: Role
    purpose: str
    expires_at: datetime


def _working(session: Session, token: str, *, lock: bool = False) -> SignInLink | None:
    if not token or len(token) > 100:
        return None
    query = select(SignInLink).where(SignInLink.token_hash == _hash(token))
    link = session.scalar(query.with_for_update() if lock else query)
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    user = session.get(User, link.user_id)
    if user is None or not user.is_active:
        return None
    return link


def link_holder(db: Database, token: str) -> LinkHolder | None:
    """The person a working link is for, or ``None`` (unknown, used, expired, replaced, or
    their account is switched off)."""
    with db.read() as session:
        link = _working(session, token)
        if link is None:
            return None
        user = session.get(User, link.user_id)
        assert user is not None
        return LinkHolder(user.id, user.email, user.display_name, user.organisation.name,
                          user.role, link.purpose, link.expires_at)  # fmt: skip


class LinkNotWorking(ProblemError):
    """The link is unknown, used, expired or replaced."""

    def __init__(self) -> None:
        super().__init__(404, "This link does not work: it has been used, has expired or was "
                         "replaced by a newer one.")  # fmt: skip


def use_link(db: Database, token: str, password: str) -> User:
    """Set the link holder's password (they are then signed in by the caller); the link
    stops working. A password too short is refused and the link keeps working."""
    check_password(password)
    hashed = hash_password(password)
    with db.write() as session:
        link = _working(session, token, lock=True)
        if link is None:
            raise LinkNotWorking
        user = session.get(User, link.user_id, with_for_update={"of": User})
        assert user is not None
        link.used_at = utcnow()
        user.password_hash = hashed
        user.session_version += 1
        session.flush()
        record_event(session, actor_user_id=user.id, organisation_id=user.organisation_id,
                     action="user.password_chosen", entity_type="user", entity_id=user.id,
                     before=None, after={"purpose": link.purpose}, actor_label="user")  # fmt: skip
        return user
