"""The state one directory import shares across its steps, in its write transaction.

:class:`ImportState` holds the session, who imports, the source, the report being built and
the problems found; the steps (``charities``, ``capacity``, ``sites``) extend it.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from api.auth.tokens import Principal
from api.core.tables import Organisation
from api.directory import ids
from api.directory import schemas as s
from api.directory.mapping import SiteDraft
from api.directory.sources import Feed, Problem, Sheet, Source
from api.directory.tables import DirectorySource


class ImportState:
    """One import inside its write transaction: what its steps share."""

    def __init__(
        self,
        session: Session,
        principal: Principal | None,
        source: Source,
        organisation: str | None,
        dry_run: bool,
    ) -> None:
        self.session = session
        self.principal = principal
        self.source = source
        self.organisation_name = organisation.strip() if organisation else None
        self.dry_run = dry_run
        self.kind = (
            DirectorySource.SPREADSHEET if isinstance(source, Sheet) else DirectorySource.ORUK
        )
        self.importer_id = principal.organisation_id if principal is not None else None
        self.space = ids.namespace(session)
        self.problems: list[Problem] = []
        self.seen: set[int] = set()
        self.charities: dict[str, Organisation | str] = {}
        self.named: Organisation | bool | None = False  # False: not looked up yet
        self.report = s.ImportReport(
            source=source.source,
            format=source.format,
            dry_run=dry_run,
            complete=source.complete if isinstance(source, Feed) else True,
        )

    def _problem(self, draft: SiteDraft | None, field_name: str, message: str) -> None:
        service = draft.service_id if draft is not None else None
        self.problems.append(
            Problem(self.source.source, message, service_id=service, field=field_name)
        )

    def _id(self, value: int) -> int | None:
        """An id to report: none for objects a dry run made (they are rolled back)."""
        return None if self.dry_run else value


def own_row_id(space: uuid.UUID, text: str, kind: ids.Kind) -> int | None:
    """The row id when ``text`` is one of this installation's own public UUIDs."""
    try:
        value = uuid.UUID(text)
    except ValueError:
        return None
    return ids.decode(space, value, kind)
