"""CSV files for people never carry a live spreadsheet formula (OWASP CSV injection).

A note ``=HYPERLINK(...)`` or a message ``+SUM(1,2)`` reaches an FOI export's ``record.csv``
as text a spreadsheet shows, not runs; a what-if scenario named like a formula reaches the
comparison CSV the same way. The text stays readable: one ``'`` in front, nothing removed.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app as cli
from api.core.db import Database
from api.core.tables import ReferralPersonal
from api.core.vocabulary import Role
from api.scenarios.service import run_scenarios
from api.web import planner
from matching.csvsafe import FORMULA_TRIGGERS, safe_cell, safe_frame
from tests.api.conftest import World
from tests.api.record.test_foi_api import export_files

HYPERLINK = '=HYPERLINK("http://evil.example/steal","Open the referral")'
SUM = "+SUM(1,2)"
AT = "@SUM(A1:A9)"
DDE = "-2+3+cmd|' /C calc'!A0"


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_no_live_formula(text: str) -> None:
    """No cell of ``text`` starts a formula, unless it is plainly a number."""
    for cell in _cells(text):
        if cell.startswith(FORMULA_TRIGGERS):
            float(cell)  # raises unless the cell is a number such as -0.25


def test_formula_cells_get_a_quote_numbers_and_text_stay_as_they_are() -> None:
    """Cells starting with = + - @, tab, CR or NUL get one leading quote; plain numbers
    (signed too) and ordinary text are unchanged; non-text values keep their type."""
    for formula in (HYPERLINK, SUM, AT, DDE, "\t=1+1", "\r=1+1", "\x00=1", "-", "+1+1"):
        assert safe_cell(formula) == "'" + formula
    for kept in ("-3", "+0.25", "-.5", "1e-3", "LS9", "Ask for Sam", " =1", "", "'=x"):
        assert safe_cell(kept) == kept
    for value in (None, 3, -2.5):
        assert safe_cell(value) == value
    frame = pd.DataFrame(
        {"baseline": [1, "=A1"], "=B2 (diff)": [-0.5, None]},
        index=pd.Index(["+x", "kpi"], name="kpi"),
        dtype=object,
    )
    safe = safe_frame(frame)
    assert list(safe.columns) == ["baseline", "'=B2 (diff)"]
    assert list(safe.index) == ["'+x", "kpi"]
    assert safe.iloc[1, 0] == "'=A1"
    assert safe.iloc[0, 1] == -0.5
    counts = pd.DataFrame({"n": [1, None]}, dtype=object)
    assert [type(v) for v in safe_frame(counts)["n"]] == [int, type(None)]  # not made floats


def test_foi_export_record_csv_carries_no_live_formula(
    client: TestClient, world: World, db: Database
) -> None:
    """Notes and messages that start like formulas reach record.csv with a leading quote and
    every other character kept; record.json keeps the text exactly as written."""
    referral = world.ids["referral_a"]
    with db.write() as session:
        personal = session.get(ReferralPersonal, referral)
        assert personal is not None
        personal.notes = HYPERLINK
    for org, role, body in (("A", Role.CASEWORKER, SUM), ("X", Role.CHARITY, DDE)):
        response = client.post(
            f"/referrals/{referral}/messages", json={"body": body}, headers=world.headers(org, role)
        )
        assert response.status_code == 201, response.text
    files = export_files(client, world, {"referral_id": referral})
    cells = _cells(files["record.csv"])
    for text in (HYPERLINK, SUM, DDE):
        assert "'" + text in cells, text
        assert text not in cells, text
    _assert_no_live_formula(files["record.csv"])
    _assert_no_live_formula(files["redaction-log.csv"])
    texts = [item["text"] for item in json.loads(files["record.json"])["items"]]
    assert {HYPERLINK, SUM, DDE} <= set(texts)


def _result_with_formula_name() -> dict[str, object]:
    """A what-if result on the sample region with a scenario named like a formula."""
    base = planner.sample_problem()
    spec = {
        "settings": {"time_limit": 5},
        "scenario": [{"name": HYPERLINK, "demand": {"factor": 0.5, "seed": 1}}],
    }
    return run_scenarios(base=base, spec=spec)


def test_what_if_comparison_csv_carries_no_live_formula() -> None:
    """The comparison CSV (page download) writes a formula-like scenario name as quoted text
    and keeps negative changes as numbers."""
    text = planner.csv_text(_result_with_formula_name())
    header = next(csv.reader(io.StringIO(text)))
    assert "'" + HYPERLINK in header
    assert "'" + HYPERLINK + " (diff)" in header
    assert HYPERLINK not in header
    _assert_no_live_formula(text)
    assert any(cell.startswith("-") for cell in _cells(text)), "no negative change to check"


def test_scenario_cli_csv_files_carry_no_live_formula(tmp_path: Path) -> None:
    """`foodmatch scenario run --out` writes a formula-like scenario name as quoted text (as
    the page's download does); `scenario sweep --out` writes no live formula either."""
    sample = planner.shipped_path().parent
    toml = tmp_path / "what-if.toml"
    toml.write_text(
        "[base]\n"
        f'referrals = "{(sample / "referrals.csv").as_posix()}"\n'
        f'providers = "{(sample / "providers.csv").as_posix()}"\n'
        "[settings]\ntime_limit = 5\n"
        "[[scenario]]\n"
        f"name = {json.dumps(HYPERLINK)}\n"
        "demand = { factor = 0.5, seed = 1 }\n",
        encoding="utf-8",
    )
    out = tmp_path / "comparison.csv"
    result = CliRunner().invoke(cli, ["scenario", "run", str(toml), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "'" + HYPERLINK in next(csv.reader(io.StringIO(text)))
    _assert_no_live_formula(text)
    swept = tmp_path / "sweep.csv"
    result = CliRunner().invoke(
        cli,
        ["scenario", "sweep", str(toml), "--scenario", HYPERLINK, "--draws", "1",
         "--out", str(swept)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    _assert_no_live_formula(swept.read_text(encoding="utf-8"))
