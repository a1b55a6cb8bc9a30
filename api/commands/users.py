"""`foodmatch users`: deactivate or reactivate a person, set a password, end their sessions.

Each change ends every access token and page session the person had, at once, and is
audited (a password never is). The operator has the database, so any organisation's user can
be named, by e-mail address.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

if TYPE_CHECKING:
    from api.core.db import Database

users_app = typer.Typer(
    help="People's accounts: deactivate, passwords, sessions.", no_args_is_help=True
)

UrlOption = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL (default: DATABASE_URL or ./var)."),
]
EmailArgument = Annotated[str, typer.Argument(help="The person's e-mail address.")]
T = TypeVar("T")


def _run(url: str | None, action: Callable[[Database], T]) -> T:
    """Run ``action`` on the configured database; a refusal becomes one line and exit 1."""
    from api import record
    from api.core.config import get_settings
    from api.core.db import Database
    from api.core.errors import ProblemError

    record.install()
    db = Database.from_url(url or get_settings().database_url)
    try:
        return action(db)
    except ProblemError as exc:
        typer.echo(f"foodmatch users: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()


@users_app.command("deactivate")
def deactivate(email: EmailArgument, database_url: UrlOption = None) -> None:
    """Stop a person signing in; every token and page session of theirs ends at once."""
    from api.auth import accounts

    user = _run(
        database_url, lambda db: accounts.set_active(db, accounts.find_user(db, email).id, False)
    )
    typer.echo(f"Deactivated {user.email}: every session and token of theirs has ended.")


@users_app.command("activate")
def activate(email: EmailArgument, database_url: UrlOption = None) -> None:
    """Let a deactivated person sign in again (their old sessions stay ended)."""
    from api.auth import accounts

    user = _run(
        database_url, lambda db: accounts.set_active(db, accounts.find_user(db, email).id, True)
    )
    typer.echo(f"Activated {user.email}: they can sign in again.")


@users_app.command("set-password")
def set_password(email: EmailArgument, database_url: UrlOption = None) -> None:
    """Give a person a new password (asked twice, not shown); their sessions end at once."""
    from api.auth import accounts

    user = _run(database_url, lambda db: accounts.find_user(db, email))
    password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    _run(database_url, lambda db: accounts.set_password(db, user.id, password))
    typer.echo(f"New password set for {user.email}: every earlier session and token has ended.")


@users_app.command("sign-out")
def sign_out(email: EmailArgument, database_url: UrlOption = None) -> None:
    """End every access token and page session of a person, on every device, at once."""
    from api.auth import accounts

    user = _run(database_url, lambda db: accounts.find_user(db, email))
    _run(database_url, lambda db: accounts.end_sessions(db, user.id))
    typer.echo(f"Signed {user.email} out everywhere.")


def register(app: typer.Typer) -> None:
    """Add the `users` group to the CLI."""
    app.add_typer(users_app, name="users")
