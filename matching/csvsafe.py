"""CSV cells a spreadsheet shows as text instead of running as formulas.

A spreadsheet opening a CSV file runs any cell that starts with ``=``, ``+``, ``-`` or ``@``
(and, in some, a tab, carriage return or NUL before one) as a formula: ``=HYPERLINK(...)``
in a note would become a live link, ``+SUM(1,2)`` a sum. Following the OWASP guidance on CSV
injection (and ASVS 1.2.10), such a cell is written with a single quote in front: the
spreadsheet shows the text as written (the quote only marks it as text) and a person reading
the file as plain text still reads every character.

A cell that is wholly a number (``-3``, ``+0.25``, ``1e-3``) is left alone: a spreadsheet
reads it as that number, never as a formula, and a quote would turn it into text.

Used for every CSV the service writes for people (FOI exports, what-if comparisons and
sweeps). Not for the engine's ``matches.csv``, whose ids must round-trip byte for byte.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")
"""First characters that make a spreadsheet read a cell as a formula."""

_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet-safe cell: text that would start a formula gets a ``'``.

    Anything that is not text (numbers, ``None``) is returned unchanged.
    """
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_TRIGGERS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def safe_row(row: dict[str, Any]) -> dict[str, Any]:
    """Every cell of a row (for ``csv.DictWriter``) made safe; the keys are left as they are."""
    return {key: safe_cell(value) for key, value in row.items()}


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, column names and index labels are safe cells.

    Numbers keep their type, so number formatting (``float_format``) still applies to them.
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:  # a list, not .map: map would re-infer the dtype
            cells = [safe_cell(v) for v in out[column]]
            out[column] = pd.Series(cells, index=out.index, dtype=object)
    out.columns = _safe_labels(out.columns)
    out.index = _safe_labels(out.index)
    return out


def _safe_labels(index: pd.Index) -> pd.Index:
    """Index labels made safe (each part of a tuple label, for a MultiIndex)."""

    def label(value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(safe_cell(v) for v in value)
        return safe_cell(value)

    safe = index.map(label)
    safe.names = index.names
    return safe
