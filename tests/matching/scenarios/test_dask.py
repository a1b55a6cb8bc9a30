"""Sweeps on Dask: no fixed port, a running scheduler reached by its address, clear errors."""

from __future__ import annotations

import socket
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from matching.io import read_problem
from matching.models import Problem
from matching.scenarios import (
    SCHEDULER_ENV,
    ClusterError,
    ScaleCapacity,
    ScaleDemand,
    Scenario,
    Uniform,
    monte_carlo,
    run_many,
    runner,
    scheduler_from_env,
)
from tests.matching.scenarios.cluster import dask_cluster, free_port, task_prefixes

REPO = Path(__file__).resolve().parents[3]
DASHBOARD_PORT = 8787  # Dask's usual dashboard port, which a sweep must not depend on

UNCERTAIN = Scenario(
    "uncertain-winter",
    (
        ScaleCapacity(0.6, spread=Uniform(0.5, 0.7)),
        ScaleDemand(1.25, 4, spread=Uniform(1.1, 1.4)),
    ),
)


@pytest.fixture(scope="module")
def small_region() -> Problem:
    """The first 60 households of the Leeds sample with all its sites: solves in a blink."""
    full = read_problem(REPO / "data/sample/referrals.csv", REPO / "data/sample/providers.csv")
    return Problem(full.referrals[:60], full.providers)


@pytest.fixture()
def dashboard_port_taken() -> Iterator[None]:
    """Something listens on 127.0.0.1:8787 for the test (or something else already does)."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", DASHBOARD_PORT))
        sock.listen()
    except OSError:
        pass  # taken already: just as good
    try:
        yield
    finally:
        sock.close()


def test_scheduler_setting_is_read_from_the_environment() -> None:
    """FOODMATCH_DASK_SCHEDULER names the scheduler; unset or blank means none."""
    assert scheduler_from_env({SCHEDULER_ENV: " tcp://10.0.0.5:8786 "}) == "tcp://10.0.0.5:8786"
    assert scheduler_from_env({SCHEDULER_ENV: "  "}) is None
    assert scheduler_from_env({}) is None


def test_a_blank_scheduler_address_runs_here(small_region: Problem) -> None:
    """An empty scheduler address (a blank setting) runs serially, not on Dask."""
    (here,) = run_many(small_region, [None])
    (blank,) = run_many(small_region, [None], scheduler="  ")
    assert blank.summary() == here.summary()


def test_an_unreachable_scheduler_is_a_clear_error(
    small_region: Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scheduler address with nothing behind it fails fast, naming the address and the fix."""
    monkeypatch.setattr(runner, "CONNECT_TIMEOUT_S", 1.0)
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler at") as info:
        run_many(small_region, [None], scheduler=address)
    assert address in str(info.value) and SCHEDULER_ENV in str(info.value)


@pytest.mark.slow
def test_local_cluster_ignores_a_taken_dashboard_port(
    small_region: Problem, dashboard_port_taken: None
) -> None:
    """With 8787 taken, a 2-worker sweep starts without a warning and equals the serial one."""
    serial = monte_carlo(small_region, UNCERTAIN, draws=4, seed=8, baseline=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        on_dask = monte_carlo(small_region, UNCERTAIN, draws=4, seed=8, baseline=False, parallel=2)
    assert [str(w.message) for w in caught] == []
    pd.testing.assert_frame_equal(serial.draws, on_dask.draws)
    pd.testing.assert_frame_equal(serial.districts, on_dask.districts)


@pytest.mark.slow
def test_runs_go_to_a_scheduler_given_by_address(small_region: Problem, tmp_path: Path) -> None:
    """A running `dask scheduler` (free port) takes the draws; the numbers equal a serial run's."""
    serial = monte_carlo(small_region, UNCERTAIN, draws=3, seed=2, baseline=False)
    with dask_cluster(tmp_path) as address:
        remote = monte_carlo(
            small_region, UNCERTAIN, draws=3, seed=2, baseline=False, scheduler=address
        )
        ran = task_prefixes(address)
    assert "run_one" in ran  # the scheduler ran the scenario runs (Dask drops the "_")
    pd.testing.assert_frame_equal(serial.draws, remote.draws)
    pd.testing.assert_frame_equal(serial.districts, remote.districts)
