"""The measured side of a reality run, from the load generator's files: waits, timeouts,
failures by reason, connections opened (three ways) and time to recover."""

from __future__ import annotations

import bisect
import csv
import json
import math
from collections import Counter
from pathlib import Path

from simulate import LEAD_S, RECOVERY_GRID_S

OUTCOMES = ["ok", "acquire_timeout", "connect_error", "query_error", "other"]


def _f(x: str) -> float:
    return float(x) if x not in ("", None) else math.nan


def read_requests(out: Path, trace: Path) -> list[dict]:
    holds = {}
    with open(trace, newline="") as f:
        for r in csv.DictReader(f):
            holds[int(r["id"])] = float(r["hold_s"])
    rows = []
    with open(out / "requests.csv", newline="") as f:
        for r in csv.DictReader(f):
            row = {k: (_f(v) if k.endswith("_s") else v) for k, v in r.items()}
            row["hold_s"] = holds[int(r["id"])]
            rows.append(row)
    return rows


def percentile(xs: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    if not xs:
        return math.nan
    s = sorted(xs)
    pos = q * (len(s) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def time_to_recover(rows: list[dict], fault_at_s: float, interval_s: float = RECOVERY_GRID_S) -> float:
    """dbpoolsim's definition (docs/scenario.md, `time_to_recover_s`) on the measured
    records, on the grid of intervals the replay and the statistical model count it on
    (simulate.RECOVERY_GRID_S, at t + LEAD_S): from the fault to the start
    of the first run of 5 healthy intervals, healthy meaning failures at most 1 % of the
    requests that ended in it, ended >= 80 % of arrivals - 3 sqrt(arrivals), and some
    completed if any arrived."""
    def k(t: float) -> int:
        return math.floor((t + LEAD_S) / interval_s)
    arr, ended, failed, done = Counter(), Counter(), Counter(), Counter()
    last = 0
    for r in rows:
        arr[k(r["acquire_start_s"])] += 1
        if not math.isnan(r["ended_s"]):
            e = k(r["ended_s"])
            ended[e] += 1
            last = max(last, e)
            if r["outcome"] == "ok":
                done[e] += 1
            else:
                failed[e] += 1

    def healthy(i: int) -> bool:
        a = arr[i]
        return (failed[i] <= 0.01 * ended[i] and ended[i] >= 0.8 * a - 3 * math.sqrt(a)
                and (a == 0 or done[i] > 0))

    fault = fault_at_s + LEAD_S
    first = math.floor(fault / interval_s)
    for i in range(first, last + 1):
        if all(healthy(j) for j in range(i, min(i + 5, last + 1))):
            return max(0.0, i * interval_s - fault)
    return math.nan


def handoffs_ms(rows: list[dict]) -> list[float]:
    """Hand-off latencies: on each backend connection, from one request's release to the
    acquire of the next request on it, when that one was already waiting at the release.
    dbpoolsim hands over in zero time unless the policy has a `wakeup_latency_s` (SQLAlchemy,
    HikariCP, psycopg_pool: replay_params gives it their mean); the real libraries need a
    thread or task switch, which these measure."""
    by_pid: dict[str, list[dict]] = {}
    for r in rows:
        if r["backend_pid"] and not math.isnan(r["released_s"]):
            by_pid.setdefault(r["backend_pid"], []).append(r)
    out = []
    for reqs in by_pid.values():
        reqs.sort(key=lambda r: r["acquired_s"])
        for a, b in zip(reqs, reqs[1:]):
            if b["acquire_start_s"] < a["released_s"] <= b["acquired_s"]:
                out.append(1e3 * (b["acquired_s"] - a["released_s"]))
    return out


def validation_waits_ms(rows: list[dict], window_s: float = 0.5, warm: int = 0,
                        connect_min_s: float = math.inf) -> list[float]:
    """HikariCP 2.7.9's borrows that paid an isValid() check: on each backend connection, the
    waits of the requests that found it idle (they arrived after the previous request on it
    had returned it) more than aliveBypassWindowMs (500 ms) after that previous request got
    it. 2.7.9 counts the window from the proxy's lastAccess, the borrow (ProxyConnection,
    PoolEntry.recycle(lastAccess)), and the harness's query starts right after it. The
    borrows that did not pay one wait a median 0.01-0.02 ms (p99 under 0.3 ms); these a
    median 0.5-0.7 ms, with a tail of several ms (the driver and the thread's wake-up on a
    loaded machine): the replay's `validation_latency` (its round trip is 0).

    Also the first borrow of each of the `warm` connections the pool opened before t0 (the
    first `warm` backend pids to serve a query) when it came more than `window_s` after t0
    and waited less than the quickest login (`connect_min_s`: it found the connection open):
    idle since its creation, it was checked too (the cold spike's 5 warm connections, 20-22
    ms each on a machine at load average 24)."""
    by_pid: dict[str, list[dict]] = {}
    for r in rows:
        if r["outcome"] == "ok" and r["backend_pid"]:
            by_pid.setdefault(r["backend_pid"], []).append(r)
    out = []
    firsts = sorted((min(reqs, key=lambda r: r["acquired_s"]) for reqs in by_pid.values()),
                    key=lambda r: r["acquired_s"])[:warm]
    for r in firsts:
        w = r["acquired_s"] - r["acquire_start_s"]
        if r["acquire_start_s"] > window_s and w < connect_min_s:
            out.append(1e3 * w)
    for reqs in by_pid.values():
        reqs.sort(key=lambda r: r["acquired_s"])
        for a, b in zip(reqs, reqs[1:]):
            if b["acquire_start_s"] >= a["released_s"] and b["acquired_s"] - a["acquired_s"] > window_s:
                out.append(1e3 * (b["acquired_s"] - b["acquire_start_s"]))
    return out


def unqueued_overheads(rows: list[dict], servers: int) -> list[float]:
    """Behind PgBouncer in transaction mode, the overheads (hold beyond pg_sleep, s) of the
    requests that cannot have queued in PgBouncer: fewer than `servers` other requests held
    a client connection when they got theirs, so one of PgBouncer's `servers` was free.
    Their median (1.5-2.6 ms in the full run) is the session mode's, where PgBouncer has
    no queue; the median of all requests (4-9 ms) is not: about half of them queued."""
    ok = [r for r in rows if r["outcome"] == "ok"]
    starts = sorted(r["acquired_s"] for r in ok)
    ends = sorted(r["released_s"] for r in ok)
    out = []
    for r in ok:
        a = r["acquired_s"]
        others = bisect.bisect_left(starts, a) - bisect.bisect_right(ends, a)
        if others < servers:
            out.append(r["released_s"] - a - r["hold_s"])
    return out


def summarise(rows: list[dict], meta: dict, sessions_opened: int | None,
              restart: dict | None, pooler_queue: int = 0, warm: int = 0) -> dict:
    """The measured figures. With `pooler_queue` (PgBouncer's server count in transaction
    mode; 0 = none) the wait also counts the time queued in PgBouncer, as dbpoolsim's wait
    does: a request's hold beyond pg_sleep and the median overhead of the requests that
    found a server free (unqueued_overheads) is taken as that queueing."""
    over = [r["released_s"] - r["acquired_s"] - r["hold_s"] for r in rows if r["outcome"] == "ok"]
    over_median = percentile(over, 0.5)
    unq = unqueued_overheads(rows, pooler_queue) if pooler_queue else []
    unq_median = percentile(unq, 0.5) if unq else over_median
    if pooler_queue:
        waits = [1e3 * (r["acquired_s"] - r["acquire_start_s"]
                        + max(0.0, r["released_s"] - r["acquired_s"] - r["hold_s"] - unq_median))
                 for r in rows if r["outcome"] == "ok"]
    else:
        waits = [1e3 * (r["acquired_s"] - r["acquire_start_s"]) for r in rows
                 if not math.isnan(r["acquired_s"])]
    lat = [1e3 * (r["released_s"] - r["acquire_start_s"]) for r in rows if r["outcome"] == "ok"]
    lag = [1e3 * (r["acquire_start_s"] - r["arrival_s"]) for r in rows]
    counts = Counter(r["outcome"] for r in rows)
    hand = handoffs_ms(rows)
    n = len(rows)
    m = {
        "offered": n,
        "pooler_queue": pooler_queue,
        "completed": counts["ok"],
        **{f"failed_{o}": counts[o] for o in OUTCOMES[1:]},
        "wait_time_avg_ms": sum(waits) / len(waits) if waits else math.nan,
        "wait_time_p95_ms": percentile(waits, 0.95),
        "wait_time_max_ms": max(waits, default=math.nan),
        "waits_ms": waits,
        "latency_avg_ms": sum(lat) / len(lat) if lat else math.nan,
        "latency_p95_ms": percentile(lat, 0.95),
        "timeout_rate": counts["acquire_timeout"] / n if n else math.nan,
        "connections_opened_library": meta["connections_opened_library"],
        "connections_closed_library": meta["connections_closed_library"],
        "connections_distinct_pids": len({r["backend_pid"] for r in rows if r["backend_pid"]}),
        "connections_pg_sessions": sessions_opened,
        "connect_time_mean_ms": (1e3 * sum(meta["connect_times_s"]) / len(meta["connect_times_s"])
                                 if meta["connect_times_s"] else math.nan),
        "overhead_ms": 1e3 * sum(over) / len(over) if over else math.nan,
        "overhead_median_ms": 1e3 * over_median,
        # Behind PgBouncer in transaction mode: the overhead of the requests that found a
        # server free (mean: the replay's hold; median: the wait above); else NaN.
        "overhead_unqueued_mean_ms": 1e3 * sum(unq) / len(unq) if unq else math.nan,
        "overhead_unqueued_median_ms": 1e3 * unq_median if unq else math.nan,
        # HikariCP's isValid() on borrow (`warm`: the connections open at t0, else 0).
        "validation_waits_ms": (vw := validation_waits_ms(rows, warm=warm, connect_min_s=min(
            meta["connect_times_s"][1:] or meta["connect_times_s"] or [math.inf]))),
        "validation_wait_median_ms": percentile(vw, 0.5),
        "validation_wait_mean_ms": sum(vw) / len(vw) if vw else math.nan,
        "handoff_median_ms": percentile(hand, 0.5),
        "handoff_mean_ms": sum(hand) / len(hand) if hand else math.nan,
        "handoff_p90_ms": percentile(hand, 0.9),
        "handoffs": len(hand),
        "dispatch_lag_p99_ms": percentile(lag, 0.99),
        **{f"noise_{k}": v for k, v in meta["noise"].items()},
        **{k: meta[k] for k in ("adder_setup_s", "adder_failed_attempt_s", "adder_costs_from") if k in meta},
    }
    if restart:
        m["time_to_recover_s"] = time_to_recover(rows, restart["at_s"])
        m["restart_down_s"] = restart["down_s"]
        m["restart_up_by_s"] = up_by(rows, restart, meta["connect_times_s"])
        m["restart_lost_by_s"] = lost_by(rows, restart)
        m["restart_dead_by_s"] = dead_by(rows, restart)
    return m


def percentile_rank(xs: list[float], x: float) -> float:
    """Where x falls among xs, in percent: the share below it, ties counted half (NaN when
    xs is empty or x is NaN). A replayed p95 at rank 95 is the measured p95 itself."""
    if not xs or math.isnan(x):
        return math.nan
    s = sorted(xs)
    below, upto = bisect.bisect_left(s, x), bisect.bisect_right(s, x)
    return 100.0 * (below + 0.5 * (upto - below)) / len(s)


def lost_by(rows: list[dict], restart: dict) -> float:
    """When the restart reached the pool's connections, in s after it (the harness's `at_s`
    is when it called `pg_ctl stop -m fast`): the first query error of a request that held
    its connection before `at_s`. The client saw its query fail only then (16-81 ms after the
    stop in the full run, at load averages of 20: the postmaster signals the backends, they
    exit, the client's socket read returns), and a pool that reconnects in the background
    starts its first attempt, and its backoff, from that moment. NaN when no request was in
    flight."""
    at = restart["at_s"]
    t = [r["ended_s"] - at for r in rows
         if r["outcome"] == "query_error" and r["acquired_s"] < at and not math.isnan(r["ended_s"])]
    return max(0.0, min(t)) if t else math.nan


def dead_by(rows: list[dict], restart: dict) -> float:
    """When the backends were gone, at the latest, in s after the stop: the earlier of
    lost_by (the first failure a client saw) and the moment the first query in flight at the
    stop that failed would have ended had its backend lived (its acquire plus its pg_sleep: a
    query that failed was cut off before that). The replay's restart starts here. In the 14
    stored restart runs (both full runs and the two re-runs, every library) the clients saw
    the failure 16-117 ms after the stop, in 8 of them after the first failed query's sleep
    would have ended (+0.040 s), so lost_by alone completes a query that failed for real;
    no record bounds the moment from below but the stop itself (the last query to complete
    did so 33-44 ms before it). The third full run (results/quiet2) gave 12-157 ms, the 157
    being psycopg_pool's run, where no failed query bounds it earlier; the fourth
    (results/quiet3) 15-40 ms. NaN when no request was in flight."""
    at = restart["at_s"]
    ends = [r["acquired_s"] + r["hold_s"] - at for r in rows
            if r["outcome"] == "query_error" and r["acquired_s"] < at]
    lost = lost_by(rows, restart)
    return max(0.0, min([lost, *ends])) if ends else lost


def up_by(rows: list[dict], restart: dict, connect_times_s: list[float]) -> float:
    """When PostgreSQL was accepting logins again after the restart, at the latest, in s after
    it: the first request served on a connection opened after the restart (a backend pid not
    seen before it), less the run's quickest login. The harness's `down_s` ends when `pg_ctl
    -w start` returns, and pg_ctl looks for readiness every 100 ms: node-postgres and asyncpg
    got new connections 11 and 8 ms before their down_s ended. NaN when no such request.
    A run that kept PostgreSQL's log has the moment itself (`ready_s`, which the replay uses:
    simulate.restart_up_s); this bound assumes the run's quickest login, and the first
    logins after a restart are slower, so there it comes later than `ready_s`."""
    at = restart["at_s"]
    before = {r["backend_pid"] for r in rows if r["outcome"] == "ok" and r["acquired_s"] < at}
    new = [r["acquired_s"] - at for r in rows
           if r["outcome"] == "ok" and r["acquired_s"] > at and r["backend_pid"] not in before]
    login = min(connect_times_s[1:] or connect_times_s or [0.0])
    return max(0.0, min(new) - login) if new else math.nan


def warm_connections(lib: str, params: dict) -> int:
    """The connections HikariCP holds open at t0 (its minimumIdle, filled before t0), whose
    first borrow pays an isValid() check (validation_waits_ms); 0 for the other libraries."""
    return int(params.get("minimumIdle", params.get("maximumPoolSize", 0))) if lib == "hikaricp" else 0


def pooler_queue_servers(pgbouncer: dict | None) -> int:
    """PgBouncer's servers when it queues transactions (transaction mode), else 0."""
    if pgbouncer and pgbouncer.get("pool_mode") == "transaction":
        return int(pgbouncer["default_pool_size"])
    return 0


def replay_overhead_s(m: dict) -> float:
    """The overhead given to the replay for requests without a measured hold of their own:
    the mean; behind PgBouncer in transaction mode (where a measured hold includes queueing
    in PgBouncer) the mean of the requests that found a server free, for every request."""
    key = "overhead_unqueued_mean_ms" if m.get("pooler_queue") else "overhead_ms"
    v = m.get(key, math.nan)
    if math.isnan(v):
        v = m["overhead_median_ms"] if m.get("pooler_queue") else v
    return v / 1e3 if not math.isnan(v) else 0.0


def replay_params(lib: str, params: dict, m: dict) -> dict:
    """The library's pool parameters for dbpoolsim, plus what the run measured where the policy
    has a knob for it: SQLAlchemy's, HikariCP's and psycopg_pool's `wakeup_latency_s` (a
    return notifies or offers to a waiter, which runs that much later; for SQLAlchemy and
    HikariCP a request arriving in between takes the connection, for psycopg_pool the
    connection is the waiter's from the return on) is the run's mean hand-off latency
    (handoffs_ms: 0.04-1.3 ms in the stored runs; 0 when nobody waited). HikariCP's
    `validation_latency` is the waits of the borrows that paid an isValid() check
    (validation_waits_ms), as an empirical distribution (none when fewer than 5), and its
    `setup_s` and `failed_attempt_s` the adder's own time per attempt (adder_costs)."""
    if lib in ("sqlalchemy_queuepool", "hikaricp", "psycopg_pool"):
        mean = m.get("handoff_mean_ms", math.nan)
        params = {**params, "wakeup_latency_s": 0.0 if math.isnan(mean) else round(mean / 1e3, 7)}
    if lib == "hikaricp" and len(m.get("validation_waits_ms", [])) >= 5:
        params["validation_latency"] = {"kind": "empirical",
                                        "samples_s": [round(x / 1e3, 7) for x in m["validation_waits_ms"]]}
    if lib == "hikaricp" and "adder_setup_s" in m:
        params = {**params, "setup_s": round(m["adder_setup_s"], 7),
                  "failed_attempt_s": round(m["adder_failed_attempt_s"], 7)}
    return params


RERUN_HIKARICP = Path(__file__).resolve().parent / "results" / "reruns" / "restart" / "hikaricp"


def adder_costs(out: Path) -> dict:
    """HikariCP's connection adder's own time per attempt, from HikariLoad's attempts.csv (the
    hikaricp kind's `setup_s` and `failed_attempt_s`): `adder_setup_s`, the mean time from the
    driver's connect returning to PoolBase.newConnection returning (setupConnection) over the
    adder's successful attempts; `adder_failed_attempt_s`, the mean time from a failed
    attempt's start to newConnection returning (the driver's refused connect and the catch
    path). A run without the log, or without a failed attempt, takes the figure from the
    restart re-run in results/reruns (every run stored before the log existed does);
    `adder_costs_from` says which."""
    def read(d: Path) -> tuple[list[float], list[float]]:
        if not (d / "attempts.csv").exists():
            return [], []
        with open(d / "attempts.csv", newline="") as f:
            rows = [r for r in csv.DictReader(f) if "adder" in r["thread"] and r["created_s"]]
        ok = [_f(r["created_s"]) - _f(r["connected_s"]) for r in rows if r["outcome"] == "ok"]
        bad = [_f(r["created_s"]) - _f(r["start_s"]) for r in rows if r["outcome"] != "ok"]
        return ok, bad
    own_ok, own_bad = read(out)
    re_ok, re_bad = read(RERUN_HIKARICP)
    ok, bad = own_ok or re_ok, own_bad or re_bad
    return {"adder_setup_s": sum(ok) / len(ok) if ok else 0.0,
            "adder_failed_attempt_s": sum(bad) / len(bad) if bad else 0.0,
            "adder_costs_from": f"{'run' if own_ok else 'rerun'}/{'run' if own_bad else 'rerun'}"}


def read_meta(out: Path) -> dict:
    meta = json.loads((out / "meta.json").read_text())
    if meta.get("library") == "hikaricp":
        meta.update(adder_costs(out))
    return meta
