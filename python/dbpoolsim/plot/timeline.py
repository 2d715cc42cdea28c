"""Plots of one run: the timeline (connections by state, waiters, backends, logins per second,
with the scenario's fault windows shaded) and the acquire-wait distribution.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state), so they are safe in
threads and need no display; in a notebook they show like any figure.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np
import pandas as pd

__all__ = ["timeline", "wait_distribution", "fault_windows"]

# Colours per connection state, used by every panel so a state reads the same everywhere.
STATE_COLOURS = {"active_connections": "#d62728", "idle_connections": "#2ca02c", "creating_connections": "#ff7f0e"}
_FAULT_COLOUR = "#9467bd"


def fault_windows(scenario: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(kind, start_s, end_s) of each fault in the scenario; an instant fault (a kill) has
    start == end."""
    out = []
    for f in scenario.get("faults") or []:
        start = float(f.get("at_s", 0.0))
        out.append((str(f.get("kind", "fault")), start, start + float(f.get("duration_s", 0.0) or 0.0)))
    return out


def _series(result: Any, replication: Optional[int]) -> tuple[pd.DataFrame, str]:
    ts = result.timeseries
    if ts.empty:
        raise ValueError("the result has no time series (run.sample_interval_s too large for the horizon?)")
    if replication is not None:
        reps = sorted(int(r) for r in ts["replication"].unique())
        if replication not in reps:
            raise ValueError(f"replication: must be one of {reps}, got {replication!r}")
        return ts[ts["replication"] == replication].set_index("t_s"), f"replication {replication}"
    n = ts["replication"].nunique()
    mean = ts.drop(columns="replication").groupby("t_s").mean()
    return mean, ("mean of %d replications" % n) if n > 1 else "replication 0"


def _shade(ax: Any, windows: list[tuple[str, float, float]], label: bool) -> None:
    for i, (kind, start, end) in enumerate(windows):
        text = f"fault: {kind}" if label else None
        if end > start:
            ax.axvspan(start, end, color=_FAULT_COLOUR, alpha=0.15, lw=0, label=text if i == 0 or label else None)
        else:
            ax.axvline(start, color=_FAULT_COLOUR, ls="--", lw=1, label=text)


def timeline(result: Any, replication: Optional[int] = None, *, width: float = 10.0) -> Any:
    """Four panels over simulated time: connections by state (stacked), requests waiting for
    a connection, database backends (and PgBouncer's servers and queue when there is a
    pooler), and logins per second. Fault windows are shaded; warm-up is greyed.

    ``replication``: one replication's timeline (default: the mean over replications at each
    sample instant)."""
    from matplotlib.figure import Figure

    df, what = _series(result, replication)
    sc = result.scenario
    t = df.index.to_numpy()
    dt = float(sc["run"].get("sample_interval_s", 1.0)) or 1.0
    windows = fault_windows(sc)
    pooler = bool(sc.get("pooler"))
    fig = Figure(figsize=(width, 9.0), layout="constrained")
    axes = fig.subplots(4, 1, sharex=True)
    fig.suptitle(f"{sc.get('name', 'scenario')}: timeline ({what})")

    ax = axes[0]
    states = [c for c in STATE_COLOURS if c in df.columns]
    ax.stackplot(t, *[df[c].to_numpy() for c in states], colors=[STATE_COLOURS[c] for c in states],
                 labels=[c.replace("_connections", "") for c in states], alpha=0.85, step=None)
    ax.set_ylabel("connections")

    ax = axes[1]
    ax.plot(t, df["waiters"], color="#1f77b4", label="waiting for a connection")
    if pooler and "pooler_waiting" in df:
        ax.plot(t, df["pooler_waiting"], color="#8c564b", label="queued in PgBouncer")
    ax.set_ylabel("requests")

    ax = axes[2]
    ax.plot(t, df["db_backends"], color="#17becf", label="database backends")
    if pooler and "pooler_servers" in df:
        ax.plot(t, df["pooler_servers"], color="#8c564b", ls="--", label="PgBouncer servers")
    limit = (sc.get("database") or {}).get("max_connections")
    if limit:
        ax.axhline(limit, color="black", lw=0.8, ls=":", label=f"max_connections {limit}")
    ax.set_ylabel("backends")

    ax = axes[3]
    ax.plot(t, df["logins"] / dt, color="#e377c2", label="logins per second")
    ax.set_ylabel("logins / s")
    ax.set_xlabel("simulated time (s)")

    warm = float(sc["run"].get("warmup_s", 0.0))
    for i, ax in enumerate(axes):
        if warm > 0:
            ax.axvspan(0, warm, color="grey", alpha=0.08, lw=0, label="warm-up" if i == 0 else None)
        _shade(ax, windows, label=(i == 0))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize="small")  # beside, not over, the data
    axes[0].set_xlim(0, float(sc["run"]["horizon_s"]))
    return fig


_LEVELS = [("p50", 0.50), ("p95", 0.95), ("p99", 0.99)]


def wait_distribution(result: Any, *, width: float = 10.0) -> Any:
    """The acquire wait: its quantiles (p50, p95, p99 and the maximum of every replication,
    and pooled over all replications), beside the per-interval p50 and p99 over time with the
    fault windows shaded. The wait axis is logarithmic above 0.01 ms and linear below, so a
    wait of 0 shows as 0."""
    from matplotlib.figure import Figure

    sc = result.scenario
    reps = result.replications
    fig = Figure(figsize=(width, 4.0), layout="constrained")
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
    fig.suptitle(f"{sc.get('name', 'scenario')}: acquire wait")

    labels = [name for name, _ in _LEVELS] + ["max"]
    x = np.arange(len(labels))
    # symlog: linear below 0.01 ms, so "no wait" shows as 0 and waits of seconds still fit.
    scale = {"value": "symlog", "linthresh": 0.01}
    for _, row in reps.iterrows():
        ys = [row.get(f"wait_time_{name}_ms", math.nan) for name in labels]
        left.plot(x, ys, color="#1f77b4", alpha=0.25, marker=".", lw=0.8)
    pooled = [result.pooled.get(f"wait_time_{name}_ms", math.nan) for name in labels]
    left.plot(x, pooled, color="#1f77b4", marker="o", lw=2, label="all replications")
    avg = result.summary.get("wait_time_avg_ms", math.nan)
    if avg == avg:
        left.axhline(avg, color="#ff7f0e", ls="--", lw=1, label=f"mean {avg:.3g} ms")
    left.axhline(50, color="#d62728", ls=":", lw=1, label="50 ms (seeds' threshold)")
    left.set_xticks(x, labels)
    left.set_yscale(**scale)
    left.set_ylim(bottom=0)
    left.set_ylabel("wait (ms)")
    left.set_xlabel("quantile (thin lines: one replication each)")
    left.grid(alpha=0.3, which="both")
    left.legend(fontsize="small")

    ts = result.timeseries
    if not ts.empty:
        per_t = ts.drop(columns="replication").groupby("t_s")
        for col, colour in (("wait_p50_ms", "#1f77b4"), ("wait_p99_ms", "#d62728")):
            if col in ts:
                s = per_t[col].mean()
                right.plot(s.index, s.to_numpy(), color=colour,
                           label=col.replace("wait_", "").replace("_ms", "") + " per interval")
    _shade(right, fault_windows(sc), label=True)
    right.set_yscale(**scale)
    right.set_ylim(bottom=0)
    right.set_xlim(0, float(sc["run"]["horizon_s"]))
    right.set_xlabel("simulated time (s)")
    right.set_ylabel("wait (ms), mean over replications")
    right.set_title("per interval (gaps: no request got a connection)", fontsize="small")
    right.grid(alpha=0.3, which="both")
    right.legend(fontsize="small", loc="upper right")
    return fig
