"""`foodmatch serve` and `foodmatch db upgrade|seed-demo`: run the service, prepare its database.

Heavy imports (FastAPI, SQLAlchemy, uvicorn) stay inside the commands so other commands start
fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.commands import dbrole


def _sample(name: str) -> Path:
    """A file of the shipped sample region (``data/sample``)."""
    from matching.geo import data_dir

    return data_dir() / "sample" / name


db_app = typer.Typer(help="Prepare the service's database.", no_args_is_help=True)


def _database_url(url: str | None) -> str:
    """The URL to use (the option, else the settings), once it is known to open."""
    from api.commands.dbcheck import require_database
    from api.core.config import get_settings

    found = url or get_settings().database_url
    require_database(found, url)
    return found


def _upgrade(url: str) -> None:
    from api.core.migrate import upgrade

    upgrade(url)


def _seed(url: str, referrals: Path, providers: Path) -> list[tuple[str, str, str, str]]:
    from api import record
    from api.core.db import Database
    from api.demo.seed import seed_demo

    record.install()
    db = Database.from_url(url)
    try:
        sign_ins = seed_demo(db, referrals, providers)
    finally:
        db.dispose()
    return [(s.email, s.password, s.role, s.organisation) for s in sign_ins]


def _print_sign_ins(rows: list[tuple[str, str, str, str]]) -> None:
    typer.echo("Demo sign-ins (POST /auth/token, or the web pages):")
    for email, password, role, organisation in rows:
        typer.echo(f"  {email:<32} {password:<16} {role:<12} {organisation}")


UrlOption = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL (default: DATABASE_URL or ./var)."),
]
ReferralsOption = Annotated[
    Path | None,
    typer.Option("--referrals", exists=True, dir_okay=False, help="Referrals CSV (sample)."),
]
ProvidersOption = Annotated[
    Path | None,
    typer.Option("--providers", exists=True, dir_okay=False, help="Providers CSV (sample)."),
]


@db_app.command("upgrade")
def upgrade_command(database_url: UrlOption = None) -> None:
    """Create or upgrade the database schema to the latest version."""
    url = _database_url(database_url)
    _upgrade(url)
    typer.echo("Database schema is up to date.")


@db_app.command("seed-demo")
def seed_demo_command(
    database_url: UrlOption = None,
    referrals: ReferralsOption = None,
    providers: ProvidersOption = None,
) -> None:
    """Load the sample region with demo organisations and users (upgrades the schema first)."""
    url = _database_url(database_url)
    _upgrade(url)
    rows = _seed(url, referrals or _sample("referrals.csv"), providers or _sample("providers.csv"))
    _print_sign_ins(rows)


def _check_secret(demo: bool) -> None:
    """Stop (one line, exit 1) unless the token secret is fit to sign with; ``--demo`` makes
    a random one for this run instead (its workers inherit it)."""
    import os
    import secrets

    from api.core.config import SECRET_ADVICE, SECRET_VARIABLE, get_settings, secret_problem

    problem = secret_problem(get_settings().jwt_secret)
    if problem is None:
        return
    if not demo:
        typer.echo(f"foodmatch serve: {problem}: {SECRET_ADVICE}.", err=True)
        raise typer.Exit(1)
    os.environ[SECRET_VARIABLE] = secrets.token_urlsafe(48)
    get_settings.cache_clear()
    typer.echo(f"Demo: {problem}, so this run signs with a random secret (sign-ins end with it).")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the sample region and print demo sign-ins.")
    ] = False,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    insecure_audit: Annotated[
        bool,
        typer.Option(
            "--insecure-audit",
            help="Serve even as a database role that can change the audit log, or without a "
            "checkpoint store (development only).",
        ),
    ] = False,
) -> None:
    """Run the service (uvicorn), creating or upgrading the database schema first."""
    import os

    import uvicorn

    from api.core.config import get_settings

    _check_secret(demo)
    trusted_proxies = get_settings().trusted_proxies.strip()
    url = _database_url(None)
    _upgrade(url)
    if demo:
        _print_sign_ins(_seed(url, _sample("referrals.csv"), _sample("providers.csv")))
    dbrole.audit_guard(url, allow=demo or insecure_audit)
    typer.echo(f"foodmatch listening on http://{host}:{port} (docs at /docs)")
    os.environ.setdefault("DATABASE_URL", url)
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        # X-Forwarded-For names the client only when it comes from a configured proxy.
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=trusted_proxies or None,
    )


def register(app: typer.Typer) -> None:
    """Add `serve` and the `db` group (upgrade, seed-demo, create-role) to the CLI."""
    app.command("serve")(serve)
    db_app.command("create-role")(dbrole.create_role)
    app.add_typer(db_app, name="db")
