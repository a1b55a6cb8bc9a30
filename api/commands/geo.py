"""`foodmatch geo`: the postcode directory full postcodes are placed by, and councils' areas.

``geo import FILE`` loads the ONS Postcode Directory (CSV, or the zip as published) or OS
Code-Point Open (the zip as published), replacing any directory loaded before; a bad file
changes nothing (exit 2, saying what and where). ``geo status`` says what is loaded.
``geo area COUNCIL [DISTRICTS...]`` shows or sets the districts and postcode areas a council
covers; a referral outside them needs the caseworker to confirm the postcode.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from api.core.db import Database

geo_app = typer.Typer(
    help="Postcodes: import a full postcode directory, and set each council's area.",
    no_args_is_help=True,
)

UrlOption = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL (default: DATABASE_URL or ./var)."),
]


def _database(url: str | None) -> Database:
    from api import record
    from api.core.config import get_settings
    from api.core.db import Database

    record.install()
    return Database.from_url(url or get_settings().database_url)


@geo_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="ONSPD CSV or zip, or Code-Point Open zip.")],
    database_url: UrlOption = None,
) -> None:
    """Load a full postcode directory; full postcodes then get their own centroids."""
    from api.geo.formats import GeoInputError
    from api.geo.service import import_directory

    db = _database(database_url)

    def progress(count: int) -> None:
        if count % 100_000 < 5_000:
            print(f"  {count:,} postcodes read", file=sys.stderr, flush=True)

    try:
        report = import_directory(db, path, progress)
    except GeoInputError as exc:
        typer.echo(f"Nothing was changed: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    if report.postcodes == 0:
        typer.echo(f"{path.name} holds no postcodes; the directory is now empty.", err=True)
        raise typer.Exit(2)
    typer.echo(
        f"{report.source} ({report.format}): {report.postcodes:,} postcodes in "
        f"{len(report.areas)} postcode areas: {report.live:,} live, {report.terminated:,} "
        f"terminated, {report.without_position:,} without a position (placed at their "
        f"district's centre); {report.seconds:.1f} s."
    )


@geo_app.command("status")
def status_command(database_url: UrlOption = None) -> None:
    """Say whether a full postcode directory is loaded, and how large it is."""
    from api.geo.service import directory_size

    db = _database(database_url)
    try:
        with db.read() as session:
            size = directory_size(session)
    finally:
        db.dispose()
    if size:
        typer.echo(f"A postcode directory of {size:,} postcodes is loaded.")
    else:
        typer.echo(
            "No postcode directory is loaded: postcodes are placed at their district's centre "
            "and distances are approximate. Load one with: foodmatch geo import FILE"
        )


@geo_app.command("area")
def area_command(
    council: Annotated[str, typer.Argument(help="The council's name, as stored.")],
    entries: Annotated[
        list[str] | None,
        typer.Argument(help="Districts (LS9) and postcode areas (LS); none: show the area."),
    ] = None,
    anywhere: Annotated[
        bool, typer.Option("--anywhere", help="Clear the area: referrals from anywhere.")
    ] = False,
    database_url: UrlOption = None,
) -> None:
    """Show or set the districts and postcode areas a council covers."""
    from api.geo.service import set_area, show_area

    db = _database(database_url)
    try:
        if entries or anywhere:
            area = set_area(db, council, [] if anywhere else entries or [])
        else:
            area = show_area(db, council)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    typer.echo(f"{council}: " + (", ".join(area) if area else "anywhere (no area set)"))


def register(app: typer.Typer) -> None:
    """Add the ``geo`` command group."""
    app.add_typer(geo_app, name="geo")
