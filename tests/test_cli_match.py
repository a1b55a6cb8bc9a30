"""``foodmatch match`` and ``foodmatch demo`` as a user runs them (real subprocesses)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from matching.io import read_problem

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
FOODMATCH = [sys.executable, "-m", "api.cli"]


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [*FOODMATCH, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_match_writes_contract_csv_and_summary(tmp_path: Path) -> None:
    """The sample region matches; matches.csv has one row per referral in input order."""
    out, summary = tmp_path / "matches.csv", tmp_path / "summary.json"
    done = run(
        "match",
        SAMPLE / "referrals.csv",
        SAMPLE / "providers.csv",
        "--out",
        out,
        "--summary-json",
        summary,
    )
    assert done.returncode == 0, done.stderr
    assert "status: optimal" in done.stdout
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    problem = read_problem(SAMPLE / "referrals.csv", SAMPLE / "providers.csv")
    assert [r["referral_id"] for r in rows] == [r.referral_id for r in problem.referrals]
    assert list(rows[0]) == ["referral_id", "provider_id", "mode", "distance_km", "reason"]
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["status"] == "optimal"
    matched = [r for r in rows if r["reason"] == "matched"]
    assert sum(data["matched"].values()) == len(matched)
    assert abs(sum(float(r["distance_km"]) for r in matched) - data["total_distance_km"]) < 1e-6
    assert all(len(r["distance_km"].split(".")[1]) == 3 for r in matched)
    assert {"read", "candidates", "build", "solve", "write"} <= set(data["timings"])


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    """Every problem is printed with file, row and column; exit 2; no output file appears."""
    refs = write(
        tmp_path / "referrals.csv",
        "referral_id,postcode,household_size,urgency\nR1,ZZ99,2,urgent\nR2,LS9,50,urgent\n",
    )
    provs = write(
        tmp_path / "providers.csv", "provider_id,name,postcode,capacity\nP1,Hope,LS9,-1\n"
    )
    out = tmp_path / "matches.csv"
    done = run("match", refs, provs, "--out", out, "--summary-json", tmp_path / "s.json")
    assert done.returncode == 2
    assert not out.exists() and not (tmp_path / "s.json").exists()
    assert "referrals.csv, row 2, column 'postcode'" in done.stderr
    assert "referrals.csv, row 3, column 'household_size'" in done.stderr
    assert "providers.csv, row 2, column 'capacity'" in done.stderr


def test_time_limit_must_be_positive(tmp_path: Path) -> None:
    """A nonsensical time limit is bad input (exit 2)."""
    done = run(
        "match",
        SAMPLE / "referrals.csv",
        SAMPLE / "providers.csv",
        "--out",
        tmp_path / "m.csv",
        "--time-limit",
        "0",
    )
    assert done.returncode == 2
    assert "--time-limit" in done.stderr


def test_empty_batch_is_a_result(tmp_path: Path) -> None:
    """Header-only files give an empty matches.csv and exit 0."""
    refs = write(tmp_path / "r.csv", "referral_id,postcode,household_size,urgency\n")
    provs = write(tmp_path / "p.csv", "provider_id,name,postcode,capacity\n")
    done = run("match", refs, provs, "--out", tmp_path / "m.csv")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m.csv").read_text(encoding="utf-8").strip() == (
        "referral_id,provider_id,mode,distance_km,reason"
    )


def test_demo_compares_with_first_come_first_served(tmp_path: Path) -> None:
    """The demo prints both answers side by side and writes the matches."""
    done = run("demo", "--out", tmp_path / "sample.csv")
    assert done.returncode == 0, done.stderr
    assert "optimal (foodmatch)" in done.stdout and "first-come-first-served" in done.stdout
    for label in ("emergency matched", "mean km", "unmatched: capacity_exhausted"):
        assert label in done.stdout
    assert (tmp_path / "sample.csv").exists()
