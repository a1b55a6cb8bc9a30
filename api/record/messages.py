"""Coordination threads that replace e-mail between councils and charities.

A referral has one thread per charity it is offered to (so one charity never reads what
another was told); the council's caseworkers see them all. A charity sees its thread while the
referral is offered to it and after it accepted, never after declining. Organisation-wide
threads join one council and one charity about anything else (capacity planning, say).
Every posted message is audited (by reference) and indexed, redacted, for FOI search.

Each person has a read marker per thread: a message is unread for them until they open the
thread on a page (:func:`open_referral_messages`), mark it read through the API, or reply.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth.tokens import Principal
from api.core.db import Database
from api.core.errors import ProblemError, conflict, invalid, not_found
from api.core.schemas import Page
from api.core.tables import Offer, Organisation, Provider, Referral, utcnow
from api.core.vocabulary import OfferStatus, OrganisationKind, Role
from api.record.audit import record_event
from api.record.people import known_for_referrals
from api.record.redaction import NOTHING_KNOWN
from api.record.schemas import MessageRead, ThreadRead
from api.record.search import index_document
from api.record.tables import DocumentKind, Message, MessageThread, ThreadKind, ThreadReadMarker

CHARITY_SEES_THREAD: tuple[OfferStatus, ...] = (
    OfferStatus.OFFERED,
    OfferStatus.ACCEPTED,
    OfferStatus.COLLECTED,
    OfferStatus.DELIVERED,
    OfferStatus.NO_SHOW,
)
"""Offer states in which the charity may read the referral's thread (declined: no)."""

HOLDING_OFFER: tuple[OfferStatus, ...] = (OfferStatus.OFFERED, OfferStatus.ACCEPTED)


# --- access --------------------------------------------------------------------------------


def _referral_for(session: Session, principal: Principal, referral_id: int) -> Referral:
    """The referral if the caller may use its threads; 404 otherwise (existence hidden)."""
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise not_found("referral", referral_id)
    if principal.organisation_kind is OrganisationKind.COUNCIL:
        if referral.organisation_id == principal.organisation_id:
            return referral
    elif _charity_may_see(session, principal.organisation_id, referral_id):
        return referral
    raise not_found("referral", referral_id)


def _charity_may_see(session: Session, charity_id: int, referral_id: int) -> bool:
    found = session.scalar(
        select(func.count())
        .select_from(Offer)
        .join(Provider, Provider.id == Offer.provider_id)
        .where(
            Offer.referral_id == referral_id,
            Provider.organisation_id == charity_id,
            Offer.status.in_(CHARITY_SEES_THREAD),
        )
    )
    return bool(found)


def _thread_for(session: Session, principal: Principal, thread_id: int) -> MessageThread:
    """A thread the caller's organisation is party to (and, for referrals, may still see)."""
    thread = session.get(MessageThread, thread_id)
    party = thread is not None and principal.organisation_id in (
        thread.council_organisation_id,
        thread.charity_organisation_id,
    )
    if thread is None or not party:
        raise not_found("thread", thread_id)
    hidden_from_charity = (
        thread.referral_id is not None
        and principal.organisation_kind is OrganisationKind.CHARITY
        and not _charity_may_see(session, principal.organisation_id, thread.referral_id)
    )
    if hidden_from_charity:
        raise not_found("thread", thread_id)
    return thread


# --- reading -------------------------------------------------------------------------------


def _markers(session: Session, user_id: int | None, thread_ids: Sequence[int]) -> dict[int, int]:
    if user_id is None or not thread_ids:
        return {}
    rows = session.execute(
        select(ThreadReadMarker.thread_id, ThreadReadMarker.last_read_message_id).where(
            ThreadReadMarker.user_id == user_id, ThreadReadMarker.thread_id.in_(thread_ids)
        )
    ).all()
    return {thread_id: last for thread_id, last in rows}


def _message_read(
    message: Message, thread: MessageThread, principal: Principal, marker: int
) -> MessageRead:
    own = principal.user_id is not None and message.author_user_id == principal.user_id
    return MessageRead(
        id=message.id,
        thread_id=thread.id,
        referral_id=thread.referral_id,
        charity_organisation_id=thread.charity_organisation_id,
        author_user_id=message.author_user_id,
        author_organisation_id=message.author_organisation_id,
        body=message.body,
        created_at=message.created_at,
        unread=not own and message.id > marker,
        redacted=message.redacted_at is not None,
    )


def _page_of_messages(
    session: Session,
    principal: Principal,
    threads: Sequence[MessageThread],
    page: int,
    size: int,
) -> Page[MessageRead]:
    by_id = {t.id: t for t in threads}
    query = select(Message).where(Message.thread_id.in_(list(by_id))).order_by(Message.id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.offset((page - 1) * size).limit(size)).all()
    markers = _markers(session, principal.user_id, list(by_id))
    items = [
        _message_read(m, by_id[m.thread_id], principal, markers.get(m.thread_id, 0)) for m in rows
    ]
    return Page.of(items, total, page, size)


def _referral_threads(
    session: Session, principal: Principal, referral: Referral
) -> list[MessageThread]:
    query = select(MessageThread).where(MessageThread.referral_id == referral.id)
    if principal.organisation_kind is OrganisationKind.CHARITY:
        query = query.where(MessageThread.charity_organisation_id == principal.organisation_id)
    return list(session.scalars(query.order_by(MessageThread.id)).all())


def list_referral_messages(
    db: Database, principal: Principal, referral_id: int, page: int, size: int
) -> Page[MessageRead]:
    """The referral's messages the caller may read, oldest first."""
    with db.read() as session:
        referral = _referral_for(session, principal, referral_id)
        threads = _referral_threads(session, principal, referral)
        return _page_of_messages(session, principal, threads, page, size)


def open_referral_messages(
    db: Database, principal: Principal, referral_id: int, page: int, size: int
) -> Page[MessageRead]:
    """The referral's messages as :func:`list_referral_messages` gives them, then marked read.

    For a page that shows the thread: the messages that were new are flagged ``unread`` this
    once (so the page can say "New"), and the caller's read marker moves past the newest one
    shown, so the next visit shows none of them as new. API keys have no marker: nothing is
    marked for them.
    """
    with db.write() as session:
        referral = _referral_for(session, principal, referral_id)
        threads = _referral_threads(session, principal, referral)
        shown = _page_of_messages(session, principal, threads, page, size)
        if principal.user_id is not None and shown.items:
            for thread in threads:
                newest = max((m.id for m in shown.items if m.thread_id == thread.id), default=0)
                if newest:
                    _advance(session, thread.id, principal.user_id, newest)
        return shown


def _advance(session: Session, thread_id: int, user_id: int, message_id: int) -> None:
    """Move a user's read marker of a thread forward to ``message_id`` (never back)."""
    marker = session.get(ThreadReadMarker, (thread_id, user_id))
    if marker is None:
        session.add(
            ThreadReadMarker(thread_id=thread_id, user_id=user_id, last_read_message_id=message_id)
        )
    elif marker.last_read_message_id < message_id:
        marker.last_read_message_id = message_id
    session.flush()


def list_thread_messages(
    db: Database, principal: Principal, thread_id: int, page: int, size: int
) -> Page[MessageRead]:
    """One thread's messages, oldest first."""
    with db.read() as session:
        thread = _thread_for(session, principal, thread_id)
        return _page_of_messages(session, principal, [thread], page, size)


def _unread_counts(session: Session, user_id: int | None, thread_ids: list[int]) -> dict[int, int]:
    if not thread_ids:
        return {}
    markers = _markers(session, user_id, thread_ids)
    counts: dict[int, int] = {}
    for thread_id in thread_ids:
        query = select(func.count()).where(
            Message.thread_id == thread_id, Message.id > markers.get(thread_id, 0)
        )
        if user_id is not None:
            query = query.where(
                (Message.author_user_id.is_(None)) | (Message.author_user_id != user_id)
            )
        counts[thread_id] = session.scalar(query) or 0
    return counts


def _thread_read(thread: MessageThread, unread: int) -> ThreadRead:
    return ThreadRead(
        id=thread.id,
        kind="referral" if thread.kind == ThreadKind.REFERRAL.value else "organisation",
        subject=thread.subject,
        referral_id=thread.referral_id,
        council_organisation_id=thread.council_organisation_id,
        charity_organisation_id=thread.charity_organisation_id,
        created_at=thread.created_at,
        last_message_at=thread.last_message_at,
        unread_count=unread,
    )


def list_threads(db: Database, principal: Principal, page: int, size: int) -> Page[ThreadRead]:
    """The caller's organisation-wide threads, most recently active first."""
    with db.read() as session:
        query = (
            select(MessageThread)
            .where(
                MessageThread.kind == ThreadKind.ORGANISATION.value,
                (MessageThread.council_organisation_id == principal.organisation_id)
                | (MessageThread.charity_organisation_id == principal.organisation_id),
            )
            .order_by(
                func.coalesce(MessageThread.last_message_at, MessageThread.created_at).desc(),
                MessageThread.id.desc(),
            )
        )
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        threads = list(session.scalars(query.offset((page - 1) * size).limit(size)).all())
        unread = _unread_counts(session, principal.user_id, [t.id for t in threads])
        return Page.of([_thread_read(t, unread[t.id]) for t in threads], total, page, size)


# --- writing -------------------------------------------------------------------------------


def _post(session: Session, principal: Principal, thread: MessageThread, body: str) -> MessageRead:
    """Store, audit and index one message (inside the caller's write transaction)."""
    now = utcnow()
    message = Message(
        thread_id=thread.id,
        author_user_id=principal.user_id,
        author_organisation_id=principal.organisation_id,
        body=body,
        created_at=now,
    )
    session.add(message)
    thread.last_message_at = now
    session.flush()
    if principal.user_id is not None:  # whoever replies has read what came before
        _advance(session, thread.id, principal.user_id, message.id)
    record_event(
        session,
        actor_user_id=principal.user_id,
        organisation_id=principal.organisation_id,
        action="message.posted",
        entity_type="message",
        entity_id=message.id,
        before=None,
        after={
            "thread_id": thread.id,
            "thread_kind": thread.kind,
            "council_organisation_id": thread.council_organisation_id,
            "charity_organisation_id": thread.charity_organisation_id,
            "characters": len(body),
        },
        referral_id=thread.referral_id,
        actor_label=None if principal.user_id is not None else f"api_key:{principal.api_key_id}",
    )
    # Every name the service holds is redacted in every kind of thread (the redaction knows
    # them all); a referral's thread adds its household's phone, address and postcode.
    known = (
        known_for_referrals(session, [thread.referral_id])
        if thread.referral_id is not None
        else NOTHING_KNOWN
    )
    index_document(
        session,
        kind=DocumentKind.MESSAGE,
        source_key=f"message:{message.id}",
        organisation_id=thread.council_organisation_id,
        other_organisation_id=thread.charity_organisation_id,
        referral_id=thread.referral_id,
        occurred_at=now,
        body=body,
        known=known,
    )
    return _message_read(message, thread, principal, marker=message.id)


def _current_charity(session: Session, referral_id: int) -> int | None:
    """The charity holding the referral's live offer (offered or accepted), if any."""
    return session.scalar(
        select(Provider.organisation_id)
        .join(Offer, Offer.provider_id == Provider.id)
        .where(Offer.referral_id == referral_id, Offer.status.in_(HOLDING_OFFER))
        .order_by(Offer.id.desc())
        .limit(1)
    )


def _last_thread_charity(session: Session, referral_id: int) -> int | None:
    """The charity of the referral's most recently used thread, if it may still see it (after
    a collection, a no-show or a decline the caseworker can still write to that food bank)."""
    threads = session.scalars(
        select(MessageThread)
        .where(MessageThread.referral_id == referral_id)
        .order_by(MessageThread.last_message_at.desc().nulls_last(), MessageThread.id.desc())
    )
    for thread in threads:
        if _charity_may_see(session, thread.charity_organisation_id, referral_id):
            return thread.charity_organisation_id
    return None


def post_referral_message(
    db: Database,
    principal: Principal,
    referral_id: int,
    body: str,
    charity_organisation_id: int | None,
) -> MessageRead:
    """Post in the referral's thread with one charity, creating the thread on first use.

    A council names the charity, or writes to the one holding the referral's place, or else to
    the one it last wrote with about it (if that charity may still see the referral)."""
    with db.write() as session:
        referral = _referral_for(session, principal, referral_id)
        if principal.organisation_kind is OrganisationKind.CHARITY:
            if charity_organisation_id not in (None, principal.organisation_id):
                raise invalid("charity_organisation_id", "a charity writes only in its own thread")
            charity_id = principal.organisation_id
        elif charity_organisation_id is not None:
            if not _charity_may_see(session, charity_organisation_id, referral.id):
                raise conflict(
                    f"Organisation {charity_organisation_id} has no offer for referral "
                    f"{referral.id} that it may discuss (charity_organisation_id).",
                    reason="no_offer",
                )
            charity_id = charity_organisation_id
        else:
            current = _current_charity(session, referral.id) or _last_thread_charity(
                session, referral.id
            )
            if current is None:
                raise conflict(
                    f"Referral {referral.id} has no place with a food bank yet, so there is "
                    "no one to write to. Write once it has been offered a place (to write to "
                    "a food bank that had an earlier offer, give its charity_organisation_id).",
                    reason="no_charity",
                )
            charity_id = current
        thread = session.scalar(
            select(MessageThread).where(
                MessageThread.referral_id == referral.id,
                MessageThread.charity_organisation_id == charity_id,
            )
        )
        if thread is None:
            thread = MessageThread(
                kind=ThreadKind.REFERRAL.value,
                referral_id=referral.id,
                council_organisation_id=referral.organisation_id,
                charity_organisation_id=charity_id,
                subject=f"Referral {referral.id}",
                created_by_id=principal.user_id,
            )
            session.add(thread)
            session.flush()
        return _post(session, principal, thread, body)


def create_thread(
    db: Database, principal: Principal, counterpart_id: int, subject: str, body: str
) -> ThreadRead:
    """Open an organisation-wide thread with its first message."""
    with db.write() as session:
        counterpart = session.get(Organisation, counterpart_id)
        mine = principal.organisation_kind
        if counterpart is None:
            raise ProblemError(
                404,
                f"No organisation with id {counterpart_id} exists (counterpart_organisation_id).",
            )
        if counterpart.kind is mine:
            # Known to exist (it may be the caller's own), but of the caller's own kind.
            other = "a charity" if mine is OrganisationKind.COUNCIL else "a council"
            raise conflict(
                f"Organisation {counterpart_id} is a {counterpart.kind.value}; a thread joins a "
                f"council and a charity, so name {other} (counterpart_organisation_id).",
                reason="same_kind",
            )
        council, charity = (
            (principal.organisation_id, counterpart.id)
            if mine is OrganisationKind.COUNCIL
            else (counterpart.id, principal.organisation_id)
        )
        thread = MessageThread(
            kind=ThreadKind.ORGANISATION.value,
            referral_id=None,
            council_organisation_id=council,
            charity_organisation_id=charity,
            subject=subject,
            created_by_id=principal.user_id,
        )
        session.add(thread)
        session.flush()
        _post(session, principal, thread, body)
        return _thread_read(thread, 0)


def get_thread(db: Database, principal: Principal, thread_id: int) -> ThreadRead:
    """One thread the caller's organisation is party to."""
    with db.read() as session:
        thread = _thread_for(session, principal, thread_id)
        return _thread_read(
            thread, _unread_counts(session, principal.user_id, [thread.id])[thread.id]
        )


def post_thread_message(
    db: Database, principal: Principal, thread_id: int, body: str
) -> MessageRead:
    """Post in an existing thread (organisation-wide or referral)."""
    with db.write() as session:
        thread = _thread_for(session, principal, thread_id)
        return _post(session, principal, thread, body)


def _mark(
    session: Session, principal: Principal, threads: Sequence[MessageThread], up_to: int | None
) -> int:
    if principal.user_id is None:
        raise ProblemError(422, "Read markers belong to signed-in users, not API keys.")
    newest = 0
    for thread in threads:
        last = session.scalar(select(func.max(Message.id)).where(Message.thread_id == thread.id))
        target = min(up_to, last or 0) if up_to is not None else (last or 0)
        marker = session.get(ThreadReadMarker, (thread.id, principal.user_id))
        if marker is None:
            marker = ThreadReadMarker(
                thread_id=thread.id, user_id=principal.user_id, last_read_message_id=0
            )
            session.add(marker)
        # Reading is monotonic unless the caller deliberately marks an earlier message.
        marker.last_read_message_id = (
            target if up_to is not None else max(target, marker.last_read_message_id)
        )
        newest = max(newest, marker.last_read_message_id)
    session.flush()
    return newest


def mark_thread_read(
    db: Database, principal: Principal, thread_id: int, up_to: int | None
) -> ThreadRead:
    """Mark a thread read (up to a message: later ones become unread again)."""
    with db.write() as session:
        thread = _thread_for(session, principal, thread_id)
        _mark(session, principal, [thread], up_to)
        unread = _unread_counts(session, principal.user_id, [thread.id])[thread.id]
        return _thread_read(thread, unread)


def mark_referral_read(db: Database, principal: Principal, referral_id: int) -> int:
    """Mark all of the referral's threads the caller may see as read; returns the marker."""
    with db.write() as session:
        referral = _referral_for(session, principal, referral_id)
        return _mark(session, principal, _referral_threads(session, principal, referral), None)


MESSAGE_ROLES = (Role.CASEWORKER, Role.CHARITY)
THREAD_ROLES = (Role.CASEWORKER, Role.PLANNER, Role.CHARITY)
