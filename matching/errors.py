"""Bad input, whatever file it came in: every problem found, each located, raised together.

:class:`ContractError` is the one base of the engine's input errors: the contract CSVs'
:class:`~matching.io.InputError` and, through it, the scenario files'
:class:`~matching.scenarios.errors.ScenarioError`. Each carries ``problems``, a tuple of
:class:`ContractProblem` (or a subclass naming the fields the way its file does), and reads
as a heading ("3 problems in the input:") followed by one line per problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ContractError", "ContractProblem"]


@dataclass(frozen=True, slots=True)
class ContractProblem:
    """One thing wrong with an input: where it is and what was expected."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        """``file, row 3, column 'postcode': message`` (the parts that are known)."""
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}"


class ContractError(ValueError):
    """Bad input: every problem found, so a user can fix them all in one pass."""

    subject = "the input"
    """What the heading names ("3 problems in the input:"); subclasses name their kind."""

    def __init__(self, problems: Sequence[ContractProblem]) -> None:
        """Hold ``problems`` and read as a heading followed by one line per problem."""
        self.problems: tuple[ContractProblem, ...] = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {self.subject}:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))
