"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.core.deps import DbDep
from api.core.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness")
def healthz() -> Health:
    """The process is up (no dependencies checked)."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    summary="Readiness (checks the database)",
    responses={503: {"model": Health, "description": "The database does not answer."}},
)
def readyz(db: DbDep) -> Health | JSONResponse:
    """Ready to serve: the database answers."""
    try:
        db.ping()
    except Exception as exc:  # any failure means not ready
        body = Health(status="unavailable", checks={"database": type(exc).__name__})
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ok", checks={"database": "ok"})
