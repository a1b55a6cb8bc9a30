"""The record registers its SQLAlchemy hooks only when asked to (``api.record.install``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

HOOKS = (
    "from sqlalchemy import Engine, event\n"
    "from sqlalchemy.orm import Session\n"
    "from api.record import indexing\n"
    "from api.record.checkpoints import writer\n"
    "hooks = [\n"
    "    event.contains(Session, 'after_flush', indexing._after_flush),\n"
    "    event.contains(Engine, 'after_execute', indexing._after_execute),\n"
    "    event.contains(Session, 'after_commit', writer._checkpoint_after_commit),\n"
    "    event.contains(Session, 'after_soft_rollback', writer._forget_rolled_back),\n"
    "]\n"
)


def _run(code: str) -> str:
    """Run ``code`` in a fresh interpreter from the repository; its output."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return done.stdout.strip()


def test_importing_the_record_registers_no_hook() -> None:
    """Every module of the record imports without touching SQLAlchemy's global events."""
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / "api" / "record").rglob("*.py")
    )
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    assert _run(code + HOOKS + "print(any(hooks))") == "False"


def test_install_registers_every_hook() -> None:
    """``install`` registers the indexing and checkpoint hooks, and may be called again."""
    code = HOOKS.replace("hooks = [", "import api.record\napi.record.install()\nhooks = [")
    code += "api.record.install()\nprint(all(hooks))\n"
    assert _run(code) == "True"
