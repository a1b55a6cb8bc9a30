"""The comparison table: the baseline and every scenario side by side, with differences.

:func:`compare` builds it as a pandas DataFrame (one row per KPI); :func:`comparison_csv`
writes it as CSV text whose bytes depend only on the results; :func:`format_value` is the
one way a KPI is written as text (the CLI's table uses it too).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from matching.csvsafe import safe_frame
from matching.scenarios.kpis import ScenarioKPIs

__all__ = ["DIFF_SUFFIX", "compare", "comparison_csv", "format_value"]

DIFF_SUFFIX = " (diff)"


def compare(baseline: ScenarioKPIs, scenarios: Sequence[ScenarioKPIs]) -> pd.DataFrame:
    """The comparison table: one row per KPI; baseline, then each scenario and its difference.

    Columns are ``baseline``, then ``<name>`` and ``<name> (diff)`` (scenario minus
    baseline) per scenario. Text KPIs (status, worst-served district) have no difference;
    a KPI undefined on either side (e.g. no household matched) has an empty difference.
    """
    base = baseline.summary()
    columns: dict[str, list[Any]] = {"baseline": list(base.values())}
    for kpis in scenarios:
        values = kpis.summary()
        columns[kpis.name] = list(values.values())
        diffs: list[Any] = []
        for key, value in values.items():
            before = base[key]
            if (
                isinstance(value, int | float)
                and isinstance(before, int | float)
                and not isinstance(value, bool)
            ):
                diffs.append(value - before)
            else:
                diffs.append(None)
        columns[kpis.name + DIFF_SUFFIX] = diffs
    frame = pd.DataFrame(columns, index=pd.Index(list(base.keys()), name="kpi"), dtype=object)
    return frame


def format_value(value: Any, *, signed: bool = False) -> str:
    """A KPI value as text: integers as is, others to 4 decimals, empty when undefined."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):+d}" if signed else str(int(value))
    number = round(float(value), 4)
    if number == 0:
        number = 0.0  # no "-0.0000"
    return f"{number:+.4f}" if signed else f"{number:.4f}"


def comparison_csv(table: pd.DataFrame) -> str:
    """The comparison table as CSV text, formatted the same way every time.

    Integers are written as is, other numbers with 4 decimals, undefined values empty, so
    the bytes depend only on the results (never on run order or floating-point noise).
    """
    out = table.copy()
    for column in out.columns:
        signed = str(column).endswith(DIFF_SUFFIX)
        out[column] = [format_value(v, signed=signed) for v in out[column]]
    return str(safe_frame(out).to_csv(lineterminator="\n"))
