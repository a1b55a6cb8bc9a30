"""Stated uncertainty: the distributions a Monte Carlo sweep draws a factor from.

A planner rarely knows next winter's demand; they can say "up by somewhere between 10% and
40%" (:class:`Uniform`), "most likely 20%, between 10% and 40%" (:class:`Triangular`) or
"about 20%, give or take 8%, never below 0 or above 50%" (:class:`TruncatedNormal`). Each is
bounded, so a draw is always a valid factor, and each is drawn by inverting its cumulative
distribution at one uniform number: one draw uses exactly one number of the draw's random
stream, whatever the distribution, so the same seed always gives the same factors.

The distribution maths is :mod:`scipy.stats` (``uniform``, ``triang``, ``truncnorm``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["DISTRIBUTIONS", "Distribution", "Triangular", "TruncatedNormal", "Uniform"]


def _number(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True, slots=True)
class Uniform:
    """Every value between ``low`` and ``high`` equally likely."""

    low: float
    high: float

    def _frozen(self) -> Any:
        return stats.uniform(loc=self.low, scale=self.high - self.low)

    def describe(self) -> str:
        """In words, e.g. ``uniform between 1.1 and 1.4``."""
        return f"uniform between {_number(self.low)} and {_number(self.high)}"

    def to_dict(self) -> dict[str, Any]:
        """As the scenario file writes it."""
        return {"distribution": "uniform", "low": self.low, "high": self.high}


@dataclass(frozen=True, slots=True)
class Triangular:
    """Between ``low`` and ``high``, most likely ``mode``, less likely towards either end."""

    low: float
    mode: float
    high: float

    def _frozen(self) -> Any:
        width = self.high - self.low
        return stats.triang(c=(self.mode - self.low) / width, loc=self.low, scale=width)

    def describe(self) -> str:
        """In words, e.g. ``triangular between 1.1 and 1.4, most likely 1.2``."""
        return (
            f"triangular between {_number(self.low)} and {_number(self.high)}, most likely "
            f"{_number(self.mode)}"
        )

    def to_dict(self) -> dict[str, Any]:
        """As the scenario file writes it."""
        return {"distribution": "triangular", "low": self.low, "mode": self.mode, "high": self.high}


@dataclass(frozen=True, slots=True)
class TruncatedNormal:
    """A normal distribution (``mean``, standard deviation ``sd``) kept within ``low``-``high``.

    Draws outside the bounds are not clipped to them (that would pile probability on the
    bounds) but never happen: the distribution is renormalised over ``[low, high]``.
    """

    mean: float
    sd: float
    low: float
    high: float

    def _frozen(self) -> Any:
        a = (self.low - self.mean) / self.sd
        b = (self.high - self.mean) / self.sd
        return stats.truncnorm(a=a, b=b, loc=self.mean, scale=self.sd)

    def describe(self) -> str:
        """In words, e.g. ``normal around 1.2 (sd 0.08), kept between 1.0 and 1.5``."""
        return (
            f"normal around {_number(self.mean)} (sd {_number(self.sd)}), kept between "
            f"{_number(self.low)} and {_number(self.high)}"
        )

    def to_dict(self) -> dict[str, Any]:
        """As the scenario file writes it."""
        return {
            "distribution": "normal",
            "mean": self.mean,
            "sd": self.sd,
            "low": self.low,
            "high": self.high,
        }


Distribution = Uniform | Triangular | TruncatedNormal
"""Any one stated distribution of a factor."""

DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd", "low", "high"),
}
"""The scenario file's distribution names and the keys each needs (all required)."""


@lru_cache(maxsize=256)
def _scipy(distribution: Distribution) -> Any:
    """The scipy frozen distribution (made once per distribution: making one is slow)."""
    return distribution._frozen()


def quantile(distribution: Distribution, u: float) -> float:
    """The value below which a share ``u`` (0 to 1) of the distribution lies."""
    return float(_scipy(distribution).ppf(u))


def median(distribution: Distribution) -> float:
    """The middle value: what a single (not swept) run of the scenario uses."""
    return quantile(distribution, 0.5)


def sample(distribution: Distribution, rng: np.random.Generator) -> float:
    """One draw, using exactly one number of ``rng``'s stream (inverse-CDF sampling)."""
    value = quantile(distribution, float(rng.random()))
    # The inverse CDF is exact up to rounding; keep the draw inside the stated bounds.
    return min(max(value, distribution.low), distribution.high)
