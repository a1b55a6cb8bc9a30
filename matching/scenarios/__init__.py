"""What-if planning: scenario files, edits on a Problem, KPIs, comparisons and sweeps.

A planner asks "what if this site closed?", "what if demand rose by a fifth, or by
somewhere between 10% and 40%?" and wants the answer next to today's. Every step is a pure
function, in one module each:

- :mod:`~matching.scenarios.spec` reads scenario files (TOML, see ``docs/scenarios.md``)
  into :class:`Scenario` objects, each a name and a tuple of edits
  (:mod:`~matching.scenarios.edits`); bad input raises :class:`ScenarioError`, an
  :class:`~matching.io.InputError` listing every problem by file, line, scenario and key;
- :func:`apply_scenario` turns the base :class:`~matching.models.Problem` into the
  scenario's, never changing the base; uncertain factors are stated as distributions
  (:mod:`~matching.scenarios.distributions`);
- :func:`compute_kpis` and :func:`run_scenario` (:mod:`~matching.scenarios.kpis`) give the
  planner's numbers; :func:`compare` (:mod:`~matching.scenarios.comparison`) puts them side by
  side with differences;
- :func:`run_many` and :func:`sweep` (:mod:`~matching.scenarios.runner`) run many scenarios
  or Monte Carlo draws, serially or on Dask; :func:`monte_carlo` and
  :func:`monte_carlo_from_spec` (:mod:`~matching.scenarios.montecarlo`) summarise the
  spread: quantiles and the chance of unmet emergencies, overall and by district.

Only aggregates leave this package (counts by tier, district and provider): no referral
id, postcode or household ever appears in a KPI, comparison or summary.
"""

from matching.scenarios.comparison import DIFF_SUFFIX, compare, comparison_csv, format_value
from matching.scenarios.distributions import (
    Distribution,
    Triangular,
    TruncatedNormal,
    Uniform,
)
from matching.scenarios.edits import (
    MAX_DEMAND_FACTOR,
    ChangeTravel,
    CloseProviders,
    Edit,
    OpenSite,
    ScaleCapacity,
    ScaleDemand,
    Scenario,
    SetDelivery,
    apply_edit,
    apply_scenario,
    change_travel,
    close_providers,
    open_site,
    scale_capacity,
    scale_demand,
    set_delivery,
)
from matching.scenarios.errors import ScenarioError, ScenarioProblem
from matching.scenarios.kpis import (
    DEFAULT_MIN_DISTRICT_HOUSEHOLDS,
    NO_DISTRICT,
    ScenarioKPIs,
    compute_kpis,
    run_scenario,
)
from matching.scenarios.montecarlo import (
    MONTE_CARLO_QUANTILES,
    Chance,
    MonteCarlo,
    MonteCarloSummary,
    monte_carlo,
    monte_carlo_from_spec,
    monte_carlo_summary,
)
from matching.scenarios.runner import (
    PLANNING_EXTRA,
    SCHEDULER_ENV,
    ClusterError,
    Draw,
    draw_seeds,
    local_cluster,
    run_draws,
    run_many,
    scheduler_from_env,
    summarise_sweep,
    sweep,
)
from matching.scenarios.spec import (
    Locator,
    ScenarioFile,
    check_scenarios,
    load_scenario_file,
    parse_scenarios,
)

__all__ = [
    "DEFAULT_MIN_DISTRICT_HOUSEHOLDS",
    "DIFF_SUFFIX",
    "MAX_DEMAND_FACTOR",
    "MONTE_CARLO_QUANTILES",
    "NO_DISTRICT",
    "PLANNING_EXTRA",
    "SCHEDULER_ENV",
    "Chance",
    "ChangeTravel",
    "CloseProviders",
    "ClusterError",
    "Distribution",
    "Draw",
    "Edit",
    "Locator",
    "MonteCarlo",
    "MonteCarloSummary",
    "OpenSite",
    "ScaleCapacity",
    "ScaleDemand",
    "Scenario",
    "ScenarioError",
    "ScenarioFile",
    "ScenarioKPIs",
    "ScenarioProblem",
    "SetDelivery",
    "Triangular",
    "TruncatedNormal",
    "Uniform",
    "apply_edit",
    "apply_scenario",
    "change_travel",
    "check_scenarios",
    "close_providers",
    "compare",
    "comparison_csv",
    "compute_kpis",
    "draw_seeds",
    "format_value",
    "load_scenario_file",
    "local_cluster",
    "monte_carlo",
    "monte_carlo_from_spec",
    "monte_carlo_summary",
    "open_site",
    "parse_scenarios",
    "run_draws",
    "run_many",
    "run_scenario",
    "scale_capacity",
    "scale_demand",
    "scheduler_from_env",
    "set_delivery",
    "summarise_sweep",
    "sweep",
]
