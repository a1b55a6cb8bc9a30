"""A real Dask cluster for tests: ``dask scheduler`` and ``dask worker`` processes, free ports."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DASK = Path(sys.executable).parent / "dask"
ADDRESS = re.compile(r"Scheduler at:\s+(tcp://\S+)")
NO_DASHBOARD = ("--dashboard-address", "127.0.0.1:0", "--no-dashboard")
WORKER = ("--no-dashboard", "--host", "127.0.0.1")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:  # pragma: no cover - only if the process hangs
        process.kill()
        process.wait(timeout=30)


def _address(log: Path, process: subprocess.Popen[bytes], timeout: float = 90.0) -> str:
    """The scheduler's address, read from its log once it is listening."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ADDRESS.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"dask scheduler exited:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)
    raise RuntimeError(f"dask scheduler did not start:\n{log.read_text(errors='replace')}")


@contextmanager
def dask_cluster(folder: Path) -> Iterator[str]:
    """A scheduler on a port the system picks (dashboard off) and one single-threaded worker.

    Yields the scheduler's ``tcp://127.0.0.1:PORT`` once the worker has joined; both
    processes are stopped afterwards. Their logs are in ``folder``.
    """
    from distributed import Client

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    scheduler_log = folder / "scheduler.log"
    with scheduler_log.open("wb") as out:
        scheduler = subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", *NO_DASHBOARD],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env=env,
        )
    try:
        address = _address(scheduler_log, scheduler)
        with (folder / "worker.log").open("wb") as out:
            worker = subprocess.Popen(
                [str(DASK), "worker", address, "--nthreads", "1", "--no-nanny", *WORKER],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=folder,
                env=env,
            )
        try:
            with Client(address, timeout=60) as client:
                client.wait_for_workers(1, timeout=120)
            yield address
        finally:
            _stop(worker)
    finally:
        _stop(scheduler)


def task_prefixes(address: str) -> list[str]:
    """The names of the functions the scheduler at ``address`` has run tasks of."""
    from distributed import Client

    with Client(address, timeout=60) as client:
        names: list[str] = client.run_on_scheduler(
            lambda dask_scheduler: sorted(dask_scheduler.task_prefixes)
        )
    return names


def free_port() -> int:
    """A TCP port nothing listens on right now (for an address that must fail to connect)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
