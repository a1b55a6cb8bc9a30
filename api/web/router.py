"""Every page route, gathered from the role modules of :mod:`api.web.pages`.

Pages only read the form, call the same service function as the JSON API and render a
template. Errors a person can cause come back as the page again with a GOV.UK error summary
and the message at the field; nothing is changed. Not in the OpenAPI schema (these are
pages, not an API).
"""

from __future__ import annotations

from fastapi import APIRouter

from api.web.deps import WebRoute as WebRoute
from api.web.pages import account, admin, caseworker, charity, foi, matchruns, planner, sign_in

router = APIRouter(route_class=WebRoute, include_in_schema=False)
# The role routers' own routes, in this order (a fixed path such as .../referrals/new comes
# before .../referrals/{referral_id}): ``router.routes`` lists every page route itself.
for _pages in (sign_in, account, caseworker, charity, planner, matchruns, foi, admin):
    router.routes.extend(_pages.router.routes)
