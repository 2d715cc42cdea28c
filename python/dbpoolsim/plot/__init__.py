"""dbpoolsim.plot: figures of runs (timeline.py) and of sweeps (sweeps.py).

    >>> from dbpoolsim import plot
    >>> plot.timeline(res)              # connections by state, waiters, backends, logins/s, faults
    >>> plot.wait_distribution(res)     # acquire-wait quantiles and per-interval waits

Each returns a matplotlib Figure (built without pyplot); ``fig.savefig("x.png")`` saves it.
"""

from __future__ import annotations

from .timeline import fault_windows, timeline, wait_distribution

__all__ = ["fault_windows", "timeline", "wait_distribution"]


def __dir__() -> list[str]:
    return sorted(__all__)
