"""The ``foodmatch`` command line.

Each area registers its own commands from ``api/commands/``; heavy imports stay inside
the commands so ``foodmatch match`` starts fast and never loads the web stack.
"""

from __future__ import annotations

import typer

from api.commands import audit, directory, geo, matchcmd, sample, scenario, server, users

app = typer.Typer(
    name="foodmatch",
    help="Food-assistance referral matching: optimal, explained, FOI-ready.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

matchcmd.register(app)
sample.register(app)
scenario.register(app)
server.register(app)
audit.register(app)
directory.register(app)
geo.register(app)
users.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
