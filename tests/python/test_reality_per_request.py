"""The reality harness's request-by-request comparison (experiments/reality/per_request.py) on
small synthetic pairs: no PostgreSQL needed. The matching must pair each measured request with
its own replay, whose number is its place in the replay's trace (acquire start, then trace
id), not its trace id nor its row in requests.csv (written in completion order).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "experiments" / "reality"))

import per_request  # noqa: E402
import simulate  # noqa: E402

LEAD = simulate.LEAD_S


def _req(i, start, wait, hold, outcome="ok"):
    """A measured request: trace id i, acquire start, acquire wait and hold (s)."""
    acquired = start + wait if outcome == "ok" else math.nan
    released = acquired + hold if outcome == "ok" else math.nan
    return {"id": str(i), "arrival_s": start, "acquire_start_s": start, "acquired_s": acquired,
            "query_done_s": released, "released_s": released,
            "ended_s": released if outcome == "ok" else start + wait, "outcome": outcome,
            "backend_pid": "1" if outcome == "ok" else "", "hold_s": hold}


# Trace ids 0..4; the load generator started id 2 before id 1 (dispatch lag), and ids 3 and 4
# at the same instant; requests.csv lists them as they ended. Replay order: 0, 2, 1, 3, 4.
MEASURED = [_req(0, 0.00, 0.000, 0.30), _req(2, 0.10, 0.200, 0.10), _req(1, 0.15, 0.250, 0.10),
            _req(3, 0.20, 0.300, 0.20), _req(4, 0.20, 0.250, 0.0, outcome="acquire_timeout")]
# The replay's records of that trace (as Result.requests gives them, in any order), waits a
# little off the measured ones so that each request's error is its own: 1, 2, 3 ms.
REPLAYED = [
    {"request": 3, "arrival_s": LEAD + 0.20, "wait_s": 0.303, "outcome": "completed", "latency_s": 0.503},
    {"request": 0, "arrival_s": LEAD + 0.00, "wait_s": 0.000, "outcome": "completed", "latency_s": 0.300},
    {"request": 1, "arrival_s": LEAD + 0.10, "wait_s": 0.201, "outcome": "completed", "latency_s": 0.301},
    {"request": 2, "arrival_s": LEAD + 0.15, "wait_s": 0.252, "outcome": "completed", "latency_s": 0.352},
    {"request": 4, "arrival_s": LEAD + 0.20, "wait_s": 0.250, "outcome": "acquire_timeout",
     "latency_s": 0.250},
]


def test_each_measured_request_meets_its_own_replay():
    pairs = per_request.match(MEASURED, REPLAYED, LEAD)
    assert [(m["id"], r["request"]) for m, r in pairs] == [("0", 0), ("2", 1), ("1", 2), ("3", 3), ("4", 4)]
    f = per_request.compare(pairs)
    assert f["requests"] == 5
    assert f["outcome_agrees"] == 1.0
    assert f["waited_agrees"] == 1.0
    # Served in both: ids 0, 2, 1, 3 with errors 0, 1, 2, 3 ms.
    assert f["wait_abs_err_median_ms"] == pytest.approx(1.5)
    assert f["wait_abs_err_p95_ms"] == pytest.approx(2.85)
    assert f["wait_diff_mean_ms"] == pytest.approx(1.5)
    assert f["latency_abs_err_median_ms"] == pytest.approx(1.5)
    assert f["wait_corr"] == pytest.approx(1.0, abs=1e-3)


def test_outcomes_that_differ_are_counted_and_left_out_of_the_waits():
    replayed = [dict(r) for r in REPLAYED]
    replayed[3] = {**replayed[3], "outcome": "acquire_timeout", "latency_s": 0.25}   # id 1 timed out
    f = per_request.compare(per_request.match(MEASURED, replayed, LEAD))
    assert f["outcome_agrees"] == pytest.approx(4 / 5)
    assert f["wait_abs_err_median_ms"] == pytest.approx(1.0)    # ids 0, 2, 3: 0, 1, 3 ms


def test_a_replay_that_does_not_line_up_is_an_error_not_a_comparison():
    with pytest.raises(ValueError, match="3 measured requests but 5 replayed"):
        per_request.match(MEASURED[:3], REPLAYED, LEAD)
    shifted = [{**r, "arrival_s": r["arrival_s"] + 0.05} for r in REPLAYED]
    with pytest.raises(ValueError, match="measured request id 0 starts at 5.000000 s"):
        per_request.match(MEASURED, shifted, LEAD)


def test_a_replay_through_dbpoolsim_matches_a_run_it_reproduces(tmp_path):
    # A measured run that a one-connection FIFO pool with a 250 ms timeout produces exactly
    # (the MEASURED trace, id 1 started at 0.16 s so that its wait, 240 ms, is clear of the
    # timeout): replayed through dbpoolsim's psycopg_pool, every request must meet itself,
    # ties included (ids 3 and 4 start together; file order serves 3 and times 4 out).
    measured = [_req(0, 0.00, 0.000, 0.30), _req(2, 0.10, 0.200, 0.10), _req(1, 0.16, 0.240, 0.10),
                _req(3, 0.30, 0.200, 0.20), _req(4, 0.30, 0.250, 0.0, outcome="acquire_timeout")]
    m = {"connect_times_s": [0.005, 0.005], "db_connect_times_s": [0.005], "overhead_s": 0.0,
         "restart": None}
    summary, replayed = simulate.replay("synthetic", "psycopg_pool",
                                        {"min_size": 1, "max_size": 1, "timeout": 0.25},
                                        measured, m, tmp_path)
    pairs = per_request.match(measured, replayed, LEAD)
    assert [m["id"] for m, _ in pairs] == ["0", "2", "1", "3", "4"]
    f = per_request.compare(pairs)
    assert f["outcome_agrees"] == 1.0
    # The replay trace keeps microseconds: agreement to 0.01 ms.
    assert f["wait_abs_err_p95_ms"] < 0.01, [(m["id"], r["wait_s"]) for m, r in pairs]
    assert f["latency_abs_err_median_ms"] < 0.01
    assert summary["timeout_rate"] == pytest.approx(0.2)
