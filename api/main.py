"""The FastAPI application: ``create_app()`` wires settings, database, routers and errors.

``foodmatch serve`` runs ``create_app()`` under uvicorn; tests build one per database.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import record
from api.config import Settings, get_settings, require_strong_secret
from api.db import Database
from api.directory.cors import OrukCorsMiddleware
from api.headers import SecurityHeadersMiddleware
from api.logs import RequestIdMiddleware, configure_logging
from api.problems import (
    PROBLEM_MEDIA_TYPE,
    PageErrorRenderer,
    error_response,
    install_problem_handlers,
    too_large_detail,
)
from api.routers import auth, health, match_runs, offers, providers, referrals

log = logging.getLogger("foodmatch.app")
MAX_BODY_BYTES = 1024 * 1024

OPTIONAL_ROUTERS = (
    "api.routers.scenarios",
    "api.record.router",
    "api.directory.router",
    "api.web.router",
)
"""Routers of other areas, included when their module exists (each exposes ``router``)."""


class BodyLimitMiddleware:
    """Refuse a request body over ``limit`` bytes with 413 before the application sees it.

    A declared ``Content-Length`` over the limit is refused at once. Any other body (chunked,
    or with a length that does not match what arrives) is read here, counting the bytes as
    they arrive, and refused as soon as the count passes the limit; the rest is never read.
    A body within the limit is handed on as one message, so JSON, forms and file uploads
    are all bounded the same way and nothing parses a byte of a body that is too large.
    A body of exactly ``limit`` bytes is accepted.

    Written here rather than FastAPI's own ``max_body_size``: that answers a declared
    over-long body with plain text in place of the response, where this service answers in
    its own formats (problem+json, or an error page under ``/app``), and the versions of
    FastAPI this package allows do not all have it.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its whole body: nothing to do
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        pending: list[Message] = [
            {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        ]

        async def replay() -> Message:
            if pending:
                return pending.pop()
            return await receive()  # after the body: wait for the client to disconnect

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        response = error_response(request, 413, too_large_detail(self.limit))
        await response(scope, receive, send)


def _optional_routers() -> list[APIRouter]:
    found = []
    for name in OPTIONAL_ROUTERS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue
            raise
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found


def _page_errors() -> PageErrorRenderer | None:
    """The pages' error page, when the pages are installed."""
    try:
        from api.web.render import error_page
    except ModuleNotFoundError as exc:
        if exc.name and "api.web".startswith(exc.name):
            return None
        raise
    return error_page


def _problem_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Document every error response as ``application/problem+json`` with the Problem body."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                if not str(status).isdigit() or int(status) < 400:
                    continue
                content = response.get("content", {})
                if (
                    int(status) == 503
                    and "application/json" in content
                    and operation.get("operationId", "").startswith("readyz")
                ):
                    continue
                response["content"] = {
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                }
                if int(status) == 422:
                    response["description"] = "Invalid input; `errors` names each field."
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """Build the service for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    require_strong_secret(settings)  # no app that would accept forged tokens
    configure_logging(settings.log_level)
    record.install()  # search indexing and audit checkpoints follow the ORM's writes
    database = db or Database.from_url(
        settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if db is None:
            database.dispose()

    app = FastAPI(
        title="foodmatch",
        version="1.0.0",
        summary="Food-assistance referrals matched to food-bank capacity, explained.",
        description=(
            "Caseworkers submit referrals, charities keep their sites' capacity current, and "
            "the engine matches households to places. Errors are RFC 9457 "
            "`application/problem+json`. Sign in with `POST /auth/token`."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database

    for router in (health.router, auth.router, referrals.router, providers.router):
        app.include_router(router)
    app.include_router(match_runs.router)
    app.include_router(offers.router)
    for router in _optional_routers():
        app.include_router(router)

    install_problem_handlers(app)
    app.state.page_errors = _page_errors()

    async def on_operational(request: Request, exc: Exception) -> Response:
        log.warning("database busy", extra={"error": str(exc)[:200]})
        return error_response(
            request,
            503,
            "The database is busy; nothing was changed. Retry in a moment.",
            headers={"Retry-After": "1"},
        )

    async def on_integrity(request: Request, exc: Exception) -> Response:
        log.warning("integrity conflict", extra={"error": str(exc)[:200]})
        return error_response(
            request, 409, "The change conflicts with the current state; nothing was changed."
        )

    app.add_exception_handler(OperationalError, on_operational)
    app.add_exception_handler(IntegrityError, on_integrity)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(OrukCorsMiddleware)  # open CORS on the public /oruk feed only
    app.add_middleware(SecurityHeadersMiddleware)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = _problem_openapi(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
