"""One clear line, exit status 1, when a command's database cannot be opened."""

from __future__ import annotations

import os

import typer


def setting_name(option_value: str | None) -> str:
    """Which setting gave the database URL: the option, or the environment variable."""
    if option_value:
        return "--database-url"
    if not os.environ.get("DATABASE_URL") and os.environ.get("FOODMATCH_DATABASE_URL"):
        return "FOODMATCH_DATABASE_URL"
    return "DATABASE_URL"


def require_database(url: str, option_value: str | None = None) -> None:
    """Exit with status 1 and one line on standard error unless ``url`` can be opened."""
    from api.core.db import DatabaseUnavailable, check_database

    try:
        check_database(url, setting_name(option_value))
    except DatabaseUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
