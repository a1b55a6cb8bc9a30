"""RFC 9457 problem details: every error the service returns is ``application/problem+json``.

Services raise :class:`ProblemError` (or one of the helpers); the handlers installed by
``install_problem_handlers`` turn it, FastAPI's validation errors, HTTP errors and unexpected
exceptions into one body shape, so clients parse a single format.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from api.core.headers import SECURITY_HEADERS
from api.core.logs import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://foodmatch.example/problems/"
log = logging.getLogger("foodmatch.errors")

_TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class FieldProblem(BaseModel):
    """One invalid input: where it was, and what was expected."""

    field: str = Field(description="Dotted name of the input, e.g. `household_size`.")
    location: str = Field(description="Where the input was: body, query, path or header.")
    message: str = Field(description="What was wrong and what was expected.")


class ProblemDetails(BaseModel):
    """An RFC 9457 problem-details body."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="Short, human-readable summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong in this case, in plain words.")
    instance: str | None = Field(default=None, description="The request path.")
    request_id: str | None = Field(default=None, description="Quote this when reporting.")
    errors: list[FieldProblem] | None = Field(
        default=None, description="Each invalid input (422 only)."
    )
    reason: str | None = Field(
        default=None, description="Machine-readable reason code (e.g. why a place failed)."
    )


class ProblemError(Exception):
    """An error a client caused or must handle, raised by services and turned into a response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        errors: Sequence[FieldProblem] | None = None,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or _TITLES.get(status, "error").lower().replace(" ", "-")
        self.errors = list(errors) if errors is not None else None
        self.reason = reason
        self.headers = headers or {}


def not_found(what: str, ident: object) -> ProblemError:
    """404 for an object that does not exist or belongs to another organisation."""
    return ProblemError(404, f"No {what} with id {ident} exists for your organisation.")


def conflict(detail: str, *, reason: str | None = None) -> ProblemError:
    """409: the request is valid but the current state forbids it."""
    return ProblemError(409, detail, reason=reason)


def invalid(field: str, message: str, *, location: str = "body") -> ProblemError:
    """422 for one invalid input found after schema validation."""
    return ProblemError(
        422,
        f"{field}: {message}",
        errors=[FieldProblem(field=field, location=location, message=message)],
    )


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    errors: Sequence[FieldProblem] | None = None,
    reason: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build the problem+json response for ``status``."""
    title = _TITLES.get(status, "Error")
    body = ProblemDetails(
        type=PROBLEM_BASE + (kind or title.lower().replace(" ", "-")),
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=current_request_id(),
        errors=list(errors) if errors is not None else None,
        reason=reason,
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


PageErrorRenderer = Callable[[Request, int, str, dict[str, str] | None], Response]
"""Renders an error as an HTML page: (request, status, detail, headers) -> response."""

PAGE_PREFIX = "/app"


def is_page(path: str) -> bool:
    """Whether ``path`` is one of the pages (answered with HTML), not the JSON API."""
    return path == PAGE_PREFIX or path.startswith(PAGE_PREFIX + "/")


def error_response(
    request: Request, status: int, detail: str, *, headers: dict[str, str] | None = None
) -> Response:
    """An error as a page under ``/app`` (when the pages are installed), else problem+json."""
    app = request.scope.get("app")
    renderer: PageErrorRenderer | None = getattr(getattr(app, "state", None), "page_errors", None)
    if renderer is not None and is_page(request.url.path):
        try:
            return renderer(request, status, detail, headers)
        except Exception:  # the page could not be drawn: answer in the API's format instead
            log.exception("error page failed", extra={"path": request.url.path})
    return problem_response(request, status, detail, headers=headers)


def too_large_detail(limit: int) -> str:
    """What a 413 says: the limit, and that nothing was read or changed."""
    return (
        f"The request body is larger than {limit:,} bytes ({limit / 1024 / 1024:g} MiB); "
        "nothing was read or changed."
    )


def _field_name(loc: Sequence[int | str]) -> tuple[str, str]:
    """Split a pydantic error location into (where, dotted field name)."""
    parts = [str(p) for p in loc]
    where = parts[0] if parts else "body"
    rest = parts[1:] if where in {"body", "query", "path", "header", "cookie"} else parts
    return where, ".".join(rest) or where


def validation_problems(errors: Sequence[Any]) -> list[FieldProblem]:
    """FastAPI/pydantic validation errors as :class:`FieldProblem` items."""
    problems = []
    for error in errors:
        where, name = _field_name(error.get("loc", ()))
        message = str(error.get("msg", "invalid value"))
        problems.append(FieldProblem(field=name, location=where, message=message))
    return problems


def _allowed_methods(request: Request) -> list[str]:
    """Every method the API documents at this path (Starlette lists only one route's)."""
    table = getattr(request.app.state, "allow_table", None)
    if table is None:
        table = []
        for template, item in request.app.openapi().get("paths", {}).items():
            regex, _, _ = compile_path(template)
            table.append((regex, {m.upper() for m in item if m in _HTTP_METHODS}))
        request.app.state.allow_table = table
    methods: set[str] = set()
    for regex, documented in table:
        if regex.match(request.url.path):
            methods |= documented
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error response of ``app`` a problem+json body."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(
            request,
            exc.status,
            exc.detail,
            kind=exc.kind,
            errors=exc.errors,
            reason=exc.reason,
            headers=exc.headers,
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = validation_problems(exc.errors())
        detail = "; ".join(f"{p.field}: {p.message}" for p in problems) or "invalid input"
        return problem_response(request, 422, detail, kind="invalid-input", errors=problems)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return error_response(request, exc.status_code, detail, headers=headers)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.url.path})
        return error_response(
            request, 500, "Something went wrong on our side; the request changed nothing."
        )

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
