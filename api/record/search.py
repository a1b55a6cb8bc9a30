"""Full-text search over the record: messages, notes, decisions and audit events.

Every document is stored twice: as written (``body``) and redacted (``body_redacted``) by the
redaction component with every name the service holds (:func:`api.record.people.redactor_for`).
Only the redacted text is indexed (SQLite FTS5 with the porter stemmer; PostgreSQL
``to_tsvector`` with a GIN index), so a search can never find a document by a household's name
or phone. When a name arrives after a text that mentions it was indexed, the text is redacted
again (:func:`api.record.indexing.redact_again_for_names`). FOI officers and other
non-authorised roles see the redacted text; administrators may see the original until the
household's personal data is erased.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from api.record.people import redactor_for
from api.record.redaction import NOTHING_KNOWN, KnownPersonalData
from api.record.tables import SEARCH_VECTOR_COLUMN, DocumentKind, SearchDocument

MAX_PAGE_SIZE = 100
_DOCS = cast(Table, SearchDocument.__table__)
_TERM = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Scope:
    """Whose documents a reader may search, and whether they may see unredacted text.

    ``organisation_id`` None means every organisation (administrators).
    """

    organisation_id: int | None
    unredacted: bool = False


@dataclass(frozen=True)
class SearchHit:
    """One matching document, with the text the reader is allowed to see."""

    id: int
    kind: str
    source_key: str
    organisation_id: int | None
    other_organisation_id: int | None
    referral_id: int | None
    occurred_at: datetime
    text: str
    redacted: bool


@dataclass(frozen=True)
class SearchPage:
    """One page of results and the totals needed to page through the rest."""

    items: list[SearchHit]
    total_items: int
    page_number: int
    size: int

    @property
    def total_pages(self) -> int:
        """How many pages of ``size`` the results fill (at least one)."""
        return max(1, -(-self.total_items // self.size))


@dataclass(frozen=True)
class SearchFilters:
    """Narrowing conditions; all optional."""

    date_from: date | None = None
    date_to: date | None = None
    organisation_id: int | None = None
    referral_id: int | None = None
    kinds: tuple[DocumentKind, ...] = ()


def index_document(
    bind: Session | Connection,
    *,
    kind: DocumentKind,
    source_key: str,
    organisation_id: int | None,
    other_organisation_id: int | None,
    referral_id: int | None,
    occurred_at: datetime,
    body: str,
    known: KnownPersonalData = NOTHING_KNOWN,
    already_redacted: bool = False,
) -> None:
    """Add or refresh the searchable copy of one piece of the record (caller's transaction).

    ``source_key`` (e.g. ``message:12``) identifies the source, so indexing twice updates.
    ``known`` is the personal data of the people the text may mention. Works on a Session or
    on a bare Connection (so it can run inside a flush).
    """
    connection = bind.connection() if isinstance(bind, Session) else bind
    redacted = (
        body
        if already_redacted
        else redactor_for(connection).redact(body, known, today=occurred_at.date()).text
    )
    values = {
        "kind": kind.value,
        "organisation_id": organisation_id,
        "other_organisation_id": other_organisation_id,
        "referral_id": referral_id,
        "occurred_at": occurred_at,
        "body": body,
        "body_redacted": redacted,
    }
    existing = connection.scalar(select(_DOCS.c.id).where(_DOCS.c.source_key == source_key))
    if existing is None:
        connection.execute(insert(_DOCS).values(source_key=source_key, **values))
    else:
        connection.execute(update(_DOCS).where(_DOCS.c.id == existing).values(**values))


@dataclass(frozen=True)
class NewDocument:
    """One piece of the record to index for the first time (see :func:`index_new_documents`)."""

    kind: DocumentKind
    source_key: str
    organisation_id: int | None
    other_organisation_id: int | None
    referral_id: int | None
    occurred_at: datetime
    body: str
    known: KnownPersonalData = NOTHING_KNOWN


def index_new_documents(connection: Connection, documents: list[NewDocument]) -> int:
    """Index many pieces never indexed before (a match run's decisions) in one statement.

    The same redaction as :func:`index_document`, without its one-by-one look-up of an
    existing copy: the caller knows the sources are new. Returns how many were indexed.
    """
    if not documents:
        return 0
    redactor = redactor_for(connection)
    rows = [
        {
            "kind": doc.kind.value,
            "source_key": doc.source_key,
            "organisation_id": doc.organisation_id,
            "other_organisation_id": doc.other_organisation_id,
            "referral_id": doc.referral_id,
            "occurred_at": doc.occurred_at,
            "body": doc.body,
            "body_redacted": redactor.redact(
                doc.body, doc.known, today=doc.occurred_at.date()
            ).text,
        }
        for doc in documents
    ]
    if rows:
        connection.execute(insert(_DOCS), rows)
    return len(rows)


def query_terms(query: str) -> list[str]:
    """The words of a user's query; punctuation and search syntax are ignored."""
    return _TERM.findall(query)[:32]


def match_clause(session: Session, terms: list[str]) -> tuple[ColumnElement[bool], Any]:
    """The full-text condition for ``terms`` (all must match) and a rank to order by."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        tsquery = func.plainto_tsquery("english", " ".join(terms))
        vector: ColumnElement[Any] = literal_column(f"search_documents.{SEARCH_VECTOR_COLUMN}")
        return vector.op("@@")(tsquery), func.ts_rank(vector, tsquery).desc()
    fts_query = " ".join('"' + term.replace('"', "") + '"' for term in terms)
    matching: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(text("search_documents_fts"))
        .where(text("search_documents_fts MATCH :fts_query").bindparams(fts_query=fts_query))
    )
    return SearchDocument.id.in_(matching), SearchDocument.occurred_at.desc()


def any_term_clause(connection: Connection, terms: list[str]) -> ColumnElement[bool]:
    """The full-text condition for documents holding at least one of ``terms``."""
    if connection.dialect.name == "postgresql":
        vector: ColumnElement[Any] = literal_column(f"search_documents.{SEARCH_VECTOR_COLUMN}")
        return or_(*(vector.op("@@")(func.plainto_tsquery("english", term)) for term in terms))
    fts_query = " OR ".join('"' + term.replace('"', "") + '"' for term in terms)
    matching: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(text("search_documents_fts"))
        .where(text("search_documents_fts MATCH :any_terms").bindparams(any_terms=fts_query))
    )
    return SearchDocument.id.in_(matching)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def apply_scope(statement: Select[Any], scope: Scope, filters: SearchFilters) -> Select[Any]:
    """Restrict ``statement`` over search documents to the reader's scope and the filters."""
    conditions: list[ColumnElement[bool]] = []
    if scope.organisation_id is not None:
        conditions.append(
            or_(
                SearchDocument.organisation_id == scope.organisation_id,
                SearchDocument.other_organisation_id == scope.organisation_id,
            )
        )
    if filters.organisation_id is not None:
        conditions.append(
            or_(
                SearchDocument.organisation_id == filters.organisation_id,
                SearchDocument.other_organisation_id == filters.organisation_id,
            )
        )
    if filters.referral_id is not None:
        conditions.append(SearchDocument.referral_id == filters.referral_id)
    if filters.date_from is not None:
        conditions.append(SearchDocument.occurred_at >= _day_start(filters.date_from))
    if filters.date_to is not None:
        conditions.append(
            SearchDocument.occurred_at < _day_start(filters.date_to + timedelta(days=1))
        )
    if filters.kinds:
        conditions.append(SearchDocument.kind.in_([k.value for k in filters.kinds]))
    return statement.where(and_(*conditions)) if conditions else statement


def search(
    session: Session,
    *,
    query: str,
    scope: Scope,
    filters: SearchFilters = SearchFilters(),
    page: int = 1,
    size: int = 20,
) -> SearchPage:
    """Search the record; newest first when ``query`` has no words, best match first otherwise."""
    if page < 1:
        raise ValueError(f"page must be 1 or more; got {page}")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"size must be between 1 and {MAX_PAGE_SIZE}; got {size}")
    terms = query_terms(query)
    statement = apply_scope(select(SearchDocument), scope, filters)
    order: list[Any] = []
    if terms:
        condition, rank = match_clause(session, terms)
        statement = statement.where(condition)
        order.append(rank)
    order += [SearchDocument.occurred_at.desc(), SearchDocument.id.desc()]
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.scalars(statement.order_by(*order).offset((page - 1) * size).limit(size)).all()
    items = [
        SearchHit(
            id=row.id,
            kind=row.kind,
            source_key=row.source_key,
            organisation_id=row.organisation_id,
            other_organisation_id=row.other_organisation_id,
            referral_id=row.referral_id,
            occurred_at=row.occurred_at,
            text=row.body if scope.unredacted else row.body_redacted,
            redacted=not scope.unredacted,
        )
        for row in rows
    ]
    return SearchPage(items=items, total_items=total, page_number=page, size=size)
