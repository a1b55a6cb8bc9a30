"""Time, stopping and progress for an any-time search.

A :class:`Deadline` is a wall-clock budget that also ends when its :class:`Watch` is told to
stop (Ctrl-C in the command line). The :class:`Watch` is how a caller follows a run: the
engine posts what it is doing (stage, tier, incumbent against bound) and every better
answer it finds, so a caller can print progress or, when interrupted, take the best answer
found so far without waiting for a solver to return.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

SECONDS_PER_THOUSAND = 0.75
"""The default budget: this many seconds per 1,000 referrals ..."""
MIN_SECONDS = 5.0
MAX_SECONDS = 120.0
"""... but never less than 5 s nor more than 2 minutes."""


def default_time_limit(n_referrals: int) -> float:
    """The time a run gets when no limit is given: grows with the instance, 5 s to 2 min.

    10,000 referrals get 7.5 s and 50,000 get 37.5 s: inside the 10 s and 60 s the
    benchmarks hold the whole command to (reading, explaining and writing included).
    """
    return min(MAX_SECONDS, max(MIN_SECONDS, SECONDS_PER_THOUSAND * n_referrals / 1000))


@dataclass
class Progress:
    """One progress report: what the engine is doing and how good the answer is so far."""

    stage: str
    tier: str | None = None
    incumbent: float | None = None
    bound: float | None = None
    detail: str = ""
    elapsed: float = 0.0

    def line(self, elapsed: float | None = None) -> str:
        """The report as one line for a terminal or a log (``elapsed``: now, if given)."""
        parts = [f"[{self.elapsed if elapsed is None else elapsed:6.1f} s] {self.stage}"]
        if self.tier is not None and self.incumbent is not None:
            text = f"{self.tier} {self.incumbent:,.0f}"
            if self.bound is not None:
                text += f" of at most {self.bound:,.0f}"
                gap = relative_gap(self.incumbent, self.bound)
                if gap > 0:
                    text += f" (gap {100 * gap:.2f}%)"
            parts.append(text)
        if self.detail:
            parts.append(self.detail)
        return ": ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if len(parts) > 2 else "")


def relative_gap(found: float, bound: float) -> float:
    """How far ``found`` is from ``bound``, relative to the bound (0 when it meets it)."""
    if bound == 0:
        return 0.0 if found == 0 else 1.0
    return max(0.0, abs(bound - found) / abs(bound))


@dataclass
class Watch:
    """A caller's view of a running search, and its way to stop it.

    ``best`` is the chosen arc per model item of the best complete answer posted so far
    (``None`` until the first); ``rank_bound`` what is proven about each rank. ``on_progress``
    (if set) is called from the engine's thread with every report.
    """

    stop_event: threading.Event = field(default_factory=threading.Event)
    on_progress: Callable[[Progress], None] | None = None
    started: float = field(default_factory=time.perf_counter)
    best: IntArray | None = None
    rank_bound: dict[int, int] = field(default_factory=dict)
    last: Progress | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    context: Any = None
    """Set by the engine once it knows the candidate pairs (to finish a stopped run)."""

    def stop(self) -> None:
        """Ask the search to end now with the best answer it has."""
        self.stop_event.set()

    @property
    def stopped(self) -> bool:
        return self.stop_event.is_set()

    def report(self, progress: Progress) -> None:
        """Record (and pass on) what the engine is doing."""
        progress.elapsed = time.perf_counter() - self.started
        self.last = progress
        if self.on_progress is not None:
            self.on_progress(progress)

    def post(self, chosen: IntArray, rank_bound: dict[int, int] | None = None) -> None:
        """Record a complete answer (it must respect every limit) as the best so far."""
        with self.lock:
            self.best = chosen.copy()
            if rank_bound is not None:
                self.rank_bound = dict(rank_bound)


class Deadline:
    """A wall-clock budget (``None`` = no limit) that also ends when ``watch`` stops."""

    def __init__(self, seconds: float | None, watch: Watch | None = None) -> None:
        self.end = None if seconds is None else time.perf_counter() + max(seconds, 0.0)
        self.watch = watch

    def left(self) -> float | None:
        """Seconds left (``None`` when unlimited), never negative; 0 once stopped."""
        if self.watch is not None and self.watch.stopped:
            return 0.0
        return None if self.end is None else max(self.end - time.perf_counter(), 0.0)

    def expired(self) -> bool:
        left = self.left()
        return left is not None and left <= 0.0

    def share(self, seconds: float | None) -> Deadline:
        """A deadline for at most ``seconds`` of this one (``None``: all of it)."""
        left = self.left()
        if seconds is None:
            return Deadline(left, self.watch)
        return Deadline(seconds if left is None else min(seconds, left), self.watch)
