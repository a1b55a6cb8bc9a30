"""Templates, the words pages use for codes, and the headers every page is sent with."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import (
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup

from api.core.headers import SECURITY_HEADERS
from api.web.security import Viewer

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"


DIETARY_LABELS = {
    "halal": "Halal",
    "kosher": "Kosher",
    "vegetarian": "Vegetarian",
    "vegan": "Vegan",
    "gluten_free": "Gluten free",
    "dairy_free": "Dairy free",
    "nut_free": "Nut free",
    "diabetic": "Suitable for diabetes",
    "baby": "Baby food and formula",
}

URGENCY_LABELS = {
    "emergency": "Emergency (no food today)",
    "urgent": "Urgent (within 2 days)",
    "standard": "Standard (this week)",
}

STATUS_LABELS = {
    "open": "Waiting for a place",
    "offered": "Offered",
    "accepted": "Accepted",
    "fulfilled": "Food received",
    "declined": "Declined",
    "collected": "Collected",
    "delivered": "Delivered",
    "no_show": "Did not arrive",
    "withdrawn": "Withdrawn",
}

STATUS_TAGS = {
    "open": "govuk-tag--grey",
    "offered": "govuk-tag--blue",
    "accepted": "govuk-tag--green",
    "fulfilled": "govuk-tag--green",
    "declined": "govuk-tag--red",
    "collected": "govuk-tag--green",
    "delivered": "govuk-tag--green",
    "no_show": "govuk-tag--red",
    "withdrawn": "govuk-tag--grey",
}

DECLINE_LABELS = {
    "no_stock": "We have run out of stock",
    "no_capacity": "We have no places left",
    "cannot_meet_dietary": "We cannot meet the dietary needs",
    "out_of_area": "The household is outside our area",
    "household_unreachable": "We cannot reach the household",
    "not_eligible": "The household is not eligible for our service",
    "other": "Another reason",
}

WITHDRAWAL_LABELS = {
    "no_longer_needed": "The household no longer needs food help",
    "helped_elsewhere": "The household has been helped elsewhere",
    "duplicate": "This referral is a duplicate",
    "household_uncontactable": "We cannot contact the household",
    "other": "Another reason",
}

REASON_LABELS = {
    "matched": "Matched",
    "no_provider_in_reach": "No site within reach",
    "dietary_unavailable": "No site has the dietary stock",
    "not_eligible": "Not in any site's service area",
    "capacity_exhausted": "Every site in reach is full",
    "declined_before": "Declined by the site before",
    "not_open": "Placed by another request",
}

ROLE_LABELS = {
    "caseworker": "Caseworker",
    "charity": "Charity",
    "planner": "Planner",
    "foi_officer": "FOI officer",
    "admin": "Administrator",
}

KPI_LABELS = {
    "status": "Engine status",
    "households": "Households referred",
    "people": "People referred",
    "matched_emergency": "Emergency households matched",
    "matched_urgent": "Urgent households matched",
    "matched_standard": "Standard households matched",
    "matched_total": "Households matched",
    "unmatched_emergency": "Emergency households not matched",
    "unmatched_urgent": "Urgent households not matched",
    "unmatched_standard": "Standard households not matched",
    "share_households_served": "Share of households served",
    "share_people_served": "Share of people served",
    "distance_mean_km": "Mean distance (km)",
    "distance_p90_km": "90th percentile distance (km)",
    "distance_max_km": "Longest distance (km)",
    "total_distance_km": "Total distance (km)",
    "capacity_total": "Places offered by all sites",
    "utilisation": "Share of places used",
    "providers_at_capacity": "Sites at capacity",
    "district_served_rate_min": "Lowest district served rate",
    "district_served_rate_max": "Highest district served rate",
    "district_served_rate_spread": "Gap between districts",
    "worst_served_district": "Worst-served district",
}


NOTICES = {
    "signed-out": "You have signed out.",
    "user-activated": "The account has been switched on. The person can sign in again.",
    "user-deactivated": "The account has been switched off. The person's sessions and tokens "
    "ended at once.",
    "user-added": "The person has been added. Give them their first password in person or by "
    "phone, never by email.",
    "password-set": "The new password has been set. The person's sessions and tokens ended at "
    "once.",
    "role-changed": "The role has been changed. It applies from the person's next page.",
    "site-added": "The site has been added. Set its capacity on the Offers and sites page "
    "before households can be offered it.",
    "site-closed": "The site has been closed. No more households will be offered it; offers "
    "it already holds stay for you to answer.",
    "site-opened": "The site has been opened again. Households can be offered it from the next "
    "match.",
    "password-changed": "Your password has been changed. You stay signed in here; every other "
    "session of yours has ended.",
    "password-chosen": "Your password has been set and you are signed in.",
    "key-revoked": "The API key has been revoked. It stopped working at once.",
    "referral-sent": "Referral submitted.",
    "match-run": "Match run finished. The food banks have been sent their offers.",
    "emergency-placed": "Emergency referral submitted and offered a place at once. The food "
    "bank will accept or decline it; this page shows its answer.",
    "emergency-unplaced": "Emergency referral submitted, but no place is free now. It stays "
    "open for the next match run; its history below says why.",
    "placed": "The household has been offered a place. The food bank will accept or decline "
    "it; this page shows its answer.",
    "withdrawn": "Referral withdrawn. Any place it held has been given back.",
    "message-sent": "Message sent.",
    "accepted": "Offer accepted. The household's contact details are shown if they agreed.",
    "declined": "Offer declined. The household will be offered a place elsewhere if one is free.",
    "outcome": "Outcome recorded.",
    "capacity": "This week's capacity has been saved.",
    "declined-same-charity": "Offer declined. The household has been offered a place at "
    "another of your sites instead; that site can accept or decline it.",
    "declined-other-charity": "Offer declined. The household has been offered a place by "
    "another food bank.",
    "declined-waiting": "Offer declined. No other place is free for the household now: it "
    "stays on the council's list for the next match, and the council can see your reason.",
    "capacity-week": "The capacity for that week has been saved.",
    "capacity-copied": "The week before's figures have been copied into this week. Check "
    "them below and change any that are different.",
    "matched": "Matching has run over every waiting referral.",
    "request-logged": "FOI request added to the register.",
    "request-answered": "FOI request marked as answered.",
}
"""Confirmation messages, chosen by a code in the address (never text from the address)."""


def _label(table: dict[str, str]) -> Any:
    def lookup(value: object) -> str:
        key = getattr(value, "value", value)
        return table.get(str(key), str(key).replace("_", " ").capitalize())

    return lookup


def _when(value: datetime | date | None) -> str:
    """A date or time the way GOV.UK writes it: 5 January 2026, 2:30pm."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        hour = value.hour % 12 or 12
        suffix = "am" if value.hour < 12 else "pm"
        return f"{value.day} {value:%B %Y}, {hour}:{value:%M}{suffix}"
    return f"{value.day} {value:%B %Y}"


def _km(value: float | None, approximate: bool | None = None) -> str:
    """A distance as people read it: never "0.0 km", and "about" when from district centres."""
    if value is None:
        return ""
    if approximate:
        shown = "under 1 km" if round(value, 1) < 1 else f"about {value:.1f} km"
        return f"{shown} (approximate: district centre)"
    return "under 0.1 km" if value < 0.05 else f"{value:.1f} km"


DESIGN_SYSTEM = Environment(
    loader=PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
"""The GOV.UK Design System's own macros (``govuk-frontend-jinja``), in an environment of
their own: they read optional parameters that may be absent, which the pages' strict
environment would refuse."""


def govuk(component: str, params: dict[str, Any]) -> Markup:
    """One Design System component (``"input"``, ``"error-summary"``...) rendered from its
    parameters, exactly as its Nunjucks macro would."""
    name = "govuk" + "".join(part.capitalize() for part in component.split("-"))
    module = DESIGN_SYSTEM.get_template(
        f"govuk_frontend_jinja/components/{component}/macro.html"
    ).module
    return Markup(getattr(module, name)(params))


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "svg"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
environment.filters.update(
    dietary=_label(DIETARY_LABELS),
    urgency=_label(URGENCY_LABELS),
    status=_label(STATUS_LABELS),
    status_tag=lambda v: STATUS_TAGS.get(str(getattr(v, "value", v)), "govuk-tag--grey"),
    decline=_label(DECLINE_LABELS),
    withdrawal=_label(WITHDRAWAL_LABELS),
    reason=_label(REASON_LABELS),
    role=_label(ROLE_LABELS),
    kpi=_label(KPI_LABELS),
    when=_when,
    km=_km,
)


def _summary_item(pair: list[str], anchors: dict[str, str]) -> dict[str, str]:
    """An error summary's line: the message, linking to its field."""
    name, message = pair
    return {"text": message, "href": "#" + anchors.get(name, name)}


def _width_class(width: str) -> str:
    """The Design System's class for a text box's width ("two-thirds", "width-10")."""
    if not width:
        return ""
    if width.startswith("width-"):
        return f"govuk-input--{width}"
    return f"govuk-!-width-{width}"


def _nav_item(link: tuple[str, str, bool]) -> dict[str, object]:
    """A service navigation link: where, its words, and whether it is the page shown."""
    href, text, active = link
    return {"href": href, "text": text, "active": active}


environment.filters.update(summary_item=_summary_item, width_class=_width_class, nav_item=_nav_item)
environment.globals.update(
    govuk=govuk,
    DIETARY_LABELS=DIETARY_LABELS,
    URGENCY_LABELS=URGENCY_LABELS,
    DECLINE_LABELS=DECLINE_LABELS,
    DECLINE_OPTIONS=[(k, v, "") for k, v in DECLINE_LABELS.items()],
    WITHDRAWAL_OPTIONS=[(k, v, "") for k, v in WITHDRAWAL_LABELS.items()],
)


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` as a page for ``viewer`` with the standard headers."""
    errors = context.get("errors") or {}
    context.setdefault("errors", errors)
    context.setdefault("notice", NOTICES.get(request.query_params.get("done", "")))
    context.setdefault("title", "foodmatch")
    body = environment.get_template(template).render(
        request=request, viewer=viewer, path=request.url.path, **context
    )
    return HTMLResponse(
        body, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})}
    )


ERROR_PAGES = {
    400: (
        "Sorry, that could not be done",
        "The web address has a value this page cannot use. Go back and try again.",
    ),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. If you followed a link, the item "
        "may not exist or may belong to another organisation.",
    ),
    405: ("Page not found", "This page cannot be used that way. Go back and try again."),
    409: (
        "Sorry, that could not be done",
        "Someone changed this at the same time, so nothing was changed. Go back, reload the "
        "page and try again.",
    ),
    413: (
        "What you sent is too large",
        "Nothing was saved. Send at most 1 MB at a time: for a file, split it or remove what "
        "is not needed, then try again.",
    ),
    500: (
        "Sorry, there is a problem with the service",
        "Nothing was changed. Try again later.",
    ),
    503: ("Sorry, the service is busy", "Nothing was changed. Try again in a moment."),
}
"""Heading and plain-words message of each error page, by status."""

GENERIC = "Nothing was changed. Go back and try again."


def error_page(
    request: Request,
    status: int,
    detail: str = "",
    headers: dict[str, str] | None = None,
    *,
    viewer: Viewer | None = None,
    message: str | None = None,
) -> HTMLResponse:
    """The error page for ``status`` (no database read: it must work when nothing else does).

    ``message`` replaces the standard words of the status; ``detail`` (the API's wording) is
    not shown, since it is written for programs.
    """
    fallback = ERROR_PAGES[500] if status >= 500 else (ERROR_PAGES[400][0], GENERIC)
    heading, standard = ERROR_PAGES.get(status, fallback)
    return render(
        request,
        "error.html",
        viewer,
        status_code=status,
        headers=headers,
        title=heading,
        heading=heading,
        message=standard if message is None else message,
    )
