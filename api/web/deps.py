"""What every page shares: the page route, the signed-in viewer, the posted form, redirects.

Handlers take the viewer, the database and the settings as ``Annotated`` dependencies, as the
JSON routers do: ``page_viewer(*roles)`` is the signed-in viewer of a page, and
``posted_viewer(*roles)`` the viewer of a form post whose CSRF token has been checked (the
form is read first, then the session, then the token). A page whose address is wrong is
answered as such (404 for a path value, 400 for any other) before it asks who is looking.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile

from api.core.db import Database
from api.core.deps import MAX_PAGE
from api.core.errors import ProblemError, validation_problems
from api.core.vocabulary import Role
from api.record import messages
from api.web import forms
from api.web.ended import KEPT_PREFIX, answer_need_sign_in
from api.web.render import error_page, render
from api.web.security import (
    BadCsrf,
    NeedSignIn,
    Viewer,
    WrongRole,
    check_csrf,
    current_viewer,
    require,
)

MULTI_FIELDS = frozenset({"dietary", "scenarios"})
NUL_IN_ADDRESS = "The web address holds a character no page can use (NUL). Check the address."
NUL_IN_FORM = (
    "The form holds a character that cannot be stored (NUL); nothing was changed. "
    "Go back, remove it and try again."
)
NO_ONE_TO_WRITE_TO = (
    "This household has no place with a food bank now, so there is no one to write to. "
    "You can write again once it has been offered a place"
)
FormValues = dict[str, str | list[str]]
UploadedFiles = dict[str, tuple[str, bytes]]


class WebRoute(APIRoute):
    """A page route: sign-in, role, CSRF and service errors become pages, not JSON."""

    def _address_errors(self, request: Request) -> list[Any]:
        """What is wrong with this request's own path and query values (empty if nothing)."""
        _, path_errors = request_params_to_args(self.dependant.path_params, request.path_params)
        _, query_errors = request_params_to_args(self.dependant.query_params, request.query_params)
        return [*path_errors, *query_errors]

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, wrapped so that every refusal is answered with a page."""
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                if any("\x00" in value for _, value in request.query_params.multi_items()):
                    raise ProblemError(400, NUL_IN_ADDRESS)
                try:
                    return await original(request)
                except (NeedSignIn, WrongRole, BadCsrf):
                    # The viewer is a dependency, solved before the address's values: a wrong
                    # address is still answered first, as a wrong address.
                    address = self._address_errors(request)
                    if address:
                        raise RequestValidationError(address) from None
                    raise
            except NeedSignIn as exc:
                return answer_need_sign_in(request, exc)
            except WrongRole as exc:
                return render(
                    request,
                    "error.html",
                    exc.viewer,
                    status_code=403,
                    title="You cannot use this page",
                    heading="You cannot use this page",
                    message="This page is for another role. Go to your home page instead.",
                )
            except BadCsrf:
                return render(
                    request,
                    "error.html",
                    None,
                    status_code=403,
                    title="The form has expired",
                    heading="The form has expired",
                    message="Nothing was changed. Go back, reload the page and try again.",
                )
            except ProblemError as exc:
                viewer = current_viewer(request)
                if exc.status == 404:
                    return error_page(request, 404, exc.detail, exc.headers, viewer=viewer)
                return error_page(
                    request, exc.status, exc.detail, exc.headers, viewer=viewer, message=exc.detail
                )
            except RequestValidationError as exc:
                # A path value that cannot be an id names no page; any other value of the
                # address (a page number, a filter) is the visitor's to correct.
                problems = validation_problems(exc.errors())
                viewer = current_viewer(request)
                if any(p.location == "path" for p in problems):
                    return error_page(request, 404, "", viewer=viewer)
                wrong = "; ".join(f"{p.field}: {p.message}" for p in problems)
                message = f"The web address has a value this page cannot use ({wrong})."
                return error_page(request, 400, wrong, viewer=viewer, message=message)

        return handler


def page_router() -> APIRouter:
    """A router of pages (page routes, left out of the OpenAPI schema)."""
    return APIRouter(route_class=WebRoute, include_in_schema=False)


# --- the posted form -----------------------------------------------------------------------


async def _read_form(request: Request) -> tuple[FormValues, UploadedFiles]:
    """The posted form, read once: text fields, and files read into memory and closed."""
    cached: tuple[FormValues, UploadedFiles] | None = getattr(request.state, "web_form", None)
    if cached is not None:
        return cached
    form = await request.form()
    values: FormValues = {}
    files: UploadedFiles = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            files[key] = (value.filename or "", await value.read())
            await value.close()
    for key in form:
        texts = [v for v in form.getlist(key) if isinstance(v, str)]
        if any("\x00" in t for t in texts):
            raise ProblemError(400, NUL_IN_FORM)
        multiple = key.removeprefix(KEPT_PREFIX) in MULTI_FIELDS
        values[key] = texts if multiple else (texts[0] if texts else "")
    request.state.web_form = (values, files)
    return values, files


async def form_values(request: Request) -> FormValues:
    """The posted form's text fields (lists for the multi-choice ones)."""
    return (await _read_form(request))[0]


async def uploads(request: Request) -> UploadedFiles:
    """The posted form's files: ``{field: (file name, content)}`` (empty when none chosen)."""
    return (await _read_form(request))[1]


Form = Annotated[FormValues, Depends(form_values)]
Files = Annotated[UploadedFiles, Depends(uploads)]


# --- who is looking ------------------------------------------------------------------------


def page_viewer(*roles: Role) -> Callable[[Request], Viewer]:
    """A dependency: the signed-in viewer if their role is one of ``roles`` (any if none).

    Not signed in sends the browser to the sign-in page; another role gets a 403 page.
    """

    def viewer(request: Request) -> Viewer:
        return require(request, *roles)

    return viewer


def posted_viewer(*roles: Role) -> Callable[[Request, FormValues], Viewer]:
    """A dependency for a form post: the viewer as :func:`page_viewer`, once the form is read
    and carries this session's CSRF token (otherwise a 403 'the form has expired' page)."""

    def viewer(request: Request, form: Form) -> Viewer:
        signed_in = require(request, *roles)
        check_csrf(signed_in.csrf, form.get("csrf_token"))
        return signed_in

    return viewer


MaybeViewer = Annotated[Viewer | None, Depends(current_viewer)]
"""The signed-in viewer, or ``None`` (for the pages anyone may open)."""

SignedInPost = Annotated[Viewer, Depends(posted_viewer())]
"""A form post of anyone signed in (signing out, changing their own password)."""

SignedInPage = Annotated[Viewer, Depends(page_viewer())]
"""A page anyone signed in may open (their own account)."""


# --- answers -------------------------------------------------------------------------------


def see_other(url: str, done: str | None = None, anchor: str = "") -> RedirectResponse:
    """303 to ``url``, with ``?done=`` naming what was just done (the page says so)."""
    if done:
        url += ("&" if "?" in url else "?") + "done=" + done
    return RedirectResponse(url + anchor, status_code=303)


PageQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number.")]
"""The ``page`` of a list page: a whole number from 1 (anything else is a 400 page)."""


def choice(request: Request, name: str, allowed: Sequence[str]) -> str:
    """A filter of the address: empty (none chosen) or one of ``allowed``, else a 400 page."""
    value = request.query_params.get(name, "")
    if value and value not in allowed:
        raise ProblemError(
            400,
            f"The web address has a value this page cannot use: {name} must be one of "
            f"{', '.join(allowed)}, or left out.",
        )
    return value


def post_message(
    db: Database,
    viewer: Viewer,
    referral_id: int,
    form: FormValues,
    again: Callable[[dict[str, str], str], HTMLResponse],
    back: str,
) -> Response:
    """Post the form's message on the referral's thread, then back to ``back``'s thread; a
    message that cannot be sent is ``again(errors, text)``: the page again, text kept."""
    body = forms.text(form, "message")
    if not body:
        return again({"message": "Enter a message"}, body)
    if len(body) > 5000:
        return again({"message": "The message must be 5,000 characters or fewer"}, body)
    try:
        messages.post_referral_message(db, viewer.principal, referral_id, body, None)
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        if problem.reason == "no_charity":
            return again({"message": NO_ONE_TO_WRITE_TO}, body)
        return again({"message": problem.detail}, body)
    return see_other(back, "message-sent", "#messages")
