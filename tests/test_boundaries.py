"""The house's boundary rules, checked rather than hoped for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_matching_is_pure() -> None:
    """Importing the whole engine loads no web framework, ORM or api module."""
    code = (
        "import sys, matching.io, matching.geo, matching.engine, matching.candidates, "
        "matching.explain, matching.baseline, matching.report\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'sqlalchemy', 'api', 'starlette', 'uvicorn')]\n"
        "print(','.join(bad))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == ""


def test_matching_never_imports_api() -> None:
    """No module under matching/ imports the service package."""
    offenders = [
        path.name
        for path in (ROOT / "matching").glob("*.py")
        if any(
            line.strip().startswith(("import api", "from api"))
            for line in path.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert offenders == []


def test_shipped_postcode_table_carries_attribution() -> None:
    """The OS-derived postcode table ships with its Open Government Licence attribution."""
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert "Contains OS data © Crown copyright and database right" in readme
