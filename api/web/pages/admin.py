"""The administrator's pages: the organisation's people, its API keys and the audit log.

Each action calls the same service as the JSON API (``api.auth.accounts``, ``api.auth.keys``,
``api.record.checkpoints``), limited to the admin's own organisation and audited there: a
person or key of another organisation is not found. A new API key is shown once, on the page
that made it (pages are never cached), and stored only as a hash.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse

from api.auth import accounts, keys
from api.core.deps import DbDep, ObjectId
from api.core.errors import ProblemError
from api.core.schemas import ApiKeyCreate
from api.core.vocabulary import OrganisationKind, Role
from api.record import checkpoints
from api.record.dbrole import role_report
from api.web import forms
from api.web.deps import Form, page_router, page_viewer, posted_viewer, see_other
from api.web.render import ROLE_LABELS as ROLE_WORDS
from api.web.render import render
from api.web.security import Viewer

router = page_router()

AdminPage = Annotated[Viewer, Depends(page_viewer(Role.ADMIN))]
AdminPost = Annotated[Viewer, Depends(posted_viewer(Role.ADMIN))]

KEY_ROLES = {
    OrganisationKind.COUNCIL: [
        ("caseworker", "Caseworker", "Submits and reads the council's referrals."),
        ("planner", "Planner", "Runs what-if scenarios and match runs."),
        ("foi_officer", "FOI officer", "Searches and exports the record."),
    ],
    OrganisationKind.CHARITY: [
        ("charity", "Charity", "Reads offers, answers them, sets capacity.")
    ],
}
"""The roles an API key of each kind of organisation may act in (as ``api.auth.keys``)."""


def _admin_page(
    request: Request,
    viewer: Viewer,
    db: Any,
    *,
    errors: dict[str, str] | None = None,
    new_key: str = "",
    key_name: str = "",
    key_role: str = "",
    verified: Any = None,
    person: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The admin's page: people, API keys (a new one shown once) and the audit log."""
    principal = viewer.principal
    return render(
        request,
        "admin/home.html",
        viewer,
        status_code=400 if errors else status_code,
        title="Administration",
        members=accounts.organisation_members(db, principal),
        keys=keys.list_keys(db, principal),
        key_roles=KEY_ROLES[principal.organisation_kind],
        roles=[r.value for r in accounts.ROLES_BY_KIND[principal.organisation_kind]],
        role_options=[
            (r.value, ROLE_WORDS.get(r.value, r.value), "")
            for r in accounts.ROLES_BY_KIND[principal.organisation_kind]
        ],
        errors=errors or {},
        new_key=new_key,
        key_name=key_name,
        key_role=key_role,
        verified=verified,
        person=person or {},
    )


@router.get("/app/admin")
def admin_home(request: Request, viewer: AdminPage, db: DbDep) -> HTMLResponse:
    """The organisation's people and API keys, and a button to check the audit log."""
    return _admin_page(request, viewer, db)


@router.post("/app/admin/users/{user_id}/active")
def set_user_active(
    request: Request, user_id: ObjectId, viewer: AdminPost, form: Form, db: DbDep
) -> Response:
    """Switch a person of the organisation off (their sessions end at once) or back on."""
    active = forms.text(form, "active") == "yes"
    try:
        accounts.set_member_active(db, viewer.principal, user_id, active)
    except ProblemError as problem:
        if problem.status != 409:
            raise
        return _admin_page(request, viewer, db, errors={f"user-{user_id}": problem.detail})
    return see_other("/app/admin", "user-activated" if active else "user-deactivated", "#people")


@router.post("/app/admin/users/{user_id}/role")
def set_user_role(
    request: Request, user_id: ObjectId, viewer: AdminPost, form: Form, db: DbDep
) -> Response:
    """Give a person of the organisation another role (from their next page)."""
    chosen = forms.text(form, "role")
    allowed = accounts.ROLES_BY_KIND[viewer.principal.organisation_kind]
    if chosen not in {r.value for r in allowed}:
        errors = {f"role-{user_id}": "Select one of the roles listed"}
        return _admin_page(request, viewer, db, errors=errors)
    try:
        accounts.set_member_role(db, viewer.principal, user_id, Role(chosen))
    except ProblemError as problem:
        if problem.status != 409:
            raise
        return _admin_page(request, viewer, db, errors={f"role-{user_id}": problem.detail})
    return see_other("/app/admin", "role-changed", "#people")


PERSON_FIELDS = {"email": "new_email", "role": "new_role", "display_name": "new_name",
                 "password": "new_password"}  # fmt: skip
"""The service's field names and the form's, for errors the service finds."""


def _person_errors(problem: ProblemError) -> dict[str, str]:
    """The service's refusal at the form's field ("password: 5 characters..." at the
    password); anything else at the e-mail address."""
    found = [(item.field, item.message) for item in problem.errors or []]
    if not found:
        field, _, message = problem.detail.partition(": ")
        found = [(field, message)] if field in PERSON_FIELDS and message else [("", problem.detail)]
    return {PERSON_FIELDS.get(field, "new_email"): message[:1].upper() + message[1:]
            for field, message in found}  # fmt: skip


@router.post("/app/admin/users")
def add_person(request: Request, viewer: AdminPost, form: Form, db: DbDep) -> Response:
    """Add a person to the organisation with a first password the admin gives them."""
    answers = {name: forms.text(form, name) for name in ("new_name", "new_email", "new_role")}
    password = forms.text(form, "new_password")
    errors: dict[str, str] = {}
    if not answers["new_email"]:
        errors["new_email"] = "Enter their email address"
    if answers["new_role"] not in {r.value for r in accounts.ROLES_BY_KIND[
            viewer.principal.organisation_kind]}:  # fmt: skip
        errors["new_role"] = "Select their role"
    if not password:
        errors["new_password"] = "Enter a first password for them"
    if not errors:
        try:
            accounts.add_member(db, viewer.principal, answers["new_email"], answers["new_name"],
                                Role(answers["new_role"]), password)  # fmt: skip
        except ProblemError as problem:
            if problem.status not in (409, 422):
                raise
            errors = _person_errors(problem)
    if errors:
        return _admin_page(request, viewer, db, errors=errors, person=answers)
    return see_other("/app/admin", "user-added", "#people")


@router.post("/app/admin/passwords")
def new_password(request: Request, viewer: AdminPost, form: Form, db: DbDep) -> Response:
    """Give a person of the organisation a new password; their sessions end at once."""
    password = forms.text(form, "reset_password")
    chosen = forms.text(form, "reset_user")
    user_id = int(chosen) if re.fullmatch(r"[0-9]{1,9}", chosen) else 0  # an id, never huge
    errors: dict[str, str] = {}
    if user_id <= 0:
        errors["reset_user"] = "Select whose password to set"
    if not password:
        errors["reset_password"] = "Enter the new password"
    if not errors:
        try:
            accounts.reset_member_password(db, viewer.principal, user_id, password)
        except ProblemError as problem:
            if problem.status != 422:
                raise
            errors = {"reset_password": problem.detail.removeprefix("password: ").capitalize()}
    if errors:
        return _admin_page(request, viewer, db, errors=errors)
    return see_other("/app/admin", "password-set", "#people")


@router.post("/app/admin/api-keys")
def create_api_key(request: Request, viewer: AdminPost, form: Form, db: DbDep) -> Response:
    """Make an API key for the organisation; its value is shown on this page, once."""
    name = forms.text(form, "key_name")
    role = forms.text(form, "key_role")
    errors: dict[str, str] = {}
    if not name:
        errors["key_name"] = "Enter a name for the key, such as the system that will use it"
    elif len(name) > 200:
        errors["key_name"] = "The name must be 200 characters or fewer"
    if role not in {value for value, _, _ in KEY_ROLES[viewer.principal.organisation_kind]}:
        errors["key_role"] = "Select the role the key acts in"
    if errors:
        return _admin_page(request, viewer, db, errors=errors, key_name=name, key_role=role)
    made = keys.create_key(db, viewer.principal, ApiKeyCreate(name=name, role=role))
    return _admin_page(request, viewer, db, new_key=made.key, key_name=name, status_code=201)


@router.post("/app/admin/api-keys/{key_id}/revoke")
def revoke_api_key(key_id: ObjectId, viewer: AdminPost, db: DbDep) -> Response:
    """Stop a key working, at once."""
    keys.revoke_key(db, viewer.principal, key_id)
    return see_other("/app/admin", "key-revoked", "#api-keys")


@router.post("/app/admin/audit/verify")
def verify_audit_log(request: Request, viewer: AdminPost, db: DbDep) -> HTMLResponse:
    """Check the audit log now (every event's hash, then the signed checkpoints)."""
    config = checkpoints.anchor_config(db.engine.url)
    result = checkpoints.verify_audit(db, config)
    with db.engine.connect() as connection:
        role = role_report(connection)
    return _admin_page(request, viewer, db, verified={"result": result, "role": role})
