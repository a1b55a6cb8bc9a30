"""The directory's use cases: import a source in one transaction; publish the ORUK 3.0 API.

An import is all or nothing. The source is read and checked first (every problem listed);
then, in one write transaction, each site is found by its key (ORUK service_at_location id,
or the spreadsheet's ``provider_id`` within its charity), compared field by field, and
added, updated, closed or skipped. A complete source also closes the sites it no longer lists.
Capacity a charity recorded in foodmatch is never replaced. A dry run does all of it and
rolls back. Reads are public and see only sites, charities and capacity: no household.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.auth.tokens import Principal
from api.core import clock
from api.core import repository as core
from api.core.db import Database
from api.core.errors import ProblemError, invalid
from api.core.tables import Capacity, Offer, Organisation, Provider, utcnow
from api.core.vocabulary import ACTIVE_OFFER_STATUSES, OrganisationKind, Role
from api.demo.seed import current_week
from api.directory import ids, mapping
from api.directory import repository as repo
from api.directory import schemas as s
from api.directory.mapping import OrganisationRef, Site, SiteDraft, Skip
from api.directory.sources import DirectoryInputError, Feed, Problem, Sheet, Source
from api.directory.tables import (
    DirectoryImport,
    DirectoryOrganisation,
    DirectorySite,
    DirectorySource,
)
from api.directory.vocabulary import FOOD_DELIVERY, FOOD_PARCEL, vocabulary
from api.match_runs import adapter as convert
from api.record.trail import audit
from matching.geo import Gazetteer, great_circle_km, postcode_area

T = TypeVar("T")


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
            report = _Import(session, principal, source, organisation, dry_run).run(drafts, skips)
            if dry_run:
                raise _DryRun(report)
            return report
    except _DryRun as done:
        return done.report


@dataclass
class _Change:
    before: dict[str, Any]
    after: dict[str, Any]


class _Import:
    """One import inside its write transaction."""

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

    # --- organisations ---------------------------------------------------------------------

    def _problem(self, draft: SiteDraft | None, field_name: str, message: str) -> None:
        service = draft.service_id if draft is not None else None
        self.problems.append(
            Problem(self.source.source, message, service_id=service, field=field_name)
        )

    def _named_charity(self, draft: SiteDraft | None) -> Organisation | None:
        """The charity ``--organisation`` names (added when new), or None with a problem."""
        if self.named is not False:
            return self.named if isinstance(self.named, Organisation) else None
        name = self.organisation_name
        found: Organisation | None = None
        if not name:
            what = (
                "a spreadsheet's sites need the charity that runs them: name it with "
                "--organisation (the upload's organisation field)"
                if self.kind is DirectorySource.SPREADSHEET
                else "expected the organization that runs the service (nest it, or name a "
                "charity with --organisation)"
            )
            self._problem(draft, "organisation" if draft is None else "organization", what)
        elif len(name) > mapping.NAME_MAX:
            self._problem(None, "organisation", f"expected at most {mapping.NAME_MAX} characters")
        else:
            found = repo.organisation_by_name(self.session, name)
            if found is not None and found.kind is not OrganisationKind.CHARITY:
                self._problem(
                    None, "organisation", f"{name!r} is a council; sites belong to a charity"
                )
                found = None
            elif found is None:
                found = self._add_charity(name)
        self.named = found
        return found

    def _add_charity(self, name: str) -> Organisation:
        charity = Organisation(name=name, kind=OrganisationKind.CHARITY)
        self.session.add(charity)
        self.session.flush()
        audit(
            self.session,
            self.principal,
            action="organisation.imported",
            entity_type="organisation",
            entity_id=charity.id,
            after={"kind": "charity", "source": self.kind.value},
        )
        self.report.organisations.append(
            s.OrganisationOutcome(name=name, organisation_id=self._id(charity.id), action="added")
        )
        return charity

    def _id(self, value: int) -> int | None:
        """An id to report: none for objects a dry run made (they are rolled back)."""
        return None if self.dry_run else value

    def _charity(self, draft: SiteDraft) -> Organisation | str | None:
        """The charity running an ORUK site; a reason to skip it; or None with a problem."""
        ref = draft.organisation
        if ref is None:
            return self._named_charity(draft)
        if ref.oruk_id is not None and ref.oruk_id in self.charities:
            return self.charities[ref.oruk_id]
        found = self._resolve(draft, ref)
        if found is not None and ref.oruk_id is not None:
            self.charities[ref.oruk_id] = found
        return found

    def _resolve(self, draft: SiteDraft, ref: OrganisationRef) -> Organisation | str | None:
        if ref.oruk_id is not None:
            own = _own(self.space, ref.oruk_id, ids.Kind.ORGANIZATION)
            if own is not None:
                mine = self.session.get(Organisation, own)
                if mine is not None and mine.kind is OrganisationKind.CHARITY:
                    return mine
            link = repo.organisation_by_oruk_id(self.session, ref.oruk_id)
            if link is not None:
                charity = self.session.get(Organisation, link.organisation_id)
                assert charity is not None
                self._refresh_charity(draft, charity, link, ref)
                return charity
        if ref.name is None:
            if self.organisation_name:
                return self._named_charity(draft)
            self._problem(
                draft,
                "organization_id",
                f"organization {ref.oruk_id} is not known here: nest the organization in the "
                "service (its name is needed), or name a charity with --organisation",
            )
            return None
        existing = repo.organisation_by_name(self.session, ref.name)
        if existing is not None and existing.kind is not OrganisationKind.CHARITY:
            return f"run by {ref.name}, a council in foodmatch: only a charity's sites are matched"
        if existing is not None:
            link = repo.link_of(self.session, existing.id)
            if link is not None and link.oruk_id != ref.oruk_id:
                self._problem(
                    draft,
                    "organization.name",
                    f"{ref.name!r} is already the charity of ORUK organization {link.oruk_id}",
                )
                return None
            if link is None and ref.oruk_id is not None:
                self.session.add(
                    DirectoryOrganisation(
                        organisation_id=existing.id,
                        oruk_id=ref.oruk_id,
                        description=ref.description,
                        website=ref.website,
                    )
                )
                self.session.flush()
                self.report.organisations.append(
                    s.OrganisationOutcome(
                        name=existing.name, organisation_id=existing.id, action="linked"
                    )
                )
            return existing
        charity = self._add_charity(ref.name)
        if ref.oruk_id is not None:
            self.session.add(
                DirectoryOrganisation(
                    organisation_id=charity.id,
                    oruk_id=ref.oruk_id,
                    description=ref.description,
                    website=ref.website,
                )
            )
            self.session.flush()
        return charity

    def _refresh_charity(
        self,
        draft: SiteDraft,
        charity: Organisation,
        link: DirectoryOrganisation,
        ref: OrganisationRef,
    ) -> None:
        """Bring a linked charity's name, description and website up to the feed's."""
        changed: list[str] = []
        if ref.name is not None and ref.name != charity.name:
            other = repo.organisation_by_name(self.session, ref.name)
            if other is not None:
                self._problem(
                    draft,
                    "organization.name",
                    f"{ref.name!r} is already the name of another organisation in foodmatch",
                )
                return
            charity.name = ref.name
            changed.append("name")
        if ref.name is not None:  # a bare organization_id says nothing about these
            for attribute in ("description", "website"):
                if getattr(link, attribute) != getattr(ref, attribute):
                    setattr(link, attribute, getattr(ref, attribute))
                    changed.append(attribute)
        if changed:
            self.session.flush()
            audit(
                self.session,
                self.principal,
                action="organisation.updated",
                entity_type="organisation",
                entity_id=charity.id,
                after={"changed": changed, "source": self.kind.value},
            )
            self.report.organisations.append(
                s.OrganisationOutcome(
                    name=charity.name, organisation_id=charity.id, action="updated"
                )
            )

    # --- sites -----------------------------------------------------------------------------

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
            if _own(self.space, draft.key, ids.Kind.SERVICE_AT_LOCATION) is not None:
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

    # --- capacity (spreadsheets) -----------------------------------------------------------

    def _capacity(self, draft: SiteDraft, record: DirectorySite) -> None:
        wanted = draft.capacity
        assert wanted is not None
        today = clock.today()
        start, end = current_week(today)
        live = core.live_rows_for_provider(self.session, record.provider_id, lock=True)
        covering = [c for c in live if c.period_start <= today <= c.period_end]
        note = s.CapacityOutcome(
            key=draft.key,
            site_id=self._id(record.provider_id),
            action="kept",
            parcels=wanted.parcels,
        )
        if not covering:
            overlap = [c for c in live if c.period_start <= end and start <= c.period_end]
            if overlap:
                other = overlap[0]
                note.reason = (
                    f"the charity recorded a figure for {other.period_start} to "
                    f"{other.period_end}, which overlaps this week; it is kept"
                )
                self.report.capacity.append(note)
                return
            figure = self._new_capacity(record, start, end, wanted, None)
            record.capacity_id = figure.id
            note.action = "set"
            self.report.capacity.append(note)
            return
        current = covering[0]
        if record.capacity_id != current.id:
            note.reason = "set by the charity in foodmatch; the spreadsheet's figure is not applied"
            self.report.capacity.append(note)
            return
        if _figures(current) == (wanted.parcels, wanted.people, wanted.delivery, wanted.dietary):
            return
        below = _below_booked(current, wanted)
        if below is not None:
            note.reason = below
            self.report.capacity.append(note)
            return
        figure = self._new_capacity(
            record, current.period_start, current.period_end, wanted, current
        )
        record.capacity_id = figure.id
        note.action = "updated"
        self.report.capacity.append(note)

    def _new_capacity(
        self,
        record: DirectorySite,
        start: Any,
        end: Any,
        wanted: mapping.CapacityDraft,
        old: Capacity | None,
    ) -> Capacity:
        figure = Capacity(
            provider_id=record.provider_id,
            period_start=start,
            period_end=end,
            parcels=wanted.parcels,
            people=wanted.people,
            delivery=wanted.delivery,
            dietary=dict(wanted.dietary),
            parcels_booked=old.parcels_booked if old else 0,
            people_booked=old.people_booked if old else 0,
            delivery_booked=old.delivery_booked if old else 0,
            dietary_booked=dict(old.dietary_booked) if old else {},
            created_by_id=self.principal.user_id if self.principal else None,
        )
        if old is not None:
            old.superseded_at = utcnow()
            self.session.flush()
        self.session.add(figure)
        self.session.flush()
        if old is not None:
            self.session.execute(
                update(Offer)
                .where(Offer.capacity_id == old.id, Offer.status.in_(ACTIVE_OFFER_STATUSES))
                .values(capacity_id=figure.id)
                .execution_options(synchronize_session=False)
            )
        audit(
            self.session,
            self.principal,
            action="capacity.updated" if old is not None else "capacity.set",
            entity_type="capacity",
            entity_id=figure.id,
            after={
                "provider_id": record.provider_id,
                "period_start": str(start),
                "period_end": str(end),
                "parcels": wanted.parcels,
                "people": wanted.people,
                "delivery": wanted.delivery,
                "dietary": dict(wanted.dietary),
                "source": "spreadsheet import",
            },
        )
        return figure

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


def _own(space: uuid.UUID, text: str, kind: ids.Kind) -> int | None:
    """The row id when ``text`` is one of this installation's own public UUIDs."""
    try:
        value = uuid.UUID(text)
    except ValueError:
        return None
    return ids.decode(space, value, kind)


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


def _figures(capacity: Capacity) -> tuple[int, int | None, int, dict[str, Any]]:
    return (
        capacity.parcels,
        capacity.people,
        capacity.delivery,
        {str(k): v for k, v in (capacity.dietary or {}).items()},
    )


def _below_booked(current: Capacity, wanted: mapping.CapacityDraft) -> str | None:
    """Why the spreadsheet's figure cannot replace the current one (places already offered)."""
    if wanted.parcels < current.parcels_booked:
        return (
            f"{current.parcels_booked} places are already offered this period; the "
            f"spreadsheet's {wanted.parcels} is below that, so the figure is kept"
        )
    if wanted.people is not None and wanted.people < current.people_booked:
        return f"offers already cover {current.people_booked} people; the figure is kept"
    if wanted.delivery < current.delivery_booked:
        return f"{current.delivery_booked} deliveries are already offered; the figure is kept"
    for tag, used in (current.dietary_booked or {}).items():
        cap = wanted.dietary.get(tag, 0) if tag in wanted.dietary else 0
        if int(used) > 0 and (tag not in wanted.dietary or (cap is not None and cap < int(used))):
            return f"{used} offers rely on the {tag} stock; the figure is kept"
    return None


# --- publish -------------------------------------------------------------------------------


def _envelope(items: Sequence[T], page: int, per_page: int) -> tuple[list[T], dict[str, Any]]:
    total = len(items)
    pages = math.ceil(total / per_page)
    chosen = list(items[(page - 1) * per_page : page * per_page])
    return chosen, {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": per_page,
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": not chosen,
    }


def _index(db: Database) -> list[repo.IndexRow]:
    with db.read() as session:
        return repo.site_index(session, clock.today())


def _load(db: Database, provider_ids: Sequence[int]) -> tuple[uuid.UUID, list[Site]]:
    with db.read() as session:
        return ids.namespace(session), repo.load_sites(session, provider_ids, clock.today())


def _carries(row: repo.IndexRow, term_id: uuid.UUID) -> bool:
    """Whether a site carries the vocabulary term with this id (published as an attribute)."""
    term = vocabulary().by_id(str(term_id))
    if term is None:
        return False
    if term.term == FOOD_PARCEL:
        return True
    if term.term == FOOD_DELIVERY:
        return row.delivers
    return term.term in row.dietary


def _groups(rows: Sequence[repo.IndexRow]) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for row in rows:
        groups.setdefault(row.service_key, []).append(row.provider_id)
    return list(groups.values())


def api_meta() -> s.ApiMeta:
    """The ORUK root."""
    return mapping.api_meta()


def services_page(
    db: Database, page: int, per_page: int, taxonomy_term_id: uuid.UUID | None
) -> s.OrukPage[s.Service]:
    """Services with at least one open site, oldest first."""
    rows = _index(db)
    if taxonomy_term_id is not None:
        keys = {r.service_key for r in rows if _carries(r, taxonomy_term_id)}
        rows = [r for r in rows if r.service_key in keys]
    chosen, envelope = _envelope(_groups(rows), page, per_page)
    space, sites = _load(db, [i for group in chosen for i in group])
    by_id = {site.provider.id: site for site in sites}
    contents = [
        mapping.service(space, [by_id[i] for i in group if i in by_id])
        for group in chosen
        if any(i in by_id for i in group)
    ]
    return s.OrukPage[s.Service](contents=contents, **envelope)


def service_by_id(db: Database, service_id: uuid.UUID) -> s.Service:
    """One fully nested service."""
    with db.read() as session:
        space = ids.namespace(session)
        provider_ids = repo.sites_of_oruk_service(session, str(service_id))
        native = ids.decode(space, service_id, ids.Kind.SERVICE)
        if not provider_ids and native is not None and repo.oruk_ids_of(session, native)[0] is None:
            provider_ids = [native]
        sites = repo.load_sites(session, provider_ids, clock.today())
    if not sites:
        raise ProblemError(404, f"No service with id {service_id} is published here.")
    return mapping.service(space, sites)


def service_at_locations_page(
    db: Database,
    page: int,
    per_page: int,
    *,
    postcode: str | None,
    proximity_m: float | None,
    taxonomy_term_id: uuid.UUID | None,
) -> s.OrukPage[s.ServiceAtLocation]:
    """Sites, optionally for a postcode: in its service area, within ``proximity_m`` metres of
    its district's centre, nearest first."""
    if proximity_m is not None and postcode is None:
        raise invalid(
            "proximity",
            "is measured from a postcode's centre: give postcode as well",
            location="query",
        )
    centre: tuple[float, float, str] | None = None
    if postcode is not None:
        centre = convert.locate(postcode)
        if centre is None:
            raise invalid(
                "postcode", f"{postcode!r} is not a known UK postcode district", location="query"
            )
    rows = _index(db)
    if taxonomy_term_id is not None:
        rows = [r for r in rows if _carries(r, taxonomy_term_id)]
    if centre is not None:
        latitude, longitude, outcode = centre
        wanted = {outcode, postcode_area(outcode)}
        rows = [r for r in rows if not r.service_area or wanted & set(r.service_area.split(";"))]
        metres = 1000.0 * great_circle_km(
            np.full(len(rows), latitude),
            np.full(len(rows), longitude),
            np.array([r.latitude for r in rows], dtype=np.float64),
            np.array([r.longitude for r in rows], dtype=np.float64),
        )
        ranked = sorted(
            (float(m), row.provider_id, row)
            for m, row in zip(metres, rows, strict=True)
            if proximity_m is None or m <= proximity_m
        )
        rows = [row for _, _, row in ranked]
    chosen, envelope = _envelope(rows, page, per_page)
    space, sites = _load(db, [row.provider_id for row in chosen])
    return s.OrukPage[s.ServiceAtLocation](
        contents=[mapping.service_at_location(space, site, with_service=True) for site in sites],
        **envelope,
    )


def service_at_location_by_id(db: Database, link_id: uuid.UUID) -> s.ServiceAtLocation:
    """One site with its location and service."""
    with db.read() as session:
        space = ids.namespace(session)
        record = repo.site_by_link(session, str(link_id))
        provider_id = record.provider_id if record is not None else None
        native = ids.decode(space, link_id, ids.Kind.SERVICE_AT_LOCATION)
        if (
            provider_id is None
            and native is not None
            and repo.oruk_ids_of(session, native)[1] is None
        ):
            provider_id = native
        sites = repo.load_sites(session, [provider_id] if provider_id else [], clock.today())
    if not sites:
        raise ProblemError(404, f"No service_at_location with id {link_id} is published here.")
    return mapping.service_at_location(space, sites[0], with_service=True)


def taxonomies_page(page: int, per_page: int) -> s.OrukPage[s.Taxonomy]:
    """The one taxonomy foodmatch publishes."""
    chosen, envelope = _envelope([mapping.taxonomy(with_terms=False)], page, per_page)
    return s.OrukPage[s.Taxonomy](contents=chosen, **envelope)


def taxonomy_by_id(taxonomy_id: uuid.UUID) -> s.Taxonomy:
    """The taxonomy with its terms."""
    found = mapping.taxonomy(with_terms=True)
    if found.id != taxonomy_id:
        raise ProblemError(404, f"No taxonomy with id {taxonomy_id} is published here.")
    return found


def taxonomy_terms_page(page: int, per_page: int) -> s.OrukPage[s.TaxonomyTerm]:
    """Every term of the vocabulary, in its published order."""
    terms = [mapping.taxonomy_term(t) for t in vocabulary().terms]
    chosen, envelope = _envelope(terms, page, per_page)
    return s.OrukPage[s.TaxonomyTerm](contents=chosen, **envelope)


def taxonomy_term_by_id(term_id: uuid.UUID) -> s.TaxonomyTerm:
    """One term."""
    term = vocabulary().by_id(str(term_id))
    if term is None:
        raise ProblemError(404, f"No taxonomy term with id {term_id} is published here.")
    return mapping.taxonomy_term(term)
