"""The planner notebooks execute top to bottom (with the project's venv) and stay output-free."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
KERNEL = "foodmatch-venv"

# Run in a child process: the kernel's ZeroMQ sockets and threads then cannot leak into
# this test session (they trip ``filterwarnings = error`` when collected later).
RUNNER = """
import sys
import nbclient, nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

notebook_path, kernels, workdir, kernel = sys.argv[1:5]
notebook = nbformat.read(notebook_path, as_version=4)
manager = KernelManager(
    kernel_name=kernel, kernel_spec_manager=KernelSpecManager(kernel_dirs=[kernels])
)
client = nbclient.NotebookClient(
    notebook, km=manager, timeout=240, resources={"metadata": {"path": workdir}}
)
client.execute(cwd=workdir)
"""


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kernelspec that runs this interpreter (the project's venv), whatever is installed."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / KERNEL
    spec.mkdir()
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"})
    )
    return root


def test_notebooks_are_stored_without_outputs() -> None:
    """No notebook carries outputs or execution counts (they are stripped before commit)."""
    assert [p.name for p in NOTEBOOKS] == ["01_what_if.ipynb", "02_surge_sweep.ipynb"]
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path: Path, kernels: Path, tmp_path: Path) -> None:
    """The notebook runs offline on a small slice, writing only to FOODMATCH_NOTEBOOK_OUT."""
    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
        "FOODMATCH_NOTEBOOK_HOUSEHOLDS": "60",
        "FOODMATCH_NOTEBOOK_OUT": str(out),
        "FOODMATCH_SWEEP_DRAWS": "6",
        "FOODMATCH_SWEEP_WORKERS": "2",
    }
    env.pop("FOODMATCH_DASK_SCHEDULER", None)
    before = _tree(REPO / "notebooks")
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(path), str(kernels), str(work), KERNEL],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert _tree(work) == set(), "the notebook wrote into its working folder"
    assert _tree(REPO / "notebooks") == before, "the notebook wrote into the notebooks folder"
    if path.stem == "01_what_if":
        html = (out / "what_if_map.html").read_text()
        assert "tile.openstreetmap" not in html and "circleMarker" in html
    if path.stem == "02_surge_sweep":
        draws = pd.read_csv(out / "sweep_draws.csv")
        assert len(draws) == 6
        assert draws["households"].nunique() > 1  # the demand level varies: a spread
        assert draws["demand_factor"].between(1.1, 1.4).all()
        districts = pd.read_csv(out / "sweep_districts.csv")
        assert {"district", "unmet_emergency_chance", "short_chance"} <= set(districts.columns)
