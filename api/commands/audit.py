"""`foodmatch audit`, `foodmatch privacy` and `foodmatch retention`: the record from the shell.

``audit verify`` checks the chain and the signed checkpoints kept outside the database and
exits 1 naming what is wrong, so it can run from cron (``--incremental`` starts from the
latest verified checkpoint); ``audit checkpoint`` starts or adds one by hand. The privacy
commands act on any organisation's household (the operator has the database) and are
audited like their admin endpoints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from api.core.db import Database
    from api.record.checkpoints import AnchorConfig, AuditVerification
    from api.record.dbrole import RoleReport

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
    from api import record
    from api.commands.dbcheck import require_database
    from api.core import db
    from api.core.config import get_settings

    found = url or get_settings().database_url
    require_database(found, url)
    record.install()
    return db.Database.from_url(found)


CheckpointsOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoints",
        help="Checkpoint store: a directory, its checkpoints.jsonl, or a service log "
        "(default: FOODMATCH_AUDIT_CHECKPOINTS, or beside a SQLite file).",
    ),
]
PublicKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--public-key",
        exists=True,
        dir_okay=False,
        help="Verify with this public key (PEM) instead of the signing key.",
    ),
]


def _anchor(url: str, checkpoints: Path | None, public_key: Path | None) -> AnchorConfig:
    from api.record.checkpoints import anchor_config

    return anchor_config(url, store=checkpoints, public_key_file=public_key)


def _url(database_url: str | None) -> str:
    from api.core.config import get_settings

    return database_url or get_settings().database_url


@audit_app.command("verify")
def verify(
    database_url: UrlOption = None,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="Start from the latest verified checkpoint instead of event 1.",
        ),
    ] = False,
    checkpoints: CheckpointsOption = None,
    public_key: PublicKeyOption = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record/--no-record",
            help="After a pass, append a verified checkpoint (needs the signing key).",
        ),
    ] = True,
    require_anchor: Annotated[
        bool,
        typer.Option(
            "--require-anchor",
            help="Also exit 1 when no checkpoint store is configured.",
        ),
    ] = False,
    all_signatures: Annotated[
        bool,
        typer.Option(
            "--check-all-signatures",
            help="Check every checkpoint's signature, not only those the answer depends on.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON (as GET /audit/verify).")
    ] = False,
) -> None:
    """Check the hash chain and the signed checkpoints; exit 1 naming what is wrong."""
    from api.record.checkpoints import CheckpointError, verify_audit

    url = _url(database_url)
    db = _database(database_url)
    try:
        config = _anchor(url, checkpoints, public_key)
        result = verify_audit(
            db, config, incremental=incremental, record=record, all_signatures=all_signatures
        )
        role = _role(db)
    except CheckpointError as exc:
        raise _fail(str(exc), 1) from exc
    finally:
        db.dispose()
    _report(result, role, as_json=as_json)
    if not result.ok or (require_anchor and result.status.value == "not_configured"):
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def checkpoint(database_url: UrlOption = None, checkpoints: CheckpointsOption = None) -> None:
    """Verify the whole chain, then append a verified checkpoint of its head.

    Also starts the checkpoints of a chain that has none yet (its events up to now are taken
    as found, and said so).
    """
    from api.record.checkpoints import CheckpointError, verify_audit

    url = _url(database_url)
    db = _database(database_url)
    try:
        config = _anchor(url, checkpoints, None)
        if config.store is None:
            raise _fail(
                "no checkpoint store is configured: set FOODMATCH_AUDIT_CHECKPOINTS or pass "
                "--checkpoints DIR",
                1,
            )
        result = verify_audit(db, config, adopt=True)
    except CheckpointError as exc:
        raise _fail(str(exc), 1) from exc
    finally:
        db.dispose()
    _report(result, None, as_json=False)
    if not result.ok:
        raise typer.Exit(1)
    if result.status.value == "nothing_to_anchor" and result.recorded is not None:
        typer.echo(
            f"Started checkpoints in {result.store}: events 1-{result.chain.head_id} were "
            "checked against themselves only (nothing vouched for them before now)."
        )


@audit_app.command("public-key")
def public_key_command(
    database_url: UrlOption = None, checkpoints: CheckpointsOption = None
) -> None:
    """Print the public key that checks the checkpoints (safe to publish), and its id."""
    from api.record.checkpoints import CheckpointError, key_id, load_signing_key, public_key_pem

    config = _anchor(_url(database_url), checkpoints, None)
    if config.key_file is None:
        raise _fail("no checkpoint store or key is configured (FOODMATCH_AUDIT_KEY_FILE)", 1)
    try:
        key = load_signing_key(config.key_file, create=False).public_key()
    except CheckpointError as exc:
        raise _fail(str(exc), 1) from exc
    typer.echo(public_key_pem(key), nl=False)
    typer.echo(f"key id: {key_id(key)}", err=True)


def _role(db: Database) -> RoleReport | None:
    from api.record.dbrole import RoleError, role_report

    try:
        with db.engine.connect() as connection:
            return role_report(connection)
    except RoleError:
        return None


def _report(result: AuditVerification, role: RoleReport | None, *, as_json: bool) -> None:
    """Print a verification: JSON, or a first line people can read and how it was checked."""
    from api.record.schemas import VerifyRead

    if as_json:
        typer.echo(VerifyRead.from_result(result, role).model_dump_json(indent=2))
        return
    chain = result.chain
    out = not result.ok
    if not chain.ok:
        typer.echo(f"BROKEN at event {chain.first_broken_id}: {chain.detail}", err=True)
        typer.echo(f"{chain.checked} events before it verified.", err=True)
    elif not result.ok:
        typer.echo(f"BROKEN ({result.status.value}): {result.detail}", err=True)
    elif result.status.value == "not_configured":
        typer.echo(f"OK (NOT ANCHORED): {result.detail}; head hash {chain.head_hash}")
    else:
        typer.echo(f"OK: {result.detail}; head hash {chain.head_hash}")
    for problem in result.problems[1:] if result.problems else ():
        typer.echo(f"  also: {problem}", err=True)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"How: {result.method}", err=out)
    if role is not None:
        typer.echo(f"Database role: {role.detail()}.", err=out)
    if result.recorded is not None:
        typer.echo(f"Recorded a verified checkpoint of event {result.recorded.event_id}.")


@audit_app.command("reindex")
def reindex(database_url: UrlOption = None) -> None:
    """Re-index every note, decision and audit event for FOI search (after bulk imports, or
    to give events indexed by an earlier version their plain-words text)."""
    from api.record.indexing import reindex_all

    db = _database(database_url)
    try:
        with db.write() as session:
            count = reindex_all(session)
    finally:
        db.dispose()
    typer.echo(f"Indexed {count} notes, decisions and audit events.")


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
    from api.core.errors import ProblemError
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
    from api.core.errors import ProblemError
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
    from api.core.tables import utcnow
    from api.record.retention import due_for_erasure, run_retention
    from api.record.settings import get_record_settings

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
