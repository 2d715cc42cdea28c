"""The outputs of issue 11 at the boundary: per-request records as a DataFrame and files, their
cap's warning, the new summary metrics in Result, the report, the CLI and sweeps. The numbers
themselves are tested in C++ (tests/cpp/models/test_outputs.cpp)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import dbpoolsim

# One connection, 3 requests at once holding it 0.1 s, acquire timeout 0.15 s: waits 0 and
# 0.1 (served) and 0.15 (timed out), the same in every replication.
BURST = {
    "run": {"horizon_s": 1, "warmup_s": 0, "replications": 2, "seed": 3, "sample_interval_s": 0.5},
    "workload": {"arrivals": {"kind": "burst", "count": 3, "at_s": 0},
                 "transactions": [{"name": "q", "query_time": {"kind": "constant", "value_s": 0.1}}]},
    "pool": {"kind": "generic", "min_connections": 1, "max_connections": 1, "acquisition_timeout": 0.15,
             "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0},
    "database": {"cores": 0, "max_connections": 100, "network_rtt_s": 0,
                 "connect_time": {"kind": "constant", "value_s": 0}},
}


def burst(**run: object) -> dict:
    s = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BURST.items()}
    s["run"] = {**BURST["run"], **run}
    return s


def test_requests_is_none_unless_asked(tiny_result):
    assert tiny_result.requests is None


def test_requests_is_a_dataframe_of_every_counted_request():
    res = dbpoolsim.run(burst(record_requests=True), progress=False)
    req = res.requests
    assert isinstance(req, pd.DataFrame)
    assert list(req.columns) == ["replication", "request", "arrival_s", "class", "instance", "pool", "wait_s",
                                 "outcome", "connection", "latency_s", "attempts"]
    assert len(req) == 6  # 3 per replication, sorted by replication and arrival
    first = req[req.replication == 0]
    assert first["request"].tolist() == [0, 1, 2]
    assert first["outcome"].astype(str).tolist() == ["completed", "completed", "acquire_timeout"]
    assert first["wait_s"].tolist() == pytest.approx([0, 0.1, 0.15])
    assert first["latency_s"].tolist() == pytest.approx([0.1, 0.2, 0.15])
    assert first["connection"].tolist() == [0, 0, -1]
    assert set(req["class"].astype(str)) == {"q"} and set(req["pool"].astype(str)) == {"default"}
    # Conservation: one row per offered request.
    assert len(req) == res.replications["offered"].sum()


def test_the_cap_warns_with_the_numbers():
    with pytest.warns(RuntimeWarning, match=r"run.record_requests_max is 2, so replication \d recorded the first 2 of its 3"):
        res = dbpoolsim.run(burst(record_requests=True, record_requests_max=2), progress=False)
    assert len(res.requests) == 4


def test_save_and_the_cli_write_the_records(tmp_path, cli):
    res = dbpoolsim.run(burst(record_requests=True), progress=False)
    paths = res.save(tmp_path / "out", parquet=True)
    back = pd.read_csv(paths["requests"])
    assert back["outcome"].tolist() == res.requests["outcome"].astype(str).tolist()
    assert len(pd.read_parquet(paths["requests_parquet"])) == 6
    scenario = tmp_path / "burst.json"
    import json

    scenario.write_text(json.dumps(burst(record_requests=True)))
    proc = cli("run", scenario, "--out", "cli_out")
    assert proc.returncode == 0, proc.stderr
    assert "requests.csv" in proc.stdout
    assert len(pd.read_csv(tmp_path / "cli_out" / "requests.csv")) == 6
    assert "acquire wait p99, all" in proc.stdout and "P(wait > 50 ms)" in proc.stdout


def test_the_new_metrics_are_in_the_summary_and_flow_into_sweeps():
    res = dbpoolsim.run(burst(), progress=False)
    s = res.summary
    assert s["wait_time_all_max_ms"] == pytest.approx(150)
    assert s["wait_time_max_ms"] == pytest.approx(100)
    assert s["p_wait_over_threshold"] == pytest.approx(2 / 3)
    assert s["pooled_wait_time_all_max_ms"] == pytest.approx(150)
    assert s["failed_abandoned"] == 0
    assert math.isnan(s["pooler_wait_p95_ms"])  # no pooler
    sw = dbpoolsim.sweep(burst(), {"run.wait_threshold_s": [0.05, 0.12]}, progress=False)
    assert sw.points["p_wait_over_threshold"].tolist() == pytest.approx([2 / 3, 1 / 3])


def test_patience_abandons_and_is_reported():
    s = burst()
    s["pool"] = {**s["pool"], "acquisition_timeout": 10}
    s["client"] = {"patience": {"kind": "constant", "value_s": 0.05}}
    res = dbpoolsim.run(s, progress=False)
    assert res.summary["failed_abandoned"] == 2
    assert res.summary["timeouts"] == 0
    assert "failed: abandoned (patience)" in dbpoolsim.render_report(res)
