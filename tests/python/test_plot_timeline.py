"""dbpoolsim.plot.timeline and wait_distribution draw the result's own numbers, with the
scenario's fault windows shaded."""

from __future__ import annotations

import json

import numpy as np
import pytest

import dbpoolsim
from dbpoolsim import plot


@pytest.fixture(scope="module")
def fault_result(tiny_result):
    s = json.loads(json.dumps(tiny_result.scenario))
    s["faults"] = [{"kind": "restart", "at_s": 15, "duration_s": 4}, {"kind": "kill_connections", "at_s": 25}]
    return dbpoolsim.run(s, threads=2, progress=False)


def _spans(ax):
    """(x0, x1) of the shaded vertical spans on an axis."""
    out = []
    for p in ax.patches:
        if hasattr(p, "get_width"):  # a Rectangle (matplotlib >= 3.9)
            out.append((float(p.get_x()), float(p.get_x() + p.get_width())))
        else:  # a Polygon
            xs = np.asarray(p.get_xy())[:, 0]
            out.append((float(xs.min()), float(xs.max())))
    return out


def test_the_timeline_draws_the_series_it_names(fault_result):
    fig = plot.timeline(fault_result)
    conns, waiters, backends, logins = fig.axes[:4]
    mean = fault_result.timeseries.drop(columns="replication").groupby("t_s").mean()
    np.testing.assert_allclose(logins.lines[0].get_ydata(), mean["logins"] / 1.0)
    np.testing.assert_allclose(waiters.lines[0].get_ydata(), mean["waiters"])
    np.testing.assert_allclose(backends.lines[0].get_ydata(), mean["db_backends"])
    # The stacked states add up to the pool's total connections.
    top = conns.collections[-1].get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(mean[["active_connections", "idle_connections", "creating_connections"]]
                                .sum(axis=1).max())
    for ax in fig.axes[:4]:
        assert (15.0, 19.0) in _spans(ax)  # the restart window
        assert any(list(line.get_xdata()) == [25, 25] for line in ax.lines)  # the kill, an instant
        assert (0.0, 5.0) in _spans(ax)  # warm-up


def test_one_replication_or_a_bad_index(fault_result):
    fig = plot.timeline(fault_result, replication=1)
    one = fault_result.timeseries.query("replication == 1")
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), one["waiters"])
    with pytest.raises(ValueError, match=r"replication: must be one of \[0, 1, 2\], got 7"):
        plot.timeline(fault_result, replication=7)


def test_the_wait_distribution_draws_each_replication_and_the_pooled_quantiles(fault_result):
    fig = plot.wait_distribution(fault_result)
    left = fig.axes[0]
    reps = fault_result.replications
    assert len(left.lines) >= len(reps) + 1
    for line, (_, row) in zip(left.lines, reps.iterrows()):
        want = [row[f"wait_time_{k}_ms"] for k in ("p50", "p95", "p99", "max")]
        np.testing.assert_allclose(line.get_ydata(), want)
    pooled = [fault_result.pooled[f"wait_time_{k}_ms"] for k in ("p50", "p95", "p99", "max")]
    np.testing.assert_allclose(left.lines[len(reps)].get_ydata(), pooled)
    assert (15.0, 19.0) in _spans(fig.axes[1])
