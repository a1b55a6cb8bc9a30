"""A spreadsheet's capacity figures, applied by an import.

A site's figure for this week is set when it has none, and replaced when the import set the
current one and no offers already rely on more than the new figure; a figure the charity
recorded in foodmatch is never replaced.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from api.core import clock
from api.core import repository as core
from api.core.clock import current_week
from api.core.tables import Capacity, Offer, utcnow
from api.core.vocabulary import ACTIVE_OFFER_STATUSES
from api.directory import mapping
from api.directory import schemas as s
from api.directory.importing.state import ImportState
from api.directory.mapping import SiteDraft
from api.directory.tables import DirectorySite
from api.record.trail import audit


class CapacityImport(ImportState):
    """A spreadsheet's capacity figures, applied where the charity has not set its own."""

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
