"""Structured JSON logs with a request id carried through every line of a request.

The request-id middleware takes ``X-Request-ID`` from the client (if sane) or makes one,
puts it in a context variable for the log formatter and error bodies, and echoes it back.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: ContextVar[str | None] = ContextVar("foodmatch_request_id", default=None)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({})))
access_log = logging.getLogger("foodmatch.access")

SECRET_PATHS = ("/app/welcome/",)
"""Paths whose last part is a secret (a one-time sign-in link): never written to a log."""


def logged_path(path: str) -> str:
    """The request path as the access log keeps it, with any secret part left out."""
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            return prefix + "…"
    return path


def current_request_id() -> str | None:
    """The id of the request being handled (``None`` outside a request)."""
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send the service's logs to stderr as JSON lines (idempotent)."""
    logger = logging.getLogger("foodmatch")
    logger.setLevel(level.upper())
    if not any(getattr(h, "_foodmatch", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._foodmatch = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False


class RequestIdMiddleware:
    """Pure ASGI middleware: assign a request id, echo it, and log one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": logged_path(str(scope.get("path", ""))),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            _request_id.reset(token)
