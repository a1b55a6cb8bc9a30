"""``foodmatch sample DIR``: copy the shipped sample region into a folder of your choice.

The sample (a synthetic week of referrals and sites in Leeds, and what-if scenarios on it)
is installed with foodmatch; this puts editable copies where the other commands can be
pointed at them. Exit status: 0 when the files are in place; 2 when a file there already
differs and ``--force`` was not given (nothing is written) or the folder cannot be written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

EXIT_BAD_INPUT = 2
SAMPLE_FILES = ("referrals.csv", "providers.csv", "scenarios.toml", "README.md")
"""The files of the sample region, in the order they are listed."""


def _refuse(message: str) -> typer.Exit:
    print(f"error: nothing written.\n{message}", file=sys.stderr)
    return typer.Exit(EXIT_BAD_INPUT)


def sample(
    folder: Annotated[
        Path,
        typer.Argument(help="folder to write the sample into (made if needed)", show_default=False),
    ],
    force: Annotated[
        bool, typer.Option("--force", help="replace files there that differ from the sample")
    ] = False,
) -> None:
    """Copy the sample region (referrals, providers, scenarios) into FOLDER."""
    from matching.geo import data_dir

    source = data_dir() / "sample"
    if folder.exists() and not folder.is_dir():
        raise _refuse(f"{folder} is a file; give a folder to write the sample into.")
    contents = {name: (source / name).read_bytes() for name in SAMPLE_FILES}
    differ = [
        name
        for name, data in contents.items()
        if (folder / name).exists() and (folder / name).read_bytes() != data
    ]
    if differ and not force:
        verbs = "exists and differs" if len(differ) == 1 else "exist and differ"
        raise _refuse(
            f"{', '.join(differ)} in {folder} already {verbs} from the sample; "
            "add --force to replace, or choose another folder."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in contents.items():
            (folder / name).write_bytes(data)
    except OSError as err:
        raise _refuse(f"cannot write into {folder}: {err.strerror or err}.") from err
    print(f"Sample region written to {folder}: {', '.join(SAMPLE_FILES)}.")
    referrals, providers = folder / "referrals.csv", folder / "providers.csv"
    print(f"Try: foodmatch match {referrals} {providers} --out matches.csv")
    print(f"     foodmatch scenario run {folder / 'scenarios.toml'}")


def register(app: typer.Typer) -> None:
    """Add ``sample`` to the CLI."""
    app.command("sample")(sample)
