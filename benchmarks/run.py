"""Run the engine benchmarks end to end and write the results into ``docs/benchmarks.md``.

For each instance size: generate the instance files (``benchmarks/results/<size>/``, not
committed), then run, each in its own process so wall time and peak memory are its own:

- the engine through the real command line, ``foodmatch match ... --summary-json``;
- the first-come-first-served baseline (``python -m benchmarks.fcfs``);
- the naive staged CP-SAT model (``python -m benchmarks.staged_cpsat``), capped in time and
  skipped above a pair count it cannot hold in memory here.

Every answer is checked against the contract by :func:`benchmarks.summary.check`
(recomputed distances, re-counted limits). Then the GAP instances are solved by the
engine's assignment core and compared with the published bounds.

Usage::

    python -m benchmarks.run                      # every family (8 seeds at 2k and 10k, 2 at
                                                  # 50k) and the GAP set: about an hour
    python -m benchmarks.run --quick              # 2 seeds at 2k and 10k, a few GAP instances
    python -m benchmarks.run --families london --seeds 10k=3 --no-gap
    python -m benchmarks.run --sizes 2k 10k --no-families   # generate.py's instances too
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import gap as gap_bench
from benchmarks.generate import BENCH_SPECS, RESULTS_DIR, describe, generate, load_outcodes
from benchmarks.summary import check, read_matches_csv

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks.md"

ENGINE_TIME_LIMIT: dict[str, float | None] = {
    "2k": None,
    "10k": 7.5,
    "50k": 45.0,
    "50k-unit": None,
}
"""``--time-limit`` passed to ``foodmatch match`` per size (None: run to proven optimality).
The limits leave room inside the issue's end-to-end budgets (10 s for 10k, 60 s for 50k) for
start-up, reading, explanations and writing; the engine reports its bounds when it stops."""
HARD_TIMEOUT = 900.0
"""Any single run still going after this many seconds is stopped and reported as such."""
STAGED_MEMORY_LIMIT = 8 * 1024**3
"""Address-space cap for the staged CP-SAT process, so it cannot starve a shared machine."""
QUICK_GAP = ("b05100", "c10200", "d10100", "e10100", "d20200")


@dataclass
class Measured:
    """One child process: how it ended, its wall time and its peak resident memory."""

    returncode: int | None
    wall: float
    peak_rss_mb: float
    timed_out: bool
    stderr_tail: str


def measure(
    cmd: Sequence[str], label: str, *, timeout: float, memory_limit: int | None = None
) -> Measured:
    """Run ``cmd`` to completion, measuring wall time and peak RSS of that child alone.

    Its output goes to ``benchmarks/results/logs/<label>.stdout`` / ``.stderr``.
    """
    out_dir = RESULTS_DIR / "logs"
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", label)
    err_path = out_dir / f"{stem}.stderr"

    def limit() -> None:
        if memory_limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    with err_path.open("wb") as err, (out_dir / f"{stem}.stdout").open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, preexec_fn=limit, cwd=REPO)
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(timeout, stop)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    tail = err_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    return Measured(proc.returncode, wall, usage.ru_maxrss / 1024, timed_out.is_set(), tail)


def foodmatch_command() -> list[str]:
    """The installed ``foodmatch`` console script (or the module, if not installed)."""
    script = Path(sys.executable).parent / "foodmatch"
    if script.exists():
        return [str(script)]
    found = shutil.which("foodmatch")
    return [found] if found else [sys.executable, "-m", "api.cli"]


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = "unknown"
    with Path("/proc/cpuinfo").open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout.strip()
    from importlib.metadata import version

    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "cpu": cpu,
        "memory": f"{mem_kb / 1024**2:.1f} GiB",
        "python": platform.python_version(),
        "ortools": version("ortools"),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _load_json(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def bench_size(
    name: str, *, engine_limit: float | None, staged_limit: float | None, staged_max_arcs: int
) -> dict[str, Any]:
    """Generate one instance and run the engine, the baseline and the staged model on it."""
    spec = BENCH_SPECS[name]
    instance = generate(spec, load_outcodes())
    folder = RESULTS_DIR / name
    for stale in folder.glob("*.json"):
        stale.unlink()
    ref_csv, prov_csv = instance.write(folder)
    facts = describe(instance)
    print(f"[{name}] {facts['referrals']} referrals x {facts['providers']} providers", flush=True)
    load_before = os.getloadavg()[0]

    runs: dict[str, Any] = {}
    engine_json, matches_csv = folder / "engine.json", folder / "matches.csv"
    cmd = [*foodmatch_command(), "match", str(ref_csv), str(prov_csv), "--out", str(matches_csv)]
    cmd += ["--summary-json", str(engine_json)]
    limit = engine_limit
    if limit is not None:
        cmd += ["--time-limit", str(limit)]
    measured = measure(cmd, f"{name}-engine", timeout=HARD_TIMEOUT)
    runs["engine"] = {"measured": measured, "summary": _load_json(engine_json), "limit": limit}
    print(f"[{name}] engine: {measured.wall:.1f} s, exit {measured.returncode}", flush=True)

    fcfs_json = folder / "fcfs.json"
    cmd = [sys.executable, "-m", "benchmarks.fcfs", str(ref_csv), str(prov_csv)]
    measured = measure(
        [*cmd, "--summary-json", str(fcfs_json)], f"{name}-fcfs", timeout=HARD_TIMEOUT
    )
    runs["fcfs"] = {"measured": measured, "summary": _load_json(fcfs_json)}
    print(f"[{name}] baseline: {measured.wall:.1f} s", flush=True)

    if staged_limit is not None:
        staged_json = folder / "staged.json"
        cmd = [sys.executable, "-m", "benchmarks.staged_cpsat", str(ref_csv), str(prov_csv)]
        cmd += ["--time-limit", str(staged_limit), "--max-arcs", str(staged_max_arcs)]
        measured = measure(
            [*cmd, "--summary-json", str(staged_json)],
            f"{name}-staged",
            timeout=staged_limit * 4 + 180,
            memory_limit=STAGED_MEMORY_LIMIT,
        )
        runs["staged"] = {
            "measured": measured,
            "summary": _load_json(staged_json),
            "limit": staged_limit,
            "limit_text": f"{staged_limit:.0f} s per stage",
        }
        print(f"[{name}] staged CP-SAT: {measured.wall:.1f} s", flush=True)

    # Hold the engine's written answer to the contract, independently of the engine.
    engine_check = None
    if matches_csv.exists() and runs["engine"]["summary"] is not None:
        from matching.io import read_problem

        problem = read_problem(ref_csv, prov_csv)
        engine_check = check(problem, read_matches_csv(matches_csv))
    runs["engine"]["check"] = engine_check
    return {"name": name, "spec": spec, "facts": facts, "runs": runs, "load": load_before}


# ---------------------------------------------------------------------------------------------
# Markdown


def _fmt_int(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "–"


def _row(
    label: str, run: dict[str, Any] | None, referrals: int, status_text: str | None = None
) -> str:
    if run is None:
        return f"| {label} | not run | | | | | | | | | |"
    m: Measured = run["measured"]
    s = run.get("summary")
    if m.timed_out:
        status = f"stopped at {HARD_TIMEOUT:.0f} s"
    elif s is None:
        status = f"failed (exit {m.returncode})"
    else:
        status = status_text or str(s.get("status", "?"))
        if s.get("note"):
            status += f": {s['note']}"
        if run.get("limit") is not None and s.get("status") != "not run":
            limit_text = run.get("limit_text") or f"limit {run['limit']:g} s"
            status += f" [{limit_text}]"
    if s is None or "matched" not in s:
        return f"| {label} | {status} | | | | | | | {m.wall:.1f} | {m.peak_rss_mb:,.0f} | |"
    matched = s["matched"]
    total = sum(matched.values())
    km = float(s["total_distance_km"])
    mean = km / total if total else 0.0
    if "check" in run:
        verdict = run["check"]
        valid = "–" if verdict is None else ("yes" if verdict.valid else "**NO**")
    else:
        valid = "yes" if s.get("valid") else ("**NO**" if "valid" in s else "–")
    return (
        f"| {label} | {status} | {matched['emergency']:,} | {matched['urgent']:,} | "
        f"{matched['standard']:,} | {total:,} ({100 * total / referrals:.1f}%) | {km:,.1f} | "
        f"{mean:.2f} | {m.wall:.1f} | {m.peak_rss_mb:,.0f} | {valid} |"
    )


def _timings_line(summary: dict[str, Any] | None) -> str:
    if not summary or "timings" not in summary:
        return "no timings reported"
    # Top-level phases and their first sub-phases only; the JSON files hold the rest.
    parts = [
        f"{k} {v:.2f}"
        for k, v in summary["timings"].items()
        if isinstance(v, int | float) and k.count(".") <= 1
    ]
    return ", ".join(parts) + " (seconds)"


def engine_header(info: dict[str, str], districts: int) -> str:
    """The "Engine" section's introduction: machine, inputs, method (sizes follow)."""
    lines = [
        "## Engine",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, shared with "
        f"other work (each size below gives its date and the load average before it ran); "
        f"Python {info['python']}, OR-Tools {info['ortools']}.",
        "",
        "Inputs: synthetic instances in the matching contract's CSV format from "
        "`benchmarks/generate.py` (fixed seeds; rerun to regenerate), over the "
        f"{districts} postcode districts of West "
        "Yorkshire (LS1-29, BD1-22, WF1-17, HX1-7, HD1-9). Capacity is about "
        "80% of the households referred. Full instances use every constraint type (household "
        "sizes 1-12 against `people_capacity` at 40% of sites, dietary tags and `tag:limit` "
        "stock, delivery capacity and radius, service areas, 2-8 km travel limits, locations as "
        "postcodes or coordinates); unit-demand ones drop `people_capacity`, dietary tags and "
        "limits, and service areas.",
        "",
        "Method: each run is its own process; *wall* is the whole process (start-up, reading, "
        "geocoding, solving, writing), *peak RSS* its maximum resident memory "
        "(`getrusage`/`wait4`). The engine runs through the real command line "
        "(`foodmatch match REFERRALS PROVIDERS --out MATCHES --summary-json FILE`). *Valid* "
        "means `benchmarks/summary.py` re-checked the answer against the contract (recomputed "
        "distances, every limit re-counted). The staged CP-SAT model is the naive design "
        "(`benchmarks/staged_cpsat.py`: maximise emergencies, fix, urgent, fix, standard, fix, "
        "minimise distance, 2 workers, each stage hinted with the last and capped at the limit "
        "shown, so up to four times that in all), run on the same candidate pairs.",
        "",
    ]
    return "\n".join(lines)


def size_markdown(res: dict[str, Any], info: dict[str, str]) -> str:
    """One instance size's subsection: the three methods side by side."""
    facts = res["facts"]
    runs = res["runs"]
    fc = runs["fcfs"].get("summary") or {}
    referrals = int(facts["referrals"])
    title = "unit demand" if res["spec"].unit_demand else "every constraint type"
    lines = [
        f"### {res['name']}: {referrals:,} referrals x {facts['providers']:,} providers ({title})",
        "",
        f"Measured {info['date']}, commit {info['commit']}; load average before the runs "
        f"{res['load']:.2f} on {info['nproc']} CPUs.",
        "",
        f"{facts['people']:,} people; capacity {facts['capacity']:,} parcels "
        f"({100 * float(facts['capacity_share']):.0f}% of households); "
        f"{_fmt_int(fc.get('pairs_in_reach'))} referral-provider pairs in reach, "
        f"{_fmt_int(fc.get('pairs_feasible'))} feasible; "
        f"{facts['with_people_capacity']} sites with `people_capacity`, "
        f"{facts['with_dietary_limits']} with dietary limits, {facts['delivering']} "
        f"delivering, {facts['with_service_area']} with a service area.",
        "",
        "| method | status | emergency | urgent | standard | matched | total km | mean km "
        "| wall s | peak RSS MB | valid |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        _row("engine (`foodmatch match`)", runs["engine"], referrals),
        _row("first come, first served", runs["fcfs"], referrals, "greedy (no optimality claim)"),
        _row("staged CP-SAT (naive)", runs.get("staged"), referrals),
        "",
    ]
    engine = runs["engine"].get("summary")
    if engine and fc.get("matched"):
        diff = {k: engine["matched"][k] - fc["matched"][k] for k in engine["matched"]}
        km = float(engine["total_distance_km"]) / max(float(fc["total_distance_km"]), 1e-9)
        lines.append(
            "Engine against first come, first served: "
            + ", ".join(f"{k} {v:+,}" for k, v in diff.items())
            + f" matched; total distance {100 * (km - 1):+.1f}%."
        )
    lines.append(f"Engine time breakdown: {_timings_line(engine)}.")
    if engine and engine.get("bound"):
        lines.append(f"Engine bound reported (not proven optimal): `{engine['bound']}`.")
    if engine and engine.get("method"):
        lines.append(f"Engine method: {engine['method']}.")
    check_report = runs["engine"].get("check")
    if check_report is not None and not check_report.valid:
        lines.append(f"Contract violations found: {'; '.join(check_report.errors[:5])}.")
    m: Measured = runs["engine"]["measured"]
    if engine is None and m.timed_out:
        lines.append(f"The engine was stopped after {HARD_TIMEOUT:.0f} s and wrote no summary.")
    elif engine is None:
        lines.append(f"Engine stderr (tail): `{m.stderr_tail[-500:].strip()}`")
    staged = runs.get("staged", {}).get("summary")
    if staged and staged.get("stages"):
        parts = [
            f"{s['name']} {s['status'].lower()} in {s['seconds']:.1f} s" for s in staged["stages"]
        ]
        lines.append(f"Staged CP-SAT stages: {'; '.join(parts)}.")
    return "\n".join(lines) + "\n"


def gap_markdown(payload: dict[str, Any] | None, note: str) -> str:
    """The "GAP" section."""
    lines = [
        "## GAP (OR-Library / Yagiura generalised assignment instances)",
        "",
        "The engine's assignment core (`matching.engine.solve_assignment`) on the classic "
        "GAP instances: jobs are items, agents are capacity rows, every job must be assigned "
        "(the core maximises assigned jobs, then minimises cost). Compared with the bounds "
        "published with the instances (`bounds.txt`: lb = ub means proven optimal; for some d/e "
        "instances ub is weaker than the literature's best known). *Gap* is how far above the "
        "best published value (ub) the engine's answer is. Small instances (OR-Library gap1-12, "
        "type a) are checked by the test suite instead.",
        "",
        note,
        "",
    ]
    if not payload or not payload.get("runs"):
        lines.append(payload.get("skipped", "not run") if payload else "not run")
        return "\n".join(lines) + "\n"
    runs = payload["runs"]
    lines += [
        f"Sense {payload['sense']}, time limit {payload['time_limit']:.0f} s per instance.",
        "",
        "| instance | agents x jobs | lb | ub | engine | gap % | proven | s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        value = "no full assignment" if r["value"] is None else f"{r['value']:,}"
        gap = "–" if r["gap_percent"] is None else f"{r['gap_percent']:.2f}"
        lines.append(
            f"| {r['name']} | {r['agents']} x {r['jobs']} | {_fmt_int(r['lower'])} | "
            f"{_fmt_int(r['upper'])} | {value} | {gap} | {'yes' if r['proven'] else 'no'} | "
            f"{r['seconds']:.1f} |"
        )
    solved = [r for r in runs if r["value"] is not None]
    at_best = [r for r in solved if (r["gap_percent"] or 0.0) <= 0.0]
    gaps = [r["gap_percent"] for r in solved if r["gap_percent"] is not None]
    lines += [
        "",
        f"{len(runs)} instances: {len(solved)} fully assigned, {len(at_best)} at or better than "
        f"the best published value, {sum(r['proven'] for r in runs)} proven optimal; "
        f"mean gap {sum(gaps) / max(len(gaps), 1):.3f}%, worst {max(gaps, default=0.0):.3f}%; "
        f"{sum(r['seconds'] for r in runs):.0f} s in total. Engine method: "
        f"{'; '.join(sorted({str(r['method']) for r in runs}))}.",
        "",
    ]
    return "\n".join(lines)


def _measured_at(path: Path, info: dict[str, str]) -> str:
    """When a results file was written, and on what (for a section that reuses it)."""
    if not path.exists():
        return ""
    when = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"Measured {when} on the machine described under Engine ({info['nproc']} CPUs)."


def replace_section(doc: Path, key: str, body: str, *, group: str | None = None) -> None:
    """Put ``body`` between this key's markers in ``doc``, leaving other sections alone.

    A new section goes after the last existing section whose key starts with ``group``
    (so sizes stay together under the Engine heading), else at the end.
    """
    begin, end = f"<!-- BEGIN {key} (benchmarks/run.py) -->", f"<!-- END {key} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + block + ("\n" + tail if tail else "")
    else:
        ends = (
            []
            if group is None
            else list(re.finditer(rf"<!-- END {re.escape(group)}[^>]*-->\n?", text))
        )
        if ends:
            cut = ends[-1].end()
            text = text[:cut] + "\n" + block + "\n" + text[cut:].lstrip("\n")
        else:
            text = text.rstrip("\n") + "\n\n" + block
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def run_gap(names: Sequence[str] | None, data: Path, time_limit: float) -> tuple[Any, str]:
    """Solve GAP instances in a child process; return its JSON payload and a note."""
    if (data / "bounds.txt").exists():
        note = "Instances read from the full set (`../shared/benchmarks/gap` beside the "
        note += "checkout, or `--gap-data`) at benchmark time (not shipped)."
        if not names:
            names = [n for n in gap_bench.instance_names(data) if not gap_bench.SMALL.match(n)]
    else:
        data = gap_bench.TEST_DATA
        note = f"Full instance set not found; ran the small ones in `{data.relative_to(REPO)}`."
        names = names or gap_bench.instance_names(data)
    out = RESULTS_DIR / "gap.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "benchmarks.gap", "--data", str(data), "--json", str(out)]
    cmd += ["--time-limit", str(time_limit), *names]
    measured = measure(cmd, "gap", timeout=len(names) * (time_limit + 30) + 60)
    payload = _load_json(out)
    if payload is None:
        note += f" The run failed (exit {measured.returncode}): `{measured.stderr_tail[-300:]}`"
    return payload, note


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: the family tables and the GAP set by default; update docs/benchmarks.md."""
    from benchmarks import family_bench as fb
    from benchmarks.families import FAMILIES, SIZES

    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 seeds at 2k and 10k, few GAP")
    parser.add_argument("--families", nargs="+", choices=list(FAMILIES), default=None)
    parser.add_argument(
        "--seeds", nargs="+", default=None, metavar="SIZE=N", help="e.g. 2k=8 10k=8 50k=2"
    )
    parser.add_argument("--no-families", action="store_true")
    parser.add_argument(
        "--sizes",
        nargs="+",
        choices=list(BENCH_SPECS),
        default=None,
        help="also run benchmarks/generate.py's instances (with the staged CP-SAT model)",
    )
    parser.add_argument(
        "--engine-limit", type=float, default=None, help="--time-limit for --sizes runs"
    )
    parser.add_argument("--staged-limit", type=float, default=None, help="seconds (default 60)")
    parser.add_argument("--staged-max-arcs", type=int, default=2_000_000)
    parser.add_argument("--no-staged", action="store_true")
    parser.add_argument("--no-gap", action="store_true")
    parser.add_argument("--gap-limit", type=float, default=None, help="seconds per instance")
    parser.add_argument(
        "--gap-data",
        type=Path,
        default=gap_bench.default_data(),
        help="the full GAP set (default: ../shared/benchmarks/gap beside the checkout, or "
        "$FOODMATCH_GAP_DATA)",
    )
    parser.add_argument(
        "--reuse-gap",
        action="store_true",
        help="rewrite the GAP section from the last run's results/gap.json instead of solving",
    )
    parser.add_argument("--doc", type=Path, default=DOC)
    args = parser.parse_args(argv)

    info = machine()
    if not args.no_families and not args.reuse_gap:
        seeds = dict(fb.QUICK_SEEDS if args.quick else fb.SEEDS)
        for item in args.seeds or []:
            size, _, count = item.partition("=")
            if size not in SIZES or not count.isdigit():
                parser.error(f"--seeds wants SIZE=N with SIZE one of {list(SIZES)}: {item!r}")
            seeds[size] = int(count)
        seeds = {k: v for k, v in seeds.items() if v > 0}
        families = args.families or list(FAMILIES)
        before = os.getloadavg()
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        outcomes = fb.run_all(families, seeds, RESULTS_DIR / "families.json")
        after = os.getloadavg()
        loads = f"{before[0]:.1f} before, {after[0]:.1f} after"
        replace_section(args.doc, "engine-families", fb.markdown(outcomes, info, loads))
        print(f"wrote the family tables of {args.doc}", flush=True)
    sizes = args.sizes or []
    staged_limit = None if args.no_staged else (args.staged_limit or (20.0 if args.quick else 60.0))
    if sizes:
        districts = len(BENCH_SPECS[sizes[0]].region.districts(load_outcodes()))
        replace_section(args.doc, "engine", engine_header(info, districts))
    for name in sizes:
        limit = args.engine_limit if args.engine_limit is not None else ENGINE_TIME_LIMIT[name]
        result = bench_size(
            name,
            engine_limit=limit,
            staged_limit=staged_limit,
            staged_max_arcs=args.staged_max_arcs,
        )
        info["date"] = machine()["date"]
        replace_section(args.doc, f"engine-{name}", size_markdown(result, info), group="engine")
        print(f"wrote the {name} part of the Engine section of {args.doc}", flush=True)
    gap_json = RESULTS_DIR / "gap.json"
    if args.reuse_gap:
        payload = _load_json(gap_json)
        note = "Instances read from `../shared/benchmarks/gap` at benchmark time (not shipped)."
        note += f" {_measured_at(gap_json, info)}"
        replace_section(args.doc, "gap", gap_markdown(payload, note))
    elif not args.no_gap:
        gap_limit = args.gap_limit or (5.0 if args.quick else 20.0)
        names = list(QUICK_GAP) if args.quick else None
        load = os.getloadavg()[0]
        payload, note = run_gap(names, args.gap_data, gap_limit)
        note += f" {_measured_at(gap_json, info)} Load average before the run: {load:.2f}."
        replace_section(args.doc, "gap", gap_markdown(payload, note))
        print(f"wrote the GAP section of {args.doc}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
