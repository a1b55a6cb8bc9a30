"""Reading a scenario document with locations: where a value sits, its line, typed getters.

:class:`Reader` reads values out of a parsed TOML (or JSON) document and, instead of
raising at the first fault, records a :class:`~matching.scenarios.errors.ScenarioProblem`
for each one (file, line, scenario, key, what was expected), so a planner fixes them all in
one pass. tomllib gives no line numbers: :class:`Lines` finds them again in the text.
The scenario grammar itself is in :mod:`matching.scenarios.spec`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from matching.geo import is_service_area_entry
from matching.scenarios.distributions import (
    DISTRIBUTIONS,
    Distribution,
    Triangular,
    TruncatedNormal,
    Uniform,
    median,
)
from matching.scenarios.errors import ScenarioProblem

__all__ = ["At", "Lines", "Reader", "is_number"]

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class At:
    """Where a value sits in the document: its scenario (name and position) and key path."""

    scenario: str | None = None
    index: int | None = None
    path: KeyPath = ()

    def key(self, *parts: str | int) -> At:
        return replace(self, path=(*self.path, *parts))

    @property
    def dotted(self) -> str | None:
        text = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in self.path)
        return text.replace(".[", "[") or None


class Lines:
    """Best-effort line numbers for keys in a scenario TOML text (tomllib gives none)."""

    def __init__(self, text: str | None) -> None:
        self.lines = text.splitlines() if text else []
        header = re.compile(r"\s*\[\[\s*scenario\s*\]\]")
        self.starts = [i for i, line in enumerate(self.lines) if header.match(line)]

    def find(self, at: At) -> int | None:
        """The 1-based line of the deepest part of ``at.path`` found, else of its scenario."""
        if not self.lines:
            return None
        if at.index is None:
            begin, end, prefix, found = 0, len(self.lines), "", None
        elif at.index < len(self.starts):
            begin = self.starts[at.index]
            nxt = at.index + 1
            end = self.starts[nxt] if nxt < len(self.starts) else len(self.lines)
            prefix, found = "scenario.", begin + 1
        else:
            return None
        cursor, table = begin, ""
        for part in at.path:
            if isinstance(part, int):
                header = re.compile(rf"\s*\[\[\s*{re.escape(prefix + table)}\s*\]\]")
                hits = [i for i in range(cursor, end) if header.match(self.lines[i])]
                if part < len(hits):
                    cursor = hits[part]
                    found = cursor + 1
                continue
            table = part if not table or prefix else f"{table}.{part}"
            key = re.compile(rf"(^|[\s{{,]){re.escape(part)}\s*=")
            head = re.compile(rf"\s*\[\[?\s*{re.escape(prefix + part)}\s*\]\]?")
            for i in range(cursor, end):
                if head.match(self.lines[i]) or key.search(self.lines[i]):
                    cursor, found = i, i + 1
                    break
            else:
                return found
        return found


def is_number(value: Any) -> bool:
    """A TOML/JSON number (``true`` is not one)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


class Reader:
    """Typed, located reads from a scenario document; every fault becomes a problem."""

    def __init__(self, source: str, text: str | None) -> None:
        self.source = source
        self.lines = Lines(text)
        self.problems: list[ScenarioProblem] = []

    def fail(self, message: str, at: At) -> None:
        problem = ScenarioProblem(message, self.source, self.lines.find(at), at.scenario, at.dotted)
        if problem not in self.problems:
            self.problems.append(problem)

    # -- typed getters: each records a problem and returns None when the value is wrong ---

    def number(
        self,
        table: Mapping[str, Any],
        key: str,
        at: At,
        *,
        above: float | None = None,
        least: float | None = None,
        most: float | None = None,
        required: bool = False,
    ) -> float | None:
        bounds = [f"> {above:g}"] if above is not None else []
        bounds += [f">= {least:g}"] if least is not None else []
        bounds += [f"<= {most:g}"] if most is not None else []
        expected = " ".join(["a number", " and ".join(bounds)]).strip()
        if key not in table:
            if required:
                self.fail(f"missing; expected {expected}", at.key(key))
            return None
        value = table[key]
        ok = is_number(value) and math.isfinite(value)
        ok = ok and (above is None or value > above) and (least is None or value >= least)
        ok = ok and (most is None or value <= most)
        if not ok:
            self.fail(f"expected {expected}, got {value!r}", at.key(key))
            return None
        return float(value)

    def integer(
        self,
        table: Mapping[str, Any],
        key: str,
        at: At,
        *,
        least: int | None = 0,
        required: bool = False,
    ) -> int | None:
        expected = "a whole number" + (f" >= {least}" if least is not None else "")
        if key not in table:
            if required:
                self.fail(f"missing; expected {expected}", at.key(key))
            return None
        value = table[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or (least is not None and value < least)
        ):
            self.fail(f"expected {expected}, got {value!r}", at.key(key))
            return None
        return value

    def strings(self, table: Mapping[str, Any], key: str, at: At) -> tuple[str, ...] | None:
        """A list of non-empty strings (one string counts as a list of one)."""
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(f"expected a list of non-empty strings, got {value!r}", at.key(key))
            return None
        return tuple(v.strip() for v in value)

    def areas(self, table: Mapping[str, Any], key: str, at: At) -> tuple[str, ...] | None:
        """Postcode districts (``LS9``) or areas (``LS``), normalised to upper case."""
        values = self.strings(table, key, at)
        if values is None:
            return None
        out = tuple(v.replace(" ", "").upper() for v in values)
        bad = [v for v in out if not is_service_area_entry(v)]
        if bad:
            self.fail(
                f"expected postcode districts (LS9) or areas (LS), got {', '.join(bad)}",
                at.key(key),
            )
            return None
        return out

    def known_keys(self, table: Mapping[str, Any], allowed: Sequence[str], at: At) -> None:
        for key in table:
            if key not in allowed:
                self.fail(f"unknown key; expected one of: {', '.join(allowed)}", at.key(key))

    def tables(self, value: Any, at: At) -> list[tuple[Mapping[str, Any], At]]:
        """A table or an array of tables, each with where it sits."""
        if isinstance(value, dict):
            return [(value, at)]
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            if len(value) == 1:
                return [(value[0], at)]
            return [(v, at.key(i)) for i, v in enumerate(value)]
        self.fail(f"expected a table (or an array of tables), got {value!r}", at)
        return []

    # -- factors that may be uncertain ----------------------------------------------------

    def factor(
        self,
        table: Mapping[str, Any],
        key: str,
        at: At,
        *,
        above: float | None = None,
        least: float | None = None,
        most: float | None = None,
        required: bool = False,
    ) -> tuple[float | None, Distribution | None]:
        """A factor given as a number or as a distribution table; ``(value, distribution)``.

        For a distribution the value is its median (what a single run uses); every
        parameter but ``sd`` must meet the factor's own bounds.
        """
        value = table.get(key)
        if isinstance(value, dict):
            spread = self.distribution(value, at.key(key), above=above, least=least, most=most)
            if spread is None:
                return None, None
            return median(spread), spread
        return self.number(
            table, key, at, above=above, least=least, most=most, required=required
        ), None

    def distribution(
        self,
        table: Mapping[str, Any],
        at: At,
        *,
        above: float | None = None,
        least: float | None = None,
        most: float | None = None,
    ) -> Distribution | None:
        """A distribution table: ``{ distribution = "uniform", low = 1.1, high = 1.4 }``."""
        kind = table.get("distribution")
        names = ", ".join(DISTRIBUTIONS)
        if not isinstance(kind, str) or kind not in DISTRIBUTIONS:
            given = "nothing" if kind is None else repr(kind)
            self.fail(
                f"expected 'distribution' = one of {names} (with its parameters), got {given}",
                at.key("distribution"),
            )
            return None
        keys = DISTRIBUTIONS[kind]
        self.known_keys(table, ("distribution", *keys), at)
        got: dict[str, float | None] = {}
        for key in keys:
            if key == "sd":
                got[key] = self.number(table, key, at, above=0, required=True)
            else:
                got[key] = self.number(
                    table, key, at, above=above, least=least, most=most, required=True
                )
        values = {k: v for k, v in got.items() if v is not None}
        if len(values) < len(keys):
            return None
        low, high = values["low"], values["high"]
        if not low < high:
            self.fail(
                f"expected 'low' below 'high', got low {low:g} and high {high:g} (for a fixed "
                "value write a number instead of a distribution)",
                at,
            )
            return None
        for middle in ("mode", "mean"):
            if middle in values and not low <= values[middle] <= high:
                self.fail(
                    f"expected {middle!r} between low {low:g} and high {high:g}, got "
                    f"{values[middle]:g}",
                    at.key(middle),
                )
                return None
        if kind == "uniform":
            return Uniform(low, high)
        if kind == "triangular":
            return Triangular(low, values["mode"], high)
        return TruncatedNormal(values["mean"], values["sd"], low, high)
