"""The FastAPI application: ``create_app()`` wires settings, database, routers and errors.

``foodmatch serve`` runs ``create_app()`` under uvicorn; tests build one per database.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import record
from api.auth import router as auth
from api.core import health
from api.core.apidocs import install_api_docs
from api.core.config import Settings, get_settings, require_strong_secret
from api.core.db import Database
from api.core.errors import (
    PROBLEM_MEDIA_TYPE,
    error_response,
    install_problem_handlers,
    too_large_detail,
)
from api.core.headers import SecurityHeadersMiddleware
from api.core.logs import RequestIdMiddleware, configure_logging
from api.directory import router as directory
from api.directory.cors import OrukCorsMiddleware
from api.match_runs import router as match_runs
from api.offers import router as offers
from api.record import router as record_routes
from api.referrals import router as referrals
from api.scenarios import router as scenarios
from api.sites import router as providers
from api.web import router as web
from api.web.render import error_page

log = logging.getLogger("foodmatch.app")
MAX_BODY_BYTES = 1024 * 1024


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


def _problem_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Document every error response as ``application/problem+json`` (ProblemDetails)."""
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
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
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
        docs_url=None,
        redoc_url=None,
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

    for router in (
        health.router,
        auth.router,
        referrals.router,
        providers.router,
        match_runs.router,
        offers.router,
        scenarios.router,
        record_routes.router,
        directory.router,
        web.router,
    ):
        app.include_router(router)

    install_api_docs(app)
    install_problem_handlers(app)
    app.state.page_errors = error_page

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
