"""Bad scenario input: the same error as bad contract CSVs, located in a scenario file.

Both share the base :class:`~matching.errors.ContractError`. A scenario file is input like
``referrals.csv``: a :class:`ScenarioError` *is* an :class:`~matching.io.InputError` (so
``except InputError`` catches both), and each :class:`ScenarioProblem` is an
:class:`~matching.io.InputProblem` whose row is the file's line and whose column is the key,
plus the scenario it is in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matching.io import InputError, InputProblem

__all__ = ["ScenarioError", "ScenarioProblem"]


@dataclass(frozen=True, slots=True, init=False)
class ScenarioProblem(InputProblem):
    """One thing wrong with a scenario file: where it is, which key, what was expected.

    ``source`` (the file, or ``body`` over the API), ``line`` and ``key`` are the
    :class:`~matching.io.InputProblem` fields ``file``, ``row`` and ``column`` under the
    names a scenario file uses.
    """

    scenario: str | None

    def __init__(
        self,
        message: str,
        source: str = "scenarios",
        line: int | None = None,
        scenario: str | None = None,
        key: str | None = None,
    ) -> None:
        """A problem at ``line`` of ``source``, in ``scenario``, at ``key`` (when known)."""
        # A frozen dataclass is set through object.__setattr__ (as its own __init__ does).
        object.__setattr__(self, "file", source)
        object.__setattr__(self, "row", line)
        object.__setattr__(self, "column", key)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "scenario", scenario)

    @property
    def source(self) -> str:
        """The scenario file (or ``body`` for a request)."""
        return self.file

    @property
    def line(self) -> int | None:
        """The 1-based line in the file, when known."""
        return self.row

    @property
    def key(self) -> str | None:
        """The dotted key (``demand.factor``, ``open[1].capacity``), when known."""
        return self.column

    def __str__(self) -> str:
        """``source, line 4, scenario 'x', key 'demand.factor': message`` (what is known)."""
        where = [self.file]
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.scenario is not None:
            where.append(f"scenario {self.scenario!r}")
        if self.column is not None:
            where.append(f"key {self.column!r}")
        return f"{', '.join(where)}: {self.message}"


class ScenarioError(InputError):
    """A scenario file or spec that cannot be run; ``problems`` lists every fault found."""

    subject = "the scenarios"
    problems: tuple[ScenarioProblem, ...]

    def __init__(self, problems: Sequence[ScenarioProblem]) -> None:
        """Hold ``problems`` and read as a heading followed by one line per problem."""
        super().__init__(problems)
