"""Shared pieces of the directory tests: the official schemata, feed builders, snapshots.

The official ORUK 3.0 and HSDS 3.1 files are read from the shared specification folder beside
the repository (never from the copies the product carries), each registered under its own file
name so their ``$ref``s resolve as written.
"""

from __future__ import annotations

import json
import os
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select

from api.core.db import Database
from api.core.tables import Capacity, Organisation, Provider
from api.directory.tables import DirectoryOrganisation, DirectorySite

REPO = Path(__file__).resolve().parents[3]


def spec_dir() -> Path:
    """The official specification files (``FOODMATCH_SPEC_DIR``, else the copy in tests/data)."""
    candidates = [
        os.environ.get("FOODMATCH_SPEC_DIR", ""),
        str(REPO / "tests" / "data" / "spec"),
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "oruk-3.0" / "schemata").is_dir():
            return Path(candidate)
    pytest.fail("the official ORUK/HSDS files are missing (set FOODMATCH_SPEC_DIR)")


def _registry(directory: Path) -> Registry[Any]:
    registry: Registry[Any] = Registry()
    for path in sorted(directory.glob("*.json")):
        resource = Resource.from_contents(
            json.loads(path.read_text(encoding="utf-8")), default_specification=DRAFT202012
        )
        registry = registry.with_resource(path.name, resource)
    return registry


@cache
def official(family: str, name: str) -> Draft202012Validator:
    """A validator of an official schema: family ``oruk`` or ``hsds``, name ``service.json``."""
    folder = spec_dir() / ("oruk-3.0/schemata" if family == "oruk" else "hsds-3.1/schema")
    return Draft202012Validator(
        {"$ref": name},
        registry=_registry(folder),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def schema_errors(family: str, name: str, value: Any) -> list[str]:
    """Every way ``value`` breaks an official schema (empty when it is valid)."""
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in official(family, name).iter_errors(value)
    ]


def example(name: str) -> Any:
    """One of the official ORUK 3.0 examples."""
    return json.loads((spec_dir() / "oruk-3.0" / "examples" / name).read_text(encoding="utf-8"))


def ident(label: str) -> str:
    """A stable UUID for a test object."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"test:{label}"))


def food_service(
    label: str,
    *,
    name: str | None = None,
    organisation: str = "Leeds Food Aid",
    locations: list[tuple[str, float | None, float | None, str | None]] | None = None,
    dietary: tuple[str, ...] = (),
    areas: tuple[str, ...] = (),
    status: str = "active",
) -> dict[str, Any]:
    """A fully nested ORUK 3.0 food service in Leeds; ``locations`` are (label, lat, lon,
    postcode) and default to one site in LS9."""
    places = locations or [("main", 53.7968, -1.5057, "LS9 7AB")]
    service_id = ident(f"service:{label}")
    links = []
    for place, lat, lon, postcode in places:
        location: dict[str, Any] = {
            "id": ident(f"location:{label}:{place}"),
            "location_type": "physical",
            "name": f"{place.title()} hall",
        }
        if lat is not None and lon is not None:
            location["latitude"], location["longitude"] = lat, lon
        if postcode is not None:
            location["addresses"] = [
                {
                    "id": ident(f"address:{label}:{place}"),
                    "address_1": "1 Example Street",
                    "city": "Leeds",
                    "state_province": "West Yorkshire",
                    "postal_code": postcode,
                    "country": "GB",
                    "address_type": "physical",
                    "attention": "Ann Persona",
                }
            ]
        links.append({"id": ident(f"sal:{label}:{place}"), "location": location})
    return {
        "id": service_id,
        "name": name or f"{label.title()} Food Bank",
        "description": "Emergency food parcels for households referred by the council.",
        "url": "https://example.org/food",
        "email": "volunteer@example.org",
        "status": status,
        "organization": {
            "id": ident(f"org:{organisation}"),
            "name": organisation,
            "description": "A Leeds food charity.",
            "website": "https://example.org",
        },
        "schedules": [
            {
                "id": ident(f"schedule:{label}"),
                "freq": "WEEKLY",
                "interval": 1,
                "byday": "TU,TH",
                "opens_at": "10:00:00",
                "closes_at": "14:00:00",
                "description": "Tuesdays and Thursdays, 10am to 2pm.",
            }
        ],
        "service_areas": [
            {"id": ident(f"area:{label}:{code}"), "name": code, "service_area": code}
            for code in areas
        ],
        "service_at_locations": links,
        "attributes": [
            {
                "id": ident(f"attribute:{label}:{tag}"),
                "taxonomy_term": {
                    "id": ident(f"term:{tag}"),
                    "name": tag.replace("_", " ").title(),
                    "description": tag,
                    "term": tag,
                },
            }
            for tag in dietary
        ],
        "contacts": [{"id": ident(f"contact:{label}"), "name": "Ann Persona", "title": "Manager"}],
    }


def page_of(services: list[dict[str, Any]], *, page: int = 1, total_pages: int = 1,
            total_items: int | None = None) -> dict[str, Any]:  # fmt: skip
    """An ORUK page envelope around ``services``."""
    return {
        "total_items": len(services) if total_items is None else total_items,
        "total_pages": total_pages,
        "page_number": page,
        "size": max(len(services), 1),
        "first_page": page == 1,
        "last_page": page == total_pages,
        "empty": not services,
        "contents": services,
    }


def write_json(path: Path, value: Any) -> Path:
    """Write ``value`` as JSON to ``path``."""
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables an import may change (sites, charities, records, capacity)."""
    with db.read() as session:
        return {
            "providers": [
                (p.id, p.organisation_id, p.name, p.postcode, p.outcode, p.latitude, p.longitude,
                 p.service_area, p.delivery_radius_km, p.closed_at)
                for p in session.scalars(select(Provider).order_by(Provider.id))
            ],
            "organisations": [
                (o.id, o.name, o.kind)
                for o in session.scalars(select(Organisation).order_by(Organisation.id))
            ],
            "directory_sites": [
                (r.provider_id, r.oruk_service_at_location_id, r.sheet_provider_id, r.service_name,
                 r.description, r.schedules, r.service_areas, r.address, r.dietary, r.closed_reason,
                 r.capacity_id, r.imported_by_id)
                for r in session.scalars(select(DirectorySite).order_by(DirectorySite.provider_id))
            ],
            "directory_organisations": [
                (r.organisation_id, r.oruk_id, r.description, r.website)
                for r in session.scalars(select(DirectoryOrganisation))
            ],
            "capacity": [
                (c.id, c.provider_id, c.period_start, c.parcels, c.people, c.delivery, c.dietary,
                 c.parcels_booked, c.superseded_at)
                for c in session.scalars(select(Capacity).order_by(Capacity.id))
            ],
        }  # fmt: skip
