"""`foodmatch scenario run|sweep`: the planner's command line for what-if scenarios."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from matching.scenarios import PLANNING_EXTRA, SCHEDULER_ENV, runner
from tests.matching.scenarios.cluster import dask_cluster, free_port, task_prefixes

REPO = Path(__file__).resolve().parents[3]
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
UNCERTAIN = """
[[scenario]]
name = "uncertain-winter"
description = "Winter demand up by somewhere between 10% and 40%, at a third of the capacity."
capacity = { factor = 0.35 }
demand = { factor = { distribution = "uniform", low = 1.1, high = 1.4 }, seed = 5 }
"""

BLOCK_DASK = """
import importlib.abc
import sys


class _NoDask(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoDask())
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


@pytest.fixture()
def uncertain(region: Path) -> Path:
    """The same file with one more scenario: demand up by a uniform 10% to 40%."""
    region.write_text(region.read_text() + UNCERTAIN)
    return region


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


def test_sweep_of_uncertain_demand_shows_spread_and_where(uncertain: Path, tmp_path: Path) -> None:
    """Drawn demand levels vary the households; the output says how often and where, in words."""
    draws_csv, districts_csv = tmp_path / "draws.csv", tmp_path / "districts.csv"
    args = ["scenario", "sweep", str(uncertain), "--scenario", "uncertain-winter", "--draws", "6"]
    out = ["--out", str(draws_csv), "--districts-out", str(districts_csv)]
    result = CliRunner().invoke(app, [*args, "--seed", "4", *out])
    assert result.exit_code == 0, result.output
    assert "uncertain-winter: 6 draws (seed 4)" in result.stdout
    assert "demand factor: uniform between 1.1 and 1.4" in result.stdout
    assert "emergency household" in result.stdout and "Today " in result.stdout
    header, *rows = draws_csv.read_text().splitlines()
    assert header.startswith("draw,seed,demand_factor,status,households")
    households = {int(r.split(",")[4]) for r in rows}
    factors = [float(r.split(",")[2]) for r in rows]
    assert len(rows) == 6 and len(households) > 1  # not one vertical line
    assert all(1.1 <= f <= 1.4 for f in factors)
    assert all(55 <= h <= 70 for h in households)  # 50 households x 1.1 to 1.4
    district_header = districts_csv.read_text().splitlines()[0]
    assert district_header.startswith("district,households_mean,baseline_unmet_emergency")
    again = CliRunner().invoke(app, [*args, "--seed", "4", "--out", str(tmp_path / "again.csv")])
    assert again.exit_code == 0
    assert (tmp_path / "again.csv").read_bytes() == draws_csv.read_bytes()


def test_run_of_an_uncertain_scenario_uses_the_median_and_says_so(uncertain: Path) -> None:
    """`run` matches an uncertain scenario at its median factor and points to `sweep`."""
    result = CliRunner().invoke(app, ["scenario", "run", str(uncertain)])
    assert result.exit_code == 0, result.output
    assert "note: uncertain-winter states uncertainty" in result.stderr
    assert "foodmatch scenario sweep" in result.stderr
    households = next(line for line in result.stdout.splitlines() if "│ households" in line)
    assert households.rstrip("│ ").endswith("63 (+13)")  # 50 x the median 1.25, rounded half up


def test_missing_dask_says_which_extra_to_install(region: Path, tmp_path: Path) -> None:
    """Without dask installed, --parallel prints one line naming the extra; serial still works."""
    blocker = tmp_path / "no-dask"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCK_DASK)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), str(REPO)])}
    env.pop(SCHEDULER_ENV, None)
    command = [sys.executable, "-m", "api.cli", "scenario", "sweep", str(region)]
    command += ["--scenario", "surge", "--draws", "2"]
    parallel = subprocess.run(
        [*command, "--parallel", "2"], env=env, capture_output=True, text=True, check=False
    )
    assert parallel.returncode == 1
    assert parallel.stderr.strip().splitlines() == [
        "error: running on Dask (--parallel, --scheduler) needs the planning extra: "
        + PLANNING_EXTRA
    ]
    serial = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert serial.returncode == 0, serial.stderr
    assert "surge: 2 draws (seed 0)" in serial.stdout


def test_unreachable_scheduler_is_one_line(region: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A FOODMATCH_DASK_SCHEDULER with nothing behind it exits 1 with one line, no traceback."""
    monkeypatch.setattr(runner, "CONNECT_TIMEOUT_S", 1.0)
    address = f"tcp://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["scenario", "run", str(region)], env={SCHEDULER_ENV: address})
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot reach the Dask scheduler at '{address}'")


@pytest.mark.slow
def test_scheduler_address_setting_sends_the_sweep_there(uncertain: Path, tmp_path: Path) -> None:
    """With FOODMATCH_DASK_SCHEDULER set, the draws run on that scheduler; same CSV as serial."""
    serial, remote = tmp_path / "serial.csv", tmp_path / "remote.csv"
    args = ["scenario", "sweep", str(uncertain), "--scenario", "uncertain-winter", "--draws", "3"]
    first = CliRunner().invoke(app, [*args, "--out", str(serial)], env={SCHEDULER_ENV: ""})
    assert first.exit_code == 0, first.output
    with dask_cluster(tmp_path) as address:
        second = CliRunner().invoke(
            app, [*args, "--out", str(remote)], env={SCHEDULER_ENV: address}
        )
        ran = task_prefixes(address)
    assert second.exit_code == 0, second.output
    assert "run_one" in ran
    assert serial.read_bytes() == remote.read_bytes()
