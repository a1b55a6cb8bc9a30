"""Scenario edits: small frozen records, each applied to a Problem by a pure function.

A *scenario* is a name plus a tuple of *edits* (close providers, scale capacity, set
delivery, open a site, change travel limits, scale demand). :func:`apply_scenario` turns
the base :class:`~matching.models.Problem` into the scenario's Problem; it never changes
the base.

A demand or capacity factor may be *uncertain*: stated as a distribution
(:mod:`matching.scenarios.distributions`) in ``spread``. A single run uses the
distribution's median (kept in ``factor``); a Monte Carlo sweep draws a factor per draw
with :meth:`Scenario.draw`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from matching.geo import postcode_area
from matching.models import Problem, Provider, Referral, Urgency
from matching.scenarios.distributions import Distribution, sample

__all__ = [
    "MAX_DEMAND_FACTOR",
    "ChangeTravel",
    "CloseProviders",
    "Edit",
    "OpenSite",
    "ScaleCapacity",
    "ScaleDemand",
    "Scenario",
    "SetDelivery",
    "apply_edit",
    "apply_scenario",
    "change_travel",
    "close_providers",
    "open_site",
    "scale_capacity",
    "scale_demand",
    "set_delivery",
]

MAX_DEMAND_FACTOR = 20.0
"""The largest demand factor a scenario may ask for (x20 of a region is already a national
batch; anything bigger is almost surely a typo)."""


@dataclass(frozen=True, slots=True)
class CloseProviders:
    """Close these sites: they take no referrals in the scenario."""

    provider_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScaleCapacity:
    """Scale capacity (households, people, dietary caps) by ``factor`` then add ``add`` parcels.

    Applies to the sites in ``provider_ids`` and to those whose postcode district is in
    ``areas`` (``LS9`` or a whole area ``LS``); to every site when both are empty.
    ``spread``, when given, is the factor's stated uncertainty (``factor`` is then its
    median): a sweep draws the factor from it.
    """

    factor: float = 1.0
    add: int = 0
    provider_ids: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    spread: Distribution | None = None


@dataclass(frozen=True, slots=True)
class SetDelivery:
    """Give sites a delivery capacity and/or radius (e.g. a van); ``None`` keeps the value."""

    provider_ids: tuple[str, ...]
    delivery_capacity: int | None = None
    delivery_radius_km: float | None = None


@dataclass(frozen=True, slots=True)
class OpenSite:
    """Open a new site, located already (postcodes are geocoded when the file is read)."""

    provider_id: str
    name: str
    latitude: float
    longitude: float
    capacity: int
    people_capacity: int | None = None
    dietary: tuple[tuple[str, int | None], ...] = ()
    delivery_capacity: int = 0
    delivery_radius_km: float = 0.0
    service_area: tuple[str, ...] = ()
    outcode: str | None = None
    postcode: str | None = None

    def provider(self) -> Provider:
        """The new site as an engine :class:`Provider`."""
        return Provider(
            provider_id=self.provider_id,
            name=self.name,
            latitude=self.latitude,
            longitude=self.longitude,
            capacity=self.capacity,
            people_capacity=self.people_capacity,
            dietary=dict(self.dietary),
            delivery_capacity=self.delivery_capacity,
            delivery_radius_km=self.delivery_radius_km,
            service_area=frozenset(self.service_area),
            outcode=self.outcode,
            postcode=self.postcode,
        )


@dataclass(frozen=True, slots=True)
class ChangeTravel:
    """Change how far households can travel to collect.

    ``max_travel_km`` sets the limit; otherwise ``factor`` scales it. Restricted to
    referrals of the given ``urgencies`` and postcode ``areas`` when those are non-empty.
    """

    max_travel_km: float | None = None
    factor: float = 1.0
    urgencies: tuple[Urgency, ...] = ()
    areas: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScaleDemand:
    """Scale the number of referred households by ``factor``, reproducibly from ``seed``.

    The base households are kept (``factor`` >= 1) and extra households are drawn from them
    with replacement; below 1 a random subset is kept. ``factor`` 1.0 is the base exactly.
    ``spread``, when given, is the factor's stated uncertainty (``factor`` is then its
    median): a sweep draws the demand level from it as well as the households.
    """

    factor: float
    seed: int = 0
    spread: Distribution | None = None


Edit = CloseProviders | ScaleCapacity | SetDelivery | OpenSite | ChangeTravel | ScaleDemand
"""Any one scenario edit."""


def _in_areas(outcode: str | None, areas: Iterable[str]) -> bool:
    """Whether a postcode district is in ``areas`` (districts ``LS9`` or whole areas ``LS``)."""
    if outcode is None:
        return False
    area = postcode_area(outcode)
    return any(entry in (outcode, area) for entry in areas)


def _scaled(value: int, factor: float, add: int) -> int:
    """``value * factor + add`` rounded half up, never below zero."""
    return max(0, math.floor(value * factor + 0.5) + add)


def close_providers(problem: Problem, provider_ids: Iterable[str]) -> Problem:
    """The problem without the given sites (unknown ids are ignored here; see check_scenarios)."""
    closed = set(provider_ids)
    kept = tuple(p for p in problem.providers if p.provider_id not in closed)
    return replace(problem, providers=kept)


def scale_capacity(
    problem: Problem,
    *,
    factor: float = 1.0,
    add: int = 0,
    provider_ids: Iterable[str] = (),
    areas: Iterable[str] = (),
) -> Problem:
    """The problem with the chosen sites' capacity scaled by ``factor`` plus ``add`` parcels.

    ``people_capacity`` and dietary caps scale by the same factor (they are the same stock);
    ``add`` adds households and, in proportion to the site's people per parcel, people.
    Delivery capacity is a van, not stock: use :func:`set_delivery` for it.
    """
    ids = set(provider_ids)
    area_list = tuple(areas)
    everyone = not ids and not area_list

    def chosen(p: Provider) -> bool:
        return everyone or p.provider_id in ids or _in_areas(p.outcode, area_list)

    providers = []
    for p in problem.providers:
        if not chosen(p):
            providers.append(p)
            continue
        capacity = _scaled(p.capacity, factor, add)
        people: int | None = None
        if p.people_capacity is not None:
            per_parcel = p.people_capacity / p.capacity if p.capacity else 0.0
            people = _scaled(p.people_capacity, factor, math.floor(add * per_parcel + 0.5))
        dietary = {
            tag: None if cap is None else _scaled(cap, factor, 0) for tag, cap in p.dietary.items()
        }
        providers.append(replace(p, capacity=capacity, people_capacity=people, dietary=dietary))
    return replace(problem, providers=tuple(providers))


def set_delivery(
    problem: Problem,
    provider_ids: Iterable[str],
    *,
    delivery_capacity: int | None = None,
    delivery_radius_km: float | None = None,
) -> Problem:
    """The problem with the given sites' delivery capacity and/or radius set."""
    ids = set(provider_ids)
    providers = []
    for p in problem.providers:
        if p.provider_id in ids:
            p = replace(
                p,
                delivery_capacity=(
                    p.delivery_capacity if delivery_capacity is None else delivery_capacity
                ),
                delivery_radius_km=(
                    p.delivery_radius_km if delivery_radius_km is None else delivery_radius_km
                ),
            )
        providers.append(p)
    return replace(problem, providers=tuple(providers))


def open_site(problem: Problem, site: OpenSite) -> Problem:
    """The problem with one more site, placed after the existing ones."""
    return replace(problem, providers=(*problem.providers, site.provider()))


def change_travel(
    problem: Problem,
    *,
    max_travel_km: float | None = None,
    factor: float = 1.0,
    urgencies: Iterable[Urgency] = (),
    areas: Iterable[str] = (),
) -> Problem:
    """The problem with chosen households' travel limit set (or scaled by ``factor``)."""
    tiers = set(urgencies)
    area_list = tuple(areas)
    referrals = []
    for r in problem.referrals:
        if (not tiers or r.urgency in tiers) and (not area_list or _in_areas(r.outcode, area_list)):
            limit = max_travel_km if max_travel_km is not None else r.max_travel_km * factor
            r = replace(r, max_travel_km=limit)
        referrals.append(r)
    return replace(problem, referrals=tuple(referrals))


def scale_demand(problem: Problem, factor: float, seed: int = 0) -> Problem:
    """The problem with ``round(factor * n)`` households, resampled reproducibly from the base.

    With ``factor`` >= 1 every base household is kept, in order, and the extra ones are
    copies of base households drawn with replacement (a copy of ``R17`` is ``R17~1``,
    ``R17~2``, ...), appended after them. With ``factor`` < 1 a random subset is kept in input
    order. The same ``seed`` always gives the same households; 1.0 returns the base as is.
    """
    base = problem.referrals
    n = len(base)
    target = math.floor(factor * n + 0.5)
    if target == n or n == 0:
        return problem
    rng = np.random.default_rng(seed)
    if target < n:
        keep = np.sort(rng.choice(n, size=target, replace=False))
        return replace(problem, referrals=tuple(base[int(i)] for i in keep))
    taken = {r.referral_id for r in base}
    copies: dict[str, int] = {}
    extra: list[Referral] = []
    for index in rng.integers(0, n, size=target - n):
        source = base[int(index)]
        number = copies.get(source.referral_id, 0)
        while True:
            number += 1
            new_id = f"{source.referral_id}~{number}"
            if new_id not in taken:
                break
        copies[source.referral_id] = number
        taken.add(new_id)
        extra.append(replace(source, referral_id=new_id))
    return replace(problem, referrals=(*base, *extra))


def apply_edit(problem: Problem, edit: Edit) -> Problem:
    """Apply one edit; the base problem is never changed."""
    match edit:
        case CloseProviders(provider_ids=ids):
            return close_providers(problem, ids)
        case ScaleCapacity():
            return scale_capacity(
                problem,
                factor=edit.factor,
                add=edit.add,
                provider_ids=edit.provider_ids,
                areas=edit.areas,
            )
        case SetDelivery():
            return set_delivery(
                problem,
                edit.provider_ids,
                delivery_capacity=edit.delivery_capacity,
                delivery_radius_km=edit.delivery_radius_km,
            )
        case OpenSite():
            return open_site(problem, edit)
        case ChangeTravel():
            return change_travel(
                problem,
                max_travel_km=edit.max_travel_km,
                factor=edit.factor,
                urgencies=edit.urgencies,
                areas=edit.areas,
            )
        case ScaleDemand():
            return scale_demand(problem, edit.factor, edit.seed)
    raise TypeError(f"not a scenario edit: {edit!r}")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named what-if: edits applied in order to the base problem."""

    name: str
    edits: tuple[Edit, ...] = ()
    description: str = ""

    def with_demand_seed(self, seed: int) -> Scenario:
        """The same scenario with every demand draw re-seeded (one Monte Carlo draw)."""
        edits = tuple(
            replace(e, seed=seed) if isinstance(e, ScaleDemand) else e for e in self.edits
        )
        return replace(self, edits=edits)

    @property
    def has_demand(self) -> bool:
        """Whether the scenario resamples households (so a sweep over seeds varies it)."""
        return any(isinstance(e, ScaleDemand) for e in self.edits)

    @property
    def uncertain(self) -> tuple[tuple[str, Distribution], ...]:
        """Each uncertain factor as ``(name, distribution)``, in edit order.

        Names are ``demand_factor`` and ``capacity_factor`` (``capacity_factor_2``, ... when
        a scenario has several uncertain capacity edits): the sweep's column names.
        """
        out: list[tuple[str, Distribution]] = []
        counts: dict[str, int] = {}
        for edit in self.edits:
            if isinstance(edit, ScaleDemand | ScaleCapacity) and edit.spread is not None:
                kind = "demand_factor" if isinstance(edit, ScaleDemand) else "capacity_factor"
                counts[kind] = counts.get(kind, 0) + 1
                name = kind if counts[kind] == 1 else f"{kind}_{counts[kind]}"
                out.append((name, edit.spread))
        return tuple(out)

    @property
    def varies(self) -> bool:
        """Whether draws of this scenario differ (it resamples demand or states uncertainty)."""
        return self.has_demand or bool(self.uncertain)

    def draw(self, seed: int) -> tuple[Scenario, dict[str, float]]:
        """One Monte Carlo draw: the scenario with its uncertain factors drawn, and those factors.

        Every demand edit is re-seeded with ``seed`` (as :meth:`with_demand_seed`), and each
        uncertain factor is drawn, in edit order, from a random stream seeded by ``seed``
        (one number per factor). A scenario with no stated uncertainty gives exactly
        ``with_demand_seed(seed)`` and no factors. Same seed, same draw.
        """
        rng = np.random.default_rng(seed)
        names = iter(name for name, _ in self.uncertain)
        drawn: dict[str, float] = {}
        edits: list[Edit] = []
        for edit in self.edits:
            if isinstance(edit, ScaleDemand | ScaleCapacity) and edit.spread is not None:
                factor = sample(edit.spread, rng)
                drawn[next(names)] = factor
                edit = replace(edit, factor=factor, spread=None)
            if isinstance(edit, ScaleDemand):
                edit = replace(edit, seed=seed)
            edits.append(edit)
        return replace(self, edits=tuple(edits)), drawn


def apply_scenario(problem: Problem, scenario: Scenario) -> Problem:
    """The scenario's problem: the base with every edit applied in order."""
    for edit in scenario.edits:
        problem = apply_edit(problem, edit)
    return problem
