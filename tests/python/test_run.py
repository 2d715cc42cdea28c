"""dbpoolsim.run: the Result, conservation, determinism, saving, the health verdict, Little's law
and common random numbers."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

import dbpoolsim
from dbpoolsim import Result, health_verdict, resolve_scenario, with_overrides

# The seeds' metric names (seeds/000, seeds/004) and the request outcomes, per replication.
REQUIRED_METRICS = [
    "total_connections", "active_connections", "idle_connections", "utilization_percent",
    "wait_time_avg_ms", "wait_time_p50_ms", "wait_time_p95_ms", "wait_time_p99_ms",
    "wait_time_max_ms", "connection_errors", "timeouts", "timeout_rate", "connections_created",
    "connections_closed_idle", "connections_closed_lifetime", "connections_closed_broken",
    "connections_closed_overflow", "connections_closed_validation",
    "offered", "completed", "failed", "failed_acquire_timeout", "failed_connect_error",
    "failed_pool_rejected", "failed_query_error", "failed_statement_timeout", "failed_read_only",
    "failed_socket_timeout", "in_flight", "success_rate",
    "throughput_per_s", "latency_avg_ms", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms",
    "latency_max_ms",
]

SERIES_COLUMNS = [
    "replication", "t_s", "total_connections", "active_connections", "idle_connections",
    "creating_connections", "waiters", "arrivals", "completions", "timeouts", "failures",
    "wait_p50_ms", "wait_p99_ms", "wait_max_ms", "db_backends", "db_active_queries",
    "requests_in_system",
    "pooler_servers",
    "pooler_waiting",
    "logins",
    "instances",
    "pooler_wait_p99_ms",
]


# ---- the Result ----------------------------------------------------------------------------


def test_run_returns_a_result_with_one_row_per_replication(tiny_result):
    res = tiny_result
    assert isinstance(res, Result)
    assert isinstance(res.replications, pd.DataFrame)
    assert res.replications["replication"].tolist() == [0, 1, 2]
    assert res.replications.columns[0] == "replication"
    missing = [m for m in REQUIRED_METRICS if m not in res.replications.columns]
    assert missing == []
    assert res.threads == 2
    assert res.wall_seconds >= 0


def test_timeseries_has_the_series_columns_and_one_row_per_sample(tiny_result):
    ts = tiny_result.timeseries
    assert list(ts.columns) == SERIES_COLUMNS
    # samples at 1, 2, ..., 29 s: instants before the 30 s horizon
    assert len(ts) == 3 * 29
    assert ts.groupby("replication").size().tolist() == [29, 29, 29]
    first = ts[ts["replication"] == 0]
    assert first["t_s"].tolist() == pytest.approx(list(range(1, 30)))
    # per-interval counts are of counted requests: nothing during the 5 s warm-up
    assert (first.loc[first["t_s"] < 5, "arrivals"] == 0).all()
    assert first.loc[first["t_s"] > 5, "arrivals"].sum() > 0


def test_series_interval_counts_add_up_to_the_replication_totals(tiny):
    # With no warm-up every counted event falls in a sampled interval except those of the
    # last, unsampled second [29, 30).
    res = dbpoolsim.run(with_overrides(tiny, **{"run.warmup_s": 0}), threads=1, progress=False)
    reps = res.replications.set_index("replication")
    for rep, rows in res.timeseries.groupby("replication"):
        for column, metric in (("arrivals", "offered"), ("completions", "completed"),
                               ("timeouts", "timeouts"), ("failures", "failed")):
            assert rows[column].sum() <= reps.loc[rep, metric], column
        assert rows["arrivals"].sum() >= 0.9 * reps.loc[rep, "offered"]
        # total also counts connections in a validation or health-check round trip
        parts = rows["active_connections"] + rows["idle_connections"] + rows["creating_connections"]
        assert (rows["total_connections"] >= parts).all()
        assert (rows["wait_max_ms"].dropna() >= rows["wait_p99_ms"].dropna()).all()


def test_summary_holds_means_ci95_and_pooled_percentiles(tiny_result):
    s = tiny_result.summary
    reps = tiny_result.replications
    for metric in reps.columns:
        if metric == "replication":
            continue
        assert s[metric] == pytest.approx(reps[metric].mean(), nan_ok=True), metric
        assert f"{metric}_ci95" in s, metric
    assert "replication" not in s
    assert s["offered_ci95"] > 0
    for key in ("pooled_wait_time_p50_ms", "pooled_wait_time_p99_ms", "pooled_latency_p99_ms",
                "pooled_latency_max_ms", "pooled_histogram_relative_error"):
        assert key in s, key
    assert s["pooled_histogram_relative_error"] == pytest.approx(1 / 256)
    assert s["pooled_latency_max_ms"] == reps["latency_max_ms"].max()


def test_result_scenario_is_the_resolved_input(tiny_result, tiny):
    assert tiny_result.scenario == resolve_scenario(tiny)


def test_stats_and_repr(tiny_result):
    stats = tiny_result.stats()
    assert list(stats.columns) == ["mean", "ci95", "min", "max"]
    assert stats.loc["offered", "min"] <= stats.loc["offered", "mean"] <= stats.loc["offered", "max"]
    assert repr(tiny_result).startswith("<dbpoolsim.Result 'tiny': 3 replications, wait p99 ")


def test_single_replication_has_nan_confidence_intervals(tiny):
    res = dbpoolsim.run(with_overrides(tiny, **{"run.replications": 1}), progress=False)
    assert len(res.replications) == 1
    assert math.isnan(res.summary["offered_ci95"])
    assert res.threads == 1  # never more threads than replications


def test_progress_bar_runs_and_leaves_no_output_on_stdout(capsys, tiny):
    res = dbpoolsim.run(tiny, threads=1, progress=True)
    assert len(res.replications) == 3
    assert capsys.readouterr().out == ""


# ---- conservation ---------------------------------------------------------------------------


CONSERVATION_CASES = {
    "tiny": {},
    "no-warmup": {"run.warmup_s": 0},
    "validate-on-borrow-fifo": {"pool.validate_on_borrow": True, "pool.idle_order": "fifo"},
    "db-refuses-logins": {"database.max_connections": 3, "pool.min_connections": 0},
    "short-lifetimes": {"pool.max_lifetime": 1, "pool.idle_timeout": 0.2,
                        "pool.idle_cleanup_interval": 0.5, "pool.health_check_interval": 0.3},
    "cpu-contention-mix": {"database.cores": 2, "workload.transactions": [
        {"weight": 2, "queries": 3,
         "query_time": {"kind": "lognormal", "median_s": 0.004, "p99_s": 0.04},
         "app_time": {"kind": "exponential", "mean_s": 0.001}},
        {"query_time": {"kind": "mixture", "components": [
            {"weight": 1, "dist": {"kind": "constant", "value_s": 0.001}},
            {"weight": 3, "dist": {"kind": "gamma", "shape": 2, "mean_s": 0.01}}]}}]},
    "no-timeout-overload": {"pool.acquisition_timeout": 0, "workload.arrivals.rate_per_s": 260},
    "closed-loop": {"workload.arrivals": {"kind": "closed_loop", "users": 20,
                                          "think_time": {"kind": "exponential", "mean_s": 0.05}}},
    "repeated-burst": {"workload.arrivals": {"kind": "burst", "count": 100, "at_s": 3, "every_s": 2}},
}


@pytest.mark.parametrize("overrides", CONSERVATION_CASES.values(), ids=CONSERVATION_CASES.keys())
def test_every_counted_request_ends_in_exactly_one_outcome(overrides, tiny):
    res = dbpoolsim.run(with_overrides(tiny, **overrides), threads=2, progress=False)
    r = res.replications
    assert (r["offered"] == r["completed"] + r["failed"] + r["in_flight"]).all()
    failed_parts = [c for c in r.columns if c.startswith("failed_")]
    assert (r["failed"] == r[failed_parts].sum(axis=1)).all()
    closed_parts = [c for c in r.columns if c.startswith("connections_closed_")]
    assert (r["connections_closed"] == r[closed_parts].sum(axis=1)).all()
    assert (r["timeouts"] == r["failed_acquire_timeout"]).all()
    assert (r["offered"] > 0).all()


def test_refused_logins_become_connection_errors(tiny):
    res = dbpoolsim.run(with_overrides(tiny, **CONSERVATION_CASES["db-refuses-logins"]),
                        threads=2, progress=False)
    r = res.replications
    assert (r["connection_errors"] > 0).all()
    assert (r["failed_connect_error"] > 0).all()
    assert (r["peak_backend_connections"] <= 3).all()


# ---- determinism ----------------------------------------------------------------------------


def _comparable(res: Result) -> pd.DataFrame:
    return res.replications.drop(columns=["wall_seconds"])


def test_same_seed_gives_identical_results_whatever_the_thread_count(tiny):
    sc = with_overrides(tiny, **{"run.replications": 4})
    serial = dbpoolsim.run(sc, threads=1, progress=False)
    parallel = dbpoolsim.run(sc, threads=2, progress=False)
    again = dbpoolsim.run(sc, threads=2, progress=False)
    pd.testing.assert_frame_equal(_comparable(serial), _comparable(parallel), check_exact=True)
    pd.testing.assert_frame_equal(_comparable(parallel), _comparable(again), check_exact=True)
    pd.testing.assert_frame_equal(serial.timeseries, parallel.timeseries, check_exact=True)
    assert serial.pooled == parallel.pooled


def test_different_seed_or_replication_gives_different_numbers(tiny):
    a = dbpoolsim.run(tiny, threads=2, progress=False).replications
    b = dbpoolsim.run(with_overrides(tiny, **{"run.seed": 8}), threads=2, progress=False).replications
    assert a["offered"].tolist() != b["offered"].tolist()
    assert a["offered"].nunique() == len(a)  # replications are independent draws


def test_common_random_numbers_across_pool_sizes(tiny):
    # Arrivals draw from their own stream: the pool cannot shift them.
    small = dbpoolsim.run(tiny, threads=2, progress=False)
    large = dbpoolsim.run(with_overrides(tiny, **{"pool.max_connections": 20}),
                          threads=2, progress=False)
    assert small.replications["offered"].tolist() == large.replications["offered"].tolist()
    assert small.timeseries["arrivals"].tolist() == large.timeseries["arrivals"].tolist()
    # ... while the pool's behaviour does change
    assert small.summary["timeouts"] > large.summary["timeouts"]


# ---- saving ---------------------------------------------------------------------------------


def test_save_writes_the_four_files(tiny_result, tiny, out_dir):
    paths = tiny_result.save(out_dir)
    assert {p.name for p in out_dir.iterdir()} == {
        "result.json", "scenario.resolved.json", "replications.csv", "timeseries.csv"}
    assert paths["result"] == out_dir / "result.json"
    assert json.loads(paths["scenario"].read_text()) == resolve_scenario(tiny)

    doc = json.loads(paths["result"].read_text())  # strict JSON: NaN became null
    assert set(doc) == {"scenario", "summary", "replications", "wall_seconds", "threads", "interrupted", "progress",
                        "overload"}
    assert doc["interrupted"] is False and doc["overload"]["overloaded"] is False
    assert [p["stopped"] for p in doc["progress"]] == [""] * len(doc["replications"])
    assert doc["scenario"] == resolve_scenario(tiny)
    assert len(doc["replications"]) == 3
    assert doc["summary"]["offered"] == pytest.approx(tiny_result.summary["offered"])

    reps = pd.read_csv(paths["replications"])
    assert list(reps.columns) == list(tiny_result.replications.columns)
    assert reps["offered"].tolist() == tiny_result.replications["offered"].tolist()
    ts = pd.read_csv(paths["timeseries"])
    assert list(ts.columns) == SERIES_COLUMNS
    assert len(ts) == len(tiny_result.timeseries)


def test_saved_result_json_has_no_nan_tokens(out_dir, tiny):
    # one replication: every ci95 is NaN; no DB cores: db_cpu_utilization_percent is NaN
    res = dbpoolsim.run(with_overrides(tiny, **{"run.replications": 1}), progress=False)
    res.save(out_dir)
    text = (out_dir / "result.json").read_text()
    assert "NaN" not in text
    doc = json.loads(text)
    assert doc["summary"]["offered_ci95"] is None
    assert doc["replications"][0]["db_cpu_utilization_percent"] is None


# ---- other arrival processes ----------------------------------------------------------------


def test_closed_loop_run(tiny):
    sc = with_overrides(tiny, **{"workload.arrivals": {
        "kind": "closed_loop", "users": 8, "think_time": {"kind": "constant", "value_s": 0.1}}})
    r = dbpoolsim.run(sc, threads=2, progress=False).replications
    assert (r["in_flight"] <= 8).all()
    assert (r["requests_in_system_avg"] <= 8).all()
    assert (r["completed"] > 0).all()
    assert (r["offered"] == r["completed"] + r["failed"] + r["in_flight"]).all()


def test_burst_run_counts_every_burst_in_the_window(tiny):
    # bursts of 50 at 0.5 s: once (every_s 0) ...
    once = dbpoolsim.run("spike-50", progress=False).replications.iloc[0]
    assert once["offered"] == 50 and once["completed"] == 50 and once["failed"] == 0
    assert once["peak_connections"] == 50  # grow-on-demand: one login per waiter
    # ... and every 2 s from 3 s, counted from the end of the 5 s warm-up: 5, 7, ..., 29
    sc = with_overrides(tiny, **CONSERVATION_CASES["repeated-burst"])
    r = dbpoolsim.run(sc, threads=2, progress=False).replications
    assert (r["offered"] == 13 * 100).all()


# ---- health verdict -------------------------------------------------------------------------


@pytest.mark.parametrize("summary, status", [
    ({"utilization_percent": 50}, "healthy"),
    ({"utilization_percent": 70}, "healthy"),
    ({"utilization_percent": 70.1}, "warning"),
    ({"utilization_percent": 85}, "warning"),
    ({"utilization_percent": 85.1}, "critical"),
    ({"utilization_percent": 20}, "underused"),  # seeds/000 "Low Utilization: If < 30%"
    ({"utilization_percent": 20, "wait_time_avg_ms": 60}, "warning"),  # a risk outranks waste
    ({"utilization_percent": 50, "wait_time_avg_ms": 50}, "healthy"),
    ({"utilization_percent": 50, "wait_time_avg_ms": 50.5}, "warning"),
    ({"utilization_percent": 50, "timeout_rate": 0.001}, "healthy"),
    ({"utilization_percent": 50, "timeout_rate": 0.0011}, "critical"),
    ({"utilization_percent": 50, "success_rate": 0.99}, "healthy"),
    ({"utilization_percent": 50, "success_rate": 0.98}, "critical"),
    ({"utilization_percent": 50, "connection_errors": 1}, "warning"),
    ({"utilization_percent": 75, "timeout_rate": 0.01}, "critical"),  # worst finding wins
    ({}, "healthy"),
    ({"utilization_percent": math.nan, "timeout_rate": math.nan}, "healthy"),
])
def test_health_verdict_uses_the_seeds_thresholds(summary, status):
    assert health_verdict(summary)["status"] == status


def test_health_verdict_explains_its_findings():
    v = health_verdict({"utilization_percent": 90, "wait_time_avg_ms": 80, "timeout_rate": 0.02})
    assert v["status"] == "critical"
    assert v["findings"] == [
        "utilisation 90.0 % is above 85 % (critical)",
        "average acquire wait 80.0 ms is above 50 ms",
        "timeout rate 2.000 % is above 0.1 %",
    ]
    assert len(v["recommendations"]) == 3
    low = health_verdict({"utilization_percent": 10})
    assert low["findings"] == ["utilisation 10.0 % is below 30 % (over-provisioned)"]


def test_render_report_shows_the_metrics_and_the_verdict(tiny_result):
    text = dbpoolsim.render_report(tiny_result)
    assert text.startswith("dbpoolsim: tiny\n  pool generic, 3 replication(s) x 30 s (warm-up 5 s), seed 7")
    assert "acquire wait p99" in text and "utilization_percent" in text
    status = health_verdict(tiny_result.summary)["status"]
    assert f"health: {status.upper()}" in text


# ---- Little's law ---------------------------------------------------------------------------


def test_littles_law_holds_on_a_stable_scenario(tiny):
    # M/M/10-like pool at 40 % load, no timeouts. L (time-average requests in system) and
    # lambda * W (offered rate x mean sojourn) are measured on the same sample path; over a
    # window of T = 190 s they differ only by boundary terms (requests in the system at the
    # window's start or end), of relative size about 2 W / T = 2e-4. 5 % leaves a wide margin,
    # so a failure means a real accounting error, not noise.
    sc = with_overrides(tiny, **{
        "run.horizon_s": 200, "run.warmup_s": 10, "run.replications": 2,
        "pool.max_connections": 10, "pool.acquisition_timeout": 0})
    r = dbpoolsim.run(sc, threads=2, progress=False).replications
    assert (r["failed"] == 0).all()
    little = r["offered_per_s"] * r["sojourn_avg_ms"] / 1000
    assert r["requests_in_system_avg"].tolist() == pytest.approx(little.tolist(), rel=0.05)


def test_verdict_blames_the_fault_not_the_pool_after_a_failover():
    summary = {"utilization_percent": 50, "timeout_rate": 0.2, "success_rate": 0.8,
               "connections_broken": 40, "failed_socket_timeout": 40, "time_to_recover_s": 925}
    v = dbpoolsim.health_verdict(summary)
    assert v["status"] == "critical"
    assert any("socket timeout" in f for f in v["findings"])
    assert any("925.0 s" in f for f in v["findings"])
    assert not any("undersized" in r for r in v["recommendations"])
    assert any("network.socket_timeout_s" in r for r in v["recommendations"])
    # Without a fault, timeouts still mean an undersized pool.
    plain = dbpoolsim.health_verdict({"utilization_percent": 50, "timeout_rate": 0.2})
    assert any("undersized" in r for r in plain["recommendations"])


def test_report_prints_the_incident_block_only_for_incidents():
    res = dbpoolsim.run({"run": {"horizon_s": 30, "warmup_s": 2, "replications": 2, "seed": 3},
                         "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 100}},
                         "pool": {"kind": "generic", "min_connections": 4, "max_connections": 4},
                         "faults": [{"kind": "restart", "at_s": 10, "duration_s": 3}]},
                        progress=False)
    from dbpoolsim.report import render_report

    text = render_report(res)
    assert "incident / client layer" in text and "time to recover" in text
    assert res.summary["connections_broken"] == 4
