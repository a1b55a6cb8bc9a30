"""Sign-in (OAuth2 password flow), the caller's identity, and API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import accounts, keys, throttle
from api.auth.tokens import Principal, issue_token, require_roles
from api.core.deps import AUTHED, DbDep, ObjectId, SettingsDep, problems
from api.core.errors import ProblemDetails, ProblemError
from api.core.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, TokenRead, WhoAmI
from api.core.vocabulary import Role

router = APIRouter(tags=["auth"])
ANY_ROLE = tuple(Role)
Anyone = Annotated[Principal, Depends(require_roles(*ANY_ROLE))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ProblemDetails,
        "description": (
            "Too many failed sign-ins for this e-mail address or from this client address; "
            "nothing was checked. Wait the `Retry-After` seconds."
        ),
        "headers": {
            "Retry-After": {
                "description": "Seconds until a sign-in will be checked again.",
                "schema": {"type": "integer"},
            }
        },
    }
}


def too_many(exc: throttle.TooManyAttempts) -> ProblemError:
    """The 429 problem for a refused sign-in (the same words for account and address)."""
    return ProblemError(
        429,
        "Too many failed sign-ins; nothing was checked. Try again in "
        f"{exc.minutes} minute{'s' if exc.minutes != 1 else ''}.",
        headers={"Retry-After": str(exc.retry_after)},
    )


def limiter_down() -> ProblemError:
    """The 503 problem when the sign-in counts cannot be reached (sign-in is refused)."""
    return ProblemError(
        503,
        "Sign-in is unavailable: the store of sign-in limits cannot be reached. Retry shortly.",
        headers={"Retry-After": "5"},
    )


@router.post(
    "/auth/token",
    response_model=TokenRead,
    summary="Sign in: e-mail and password for a bearer token",
    responses={**problems(401, 422, 503), **TOO_MANY},
)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    db: DbDep,
    settings: SettingsDep,
) -> TokenRead:
    """Exchange an e-mail (``username``) and password for a short-lived bearer token.

    Failed sign-ins are limited per e-mail address and per client address (429 with
    ``Retry-After``; while locked even the right password is refused).
    """
    try:
        user = accounts.sign_in(
            db, settings, form.username, form.password, throttle.client_address(request)
        )
    except throttle.TooManyAttempts as exc:
        raise too_many(exc) from None
    except throttle.LimiterUnavailable:
        raise limiter_down() from None
    if user is None:
        raise ProblemError(401, "Wrong e-mail or password.", headers={"WWW-Authenticate": "Bearer"})
    access, lifetime = issue_token(user, settings)
    return TokenRead(
        access_token=access,
        expires_in=lifetime,
        role=user.role,
        organisation_id=user.organisation_id,
    )


@router.get("/auth/me", response_model=WhoAmI, summary="Who am I", responses=problems(*AUTHED))
def me(principal: Anyone) -> WhoAmI:
    """The caller's organisation and role, as the service sees them."""
    return WhoAmI(
        organisation_id=principal.organisation_id,
        organisation_kind=principal.organisation_kind.value,
        role=principal.role,
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
    )


@router.post(
    "/api-keys",
    response_model=ApiKeyCreated,
    status_code=201,
    summary="Make an API key for your organisation (shown once)",
    responses=problems(*AUTHED),
)
def create_api_key(body: ApiKeyCreate, principal: Admin, db: DbDep) -> ApiKeyCreated:
    """A new key for system-to-system use; copy it now, it is never shown again."""
    return keys.create_key(db, principal, body)


@router.get(
    "/api-keys",
    response_model=list[ApiKeyRead],
    summary="Your organisation's API keys",
    responses=problems(*AUTHED),
)
def list_api_keys(principal: Admin, db: DbDep) -> list[ApiKeyRead]:
    """Every key of your organisation (without the secret)."""
    return keys.list_keys(db, principal)


@router.post(
    "/api-keys/{key_id}/revoke",
    response_model=ApiKeyRead,
    summary="Revoke an API key",
    responses=problems(*AUTHED, 404, 409),
)
def revoke_api_key(key_id: ObjectId, principal: Admin, db: DbDep) -> ApiKeyRead:
    """Stop a key working at once."""
    return keys.revoke_key(db, principal, key_id)
