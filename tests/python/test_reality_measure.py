"""The reality harness's measured inputs to the replay (experiments/reality/measure.py) on small
synthetic runs: no PostgreSQL needed. Behind PgBouncer in transaction mode, the overhead given
to the replay is that of the requests that found a server free (a request that queued in
PgBouncer holds its client connection for the queueing too); the SQLAlchemy and HikariCP
replays get the measured hand-off latency as `wakeup_latency_s`.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "experiments" / "reality"))

import measure  # noqa: E402


def _req(i, acquired, held, sleep, pid="1", start=None):
    start = acquired if start is None else start
    return {"id": str(i), "arrival_s": start, "acquire_start_s": start, "acquired_s": acquired,
            "query_done_s": acquired + held, "released_s": acquired + held, "ended_s": acquired + held,
            "outcome": "ok", "backend_pid": pid, "hold_s": sleep}


META = {"connections_opened_library": 1, "connections_closed_library": 0, "connect_times_s": [],
        "noise": {}}


def _pgbouncer_run():
    """One PgBouncer server. Requests 0 and 2 find it free (overhead 1 ms); request 1 gets its
    client connection while 0 is in its transaction and queues in PgBouncer until 0 ends
    (its hold beyond pg_sleep: 1 ms plus 0.1 s queued)."""
    return [_req(0, 0.0, 0.101, 0.1), _req(1, 0.05, 0.152, 0.1), _req(2, 1.0, 0.101, 0.1)]


def test_the_overhead_of_requests_that_found_a_server_free():
    rows = _pgbouncer_run()
    assert measure.unqueued_overheads(rows, 1) == pytest.approx([0.001, 0.001])
    assert len(measure.unqueued_overheads(rows, 2)) == 3  # with 2 servers nobody queued
    m = measure.summarise(rows, META, None, None, pooler_queue=1)
    assert m["overhead_unqueued_median_ms"] == pytest.approx(1.0)
    assert m["overhead_median_ms"] == pytest.approx(1.0)
    # The replay's overhead: the unqueued mean, not the mean over all (which holds the queue).
    assert measure.replay_overhead_s(m) == pytest.approx(0.001)
    assert m["overhead_ms"] == pytest.approx((1 + 52 + 1) / 3)
    # The measured wait counts request 1's 51 ms beyond the unqueued median as PgBouncer's queue.
    assert m["wait_time_avg_ms"] == pytest.approx(51 / 3)


def test_the_median_of_all_requests_would_hold_the_queue():
    """Two of three requests queue: the median overhead of all of them is a queued one's."""
    rows = [_req(0, 0.0, 0.101, 0.1), _req(1, 0.05, 0.152, 0.1), _req(2, 0.06, 0.202, 0.1)]
    m = measure.summarise(rows, META, None, None, pooler_queue=1)
    assert m["overhead_median_ms"] == pytest.approx(52.0)
    assert m["overhead_unqueued_median_ms"] == pytest.approx(1.0)
    assert m["wait_time_avg_ms"] == pytest.approx((0 + 51 + 101) / 3)
    assert measure.replay_overhead_s(m) == pytest.approx(0.001)
    assert measure.pooler_queue_servers({"pool_mode": "transaction", "default_pool_size": 8}) == 8
    assert measure.pooler_queue_servers({"pool_mode": "session", "default_pool_size": 8}) == 0
    assert measure.pooler_queue_servers(None) == 0


def test_the_hand_off_latency_becomes_the_wakeup_latency_of_the_thread_pools():
    # Request 1 waits from 0.05 s; request 0 releases pid 1 at 0.101 s; 1 gets it 0.4 ms later.
    # SQLAlchemy, HikariCP and psycopg_pool (issue 13) hand over to a thread that runs later.
    rows = [_req(0, 0.0, 0.101, 0.1), _req(1, 0.1014, 0.05, 0.049, start=0.05)]
    m = measure.summarise(rows, META, None, None)
    assert m["handoff_mean_ms"] == pytest.approx(0.4)
    for lib in ("sqlalchemy_queuepool", "hikaricp", "psycopg_pool"):
        p = measure.replay_params(lib, {"x": 1}, m)
        assert p == {"x": 1, "wakeup_latency_s": pytest.approx(0.0004)}
    for lib in ("asyncpg", "node_postgres", "go_database_sql"):  # no such knob
        assert measure.replay_params(lib, {"x": 1}, m) == {"x": 1}
    none = measure.summarise([_req(0, 0.0, 0.101, 0.1)], META, None, None)
    assert math.isnan(none["handoff_mean_ms"])
    assert measure.replay_params("hikaricp", {}, none) == {"wakeup_latency_s": 0.0}


def test_hikaricp_borrows_that_paid_an_isvalid_become_its_validation_latency():
    # HikariCP 2.7.9 checks a connection borrowed more than 500 ms after its previous borrow
    # (the proxy's lastAccess), whatever its return. On pid 1: request 0 borrows at 0.0 s and
    # holds 0.3 s; request 1 borrows at 0.6 s (0.3 s after the return, 0.6 s after the borrow:
    # checked, waits 2 ms); request 2 at 0.9 s (0.3 s after 1's borrow: not checked). On pid
    # 2, open at t0: its first borrow at 0.7 s waits 3 ms (checked, idle since creation);
    # pid 3's first borrow waited for its login (0.2 s: it was not open).
    rows = [_req(0, 0.0, 0.3, 0.3), _req(1, 0.602, 0.1, 0.1, start=0.6),
            _req(2, 0.9001, 0.1, 0.1, start=0.9), _req(3, 0.703, 0.1, 0.1, pid="2", start=0.7),
            _req(4, 1.0, 0.1, 0.1, pid="3", start=0.8)]
    meta = {**META, "connect_times_s": [1.6, 0.15, 0.16]}
    m = measure.summarise(rows, meta, None, None, warm=3)
    assert sorted(m["validation_waits_ms"]) == pytest.approx([2.0, 3.0])
    p = measure.replay_params("hikaricp", {}, m)
    assert "validation_latency" not in p  # fewer than 5 samples: none
    m["validation_waits_ms"] = [0.5, 0.6, 0.7, 4.0, 9.0]
    p = measure.replay_params("hikaricp", {}, m)
    assert p["validation_latency"] == {"kind": "empirical",
                                       "samples_s": pytest.approx([0.0005, 0.0006, 0.0007, 0.004, 0.009])}
    assert "validation_latency" not in measure.replay_params("sqlalchemy_queuepool", {}, m)
    # Without `warm` only the re-borrow counts; HikariCP's warm connections are its minimumIdle.
    assert measure.summarise(rows, meta, None, None)["validation_waits_ms"] == pytest.approx([2.0])
    assert measure.warm_connections("hikaricp", {"maximumPoolSize": 50, "minimumIdle": 5}) == 5
    assert measure.warm_connections("asyncpg", {"min_size": 5}) == 0


def test_postgresql_was_up_by_the_first_login_after_the_restart():
    # Restart at 1.0 s, pg_ctl returned 0.4 s later. Pid 1 served before it; pid 2 is a new
    # connection, served 0.37 s after the restart, and logins take at least 10 ms: PostgreSQL
    # accepted logins by 0.36 s, and the replay's outage ends there.
    restart = {"at_s": 1.0, "down_s": 0.4}
    rows = [_req(0, 0.5, 0.1, 0.1), _req(1, 1.2, 0.1, 0.1, start=1.1), _req(2, 1.37, 0.1, 0.1, pid="2", start=1.3)]
    assert measure.up_by(rows, restart, [1.6, 0.01, 0.02]) == pytest.approx(0.36)
    assert math.isnan(measure.up_by(rows[:2], restart, [0.01]))


def test_the_replayed_restart_ends_when_the_servers_log_says_ready():
    """A run that kept PostgreSQL's log (servers.Postgres.restart_marks) ends the replay's
    restart at its `ready_s`, even after up_by or pg_ctl's return (pg_ctl polls every 100 ms
    and is late; up_by assumes the run's quickest login, but the first logins after a restart
    are slower); a run stored before it keeps the earlier of the two."""
    import simulate
    m = {"restart": {"at_s": 1.0, "down_s": 0.4}, "restart_up_by_s": 0.36}
    assert simulate.restart_up_s(m) == pytest.approx(0.36)
    assert simulate.restart_up_s({**m, "restart_up_by_s": math.nan}) == pytest.approx(0.4)
    m["restart"]["ready_s"] = 0.31
    assert simulate.restart_up_s(m) == pytest.approx(0.31)
    m.update(restart_dead_by_s=0.03, connect_times_s=[0.01], db_connect_times_s=[0.01])
    s = simulate.base_scenario("t", "psycopg_pool", {"min_size": 1, "max_size": 1}, m, 10.0, None, 1)
    assert s["faults"] == [{"kind": "restart", "at_s": pytest.approx(simulate.LEAD_S + 1.03),
                            "duration_s": pytest.approx(0.28)}]


# ---- the restart: the replay's fault starts when the running queries failed -----------------

def _failed(i, start, ended, acquired=None):
    r = _req(i, start if acquired is None else acquired, 0.0, 0.2, pid="", start=start)
    r.update(outcome="query_error", released_s=ended, ended_s=ended, query_done_s=math.nan)
    return r


def test_the_restart_reaches_the_connections_when_the_queries_in_flight_fail():
    """pg_ctl stop at 1.0; two requests held connections before it and saw their queries fail
    at 1.03 and 1.05; one acquired after it failed at once (1.021): not a query in flight."""
    restart = {"at_s": 1.0, "down_s": 0.4}
    rows = [_req(0, 0.2, 0.2, 0.2), _failed(1, 0.8, 1.05), _failed(2, 0.9, 1.03), _failed(3, 1.02, 1.021)]
    assert measure.lost_by(rows, restart) == pytest.approx(0.03)
    assert math.isnan(measure.lost_by([rows[0], rows[3]], restart))
    import simulate
    m = {"restart": restart, "restart_up_by_s": math.nan, "restart_lost_by_s": 0.03,
         "connect_times_s": [0.01], "db_connect_times_s": [0.01]}
    s = simulate.base_scenario("t", "psycopg_pool", {"min_size": 1, "max_size": 1}, m, 10.0, None, 1)
    # The fault starts 30 ms after the stop and ends where it did (1.4 s after t0).
    assert s["faults"] == [{"kind": "restart", "at_s": pytest.approx(simulate.LEAD_S + 1.03),
                            "duration_s": pytest.approx(0.37)}]
    assert simulate.restart_shift_s(m) == pytest.approx(0.03)


def test_percentile_rank_counts_ties_half():
    xs = [0.0, 1.0, 2.0, 3.0]
    assert measure.percentile_rank(xs, 2.0) == pytest.approx(62.5)
    assert measure.percentile_rank(xs, 10.0) == pytest.approx(100.0)
    assert math.isnan(measure.percentile_rank([], 1.0))


# ---- PgBouncer in transaction mode: the replay's wait includes PgBouncer's queue ------------

def test_the_replayed_wait_behind_pgbouncer_includes_its_queue(tmp_path):
    """One PgBouncer server (default_pool_size 1) behind a client pool of 2, logins 10 ms:
    requests at 0, 0.05 and 1.0 s with 0.1 s of pg_sleep (overhead 1 ms). The first waits for
    PgBouncer's server login (10 ms) and holds the server until 0.111; the second gets its
    client connection at once and queues in PgBouncer until then: 61 ms. Only the request
    records give these (dbpoolsim reports the pool's wait, 0 here, and PgBouncer's apart)."""
    import simulate
    rows = [_req(0, 0.0, 0.101, 0.1), _req(1, 0.05, 0.152, 0.1), _req(2, 1.0, 0.101, 0.1)]
    m = {"restart": None, "overhead_s": 0.001, "connect_times_s": [0.5, 0.01], "db_connect_times_s": [0.5, 0.01]}
    pgb = {"pool_mode": "transaction", "default_pool_size": 1}
    summ, recs = simulate.replay("t", "psycopg_pool", {"min_size": 2, "max_size": 2}, rows, m, tmp_path, pgb,
                                 per_request_holds=False)
    waits = simulate.waits_with_pooler_ms(recs)
    assert sorted(waits) == pytest.approx([0.0, 10.0, 61.0], abs=1e-3)
    assert summ["wait_time_p95_ms"] == pytest.approx(0.0, abs=1e-6)  # the pool's own wait alone


def test_the_replay_hands_back_the_measured_logins_in_their_order(tmp_path):
    """node-postgres opens a client inline when none is idle. Three requests at 0, 1 and 2 s
    each hold theirs 5 s, so each waits for its own login: measured 0.3, 0.1 and 0.2 s in
    that order. The replay's connect_time is a `sequence` of them (docs/scenario.md), so the
    k-th login takes the k-th; drawn independently (the replay before), the first could not
    take 0.3 s (the empirical leaves out the first connect) and the order would be a draw."""
    import simulate
    rows = [_req(i, float(i), 5.0, 5.0) for i in range(3)]
    m = {"restart": None, "overhead_s": 0.0, "connect_times_s": [0.3, 0.1, 0.2], "db_connect_times_s": [0.01]}
    params = {"max": 3, "idleTimeoutMillis": 60000}
    _, recs = simulate.replay("t", "node_postgres", params, rows, m, tmp_path)
    waits = [r["wait_s"] for r in sorted(recs, key=lambda r: r["request"])]
    assert waits == pytest.approx([0.3, 0.1, 0.2], abs=1e-9)
    _, recs = simulate.replay("t", "node_postgres", params, rows, m, tmp_path, connects_in_order=False)
    assert sorted(recs, key=lambda r: r["request"])[0]["wait_s"] in (pytest.approx(0.1), pytest.approx(0.2))


def test_hikaricps_adder_costs_come_from_its_attempts_log_else_from_the_rerun(tmp_path, monkeypatch):
    # HikariLoad's attempts.csv: the start-up connection (thread main: not the adder's), two
    # adder logins whose newConnection returned 1 and 3 ms after the driver's connect, and a
    # refused attempt that took 6 ms from its start to newConnection returning.
    (tmp_path / "meta.json").write_text('{"library": "hikaricp", "connections_opened_library": 3, '
                                        '"connections_closed_library": 0, "connect_times_s": [], "noise": {}}')
    (tmp_path / "attempts.csv").write_text(
        "start_s,connected_s,created_s,outcome,backend_pid,thread,error\n"
        "-1.0,-0.5,,ok,10,main,\n"
        "1.000,1.020,1.021,ok,11,reality connection adder,\n"
        "2.000,2.001,2.006,failed,,reality connection adder,08001 refused\n"
        "3.000,3.020,3.023,ok,12,reality connection adder,\n")
    m = measure.summarise([_req(0, 0.0, 0.101, 0.1)], measure.read_meta(tmp_path), None, None)
    assert m["adder_setup_s"] == pytest.approx(0.002)
    assert m["adder_failed_attempt_s"] == pytest.approx(0.006)
    assert m["adder_costs_from"] == "run/run"
    p = measure.replay_params("hikaricp", {}, m)
    assert p["setup_s"] == pytest.approx(0.002) and p["failed_attempt_s"] == pytest.approx(0.006)
    assert "setup_s" not in measure.replay_params("sqlalchemy_queuepool", {}, m)
    # A run without the log (every run stored before it) takes the re-run's figures.
    rerun = tmp_path / "rerun"
    rerun.mkdir()
    (rerun / "attempts.csv").write_text(
        "start_s,connected_s,created_s,outcome,backend_pid,thread,error\n"
        "1.000,1.020,1.0205,ok,11,reality connection adder,\n"
        "2.000,2.002,2.004,failed,,reality connection adder,08001 refused\n")
    monkeypatch.setattr(measure, "RERUN_HIKARICP", rerun)
    (tmp_path / "attempts.csv").unlink()
    meta = measure.read_meta(tmp_path)
    assert meta["adder_setup_s"] == pytest.approx(0.0005)
    assert meta["adder_failed_attempt_s"] == pytest.approx(0.004)
    assert meta["adder_costs_from"] == "rerun/rerun"


def test_the_replayed_restart_starts_when_the_backends_were_gone_at_the_latest():
    """pg_ctl stop at 1.0. A query sent at 0.3 with 0.75 s of pg_sleep would have ended at 1.05
    had its backend lived, but failed at 1.08 (its client saw the error late, as HikariCP's
    did at +0.081 s in the stored run); another failed at 1.081. The backends were gone by
    1.05: the replay's restart starts there (measure.dead_by), not at the first error
    (lost_by, 1.08), where the replay would complete the first query. When a client sees the
    failure before any failed query would have ended, that is the moment."""
    restart = {"at_s": 1.0, "down_s": 0.4}
    early = _failed(1, 0.3, 1.08)
    early["hold_s"] = 0.75
    rows = [_req(0, 0.2, 0.2, 0.2), early, _failed(2, 0.9, 1.081)]
    assert measure.lost_by(rows, restart) == pytest.approx(0.08)
    assert measure.dead_by(rows, restart) == pytest.approx(0.05)
    m = measure.summarise(rows, META, None, restart)
    assert m["restart_dead_by_s"] == pytest.approx(0.05)
    import simulate
    m.update(restart=restart, connect_times_s=[0.01], db_connect_times_s=[0.01])
    s = simulate.base_scenario("t", "psycopg_pool", {"min_size": 1, "max_size": 1}, m, 10.0, None, 1)
    assert s["faults"] == [{"kind": "restart", "at_s": pytest.approx(simulate.LEAD_S + 1.05),
                            "duration_s": pytest.approx(0.35)}]
    assert simulate.restart_shift_s(m) == pytest.approx(0.05)
    # Seen before any failed query would have ended: the first error is the moment.
    quick = [_req(0, 0.2, 0.2, 0.2), _failed(1, 0.9, 1.03)]
    assert measure.dead_by(quick, restart) == pytest.approx(0.03)
    assert math.isnan(measure.dead_by([rows[0]], restart))


# ---- the replay as an expectation over the pool's own draws ----------------------------------

def _go_queue():
    """Go's database/sql with one connection: a request holds it from 0 to 1 s, and four
    arrive meanwhile with holds of 0.1, 0.9, 0.3 and 0.6 s. Which waiter a return goes to is
    Go 1.19's map pick (`waiter_order` "map"), so the order they are served in, and the mean
    wait, is a draw of the seed."""
    rows = [_req(0, 0.0, 1.0, 1.0)] + [_req(i, 0.1 * i, h, h) for i, h in enumerate([0.1, 0.9, 0.3, 0.6], 1)]
    m = {"restart": None, "overhead_s": 0.0, "connect_times_s": [0.01], "db_connect_times_s": [0.01]}
    return rows, m, {"maxOpenConns": 1, "maxIdleConns": 1, "timeout_s": 30.0}


def test_the_replays_figures_are_their_mean_over_the_seeds(tmp_path):
    import statistics
    import simulate
    rows, m, params = _go_queue()
    each = [simulate.replay("t", "go_database_sql", params, rows, m, tmp_path, seed=k)[0]["wait_time_avg_ms"]
            for k in range(1, 9)]
    assert len({round(x, 6) for x in each}) > 1          # the waiter order is a draw
    summ, recs = simulate.replay_over_seeds("t", "go_database_sql", params, rows, m, tmp_path, seeds=8)
    assert summ["replay_seeds"] == 8
    assert summ["wait_time_avg_ms"] == pytest.approx(statistics.fmean(each), rel=1e-12)
    assert summ["wait_time_avg_ms_seed_sd"] == pytest.approx(statistics.stdev(each), rel=1e-9)
    assert (summ["wait_time_avg_ms_seed_min"], summ["wait_time_avg_ms_seed_max"]) == (min(each), max(each))
    # The request records, for the request-by-request comparison, are seed 1's.
    _, first = simulate.replay("t", "go_database_sql", params, rows, m, tmp_path, seed=1)
    assert [r["wait_s"] for r in recs] == [r["wait_s"] for r in first]
    with pytest.raises(ValueError, match="replay-seeds"):
        simulate.replay_over_seeds("t", "go_database_sql", params, rows, m, tmp_path, seeds=0)


def test_a_policy_without_draws_gives_the_same_replay_at_every_seed(tmp_path):
    """psycopg_pool serves its waiters first come, first served, and every login is a measured
    one: its seeds agree, and the table shows no spread."""
    import simulate
    rows, m, _ = _go_queue()
    summ, _ = simulate.replay_over_seeds("t", "psycopg_pool", {"min_size": 1, "max_size": 1}, rows, m, tmp_path,
                                         seeds=4)
    assert summ["wait_time_avg_ms_seed_sd"] == 0.0
    assert summ["wait_time_avg_ms_seed_min"] == summ["wait_time_avg_ms_seed_max"] == summ["wait_time_avg_ms"]


def test_the_replays_time_to_recover_is_counted_on_the_measured_grid(tmp_path):
    """measure.time_to_recover counts the measured recovery on 1 s intervals; the replay's
    must be counted on the same ones, or a recovery in the same second reads as a miss (the
    replay's own 0.1 s time series once gave 0.27 s against 0.67). Requests every 0.1 s with
    holds of 50 ms on a SQLAlchemy QueuePool of 2, which reconnects at the next checkout;
    PostgreSQL restarted at 5.05 s, ready 0.3 s later: the last failure is at 5.3 s, so on
    0.1 s intervals the replay recovers at 5.4 (0.35 s), on the measured grid at 6 (0.95 s).
    dbpoolsim's figure for the replay is the harness's function on the replay's own records."""
    import simulate
    rows = [_req(i, 0.1 * i, 0.05, 0.05) for i in range(200)]
    m = {"restart": {"at_s": 5.05, "down_s": 0.4, "ready_s": 0.3}, "restart_dead_by_s": 0.0,
         "overhead_s": 0.0, "connect_times_s": [0.004], "db_connect_times_s": [0.004]}
    summ, recs = simulate.replay("t", "sqlalchemy_queuepool", {"pool_size": 2, "max_overflow": 0,
                                                                "pool_timeout": 1.0}, rows, m, tmp_path)
    replayed = [{"acquire_start_s": r["arrival_s"] - simulate.LEAD_S,
                 "ended_s": r["arrival_s"] + r["latency_s"] - simulate.LEAD_S,
                 "outcome": "ok" if r["outcome"] == "completed" else "query_error"} for r in recs]
    assert any(r["outcome"] != "ok" for r in replayed)          # the restart hit requests
    ttr = summ["time_to_recover_s"] + simulate.restart_shift_s(m)
    assert ttr == pytest.approx(0.95)
    assert ttr == pytest.approx(measure.time_to_recover(replayed, 5.05))
