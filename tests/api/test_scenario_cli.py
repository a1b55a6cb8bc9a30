"""`foodmatch scenario run|sweep`: the planner's command line for what-if scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = """
[base]
referrals = "data/referrals.csv"
providers = "data/providers.csv"

[settings]
min_district_households = 2

[[scenario]]
name = "hope-hub-closes"
close = ["P017"]

[[scenario]]
name = "surge"
demand = { factor = 2.0, seed = 9 }

[[scenario]]
name = "pop-up"
open = { name = "Pop-up", postcode = "LS11 5AA", capacity = 15 }

[[scenario]]
name = "both"
combine = ["surge", "pop-up"]
"""


@pytest.fixture()
def region(tmp_path: Path) -> Path:
    """A scenario file beside a 50-household slice of the Leeds sample (paths relative)."""
    data = tmp_path / "data"
    data.mkdir()
    lines = (REPO / "data/sample/referrals.csv").read_text().splitlines(keepends=True)
    (data / "referrals.csv").write_text("".join(lines[:51]))
    (data / "providers.csv").write_text((REPO / "data/sample/providers.csv").read_text())
    path = tmp_path / "plan" / "scenarios.toml"
    path.parent.mkdir()
    path.write_text(SCENARIOS.replace('"data/', '"../data/'))
    return path


def test_run_prints_the_comparison_and_writes_csv(region: Path, tmp_path: Path) -> None:
    """The table lists every scenario beside the baseline; the CSV has one row per KPI."""
    out = tmp_path / "comparison.csv"
    result = CliRunner().invoke(app, ["scenario", "run", str(region), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("baseline", "hope-hub-closes", "surge", "pop-up", "both", "matched_emergency"):
        assert name in result.stdout
    header, *rows = out.read_text().splitlines()
    assert header == (
        "kpi,baseline,hope-hub-closes,hope-hub-closes (diff),surge,surge (diff),"
        "pop-up,pop-up (diff),both,both (diff)"
    )
    assert [r.split(",")[0] for r in rows][:3] == ["status", "households", "people"]
    assert "households,50,50,+0,100,+50,50,+0,100,+50" in rows


@pytest.mark.slow
def test_parallel_run_writes_identical_bytes(region: Path, tmp_path: Path) -> None:
    """--parallel 2 (a local Dask cluster) writes byte-for-byte the serial CSV."""
    serial, parallel = tmp_path / "serial.csv", tmp_path / "parallel.csv"
    runner = CliRunner()
    first = runner.invoke(app, ["scenario", "run", str(region), "--out", str(serial)])
    second = runner.invoke(
        app, ["scenario", "run", str(region), "--parallel", "2", "--out", str(parallel)]
    )
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert serial.read_bytes() == parallel.read_bytes()


def test_bad_scenario_file_exits_2_naming_line_and_key(region: Path, tmp_path: Path) -> None:
    """A wrong value exits with status 2, names file, line, scenario and key, writes nothing."""
    region.write_text(region.read_text().replace("factor = 2.0", "factor = 0"))
    out = tmp_path / "comparison.csv"
    result = CliRunner().invoke(app, ["scenario", "run", str(region), "--out", str(out)])
    assert result.exit_code == 2
    assert (
        f"{region}, line 15, scenario 'surge', key 'demand.factor': expected a number > 0"
        in result.stderr
    )
    assert not out.exists()


def test_unknown_site_exits_2(region: Path) -> None:
    """Closing a site the base does not have is refused before anything runs."""
    region.write_text(region.read_text().replace('"P017"', '"P999"'))
    result = CliRunner().invoke(app, ["scenario", "run", str(region)])
    assert result.exit_code == 2
    assert "scenario 'hope-hub-closes', key 'close': unknown provider 'P999'" in result.stderr


def test_sweep_prints_the_spread_and_writes_draws(region: Path, tmp_path: Path) -> None:
    """A sweep prints mean and percentiles per KPI and writes one CSV row per draw."""
    out = tmp_path / "sweep.csv"
    args = ["scenario", "sweep", str(region), "--scenario", "surge", "--draws", "3"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "surge: 3 draws (seed 0)" in result.stdout
    assert "p95" in result.stdout
    lines = out.read_text().splitlines()
    assert lines[0].startswith("draw,seed,status,households")
    assert len(lines) == 4


def test_sweep_of_a_fixed_scenario_is_refused(region: Path) -> None:
    """Sweeping a scenario that does not resample demand exits 2 and says why."""
    args = ["scenario", "sweep", str(region), "--scenario", "pop-up", "--draws", "3"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "does not scale demand" in result.stderr
