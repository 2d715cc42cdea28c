"""dbpoolsim.compare: every metric per scenario with paired (CRN) differences."""

from __future__ import annotations

import pytest

import dbpoolsim


def test_paired_differences_against_the_baseline(tiny):
    bigger = dbpoolsim.with_overrides(tiny, **{"pool.max_connections": 8})
    df = dbpoolsim.compare({"small": tiny, "big": bigger})
    assert list(df.columns) == ["mean", "ci95", "diff", "diff_ci95", "diff_pct"]
    assert set(df.index.get_level_values("scenario")) == {"small", "big"}
    assert "wall_seconds" not in df.index.get_level_values("metric")
    small = dbpoolsim.run(tiny, threads=1, progress=False).replications
    big = dbpoolsim.run(bigger, threads=1, progress=False).replications
    d = big["timeouts"] - small["timeouts"]
    mean, half = dbpoolsim.confidence_interval(d)
    assert df.loc[("big", "timeouts"), "diff"] == pytest.approx(mean, rel=1e-12)
    assert df.loc[("big", "timeouts"), "diff_ci95"] == pytest.approx(half, rel=1e-12)
    assert df.loc[("small", "timeouts"), "diff"] == 0.0
    assert df.loc[("big", "timeouts"), "mean"] < df.loc[("small", "timeouts"), "mean"]
    # Same arrivals in both (CRN): the difference in offered requests is exactly zero.
    assert df.loc[("big", "offered"), "diff"] == 0.0 and df.loc[("big", "offered"), "diff_ci95"] == 0.0


def test_baseline_and_replications(tiny):
    bigger = dbpoolsim.with_overrides(tiny, **{"pool.max_connections": 8})
    df = dbpoolsim.compare({"small": tiny, "big": bigger}, baseline="big", replications=2)
    assert df.loc[("big", "timeouts"), "diff"] == 0.0
    assert df.loc[("small", "timeouts"), "diff"] > 0
    with pytest.raises(dbpoolsim.ScenarioError, match="baseline 'huge' is not one of"):
        dbpoolsim.compare({"small": tiny}, baseline="huge")
    tiny["pool"]["max_connections"] = -1
    with pytest.raises(dbpoolsim.ScenarioError, match="scenario 'bad': /pool/max_connections: must be >= 1, got -1"):
        dbpoolsim.compare({"good": bigger, "bad": tiny})
