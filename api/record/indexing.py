"""Keep FOI search current with the service's notes and decisions, without the service asking.

A Session ``after_flush`` hook indexes, in the same transaction, every referral note
(``referral_personal.notes``), offer decision (status, explanation, decline reason and note)
and match-run decision (reason and explanation) that an ORM flush wrote. Rows written with
bulk Core statements bypass the hook; ``reindex_all`` (``foodmatch audit reindex``) catches up.

A second hook, on every statement that writes a household's name or a user, makes the name
known to the redaction at once and redacts again, in the same transaction, any search
document already indexed that still shows it (a message that named a family before the
family was referred): the search index never holds a name the service holds.

Both hooks are process-wide; :func:`install` registers them (``api.record.install`` calls it).
"""

from __future__ import annotations

import json
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Connection,
    Engine,
    Insert,
    Table,
    Update,
    bindparam,
    event,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from api.core.tables import (
    MatchRun,
    MatchRunItem,
    Offer,
    Provider,
    Referral,
    ReferralPersonal,
    utcnow,
)
from api.core.vocabulary import DeclineReason, OfferStatus
from api.record.people import household, known_for_referrals, note_names, redactor_for, staff_name
from api.record.redaction import NOTHING_KNOWN, distinctive_tokens
from api.record.search import (
    NewDocument,
    any_term_clause,
    index_document,
    index_new_documents,
)
from api.record.tables import SEARCH_VECTOR_COLUMN, AuditEvent, DocumentKind, SearchDocument
from api.record.wording import event_sentence, match_decision_sentence


def _council_of(connection: Connection, referral_id: int) -> int | None:
    return connection.scalar(select(Referral.organisation_id).where(Referral.id == referral_id))


def _charity_of(connection: Connection, provider_id: int | None) -> int | None:
    if provider_id is None:
        return None
    return connection.scalar(select(Provider.organisation_id).where(Provider.id == provider_id))


OrganisationsHeld = dict[tuple[type, int], int]


def _organisations_held(touched: list[Any]) -> OrganisationsHeld:
    """``organisation_id`` of each referral and site this flush wrote, by (class, id).

    Objects written by a flush are not in the identity map until it ends, so these come from
    ``touched``, once per flush (a match run's flush holds thousands of objects).
    """
    held: OrganisationsHeld = {}
    for obj in touched:
        if type(obj) is Referral or type(obj) is Provider:
            ident, organisation = obj.__dict__.get("id"), obj.__dict__.get("organisation_id")
            if isinstance(ident, int) and isinstance(organisation, int):
                held[(type(obj), ident)] = organisation
    return held


def _loaded_organisation(
    session: Session, written: OrganisationsHeld, cls: type, ident: int
) -> int | None:
    """The ``organisation_id`` of a referral or site this session already holds, if any.

    Saves a query per indexed document inside the flush. Only a value already loaded is used
    (reading an expired attribute here would query anyway); organisations never change.
    """
    found = written.get((cls, ident))
    if found is not None:
        return found
    held = session.identity_map.get(identity_key(cls, ident))
    value = held.__dict__.get("organisation_id") if held is not None else None
    return value if isinstance(value, int) else None


def index_note(
    connection: Connection, personal: ReferralPersonal, *, council_id: int | None = None
) -> None:
    """Index a referral's free-text notes, redacted with the household's own details.

    ``council_id`` is the referral's organisation when the caller knows it (else queried).
    """
    if not personal.notes:
        return
    index_document(
        connection,
        kind=DocumentKind.NOTE,
        source_key=f"note:{personal.referral_id}",
        organisation_id=(
            council_id if council_id is not None else _council_of(connection, personal.referral_id)
        ),
        other_organisation_id=None,
        referral_id=personal.referral_id,
        occurred_at=utcnow(),
        body=personal.notes,
        known=household(personal.name, personal.phone, personal.address, personal.postcode),
    )


OFFER_WORDS = {
    OfferStatus.OFFERED: "Offer made",
    OfferStatus.ACCEPTED: "Offer accepted",
    OfferStatus.DECLINED: "Offer declined",
    OfferStatus.COLLECTED: "Offer fulfilled: the household collected its parcel",
    OfferStatus.DELIVERED: "Offer fulfilled: the parcel was delivered",
    OfferStatus.NO_SHOW: "The household did not come for its parcel (no-show)",
    OfferStatus.WITHDRAWN: "Offer withdrawn with the referral",
}
"""Where an offer stands, in the words an FOI reader expects."""

DECLINE_WORDS = {
    DeclineReason.NO_STOCK: "no stock",
    DeclineReason.NO_CAPACITY: "no capacity",
    DeclineReason.CANNOT_MEET_DIETARY: "cannot meet the household's dietary needs",
    DeclineReason.OUT_OF_AREA: "the household is out of the area",
    DeclineReason.HOUSEHOLD_UNREACHABLE: "the household could not be reached",
    DeclineReason.NOT_ELIGIBLE: "the household is not eligible for the charity's service",
    DeclineReason.OTHER: "another reason",
}
"""Why a charity declined, in plain words."""


def offer_text(offer: Offer) -> str:
    """The decision an offer records, in sentences: its state, the engine's reason, and the
    charity's reason and note when it declined."""
    parts = [OFFER_WORDS[offer.status] if offer.status else "Offer", offer.explanation or ""]
    if offer.decline_reason is not None:
        parts.append(f"Reason for declining: {DECLINE_WORDS[offer.decline_reason]}")
    if offer.decline_note:
        parts.append(f"Note: {offer.decline_note}")
    sentences = [part.strip().rstrip(".").strip() for part in parts]
    return " ".join(f"{sentence}." for sentence in sentences if sentence)


def index_offer(
    connection: Connection,
    offer: Offer,
    *,
    council_id: int | None = None,
    charity_id: int | None = None,
) -> None:
    """Index an offer's decision text, redacted with the household's details.

    ``council_id`` and ``charity_id`` are the referral's and the site's organisations when
    the caller knows them (else queried).
    """
    index_document(
        connection,
        kind=DocumentKind.DECISION,
        source_key=f"offer:{offer.id}",
        organisation_id=(
            council_id if council_id is not None else _council_of(connection, offer.referral_id)
        ),
        other_organisation_id=(
            charity_id if charity_id is not None else _charity_of(connection, offer.provider_id)
        ),
        referral_id=offer.referral_id,
        occurred_at=offer.updated_at or utcnow(),
        body=offer_text(offer),
        known=known_for_referrals(connection, [offer.referral_id]),
    )


def index_match_item(connection: Connection, item: MatchRunItem) -> None:
    """Index the engine's decision for one referral (generated text, still redacted)."""
    council = connection.scalar(
        select(MatchRun.organisation_id).where(MatchRun.id == item.match_run_id)
    )
    index_document(
        connection,
        kind=DocumentKind.DECISION,
        source_key=f"match:{item.id}",
        organisation_id=council,
        other_organisation_id=_charity_of(connection, item.provider_id),
        referral_id=item.referral_id,
        occurred_at=utcnow(),
        body=match_decision_sentence(item.match_run_id, item.reason, item.explanation),
    )


def index_match_run(session: Session, run_id: int) -> int:
    """Index a match run's decisions — its offers and its per-referral items — in bulk.

    A match run writes them with bulk statements, which the flush hook does not see; this
    makes them searchable in the same transaction. Returns how many were indexed.
    """
    connection = session.connection()
    council = connection.scalar(select(MatchRun.organisation_id).where(MatchRun.id == run_id))
    charity = dict(
        (row[0], row[1])
        for row in connection.execute(select(Provider.id, Provider.organisation_id))
    )
    now = utcnow()
    documents = [
        NewDocument(
            kind=DocumentKind.DECISION,
            source_key=f"match:{item_id}",
            organisation_id=council,
            other_organisation_id=None if provider_id is None else charity.get(provider_id),
            referral_id=referral_id,
            occurred_at=now,
            body=match_decision_sentence(run_id, reason, explanation),
        )
        for item_id, referral_id, provider_id, reason, explanation in connection.execute(
            select(
                MatchRunItem.id,
                MatchRunItem.referral_id,
                MatchRunItem.provider_id,
                MatchRunItem.reason,
                MatchRunItem.explanation,
            ).where(MatchRunItem.match_run_id == run_id)
        )
    ]
    offers = list(session.scalars(select(Offer).where(Offer.match_run_id == run_id)))
    people = {
        row.referral_id: household(row.name, row.phone, row.address, row.postcode)
        for row in session.scalars(
            select(ReferralPersonal).where(
                ReferralPersonal.referral_id.in_(
                    select(Offer.referral_id).where(Offer.match_run_id == run_id)
                )
            )
        )
    }
    documents += [
        NewDocument(
            kind=DocumentKind.DECISION,
            source_key=f"offer:{offer.id}",
            organisation_id=council,
            other_organisation_id=charity.get(offer.provider_id),
            referral_id=offer.referral_id,
            occurred_at=offer.updated_at or now,
            body=offer_text(offer),
            known=people.get(offer.referral_id, NOTHING_KNOWN),
        )
        for offer in offers
    ]
    return index_new_documents(connection, documents)


def _after_flush(session: Session, _context: Any) -> None:
    touched = [*session.new, *session.dirty]
    if not any(isinstance(o, ReferralPersonal | Offer | MatchRunItem) for o in touched):
        return
    connection = session.connection()
    written = _organisations_held(touched)
    for obj in touched:
        if obj in session.deleted:
            continue
        if isinstance(obj, ReferralPersonal):
            council = _loaded_organisation(session, written, Referral, obj.referral_id)
            index_note(connection, obj, council_id=council)
        elif isinstance(obj, Offer):
            council = _loaded_organisation(session, written, Referral, obj.referral_id)
            charity = (
                _loaded_organisation(session, written, Provider, obj.provider_id)
                if obj.provider_id is not None
                else None
            )
            index_offer(connection, obj, council_id=council, charity_id=charity)
        elif isinstance(obj, MatchRunItem):
            index_match_item(connection, obj)


def redact_again_for_names(connection: Connection, names: list[str]) -> int:
    """Redact again every search document whose redacted text still shows one of ``names``
    (found through the full-text index itself); returns how many changed."""
    terms = sorted(distinctive_tokens(names))[:64]
    if not terms or not _ids_showing(connection, terms):
        return 0
    docs = cast(Table, SearchDocument.__table__)
    rows = connection.execute(
        select(
            docs.c.id, docs.c.referral_id, docs.c.occurred_at, docs.c.body, docs.c.body_redacted
        ).where(any_term_clause(connection, terms))
    ).all()
    redactor = redactor_for(connection)
    changed = 0
    for ident, referral_id, occurred_at, body, shown in rows:
        known = (
            known_for_referrals(connection, [referral_id])
            if referral_id is not None
            else NOTHING_KNOWN
        )
        again = redactor.redact(body, known, today=occurred_at.date()).text
        again = (
            redactor.redact(shown, known, today=occurred_at.date()).text if again == body else again
        )
        if again != shown:
            connection.execute(update(docs).where(docs.c.id == ident).values(body_redacted=again))
            changed += 1
    return changed


def _ids_showing(connection: Connection, terms: list[str]) -> list[int]:
    """Ids of search documents whose indexed (redacted) text holds one of ``terms``: one
    prepared statement, as it runs for every household written."""
    if connection.dialect.name == "postgresql":
        query = " || ".join(f"plainto_tsquery('english', %(t{i})s)" for i in range(len(terms)))
        sql = f"SELECT id FROM search_documents WHERE {SEARCH_VECTOR_COLUMN} @@ ({query})"
        params: Any = {f"t{i}": term for i, term in enumerate(terms)}
    else:
        sql = "SELECT rowid FROM search_documents_fts WHERE search_documents_fts MATCH ?"
        params = (" OR ".join('"' + term.replace('"', "") + '"' for term in terms),)
    return [row[0] for row in connection.exec_driver_sql(sql, params)]


def _written_rows(clause: Insert | Update, multiparams: Any, params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [dict(row) for row in multiparams or () if isinstance(row, dict)]
    if isinstance(params, dict) and params:
        rows.append(dict(params))
    inline = getattr(clause, "_values", None) or {}
    if inline:
        values = {
            getattr(key, "key", str(key)): value.value
            if isinstance(value, BindParameter)
            else value
            for key, value in inline.items()
        }
        rows.append(values)
    return rows


def _after_execute(
    connection: Connection,
    clause: Any,
    multiparams: Any,
    params: Any,
    _options: Any,
    _result: Any,
) -> None:
    if not isinstance(clause, Insert | Update):
        return
    table = clause.table
    name = table.name if isinstance(table, Table) else None
    if name == "referral_personal":
        names = [row.get("name") for row in _written_rows(clause, multiparams, params)]
    elif name == "users":
        names = [
            value
            for row in _written_rows(clause, multiparams, params)
            for value in staff_name(row.get("display_name"), row.get("email"))
        ]
    else:
        return
    values = [value for value in names if isinstance(value, str) and value]
    if values:
        note_names(connection, values)
        redact_again_for_names(connection, values)


def install() -> None:
    """Register the hooks (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
    if not event.contains(Engine, "after_execute", _after_execute):
        event.listen(Engine, "after_execute", _after_execute)


def reindex_all(session: Session) -> int:
    """Index every note and decision already in the database; returns how many."""
    connection = session.connection()
    count = 0
    for personal in session.scalars(select(ReferralPersonal)):
        index_note(connection, personal)
        count += 1
    for offer in session.scalars(select(Offer)):
        index_offer(connection, offer)
        count += 1
    for item in session.scalars(select(MatchRunItem)):
        index_match_item(connection, item)
        count += 1
    return count + reword_audit_documents(connection)


def reword_audit_documents(connection: Connection, batch_size: int = 2000) -> int:
    """Write every audit event's search text again from its stored values (the events and
    their hashes are not touched); returns how many documents were rewritten."""
    events = cast(Table, AuditEvent.__table__)
    documents = cast(Table, SearchDocument.__table__)
    statement = (
        update(documents)
        .where(documents.c.source_key == bindparam("key"))
        .values(body=bindparam("text"), body_redacted=bindparam("text"))
    )
    count = 0
    last = 0
    while True:
        rows = connection.execute(
            select(events.c.id, events.c.action, events.c.entity_type, events.c.entity_id,
                   events.c.before_json, events.c.after_json)
            .where(events.c.id > last).order_by(events.c.id).limit(batch_size)
        ).all()  # fmt: skip
        if not rows:
            return count
        params = [
            {
                "key": f"audit:{row.id}",
                "text": event_sentence(
                    row.action,
                    row.entity_type,
                    row.entity_id,
                    _loads(row.before_json),
                    _loads(row.after_json),
                ),
            }
            for row in rows
        ]
        connection.execute(statement, params)
        count += len(rows)
        last = rows[-1].id


def _loads(value: str | None) -> Any:
    return json.loads(value) if value else None
