"""`foodmatch directory import SOURCE`: take in a council's ORUK feed or sites spreadsheet.

SOURCE is an ORUK 3.0 JSON file (one service, a page, or a list of pages), an ORUK API base
URL (paged through ``/services``), or a CSV/XLSX file in the matching contract's providers
columns. Exit 0 with a report; 2 on bad input, listing every problem, with nothing changed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from api.directory.schemas import ImportReport

directory_app = typer.Typer(
    help="The council's directory: import Open Referral UK feeds and spreadsheets.",
    no_args_is_help=True,
)

UrlOption = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL (default: DATABASE_URL or ./var)."),
]


def _summary(report: ImportReport) -> list[str]:
    verb = "would be" if report.dry_run else "were"
    lines = [
        f"{report.source} ({report.format}{', the whole directory' if report.complete else ''}): "
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.closed)} closed, "
        f"{len(report.skipped)} skipped, {report.unchanged} unchanged"
        + (" (dry run: nothing was changed)" if report.dry_run else "")
    ]
    for org in report.organisations:
        lines.append(f"  charity {org.name}: {org.action}")
    for label, items in (("added", report.added), ("updated", report.updated)):
        for item in items:
            extra = f" ({', '.join(item.changed)})" if item.changed else ""
            lines.append(f"  {label} {item.key} {item.name}{extra}")
    for label, items in (("closed", report.closed), ("skipped", report.skipped)):
        for item in items:
            lines.append(f"  {label} {item.key} {item.name}: {item.reason}")
    for note in report.capacity:
        reason = f": {note.reason}" if note.reason else ""
        lines.append(f"  capacity {note.key}: {note.action} {note.parcels} parcels{reason}")
    if report.import_id is not None:
        lines.append(f"Report stored as import {report.import_id}; the changes {verb} audited.")
    return lines


@directory_app.command("import")
def import_command(
    source: Annotated[str, typer.Argument(help="A JSON, CSV or XLSX file, or an ORUK API URL.")],
    organisation: Annotated[
        str | None,
        typer.Option(
            "--organisation",
            help="The charity that runs the sites when the source does not say (required for "
            "spreadsheets; created if new).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; change nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    database_url: UrlOption = None,
) -> None:
    """Import a directory feed or spreadsheet; report added, updated, closed and skipped sites."""
    from api import record
    from api.core.config import get_settings
    from api.core.db import Database
    from api.directory.service import import_source
    from api.directory.sources import DirectoryInputError, read_path

    record.install()
    db = Database.from_url(database_url or get_settings().database_url)
    try:
        report = import_source(
            db, None, read_path(source), organisation=organisation, dry_run=dry_run
        )
    except DirectoryInputError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        typer.echo("\n".join(_summary(report)))


def register(app: typer.Typer) -> None:
    """Add the ``directory`` command group."""
    app.add_typer(directory_app, name="directory")
