"""People's accounts: signing in under the sign-in limits, ending sessions, deactivating an
account and setting a password.

The API and the pages sign in through :func:`sign_in`; ``foodmatch users`` and any admin page
change accounts through the other functions. Ending sessions raises the user's
``session_version``, which every access token and page session carries: all earlier ones
stop working at once, in every server process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.auth import throttle
from api.auth.tokens import Principal, authenticate, hash_password
from api.core.config import Settings
from api.core.db import Database
from api.core.errors import ProblemError, conflict, invalid, not_found
from api.core.tables import User
from api.core.vocabulary import OrganisationKind, Role
from api.record.audit import record_event
from api.record.trail import actor_label

log = logging.getLogger("foodmatch.sign_in")

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
UNUSABLE_PASSWORD = "!no password yet"
"""Stored instead of a hash while a person has no password: no password matches it."""


def sign_in(
    db: Database, settings: Settings, email: str, password: str, address: str
) -> User | None:
    """The active user with this e-mail and password, or ``None``.

    Raises :class:`api.auth.throttle.TooManyAttempts` without checking the password when the
    account or the client ``address`` has had too many failures lately (even for the right
    password), and :class:`api.auth.throttle.LimiterUnavailable` when the counts cannot be read.
    A failure that locks the account or the address is recorded in the audit trail.
    """
    reservation = throttle.begin(settings, db, email, address)
    user = authenticate(db, email, password)
    if user is not None:
        throttle.succeeded(settings, db, reservation)
        return user
    locked = throttle.failed(settings, db, reservation)
    if locked:
        _record_lockouts(db, settings, email, address, reservation, locked)
    return None


def _record_lockouts(
    db: Database,
    settings: Settings,
    email: str,
    address: str,
    reservation: throttle.Reservation,
    locked: list[throttle.Scope],
) -> None:
    """One audit event per lock just reached (the client address only as a pseudonym)."""
    window = settings.sign_in_window_s
    with db.write() as session:
        for scope in locked:
            if scope == "account":
                row = session.execute(
                    select(User.id, User.organisation_id).where(User.email == email.strip().lower())
                ).first()
                limit = settings.sign_in_account_failures
                entity_type, entity_id = (
                    ("user", row.id)
                    if row is not None
                    else ("sign_in_account", throttle.pseudonym(reservation.account_key))
                )
                organisation_id = None if row is None else row.organisation_id
            else:
                limit = settings.sign_in_address_failures
                entity_type = "client_address"
                entity_id = throttle.pseudonym(reservation.address_key)
                organisation_id = None
            record_event(
                session,
                actor_user_id=None,
                organisation_id=organisation_id,
                action="sign_in.locked",
                entity_type=entity_type,
                entity_id=entity_id,
                before=None,
                after={"scope": scope, "failures": limit, "window_seconds": window},
                actor_label="system",
            )
            log.warning(
                "sign-in locked",
                extra={
                    "scope": scope,
                    "entity_type": entity_type,
                    "entity_id": str(entity_id),
                    "client_address": address,
                    "failures": limit,
                    "window_seconds": window,
                },
            )


def find_user(db: Database, email: str) -> User:
    """The user with this e-mail address (any case); 404 if there is none."""
    with db.read() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise ProblemError(404, f"No user has the e-mail address {email.strip()!r}.")
    return user


def end_sessions(db: Database, user_id: int) -> None:
    """End every access token and page session of the user, at once (signing out)."""
    with db.write() as session:
        session.execute(
            update(User).where(User.id == user_id).values(session_version=User.session_version + 1)
        )


def set_active(db: Database, user_id: int, active: bool, by: Principal | None = None) -> User:
    """Deactivate (``active=False``) or reactivate a user, audited.

    Deactivation ends every token and session at once; reactivation does not bring back
    any from before (the session version only goes up).
    """
    with db.write() as session:
        user = session.get(User, user_id, with_for_update={"of": User})
        if user is None:
            raise ProblemError(404, f"No user {user_id}.")
        if user.is_active == active:
            return user
        user.is_active = active
        user.session_version += 1
        session.flush()
        record_event(
            session,
            actor_user_id=None if by is None else by.user_id,
            organisation_id=user.organisation_id,
            action="user.activated" if active else "user.deactivated",
            entity_type="user",
            entity_id=user.id,
            before={"is_active": not active},
            after={"is_active": active},
            actor_label=actor_label(by),
        )
        return user


def check_password(password: str) -> None:
    """Refuse (422, saying what is expected) a password too short or too long to keep."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ProblemError(
            422,
            f"password: {len(password)} characters; use at least {MIN_PASSWORD_LENGTH} "
            "(three random words make a strong one).",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ProblemError(422, f"password: at most {MAX_PASSWORD_LENGTH} characters.")
    if "\x00" in password:
        raise ProblemError(422, "password: must not contain a NUL character.")


def set_password(db: Database, user_id: int, password: str, by: Principal | None = None) -> User:
    """Give a user a new password, audited (never the password); every earlier token and
    session of theirs ends at once."""
    check_password(password)
    hashed = hash_password(password)
    with db.write() as session:
        user = session.get(User, user_id, with_for_update={"of": User})
        if user is None:
            raise ProblemError(404, f"No user {user_id}.")
        user.password_hash = hashed
        user.session_version += 1
        session.flush()
        record_event(
            session,
            actor_user_id=None if by is None else by.user_id,
            organisation_id=user.organisation_id,
            action="user.password_changed",
            entity_type="user",
            entity_id=user.id,
            before=None,
            after={"sessions_ended": True},
            actor_label=actor_label(by),
        )
        return user


@dataclass(frozen=True)
class SessionAccount:
    """The account behind a live page session: who acts, and the names a page shows."""

    principal: Principal
    display_name: str
    organisation_name: str


def session_account(db: Database, user_id: int, session_version: int) -> SessionAccount | None:
    """The account of a page session, or ``None`` when the user does not exist, is
    deactivated, or has ended the sessions of ``session_version`` (signed out, new password)."""
    with db.read() as session:
        user = session.scalar(select(User).where(User.id == user_id))
        if user is None or not user.is_active or user.session_version != session_version:
            return None
        organisation = user.organisation
        return SessionAccount(
            principal=Principal(
                organisation_id=user.organisation_id,
                organisation_kind=organisation.kind,
                role=user.role,
                user_id=user.id,
            ),
            display_name=user.display_name,
            organisation_name=organisation.name,
        )


@dataclass(frozen=True)
class Member:
    """A person of an organisation, as its admin's page lists them."""

    id: int
    email: str
    display_name: str
    role: str
    is_active: bool


def organisation_members(db: Database, principal: Principal) -> list[Member]:
    """The people of the caller's organisation, by e-mail address."""
    with db.read() as session:
        rows = session.scalars(
            select(User)
            .where(User.organisation_id == principal.organisation_id)
            .order_by(User.email)
        )
        return [Member(u.id, u.email, u.display_name, u.role.value, u.is_active) for u in rows]


def set_member_active(db: Database, principal: Principal, user_id: int, active: bool) -> User:
    """An admin switches a person of their own organisation off or on (audited). Another
    organisation's person is not found; an admin cannot switch off their own account."""
    with db.read() as session:
        user = session.get(User, user_id)
        if user is None or user.organisation_id != principal.organisation_id:
            raise not_found("user", user_id)
    if user_id == principal.user_id and not active:
        raise conflict(
            "You cannot switch off your own account: another administrator of your "
            "organisation can.",
            reason="own_account",
        )
    return set_active(db, user_id, active, principal)


ROLES_BY_KIND = {
    OrganisationKind.COUNCIL: (Role.CASEWORKER, Role.PLANNER, Role.FOI_OFFICER, Role.ADMIN),
    OrganisationKind.CHARITY: (Role.CHARITY, Role.ADMIN),
}
"""The roles a person of each kind of organisation may have."""


def _audit_admin_change(
    session: Session,
    principal: Principal,
    user: User,
    action: str,
    before: dict[str, str] | None,
    after: dict[str, str],
) -> None:
    """Record an admin's change to a person of their organisation in the audit log."""
    record_event(session, actor_user_id=principal.user_id, organisation_id=user.organisation_id,
                 action=action, entity_type="user", entity_id=user.id, before=before,
                 after=after, actor_label=actor_label(principal))  # fmt: skip


def set_member_role(db: Database, principal: Principal, user_id: int, role: Role) -> User:
    """An admin gives a person of their own organisation another role (audited; it applies
    from the person's next request, which re-reads the account). Another organisation's
    person is not found; a role the organisation cannot hold, or one's own role, is refused."""
    if role not in ROLES_BY_KIND[principal.organisation_kind]:
        raise invalid("role", f"a {principal.organisation_kind.value} cannot hold the role "
                      f"{role.value}")  # fmt: skip
    if user_id == principal.user_id:
        raise conflict(
            "You cannot change your own role: another administrator of your organisation can.",
            reason="own_account",
        )
    with db.write() as session:
        user = session.get(User, user_id, with_for_update={"of": User})
        if user is None or user.organisation_id != principal.organisation_id:
            raise not_found("user", user_id)
        if user.role is role:
            return user
        before = user.role.value
        user.role = role
        session.flush()
        _audit_admin_change(session, principal, user, "user.role_changed",
                            {"role": before}, {"role": role.value})  # fmt: skip
        return user


def own_member(session: Session, principal: Principal, user_id: int) -> User:
    """A person of the caller's organisation; another organisation's is not found."""
    user = session.get(User, user_id)
    if user is None or user.organisation_id != principal.organisation_id:
        raise not_found("user", user_id)
    return user


def add_member(
    db: Database,
    principal: Principal,
    email: str,
    display_name: str,
    role: Role,
    password: str | None,
) -> User:
    """An admin adds a person to their own organisation with a first password (audited,
    never the password), or with none yet (``None``: they choose it with an invitation link,
    :mod:`api.auth.links`). An e-mail address already in use, a role the organisation cannot
    hold or a password too short is refused with what was expected."""
    email = email.strip().lower()
    if "@" not in email.strip("@") or len(email) > 254 or any(c.isspace() for c in email):
        raise invalid("email", "enter an email address like name@example.org")
    if role not in ROLES_BY_KIND[principal.organisation_kind]:
        raise invalid("role", f"a {principal.organisation_kind.value} cannot hold the role "
                      f"{role.value}")  # fmt: skip
    if len(display_name) > 200:
        raise invalid("display_name", "at most 200 characters")
    if password is None:
        hashed = UNUSABLE_PASSWORD
    else:
        check_password(password)
        hashed = hash_password(password)
    with db.write() as session:
        if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
            raise conflict(f"{email} already has an account.", reason="email_taken")
        user = User(
            organisation_id=principal.organisation_id,
            email=email,
            display_name=display_name.strip(),
            role=role,
            password_hash=hashed,
        )
        session.add(user)
        session.flush()
        _audit_admin_change(session, principal, user, "user.created", None, {"role": role.value})
        return user


def reset_member_password(db: Database, principal: Principal, user_id: int, password: str) -> User:
    """An admin gives a person of their own organisation a new password: their sessions and
    tokens end at once (audited, never the password)."""
    with db.read() as session:
        own_member(session, principal, user_id)
    return set_password(db, user_id, password, principal)
