"""Record objects for the service's seeded world (used by the authorization matrix too).

``add_record_objects`` gives each side of the two-council, two-charity world a thread, an
FOI request and an export, and stores their ids in ``world.ids``: thread_a (A with X) and
thread_b (B with Y), request_a / request_b, export_a / export_b.
"""

from __future__ import annotations

from datetime import date

from api.auth.tokens import Principal
from api.core.db import Database
from api.core.vocabulary import OrganisationKind, Role
from api.record import foi, messages
from api.record.schemas import ExportCreate, FoiRequestCreate
from tests.api.conftest import World


def add_record_objects(db: Database, world: World) -> None:
    """Seed a thread, an FOI request and an export for councils A and B."""
    for council, charity, suffix in (("A", "X", "a"), ("B", "Y", "b")):
        planner = world.users[(council, Role.PLANNER)]
        officer = world.users[(council, Role.FOI_OFFICER)]
        as_planner = Principal(
            organisation_id=world.orgs[council],
            organisation_kind=OrganisationKind.COUNCIL,
            role=Role.PLANNER,
            user_id=planner.id,
        )
        as_officer = Principal(
            organisation_id=world.orgs[council],
            organisation_kind=OrganisationKind.COUNCIL,
            role=Role.FOI_OFFICER,
            user_id=officer.id,
        )
        thread = messages.create_thread(
            db, as_planner, world.orgs[charity], "Capacity", "Seeded thread."
        )
        request = foi.create_request(
            db,
            as_officer,
            FoiRequestCreate(
                reference=f"SEED-{suffix}", summary="Seeded request", received_on=date(2025, 1, 6)
            ),
        )
        export = foi.create_export(db, as_officer, ExportCreate(foi_request_id=request.id))
        world.ids[f"thread_{suffix}"] = thread.id
        world.ids[f"request_{suffix}"] = request.id
        world.ids[f"export_{suffix}"] = export.id
