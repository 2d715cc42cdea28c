"""dbpoolsim.recommend and SLO clauses: the answer against exact theory, the search cost,
the knee under a USL database, nothing-in-range, and errors before anything runs."""

from __future__ import annotations

import math

import pytest

import dbpoolsim
from dbpoolsim.analysis import t_quantile, t_quantile_975
from dbpoolsim.recommend import _ladder
from dbpoolsim.slo import Clause, parse_slo

SIZE = ("pool.min_connections", "pool.max_connections")


def mmc(rate=200.0, horizon=200.0):
    """M/M/c + 50 ms deterministic patience: Poisson arrivals, exponential 20 ms queries, a
    fixed pool (min = max, opened at start, no round trips), so theory is exact."""
    return {
        "name": "mmc",
        "run": {"horizon_s": horizon, "warmup_s": 10, "replications": 4, "seed": 11},
        "workload": {"arrivals": {"kind": "poisson", "rate_per_s": rate},
                     "transactions": [{"name": "q", "weight": 1, "queries": 1,
                                       "query_time": {"kind": "exponential", "mean_s": 0.02}}]},
        "pool": {"kind": "generic", "min_connections": 5, "max_connections": 5,
                 "acquisition_timeout": 0.05},
        "database": {"connect_time": {"kind": "constant", "value_s": 0.0}, "network_rtt_s": 0.0},
    }


def usl_db(rate=340.0):
    """A database whose throughput peaks at N* = sqrt((1 - 0.05) / 0.01) = 9.7 running
    queries (USL): X(5) = 357/s, X(8) = 419/s, X(10) = 426/s, X(16) = 386/s, X(24) = 313/s
    for 10 ms of work per query, so at 340 req/s a pool of 24 or more lets it tip over
    (measured: mean latency 20 ms with 12 connections, 23-29 ms with 16, 0.7-1.4 s with 32)."""
    return {
        "name": "usl",
        "run": {"horizon_s": 30, "warmup_s": 5, "replications": 3, "seed": 5},
        "workload": {"arrivals": {"kind": "poisson", "rate_per_s": rate},
                     "transactions": [{"name": "q", "weight": 1, "queries": 1,
                                       "query_time": {"kind": "exponential", "mean_s": 0.01}}]},
        "pool": {"kind": "generic", "min_connections": 4, "max_connections": 4,
                 "acquisition_timeout": 1.0},
        "database": {"usl": {"sigma": 0.05, "kappa": 0.01},
                     "connect_time": {"kind": "constant", "value_s": 0.0}, "network_rtt_s": 0.0},
    }


def test_t_quantile_matches_the_table_and_known_one_sided_values():
    for df in (1, 2, 5, 10, 30, 31, 100):
        assert t_quantile(0.975, df) == pytest.approx(t_quantile_975(df), abs=2e-3)
    assert t_quantile(0.95, 4) == pytest.approx(2.131847, abs=1e-6)  # tables: 2.132
    assert t_quantile(0.99, 9) == pytest.approx(2.821438, abs=1e-6)  # tables: 2.821
    assert t_quantile(0.5, 3) == 0.0
    assert t_quantile(0.05, 4) == pytest.approx(-2.131847, abs=1e-6)


def test_slo_forms_parse_to_the_same_clauses():
    a = parse_slo({"wait_time_p99_ms": ("<=", 10), "timeout_rate": ("<", 0.001)})
    b = parse_slo(["wait_time_p99_ms<=10", " timeout_rate <  1e-3 "])
    assert a == b == [Clause("wait_time_p99_ms", "<=", 10.0), Clause("timeout_rate", "<", 0.001)]
    assert parse_slo("peak_backend_connections <= 100")[0].metric == "peak_backend_connections"


@pytest.mark.parametrize(("slo", "message"), [
    ("wait_p99 <= 10", "slo 'wait_p99 <= 10': unknown metric 'wait_p99'"),
    ("wait_time_p99_ms == 10", "slo 'wait_time_p99_ms == 10': operator '==' is not allowed"),
    ("wait_time_p99_ms <= ten", "slo 'wait_time_p99_ms <= ten': target of wait_time_p99_ms must be a number, got 'ten'"),
    ("wait_time_p99_ms", "slo 'wait_time_p99_ms': expected 'metric <= value'"),
    ({"timeout_rate": ("~", 1)}, "slo 'timeout_rate': expected (op, target) with op one of <=, >=, <, >, got ('~', 1)"),
    ([], "slo: no clause given"),
])
def test_bad_slo_clause_is_a_clear_error(slo, message):
    with pytest.raises(dbpoolsim.ScenarioError) as info:
        parse_slo(slo)
    assert str(info.value).startswith(message), str(info.value)


def test_one_sided_bound_is_mean_plus_t_times_standard_error():
    v = Clause("x", "<=", 10).judge([8.0, 9.0, 10.0, 9.0], confidence=0.95)
    se = math.sqrt(2 / 3) / 2
    assert v.mean == 9.0 and v.bound == pytest.approx(9.0 + t_quantile(0.95, 3) * se)
    assert v.met is (v.bound <= 10)
    lower = Clause("x", ">=", 8.5).judge([8.0, 9.0, 10.0, 9.0], confidence=0.95)
    assert lower.bound == pytest.approx(9.0 - t_quantile(0.95, 3) * se) and not lower.met
    assert Clause("x", ">=", 8.5).judge([8.0, 9.0, 10.0, 9.0], confidence=0.5).met


def test_ladder_doubles_its_steps():
    assert _ladder(1, 64, True) == [1, 2, 4, 8, 16, 32, 64]
    assert _ladder(3, 40, True) == [3, 4, 6, 10, 18, 34, 40]


def test_recommendation_agrees_with_exact_m_m_c_theory():
    # Exact P(timeout) for c = 4..7 at 200/s, 20 ms, 50 ms patience (theory module):
    # 0.0757, 0.00944, 0.00064, 0.000032. The SLO <= 0.003 sits between 5 and 6, each about
    # 3x away, many standard errors over 4 x 200 s, so the answer is 6.
    exact = {c: dbpoolsim.theory.mmc_deterministic_patience(200, 50, c, 0.05)["p_timeout"]
             for c in range(4, 8)}
    assert exact[5] > 0.009 and exact[6] < 0.001
    rec = dbpoolsim.recommend(mmc(), SIZE, "timeout_rate <= 0.003", lo=1, hi=64, progress=False)
    assert rec.met and rec.value == 6, rec.why
    ev = rec.evaluated.set_index("pool.max_connections")
    assert bool(ev.loc[6, "met"]) and not bool(ev.loc[5, "met"])
    for c in (4, 5, 6):  # the simulated rates agree with theory (25 % for these rare events)
        assert ev.loc[c, "timeout_rate"] == pytest.approx(exact[c], rel=0.25, abs=2e-4)
    # O(log range): the ladder (7 values) plus bisection between 4 and 8 (2) plus the knee's
    # refinement (at most 2).
    assert len(ev) <= len(_ladder(1, 64, True)) + 2 + 2
    assert rec.knee is None  # no database contention: bigger is never worse
    assert rec.why.startswith("pool.min_connections+pool.max_connections = 6 is the smallest value in [1, 64]")
    assert "; 5 does not (timeout_rate = " in rec.why


def test_close_points_get_more_replications():
    # A target right at a value's mean: the bound straddles it, so that value gets up to 4x.
    base = dbpoolsim.sweep(mmc(horizon=60), {SIZE: [(5, 5)]}, progress=False).points
    target = float(base["timeout_rate"].iloc[0]) * 1.02
    rec = dbpoolsim.recommend(mmc(horizon=60), SIZE, {"timeout_rate": ("<=", target)},
                              lo=1, hi=16, progress=False)
    ev = rec.evaluated.set_index("pool.max_connections")
    assert ev.loc[5, "replications"] > 4
    assert ev["replications"].min() == 4


def test_knee_under_a_usl_database():
    rec = dbpoolsim.recommend(usl_db(), SIZE, "wait_time_p99_ms <= 50", lo=1, hi=64, progress=False)
    assert rec.met and 4 <= rec.value <= 10, rec.why
    assert rec.knee is not None and rec.value <= rec.knee <= 16, rec.why
    assert "Bigger is worse beyond about" in rec.why and "mean latency rises" in rec.why
    ev = rec.evaluated.set_index("pool.max_connections")
    assert ev.loc[64, "latency_avg_ms"] > 5 * ev.loc[rec.knee, "latency_avg_ms"]


def test_nothing_in_range_says_so_and_shows_the_closest():
    rec = dbpoolsim.recommend(mmc(horizon=30), SIZE, "latency_avg_ms <= 5", lo=1, hi=16, progress=False)
    assert not rec.met and rec.value is None
    assert rec.closest is not None
    assert rec.why.startswith("nothing in [1, 16] meets the SLO with 95 % confidence; the closest is "
                              f"pool.min_connections+pool.max_connections = {rec.closest:g}")


def test_bad_parameter_range_and_replications_are_errors_before_running(tiny):
    with pytest.raises(dbpoolsim.ScenarioError, match="recommend point 0 .*pool.max_conections.*unknown key"):
        dbpoolsim.recommend(tiny, "pool.max_conections", "timeout_rate<=0.01", lo=1, hi=8)
    with pytest.raises(dbpoolsim.ScenarioError, match="range: lo must be below hi, got lo=8, hi=2"):
        dbpoolsim.recommend(tiny, "pool.max_connections", "timeout_rate<=0.01", lo=8, hi=2)
    with pytest.raises(dbpoolsim.ScenarioError, match="recommend needs at least 2 for a confidence bound, got 1"):
        dbpoolsim.recommend(tiny, "pool.max_connections", "timeout_rate<=0.01", replications=1)
    with pytest.raises(dbpoolsim.ScenarioError, match="unknown metric 'timeouts_rate'"):
        dbpoolsim.recommend(tiny, "pool.max_connections", "timeouts_rate<=0.01")
    with pytest.raises(dbpoolsim.ScenarioError, match=r"recommend point 0 \(pool.max_connections=0"):
        dbpoolsim.recommend(tiny, "pool.max_connections", "timeout_rate<=0.01", lo=0, hi=4)
