"""The ORUK 3.0 JSON schemata carried in ``data/oruk-3.0`` and validators built from them.

The files are unchanged copies of the published ones (BSD-3, see ``data/oruk-3.0/LICENSE``).
They refer to each other by bare file name (``"$ref": "schedule.json"``) and declare no
``$id`` or ``$schema``; each is registered under its file name in a ``referencing`` registry
(JSON Schema 2020-12), so every ``$ref`` resolves offline exactly as written. ``uuid`` and
``email`` formats are asserted (jsonschema checks those without extra packages).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMATA_DIR = Path(__file__).with_name("data") / "oruk-3.0" / "schemata"


def registry_of(directory: Path) -> Registry[Any]:
    """A registry of every ``*.json`` schema in ``directory``, each under its file name."""
    registry: Registry[Any] = Registry()
    for path in sorted(directory.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(contents, default_specification=DRAFT202012)
        registry = registry.with_resource(path.name, resource)
    return registry.crawl()


def validator_for(registry: Registry[Any], name: str) -> Draft202012Validator:
    """A validator of the schema ``name`` (e.g. ``service.json``) with its ``$ref``s resolved."""
    return Draft202012Validator(
        {"$ref": name},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


@cache
def service_validator() -> Draft202012Validator:
    """The validator imports check each ORUK service against."""
    return validator_for(registry_of(SCHEMATA_DIR), "service.json")


def path_of(error: ValidationError) -> str:
    """The dotted place of a validation error inside the object (``a.b[0].c``)."""
    text = ""
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def service_errors(service: Any) -> Iterator[tuple[str, str]]:
    """Every way ``service`` breaks the ORUK 3.0 service schema: (field, message)."""
    errors = sorted(service_validator().iter_errors(service), key=lambda e: list(e.absolute_path))
    for error in errors:
        yield path_of(error), _message(error)


def _message(error: ValidationError) -> str:
    """jsonschema's message, shortened: a long offending value is cut."""
    message = error.message
    if len(message) > 300:
        message = message[:297] + "..."
    return f"{message} (ORUK 3.0 {error.validator} rule)"
