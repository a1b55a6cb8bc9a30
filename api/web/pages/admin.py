"""The administrator's pages: the organisation's people, sites, API keys, the audit log and
retention.

Each action calls the same service as the JSON API (``api.auth.accounts``, ``api.auth.links``,
``api.auth.keys``, ``api.sites.service``, ``api.record.checkpoints``,
``api.record.retention``), limited to the admin's own organisation and audited there: a
person, site or key of another organisation is not found. A new API key and a one-time
sign-in link are shown once, on the page that made them (pages are never cached), and stored
only as hashes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.auth import accounts, keys, links
from api.core.deps import DbDep, ObjectId
from api.core.errors import ProblemError
from api.core.schemas import ApiKeyCreate, ProviderCreate
from api.core.vocabulary import OrganisationKind, Role
from api.record import checkpoints, retention
from api.record.dbrole import role_report
from api.record.retention_due import retention_preview as preview
from api.sites import service as sites
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
    made_link: dict[str, Any] | None = None,
    site: dict[str, str] | None = None,
    erased: list[int] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The admin's page: people (a new sign-in link shown once), sites, API keys (a new one
    shown once), the audit log and retention."""
    principal = viewer.principal
    council = principal.organisation_kind is OrganisationKind.COUNCIL
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
        last_check=checkpoints.last_check(db),
        person=person or {},
        made_link=made_link,
        link_days=links.LINK_DAYS,
        council=council,
        sites=[] if council else sites.organisation_sites(db, principal),
        site=site or {},
        retention=preview(db, principal.organisation_id) if council else None,
        erased=erased,
    )


def _link_shown(request: Request, made: links.MadeLink, email: str, purpose: str) -> dict[str, Any]:
    """What the page says about a link just made (its address is shown only this once)."""
    return {"url": f"{request.base_url}app/welcome/{made.token}", "email": email,
            "expires_at": made.expires_at, "purpose": purpose}  # fmt: skip


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


FIRST_PASSWORD = ("link", "password")
"""How a new person gets their first password: a one-time link, or one the admin sets."""


@router.post("/app/admin/users")
def add_person(request: Request, viewer: AdminPost, form: Form, db: DbDep) -> Response:
    """Add a person to the organisation: with a one-time link to choose their own password
    (shown once, on the page that answers), or with a first password the admin gives them."""
    answers = {name: forms.text(form, name) for name in ("new_name", "new_email", "new_role",
                                                         "new_first")}  # fmt: skip
    how = answers["new_first"] or "link"
    password = forms.password(form, "new_password")
    errors: dict[str, str] = {}
    if not answers["new_email"]:
        errors["new_email"] = "Enter their email address"
    if answers["new_role"] not in {r.value for r in accounts.ROLES_BY_KIND[
            viewer.principal.organisation_kind]}:  # fmt: skip
        errors["new_role"] = "Select their role"
    if how not in FIRST_PASSWORD:
        errors["new_first"] = "Select how they get their first password"
    elif how == "password" and not password:
        errors["new_password"] = "Enter a first password for them"
    made = None
    if not errors:
        role = Role(answers["new_role"])
        try:
            if how == "link":
                made = links.invite_member(db, viewer.principal, answers["new_email"],
                                           answers["new_name"], role)  # fmt: skip
            else:
                accounts.add_member(db, viewer.principal, answers["new_email"],
                                    answers["new_name"], role, password)  # fmt: skip
        except ProblemError as problem:
            if problem.status not in (409, 422):
                raise
            errors = _person_errors(problem)
    if errors:
        return _admin_page(request, viewer, db, errors=errors, person=answers)
    if made is not None:
        shown = _link_shown(request, made, answers["new_email"].strip().lower(), links.INVITATION)
        return _admin_page(request, viewer, db, made_link=shown, status_code=201)
    return see_other("/app/admin", "user-added", "#people")


@router.post("/app/admin/passwords")
def new_password(request: Request, viewer: AdminPost, form: Form, db: DbDep) -> Response:
    """A forgotten password: a one-time link for the person to choose a new one, or a new
    password the admin sets. Either way their old password and sessions end at once."""
    password = forms.password(form, "reset_password")
    chosen = forms.text(form, "reset_user")
    how = forms.text(form, "reset_how") or "link"
    user_id = int(chosen) if re.fullmatch(r"[0-9]{1,9}", chosen) else 0  # an id, never huge
    errors: dict[str, str] = {}
    if user_id <= 0:
        errors["reset_user"] = "Select whose password to set"
    if how not in FIRST_PASSWORD:
        errors["reset_how"] = "Select how they get their new password"
    elif how == "password" and not password:
        errors["reset_password"] = "Enter the new password"
    if not errors and how == "link":
        made = links.reset_link(db, viewer.principal, user_id)
        email = next(p.email for p in accounts.organisation_members(db, viewer.principal)
                     if p.id == user_id)  # fmt: skip
        shown = _link_shown(request, made, email, links.RESET)
        return _admin_page(request, viewer, db, made_link=shown, status_code=201)
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


SITE_FIELDS = {"name": "site_name", "postcode": "site_postcode",
               "service_area": "site_area", "delivery_radius_km": "site_delivery"}  # fmt: skip
"""The service's field names and the form's."""


@router.post("/app/admin/sites")
def add_site(request: Request, viewer: AdminPost, form: Form, db: DbDep) -> Response:
    """Add a site to the charity: a name, a postcode, the districts it serves and how far it
    delivers; its capacity is set on the charity's page."""
    answers = {name: forms.text(form, name) for name in SITE_FIELDS.values()}
    if viewer.principal.organisation_kind is not OrganisationKind.CHARITY:
        raise ProblemError(404, "Only a charity has sites.")
    errors: dict[str, str] = {}
    if not answers["site_name"]:
        errors["site_name"] = "Enter the site's name"
    if not answers["site_postcode"]:
        errors["site_postcode"] = "Enter the site's postcode"
    delivery = answers["site_delivery"] or "0"
    try:
        radius = float(delivery)
    except ValueError:
        errors["site_delivery"] = "Enter how far it delivers as a number of km, like 3 or 0"
        radius = 0.0
    if not errors:
        area = [a.strip() for a in answers["site_area"].replace(";", ",").split(",") if a.strip()]
        try:
            body = ProviderCreate(name=answers["site_name"], postcode=answers["site_postcode"],
                                  service_area=area, delivery_radius_km=radius)  # fmt: skip
            sites.create_provider(db, viewer.principal, body)
        except ValidationError as problem:
            for item in problem.errors():
                field = SITE_FIELDS.get(str(item["loc"][0]) if item["loc"] else "", "site_name")
                message = str(item["msg"]).removeprefix("Value error, ")
                errors.setdefault(field, message[:1].upper() + message[1:])
        except ProblemError as problem:
            if problem.status != 422:
                raise
            for found in problem.errors or []:
                field = SITE_FIELDS.get(found.field, "site_postcode")
                errors.setdefault(field, found.message[:1].upper() + found.message[1:])
            if not errors:
                errors["site_postcode"] = problem.detail
    if errors:
        return _admin_page(request, viewer, db, errors=errors, site=answers)
    return see_other("/app/admin", "site-added", "#sites")


@router.post("/app/admin/sites/{site_id}/open")
def set_site_open(site_id: ObjectId, viewer: AdminPost, form: Form, db: DbDep) -> Response:
    """Close a site (no more households are offered it) or open it again."""
    open_ = forms.text(form, "open") == "yes"
    sites.set_site_open(db, viewer.principal, site_id, open_)
    return see_other("/app/admin", "site-opened" if open_ else "site-closed", "#sites")


@router.post("/app/admin/retention/run")
def run_retention(request: Request, viewer: AdminPost, db: DbDep) -> HTMLResponse:
    """Erase the personal data of the council's referrals past the retention period now."""
    if viewer.principal.organisation_kind is not OrganisationKind.COUNCIL:
        raise ProblemError(404, "Only a council holds referrals to erase.")
    erased = retention.run_retention(db, organisation_id=viewer.principal.organisation_id,
                                     actor_user_id=viewer.principal.user_id)  # fmt: skip
    return _admin_page(request, viewer, db, erased=erased)


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
    checkpoints.note_check(db, viewer.principal, result)
    with db.engine.connect() as connection:
        role = role_report(connection)
    return _admin_page(request, viewer, db, verified={"result": result, "role": role})
