"""The directory's import use case: take in a source in one transaction.

An import is all or nothing. The source is read and checked first (every problem listed);
then, in one write transaction, each site is found by its key (ORUK service_at_location id,
or the spreadsheet's ``provider_id`` within its charity), compared field by field, and
added, updated, closed or skipped (``api.directory.importing``). A complete source also
closes the sites it no longer lists. Capacity a charity recorded in foodmatch is never
replaced. A dry run does all of it and rolls back. Publishing is ``api.directory.publish``.
"""

from __future__ import annotations

from api.auth.tokens import Principal
from api.core.db import Database
from api.core.errors import ProblemError
from api.core.vocabulary import OrganisationKind, Role
from api.directory import mapping
from api.directory import schemas as s
from api.directory.importing.sites import SiteImport
from api.directory.mapping import SiteDraft, Skip
from api.directory.sources import DirectoryInputError, Problem, Sheet, Source
from matching.geo import Gazetteer


class _DryRun(Exception):
    """Raised inside the transaction of a dry run so everything it did rolls back."""

    def __init__(self, report: s.ImportReport) -> None:
        super().__init__("dry run")
        self.report = report


def check_importer(principal: Principal) -> None:
    """Only a council's admin imports a directory."""
    if (
        principal.role is not Role.ADMIN
        or principal.organisation_kind is not OrganisationKind.COUNCIL
    ):
        raise ProblemError(403, "Only a council's admin imports a directory.")


def drafts_of(source: Source) -> tuple[list[SiteDraft], list[Skip]]:
    """The sites a source describes (raises DirectoryInputError listing every problem)."""
    if isinstance(source, Sheet):
        return [mapping.sheet_draft(p, n) for n, p in enumerate(source.providers, start=2)], []
    if source.complete and not source.services:
        raise DirectoryInputError(
            [
                Problem(
                    source.source,
                    "lists no services at all; refusing to close every site it imported before",
                )
            ]
        )
    drafts, skips, problems = mapping.feed_drafts(
        source.services, source.source, Gazetteer.default()
    )
    if problems:
        raise DirectoryInputError(problems)
    return drafts, skips


def import_source(
    db: Database,
    principal: Principal | None,
    source: Source,
    *,
    organisation: str | None = None,
    dry_run: bool = False,
) -> s.ImportReport:
    """Import ``source`` (a council admin, or the operator's CLI when ``principal`` is None)."""
    if principal is not None:
        check_importer(principal)
    drafts, skips = drafts_of(source)
    try:
        with db.write() as session:
            run = SiteImport(session, principal, source, organisation, dry_run)
            report = run.run(drafts, skips)
            if dry_run:
                raise _DryRun(report)
            return report
    except _DryRun as done:
        return done.report
