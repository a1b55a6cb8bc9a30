"""``foodmatch match`` and ``foodmatch demo`` as a user runs them (real subprocesses)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from matching.io import read_problem

ROOT = Path(__file__).resolve().parents[3]
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
        "--time-limit",
        "300",
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
    for label in ("emergency matched", "mean km", "not matched: every site in reach full"):
        assert label in done.stdout
    assert "capacity_exhausted" not in done.stdout  # words, not the contract's codes
    assert (tmp_path / "sample.csv").exists()


def test_default_budget_grows_with_the_instance_and_is_reported(tmp_path: Path) -> None:
    """Without --time-limit the run gets the documented default (5 s for 1,500 referrals)."""
    from matching.engine.budget import default_time_limit

    summary = tmp_path / "s.json"
    done = run(
        "match", SAMPLE / "referrals.csv", SAMPLE / "providers.csv", "--out",
        tmp_path / "m.csv", "--summary-json", summary,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["time_limit"] == default_time_limit(1500) == 5.0
    assert "time limit 5 s, the default" in done.stderr
    assert default_time_limit(10_000) == 7.5 and default_time_limit(10**6) == 120.0


def test_progress_goes_to_stderr_when_it_is_not_a_terminal(tmp_path: Path) -> None:
    """Progress lines (elapsed time, stage) reach a piped stderr while the engine works."""
    done = run(
        "match", SAMPLE / "referrals.csv", SAMPLE / "providers.csv", "--out",
        tmp_path / "m.csv", "--progress-every", "0.05",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("[") and " s] " in ln]
    assert lines, done.stderr


def test_gap_must_be_a_fraction(tmp_path: Path) -> None:
    """--gap outside (0, 1) is bad input (exit 2, nothing written)."""
    out = tmp_path / "m.csv"
    done = run("match", SAMPLE / "referrals.csv", SAMPLE / "providers.csv", "--out", out,
               "--gap", "5")  # fmt: skip
    assert done.returncode == 2 and "--gap" in done.stderr
    assert not out.exists()


def test_explain_file_has_one_explanation_per_referral(tmp_path: Path) -> None:
    """--explain writes referral_id, provider_id, reason, explanation in input order."""
    explained = tmp_path / "why.csv"
    done = run(
        "match", SAMPLE / "referrals.csv", SAMPLE / "providers.csv", "--out",
        tmp_path / "m.csv", "--explain", explained,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(explained.read_text(encoding="utf-8").splitlines()))
    matches = list(csv.DictReader((tmp_path / "m.csv").read_text(encoding="utf-8").splitlines()))
    assert list(rows[0]) == ["referral_id", "provider_id", "reason", "explanation"]
    assert [r["referral_id"] for r in rows] == [m["referral_id"] for m in matches]
    assert [r["reason"] for r in rows] == [m["reason"] for m in matches]
    assert all(r["explanation"] for r in rows)


@pytest.mark.slow
def test_ctrl_c_writes_the_best_answer_with_status_interrupted(tmp_path: Path) -> None:
    """A real SIGINT mid-search: exit 0, every referral written, status ``interrupted``, and
    the answer holds every limit of the contract."""
    from benchmarks.families import generate
    from benchmarks.summary import check, read_matches_csv

    refs, provs = generate("london", "10k", 1).write(tmp_path)
    out, summary = tmp_path / "m.csv", tmp_path / "s.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [*FOODMATCH, "match", str(refs), str(provs), "--out", str(out), "--summary-json",
         str(summary), "--time-limit", "300", "--progress-every", "0.1"],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until the search itself is under way
        if line.startswith("[") and ("flow" in line or "grouping" in line):
            break
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=120)
    assert proc.returncode == 0, rest
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["status"] == "interrupted"
    problem = read_problem(refs, provs)
    answer = read_matches_csv(out)
    assert len(answer) == len(problem.referrals)
    verdict = check(problem, answer)
    assert verdict.valid, verdict.errors
    assert sum(verdict.matched.values()) == data["matched_total"]


def test_demo_explains_the_trade_off_in_plain_words(tmp_path: Path) -> None:
    """The demo says in one sentence what the optimum gains and gives up, names the method
    without solver names, and shows the technical detail only with --verbose."""
    done = run("demo", "--out", tmp_path / "sample.csv")
    assert done.returncode == 0, done.stderr
    assert "more emergency" in done.stdout and "places go to the more urgent first" in done.stdout
    assert "the best possible assignment, proven" in done.stdout
    assert "GLOP" not in done.stdout and "SCIP" not in done.stdout
    verbose = run("demo", "--out", tmp_path / "sample.csv", "--verbose")
    assert "SCIP" in verbose.stdout
