"""Shared router pieces: the database and settings dependencies, documented problem responses
and the bounds of ids and pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import BeforeValidator

from api.core.config import Settings
from api.core.db import Database
from api.core.errors import ProblemDetails

_DESCRIPTIONS = {
    400: "The request could not be parsed (e.g. a body that is not JSON).",
    401: "Not signed in, or the token/key is invalid or expired.",
    403: "Your role may not do this.",
    404: "No such object in your organisation.",
    409: "The current state forbids this (e.g. no place left).",
    422: "Invalid input; `errors` names each field.",
    503: "The database is busy or unavailable; retry.",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for problem+json responses with these status codes."""
    return {code: {"model": ProblemDetails, "description": _DESCRIPTIONS[code]} for code in codes}


AUTHED = (400, 401, 403, 422, 503)
"""Every authenticated operation can answer these."""

MAX_ID = 2_147_483_647
"""The largest id any table can hold (a 32-bit signed integer on PostgreSQL)."""

MAX_PAGE = 1_000_000


def digits_only(value: object) -> object:
    """Refuse a whole number in an address unless it is written with the digits 0-9 alone.

    pydantic would otherwise read ``" 1"``, ``"+1"``, ``"1_000"`` and ``"1.0"`` as numbers,
    so one object would have many addresses.
    """
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("expected a whole number written with the digits 0-9")
    return value


Digits = BeforeValidator(digits_only)

PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number."), Digits]
PageSize = Annotated[int, Query(ge=1, le=100, description="Items per page (at most 100)."), Digits]
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="The object's id."), Digits]
"""Ids are parsed and bounded before any handler runs: a value outside them is a 422 for the
API and a 404 page for the pages, never a lookup (``99999999999999999999`` would overflow the
database's integer)."""


async def get_db(request: Request) -> Database:
    """The application's database (set up by ``create_app``)."""
    db: Database = request.app.state.db
    return db


async def get_app_settings(request: Request) -> Settings:
    """The application's settings (set up by ``create_app``)."""
    settings: Settings = request.app.state.settings
    return settings


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
