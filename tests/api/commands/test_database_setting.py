"""A database that cannot be opened: one clear line naming the setting and why, exit 1.

The closed port is found at run time (a socket is bound to a free port, then closed), never
a fixed number.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.conftest import PG_ADMIN_URL

REPO = Path(__file__).resolve().parents[3]


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _foodmatch(
    args: list[str], database_url: str, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a new process with ``DATABASE_URL`` set."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "FOODMATCH_JWT_SECRET": "cli-test-secret-that-is-long-enough-for-hs256",
    }
    env.pop("FOODMATCH_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _assert_one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_serve_with_a_closed_port_says_so_in_one_line(tmp_path: Path) -> None:
    """`foodmatch serve` with DATABASE_URL at a closed port: one line naming DATABASE_URL,
    the refused host:port, exit status 1; the password is not shown."""
    port = _closed_port()
    url = f"postgresql+psycopg://foodmatch:s3cret-pass@127.0.0.1:{port}/foodmatch"
    result = _foodmatch(["serve", "--port", str(_closed_port())], url, tmp_path)
    _assert_one_clear_line(result, "DATABASE_URL", "connection refused", f"127.0.0.1:{port}")
    assert "s3cret-pass" not in result.stderr
    assert result.stdout == ""  # it never said it was listening


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "verify"],
        ["privacy", "export", "--referral", "1"],
        ["privacy", "erase", "--referral", "1", "--yes"],
        ["retention", "run"],
        ["db", "upgrade"],
        ["db", "seed-demo"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_every_database_command_with_a_closed_port_says_so_in_one_line(
    args: list[str], tmp_path: Path
) -> None:
    """Each command that opens the database fails the same way: one line, exit status 1."""
    port = _closed_port()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/foodmatch"
    result = _foodmatch(args, url, tmp_path)
    _assert_one_clear_line(result, "DATABASE_URL", "connection refused", f"127.0.0.1:{port}")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("nosuchkind://user@host/db", ("unknown kind of database",)),
        ("not a database url", ("is not a database URL",)),
        ("sqlite:////proc/no-such-folder/foodmatch.db", ("cannot create the folder",)),
    ],
    ids=["scheme", "unparsable", "sqlite-folder"],
)
def test_bad_database_urls_are_named_in_one_line(
    url: str, words: tuple[str, ...], tmp_path: Path
) -> None:
    """An unknown scheme, text that is no URL, or a SQLite folder that cannot be made."""
    result = CliRunner().invoke(app, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    for word in ("--database-url", *words):
        assert word in lines[0], (word, lines[0])


def test_unknown_database_on_a_running_server_is_named(pg_template: str, tmp_path: Path) -> None:
    """A PostgreSQL server that is up but has no such database: the line names the database."""
    name = f"fm_missing_{uuid.uuid4().hex[:8]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    result = _foodmatch(["audit", "verify"], url, tmp_path)
    _assert_one_clear_line(result, "DATABASE_URL", f'database "{name}" does not exist')


def test_a_reachable_database_still_works(tmp_path: Path) -> None:
    """The check lets a good URL through: `db upgrade` on a fresh SQLite file succeeds."""
    url = f"sqlite:///{tmp_path / 'var' / 'foodmatch.db'}"
    result = CliRunner().invoke(app, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
