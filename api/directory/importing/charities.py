"""The charities an import's sites belong to.

A feed's organization is found by the id this installation published, by its ORUK id (then
its name, description and website are brought up to date), or by name; a new one is added
as a charity. A spreadsheet's sites belong to the charity ``--organisation`` names.
"""

from __future__ import annotations

from api.core.tables import Organisation
from api.core.vocabulary import OrganisationKind
from api.directory import ids, mapping
from api.directory import repository as repo
from api.directory import schemas as s
from api.directory.importing.state import ImportState, own_row_id
from api.directory.mapping import OrganisationRef, SiteDraft
from api.directory.tables import DirectoryOrganisation, DirectorySource
from api.record.trail import audit


class CharityImport(ImportState):
    """The charities that run the imported sites: found, linked, added or refreshed."""

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
            own = own_row_id(self.space, ref.oruk_id, ids.Kind.ORGANIZATION)
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
