"""dbpoolsim: a discrete-event simulator of database connection pools.

    >>> import dbpoolsim
    >>> res = dbpoolsim.run("medium-application")          # a built-in scenario
    >>> res.summary["wait_time_p99_ms"]                     # mean over replications
    >>> res.replications                                    # one DataFrame row per replication
    >>> res.timeseries                                      # one row per sample interval

A scenario is a dict, a JSON string, a path to a JSON or YAML file, or the name of a built-in
scenario (``dbpoolsim.builtin_scenarios()``). See docs/scenario.md for every field.
"""

from __future__ import annotations

try:
    from . import _core
except ImportError as exc:  # pragma: no cover - only when the extension is missing
    raise ImportError(
        "dbpoolsim's compiled core (dbpoolsim._core) could not be imported. "
        "Did you build and install the package? Run `make install` (or `pip install .`) "
        "from the repository root."
    ) from exc

from ._core import ScenarioError, theory
from .analysis import confidence_interval, summarize
from .compare import compare
from .recommend import Recommendation, recommend
from .report import health_verdict, render_report
from .result import Result
from .runner import RunInterrupted, run
from .sweep import SweepResult, sweep
from .scenario import (
    builtin_scenarios,
    default_scenario,
    load_scenario,
    pool_kinds,
    resolve_scenario,
    with_overrides,
)
from .yaml_scenario import load_yaml_scenario
from . import formulas  # noqa: E402  (after run and scenario, which it uses)

__version__ = "0.1.0"

__all__ = [
    "Recommendation",
    "Result",
    "RunInterrupted",
    "ScenarioError",
    "SweepResult",
    "builtin_scenarios",
    "compare",
    "confidence_interval",
    "default_scenario",
    "fit",
    "formulas",
    "health_verdict",
    "import_config",
    "load_scenario",
    "load_yaml_scenario",
    "plot",
    "pool_kinds",
    "recommend",
    "render_report",
    "resolve_scenario",
    "run",
    "summarize",
    "sweep",
    "theory",
    "with_overrides",
]


# Submodules that need the optional packages (scipy, matplotlib) load on first use.
_LAZY = ("fit", "import_config", "plot")


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'dbpoolsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
