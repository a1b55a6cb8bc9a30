"""Time budgets for the search (``None`` = no limit)."""

from __future__ import annotations

import time


class Deadline:
    """A wall-clock budget (``None`` = no limit)."""

    def __init__(self, seconds: float | None) -> None:
        self.end = None if seconds is None else time.perf_counter() + max(seconds, 0.0)

    def left(self) -> float | None:
        """Seconds left (``None`` when unlimited), never negative."""
        return None if self.end is None else max(self.end - time.perf_counter(), 0.0)

    def expired(self) -> bool:
        left = self.left()
        return left is not None and left <= 0.0
