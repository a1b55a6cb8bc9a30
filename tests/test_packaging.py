"""The installable package: the wheel carries every shipped file and works outside the checkout.

The wheel is built offline from a copy of the files a commit would hold (tracked, plus new files
git does not ignore), so a file that only exists in this checkout cannot hide a packaging bug.
It is then unpacked with pip into a fresh folder and run from an empty working directory with
only that folder ahead of the venv's own packages: the data must come from the wheel.
``.ci/wheel-check`` goes further (a clean venv that resolves the dependencies from the index).
"""

from __future__ import annotations

import csv
import importlib.resources
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from matching.geo import DATA_PACKAGE, data_dir

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_DATA = (
    "uk-postcode-outcodes.csv",
    "english-words.txt",
    "given-names.txt",
    "sample/referrals.csv",
    "sample/providers.csv",
    "sample/scenarios.toml",
)


def _source_files() -> list[Path]:
    """The files a commit of this checkout would hold (relative paths)."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.split(b"\0")
        return [Path(p.decode()) for p in listed if p and (ROOT / p.decode()).is_file()]
    skip = {".venv", ".git", "build", "dist", "var", "out", "test-artifacts"}
    return [
        p.relative_to(ROOT)
        for p in ROOT.rglob("*")
        if p.is_file()
        and not skip & set(p.relative_to(ROOT).parts)
        and not any(m in str(p) for m in ("__pycache__", ".pyc", ".egg-info", "_cache"))
    ]


@pytest.fixture(scope="module")
def sources() -> list[Path]:
    """Relative paths of the checkout's files."""
    return _source_files()


@pytest.fixture(scope="module")
def wheel(sources: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built offline (no build isolation) from a copy of the checkout's files."""
    work = tmp_path_factory.mktemp("build")
    tree = work / "src"
    for relative in sources:
        (tree / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, tree / relative)
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", work / "dist"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (found,) = (work / "dist").glob("foodmatch-*.whl")
    return found


@pytest.fixture(scope="module")
def site(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel unpacked by pip (no dependencies, no index) into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    installed = subprocess.run(
        [*pip, "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    return target


def _run(
    site: Path, cwd: Path, *args: str | Path, data: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Python from the venv with the unpacked wheel first on the path, in ``cwd``."""
    env = {k: v for k, v in os.environ.items() if k != "FOODMATCH_DATA_DIR"}
    env["PYTHONPATH"] = str(site)
    if data is not None:
        env["FOODMATCH_DATA_DIR"] = str(data)
    env.pop("PYTHONSAFEPATH", None)
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_editable_install_maps_data_to_the_data_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a dev install (pip install -e, as make does) foodmatch_data is this checkout's data/."""
    monkeypatch.delenv("FOODMATCH_DATA_DIR", raising=False)
    installed = importlib.resources.files(DATA_PACKAGE)
    assert isinstance(installed, Path)
    assert installed.resolve() == (ROOT / "data").resolve()
    assert data_dir() == installed
    for name in SHIPPED_DATA:
        assert (installed / name).is_file(), name


def test_data_dir_override_still_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """FOODMATCH_DATA_DIR names another data folder, whatever is installed."""
    monkeypatch.setenv("FOODMATCH_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path


@pytest.mark.slow
def test_wheel_holds_every_shipped_file(wheel: Path, sources: list[Path]) -> None:
    """Every file of api/, matching/ and data/ (as foodmatch_data/) is in the wheel, no other."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    expected = set()
    for path in sources:
        text = path.as_posix()
        if text.startswith("data/"):
            expected.add("foodmatch_data/" + text.removeprefix("data/"))
        elif text.startswith(("api/", "matching/")):
            expected.add(text)
    assert {"foodmatch_data/" + n for n in SHIPPED_DATA} <= expected
    assert sorted(expected - names) == []
    packaged = {n for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert sorted(packaged - expected) == []
    assert {n.split("/", 1)[0] for n in packaged} == {"api", "matching", DATA_PACKAGE}


@pytest.mark.slow
def test_wheel_works_from_an_empty_folder(site: Path, tmp_path: Path) -> None:
    """Alone, the wheel finds its data (word lists too, under an override), matches, migrates."""
    probe = (
        "import json, api, matching, foodmatch_data\n"
        "from matching.geo import Gazetteer, data_dir\n"
        "from api.record.redaction import lexicon\n"
        "words = lexicon()\n"
        "print(json.dumps({'data': str(data_dir()), 'modules': [api.__file__, "
        "matching.__file__, foodmatch_data.__file__], 'districts': "
        "len(Gazetteer.default().centroids), 'words': len(words.ordinary), "
        "'names': len(words.given)}))\n"
    )
    probed = _run(site, tmp_path, "-c", probe)
    assert probed.returncode == 0, probed.stderr
    found = json.loads(probed.stdout)
    assert Path(found["data"]).is_relative_to(site)
    assert all(Path(m).is_relative_to(site) for m in found["modules"])
    assert found["districts"] > 2500
    assert found["words"] > 30_000 and found["names"] > 30_000

    own = tmp_path / "own-data"  # a postcode table of one's own, no word lists
    own.mkdir()
    shutil.copy(site / DATA_PACKAGE / "uk-postcode-outcodes.csv", own)
    overridden = _run(site, tmp_path, "-c", probe, data=own)
    assert overridden.returncode == 0, overridden.stderr
    assert json.loads(overridden.stdout)["data"] == str(own)
    assert json.loads(overridden.stdout)["words"] == found["words"]

    copied = _run(site, tmp_path, "-m", "api.cli", "sample", "sample")
    assert copied.returncode == 0, copied.stderr
    sample = tmp_path / "sample"
    assert sorted(p.name for p in sample.iterdir()) == [
        "README.md",
        "providers.csv",
        "referrals.csv",
        "scenarios.toml",
    ]
    matched = _run(
        site,
        tmp_path,
        *("-m", "api.cli", "match", sample / "referrals.csv", sample / "providers.csv"),
        *("--out", "m.csv", "--time-limit", "20"),
    )
    assert matched.returncode == 0, matched.stderr
    with (tmp_path / "m.csv").open(encoding="utf-8") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == 1500

    url = f"sqlite:///{tmp_path / 'fm.db'}"
    upgraded = _run(site, tmp_path, "-m", "api.cli", "db", "upgrade", "--database-url", url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "up to date" in upgraded.stdout


def test_sample_command_refuses_to_overwrite_changed_files(tmp_path: Path) -> None:
    """``foodmatch sample`` leaves a changed file alone (exit 2) unless told --force."""
    env = {k: v for k, v in os.environ.items() if k != "FOODMATCH_DATA_DIR"}
    command = [sys.executable, "-m", "api.cli", "sample", str(tmp_path / "s")]
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert first.returncode == 0, first.stderr
    shipped = data_dir() / "sample" / "providers.csv"
    assert (tmp_path / "s" / "providers.csv").read_bytes() == shipped.read_bytes()
    (tmp_path / "s" / "providers.csv").write_text("mine\n", encoding="utf-8")
    refused = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 2
    assert "providers.csv" in refused.stderr and "--force" in refused.stderr
    assert (tmp_path / "s" / "providers.csv").read_text(encoding="utf-8") == "mine\n"
    forced = subprocess.run(
        [*command, "--force"], capture_output=True, text=True, env=env, timeout=60
    )
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "s" / "providers.csv").read_bytes() == shipped.read_bytes()
    on_a_file = subprocess.run(
        [*command[:-1], str(tmp_path / "s" / "README.md")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert on_a_file.returncode == 2 and "is a file" in on_a_file.stderr
