"""dbpoolsim.plot: figures of runs (timeline.py) and of sweeps (sweeps.py).

    >>> from dbpoolsim import plot
    >>> plot.timeline(res)              # connections by state, waiters, backends, logins/s, faults
    >>> plot.wait_distribution(res)     # acquire-wait quantiles and per-interval waits
    >>> plot.sweep_curve(sw, "pool.max_connections", "wait_time_p99_ms")   # metric vs parameter, CI band
    >>> plot.heatmap(sw, x, y, metric)  # two swept parameters
    >>> plot.recommend_curve(rec)       # the searched curve, the SLO line and the chosen value

The run figures return a matplotlib Figure (built without pyplot; ``fig.savefig("x.png")``);
the sweep figures draw on an ``ax=`` (or a new one) and return the Axes.
"""

from __future__ import annotations

from .sweeps import heatmap, label, recommend_curve, save_sweep_plots, sweep_curve
from .timeline import fault_windows, timeline, wait_distribution

__all__ = [
    "fault_windows",
    "heatmap",
    "label",
    "recommend_curve",
    "save_sweep_plots",
    "sweep_curve",
    "timeline",
    "wait_distribution",
]


def __dir__() -> list[str]:
    return sorted(__all__)
