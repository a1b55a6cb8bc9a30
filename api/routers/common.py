"""Shared router pieces: documented problem responses and pagination parameters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from api.problems import Problem

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
    return {code: {"model": Problem, "description": _DESCRIPTIONS[code]} for code in codes}


AUTHED = (400, 401, 403, 422, 503)
"""Every authenticated operation can answer these."""

PageNumber = Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number.")]
PageSize = Annotated[int, Query(ge=1, le=100, description="Items per page (at most 100).")]
ObjectId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The object's id.")]
