"""The sites of an import: each found by its key and added, updated, closed or skipped.

:class:`SiteImport` runs one import: a site is found by its ORUK service_at_location id (or
the spreadsheet's ``provider_id`` within its charity) and compared field by field; a
complete source also closes the sites it no longer lists; every change is audited and the
import's report stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from api.core.tables import Organisation, Provider, utcnow
from api.directory import ids, mapping
from api.directory import repository as repo
from api.directory import schemas as s
from api.directory.importing.capacity import CapacityImport
from api.directory.importing.charities import CharityImport
from api.directory.importing.state import own_row_id
from api.directory.mapping import SiteDraft, Skip
from api.directory.sources import DirectoryInputError
from api.directory.tables import DirectoryImport, DirectorySite, DirectorySource
from api.record.trail import audit


@dataclass
class _Change:
    before: dict[str, Any]
    after: dict[str, Any]


class SiteImport(CharityImport, CapacityImport):
    """One import: each draft's site added, updated, closed or skipped; then the record."""

    def run(self, drafts: Sequence[SiteDraft], skips: Sequence[Skip]) -> s.ImportReport:
        for skip in skips:
            self.report.skipped.append(
                s.SiteOutcome(key=skip.key, name=skip.name, reason=skip.reason)
            )
        sheet_charity = (
            self._named_charity(None) if self.kind is DirectorySource.SPREADSHEET else None
        )
        for draft in drafts:
            if self.kind is DirectorySource.SPREADSHEET:
                if sheet_charity is not None:
                    self._site(draft, sheet_charity)
                continue
            if own_row_id(self.space, draft.key, ids.Kind.SERVICE_AT_LOCATION) is not None:
                self._skip(draft, "published by this installation: the site is already here")
                continue
            charity = self._charity(draft)
            if isinstance(charity, str):
                self._skip(draft, charity)
            elif charity is not None:
                self._site(draft, charity)
        if self.problems:
            raise DirectoryInputError(self.problems)
        if self.report.complete:
            self._close_missing(sheet_charity)
        if not self.dry_run:
            self._record()
        return self.report

    def _skip(self, draft: SiteDraft, reason: str) -> None:
        self.report.skipped.append(s.SiteOutcome(key=draft.key, name=draft.name, reason=reason))

    def _lookup(self, draft: SiteDraft, charity: Organisation) -> DirectorySite | None:
        if self.kind is DirectorySource.SPREADSHEET:
            return repo.site_by_sheet_key(self.session, charity.id, draft.key)
        return repo.site_by_link(self.session, draft.key)

    def _site(self, draft: SiteDraft, charity: Organisation) -> None:
        record = self._lookup(draft, charity)
        if record is None:
            if not draft.open:
                self._skip(draft, draft.closed_reason or "closed in the directory")
                return
            record = self._add(draft, charity)
        else:
            provider = self.session.get(Provider, record.provider_id, with_for_update=True)
            assert provider is not None
            if provider.organisation_id != charity.id:
                owner = self.session.get(Organisation, provider.organisation_id)
                self._skip(
                    draft,
                    f"the source now lists it under {charity.name}; it stays with "
                    f"{owner.name if owner else 'its charity'} (move it by hand)",
                )
                self.seen.add(provider.id)
                return
            self._update(draft, record, provider)
        self.seen.add(record.provider_id)
        if draft.capacity is not None:
            self._capacity(draft, record)

    def _add(self, draft: SiteDraft, charity: Organisation) -> DirectorySite:
        provider = Provider(organisation_id=charity.id, **mapping.site_fields(draft))
        self.session.add(provider)
        self.session.flush()
        record = DirectorySite(
            provider_id=provider.id,
            organisation_id=charity.id,
            source=self.kind,
            imported_by_id=self.importer_id,
            oruk_service_at_location_id=draft.key if self.kind is DirectorySource.ORUK else None,
            sheet_provider_id=draft.key if self.kind is DirectorySource.SPREADSHEET else None,
            **mapping.record_fields(draft),
        )
        self.session.add(record)
        self.session.flush()
        audit(
            self.session,
            self.principal,
            action="site.imported",
            entity_type="provider",
            entity_id=provider.id,
            after={
                "source": self.kind.value,
                "key": draft.key,
                "organisation_id": charity.id,
                "outcode": provider.outcode,
                "service_area": provider.service_area,
            },
        )
        self.report.added.append(
            s.SiteOutcome(key=draft.key, name=draft.name, site_id=self._id(provider.id))
        )
        return record

    def _update(self, draft: SiteDraft, record: DirectorySite, provider: Provider) -> None:
        change = _Change({}, {})
        for target, values in (
            (provider, mapping.site_fields(draft)),
            (record, mapping.record_fields(draft)),
        ):
            for attribute, value in values.items():
                if getattr(target, attribute) != value:
                    change.before[attribute] = getattr(target, attribute)
                    change.after[attribute] = value
                    setattr(target, attribute, value)
        if record.imported_by_id != self.importer_id:
            change.before["imported_by"] = record.imported_by_id
            change.after["imported_by"] = self.importer_id
            record.imported_by_id = self.importer_id
        closing = not draft.open and provider.closed_at is None
        if draft.open and provider.closed_at is not None:
            change.before["open"], change.after["open"] = False, True
            provider.closed_at = None
            record.closed_reason = None
        outcome = s.SiteOutcome(
            key=draft.key, name=draft.name, site_id=provider.id, changed=sorted(change.after)
        )
        if change.after:
            self.session.flush()
            audit(
                self.session,
                self.principal,
                action="site.updated",
                entity_type="provider",
                entity_id=provider.id,
                before=_loggable(change.before),
                after=_loggable(change.after),
            )
        if closing:
            self._close(record, provider, draft.closed_reason or "closed in the directory", outcome)
        elif change.after:
            self.report.updated.append(outcome)
        else:
            self.report.unchanged += 1

    def _close(
        self,
        record: DirectorySite,
        provider: Provider,
        reason: str,
        outcome: s.SiteOutcome | None = None,
    ) -> None:
        provider.closed_at = utcnow()
        record.closed_reason = reason
        self.session.flush()
        audit(
            self.session,
            self.principal,
            action="site.closed",
            entity_type="provider",
            entity_id=provider.id,
            after={"reason": reason, "source": self.kind.value},
        )
        key = record.oruk_service_at_location_id or record.sheet_provider_id or str(provider.id)
        outcome = outcome or s.SiteOutcome(key=key, name=provider.name, site_id=provider.id)
        outcome.reason = reason
        self.report.closed.append(outcome)

    def _close_missing(self, sheet_charity: Organisation | None) -> None:
        if self.kind is DirectorySource.SPREADSHEET:
            if sheet_charity is None:
                return
            missing = repo.missing_sites(
                self.session, self.kind, self.seen, organisation_id=sheet_charity.id
            )
            reason = "no longer in the spreadsheet"
        else:
            missing = repo.missing_sites(
                self.session, self.kind, self.seen, imported_by_id=self.importer_id
            )
            reason = "no longer in the directory"
        for record, provider in missing:
            self._close(record, provider, reason)

    def _record(self) -> None:
        report = self.report
        stored = DirectoryImport(
            organisation_id=self.importer_id,
            created_by_id=self.principal.user_id if self.principal else None,
            source=report.source[:500],
            format=report.format,
            report={},
        )
        self.session.add(stored)
        self.session.flush()
        report.import_id = stored.id
        stored.report = report.model_dump(mode="json")
        self.session.flush()
        audit(
            self.session,
            self.principal,
            action="directory.imported",
            entity_type="directory_import",
            entity_id=stored.id,
            after={
                "format": report.format,
                "complete": report.complete,
                "added": len(report.added),
                "updated": len(report.updated),
                "closed": len(report.closed),
                "skipped": len(report.skipped),
                "unchanged": report.unchanged,
                "organisations": len(report.organisations),
                "capacity": len(report.capacity),
            },
        )


def _loggable(values: dict[str, Any]) -> dict[str, Any]:
    """Changed fields for the audit trail (long directory texts by size, not value)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, list | dict):
            out[key] = f"{len(value)} entries"
        elif isinstance(value, str) and len(value) > 200:
            out[key] = f"{len(value)} characters"
        else:
            out[key] = value
    return out
