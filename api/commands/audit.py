"""`foodmatch audit`, `foodmatch privacy` and `foodmatch retention`: the record from the shell.

``audit verify`` exits 1 naming the first broken event, so it can run from cron; the privacy
commands act on any organisation's household (the operator has the database) and are
audited like their admin endpoints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from api.db import Database

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
privacy_app = typer.Typer(help="Right to erasure and subject access.", no_args_is_help=True)
retention_app = typer.Typer(help="Erase personal data after the retention period.")

UrlOption = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL (default: DATABASE_URL or ./var)."),
]
ReferralOption = Annotated[int, typer.Option("--referral", min=1, help="The referral's id.")]


def _database(url: str | None) -> Database:
    """The configured database (imported lazily so `foodmatch --help` stays fast)."""
    from api import db
    from api.commands.dbcheck import require_database
    from api.config import get_settings

    found = url or get_settings().database_url
    require_database(found, url)
    return db.Database.from_url(found)


@audit_app.command("verify")
def verify(database_url: UrlOption = None) -> None:
    """Check the hash chain; exit 1 naming the first broken event."""
    from api.record.audit import verify_chain

    db = _database(database_url)
    try:
        with db.read() as session:
            result = verify_chain(session)
    finally:
        db.dispose()
    if not result.ok:
        typer.echo(f"BROKEN at event {result.first_broken_id}: {result.detail}", err=True)
        typer.echo(f"{result.checked} events before it verified.", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: {result.detail}; head hash {result.head_hash}")


@audit_app.command("reindex")
def reindex(database_url: UrlOption = None) -> None:
    """Re-index every note and decision for FOI search (after bulk imports)."""
    from api.record.indexing import reindex_all

    db = _database(database_url)
    try:
        with db.write() as session:
            count = reindex_all(session)
    finally:
        db.dispose()
    typer.echo(f"Indexed {count} notes and decisions.")


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@privacy_app.command("erase")
def erase(
    referral: ReferralOption,
    database_url: UrlOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase one household's personal data (right to erasure). Cannot be undone."""
    from api.problems import ProblemError
    from api.record.retention import erase_household
    from api.record.tables import ErasureReason

    if not yes:
        typer.confirm(f"Erase the personal data of referral {referral}? This cannot be undone",
                      abort=True)  # fmt: skip
    db = _database(database_url)
    try:
        with db.write() as session:
            done = erase_household(
                session,
                referral_id=referral,
                reason=ErasureReason.REQUEST,
                actor_user_id=None,
                organisation_id=None,
                actor_label="cli",
            )
    except ProblemError as exc:
        raise _fail(exc.detail) from exc
    finally:
        db.dispose()
    typer.echo(
        f"Erased referral {referral}: {done.messages_redacted} messages and "
        f"{done.documents_redacted} search documents redacted; audit event {done.audit_event_id}."
    )


@privacy_app.command("export")
def export(
    referral: ReferralOption,
    database_url: UrlOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write JSON here (default: stdout).")
    ] = None,
) -> None:
    """Subject access: everything held about one household, as JSON (audited)."""
    from api.problems import ProblemError
    from api.record.retention import subject_access_report

    db = _database(database_url)
    try:
        with db.write() as session:
            report = subject_access_report(
                session, referral, actor_user_id=None, organisation_id=None
            )
    except ProblemError as exc:
        raise _fail(exc.detail) from exc
    finally:
        db.dispose()
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"Wrote the subject access report for referral {referral} to {output}.")


@retention_app.command("run")
def run(
    database_url: UrlOption = None,
    months: Annotated[
        int | None, typer.Option(min=1, help="Override FOODMATCH_RETENTION_MONTHS (default 6).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list who is due.")] = False,
) -> None:
    """Erase the personal data of referrals closed longer ago than the retention period."""
    from api.record.retention import due_for_erasure, run_retention
    from api.record.settings import get_record_settings
    from api.tables import utcnow

    period = months or get_record_settings().retention_months
    db = _database(database_url)
    try:
        if dry_run:
            with db.read() as session:
                due = due_for_erasure(session, now=utcnow(), months=period)
            typer.echo(f"{len(due)} referrals due for erasure: {due}")
            return
        erased = run_retention(db, months=period)
    finally:
        db.dispose()
    typer.echo(f"Erased the personal data of {len(erased)} referrals: {erased}")


def register(app: typer.Typer) -> None:
    """Add the audit, privacy and retention command groups."""
    app.add_typer(audit_app, name="audit")
    app.add_typer(privacy_app, name="privacy")
    app.add_typer(retention_app, name="retention")
