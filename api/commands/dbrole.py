"""`foodmatch db create-role`, and the audit log's guard that `foodmatch serve` runs first.

On PostgreSQL the service should run as a role that cannot change the audit log (not a
superuser, not the tables' owner, no UPDATE/DELETE/TRUNCATE on ``audit_events``) and with a
checkpoint store outside the database; ``serve`` refuses to start otherwise, unless
``--demo`` or ``--insecure-audit`` (then it warns). Heavy imports stay inside the functions.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer


def create_role(
    role: Annotated[str, typer.Argument(help="Name of the service's role, e.g. foodmatch_app.")],
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="The OWNER's URL (the role that ran `db upgrade`; needs CREATEROLE). "
            "Default: DATABASE_URL.",
        ),
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option(
            "--password-env",
            help="Name of an environment variable holding the new role's password "
            "(default: no password, for peer or certificate sign-in).",
        ),
    ] = None,
) -> None:
    """Create the role the service runs as, with only what it needs (run after every upgrade).

    It may read and change the service's tables, but only read and add audit events, only
    read the schema version, and it is not a superuser. Idempotent: run it again after each
    `foodmatch db upgrade` so new tables get their grants.
    """
    from sqlalchemy.exc import DBAPIError

    from api.core.config import get_settings
    from api.core.db import make_engine
    from api.record.dbrole import RoleError, grant_service_role

    password = None
    if password_env is not None:
        password = os.environ.get(password_env)
        if not password:
            typer.echo(f"--password-env {password_env}: that variable is not set or empty",
                       err=True)  # fmt: skip
            raise typer.Exit(2)
    engine = make_engine(database_url or get_settings().database_url)
    try:
        with engine.begin() as connection:
            done = grant_service_role(connection, role, password)
    except RoleError as exc:
        typer.echo(f"create-role: {exc}", err=True)
        raise typer.Exit(2) from exc
    except DBAPIError as exc:
        first = str(exc.orig or exc).strip().splitlines()[0]
        typer.echo(f"create-role: the database refused: {first} (nothing was changed)", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    for statement in done:
        typer.echo(statement)
    typer.echo(f"Role {role} is ready: serve with DATABASE_URL naming {role}.")


def audit_guard(url: str, *, allow: bool) -> None:
    """Check the database role and the checkpoint store before serving.

    Prints where checkpoints go. Each problem is printed; unless ``allow``, any problem
    stops the command (exit 1) before the server starts.
    """
    from sqlalchemy.engine import make_url

    from api.core.db import make_engine
    from api.record.checkpoints import CheckpointError, writer_for
    from api.record.dbrole import RoleError, role_report

    problems: list[str] = []
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            report = role_report(connection)
    except RoleError as exc:
        problems.append(str(exc))
        report = None
    finally:
        engine.dispose()
    if report is not None and report.problems():
        problems.append(
            f"{report.detail()}. Serve as a role made with `foodmatch db create-role` "
            "(docs/api.md, Database role)"
        )
    writer = writer_for(url)
    if writer is None:
        if make_url(url).get_backend_name() != "sqlite":
            problems.append(
                "no audit checkpoint store: set FOODMATCH_AUDIT_CHECKPOINTS to a directory on "
                "this server, outside the database, so a rewrite or a removed tail of the "
                "audit log can be detected"
            )
    else:
        try:
            signer = writer.prepare()
        except (CheckpointError, OSError) as exc:
            problems.append(f"audit checkpoints cannot be written: {exc}")
        else:
            typer.echo(
                f"audit checkpoints: {writer.store.file} (signed with {signer.key_id}, "
                f"key {writer.key_file})"
            )
    for problem in problems:
        typer.echo(f"{'warning' if allow else 'refusing to serve'}: {problem}", err=True)
    if problems and not allow:
        typer.echo("(--insecure-audit serves anyway: for development only)", err=True)
        raise typer.Exit(1)
