"""dbpoolsim's side of a reality run: the same trace replayed with the library's policy, and
the statistical model (fitted arrival process and hold distribution) with replications.

The replay takes from the measurement:
  arrivals    each request's measured acquire start (so the load generator's dispatch lag,
              a harness artefact reported separately, is not charged to the pool);
  hold        each completed request's measured hold (acquired -> released: pg_sleep, the
              round trip, the driver, a reset or rollback at return), as its `duration_s`;
              for a failed request, and behind PgBouncer in transaction mode (where the
              measured hold includes PgBouncer's queue), its pg_sleep time plus the run's
              mean (median behind PgBouncer) per-request overhead;
  connect     the measured connect times of this run in the order the load generator recorded
              them (as each finished), as a `sequence`: the replay's k-th login to the
              database takes the k-th measured one, so logins that slowed each other down in
              a spike stay the late ones, and the short logins after a restart stay after it;
              past the last, or in the statistical model, an empirical distribution of them
              (less the first, which pays the driver's start-up). Behind PgBouncer the
              database's logins are PgBouncer's (fresh psycopg connects, not in the run), so
              they stay empirical;
  faults      a PostgreSQL restart when the backends were gone at the latest (measure.dead_by:
              the first query error of a request in flight, or the moment a failed one would
              have ended, whichever came first),
              lasting until PostgreSQL's log says it is ready again (restart_up_s; in
              runs stored before the harness kept that, pg_ctl start returning, or sooner if
              a login after it shows PostgreSQL up: measure.up_by);
  pooler      PgBouncer, in the case's pool_mode (transaction or session), where the case
              puts one in front of the database.
The network round trip is 0: every round trip the library makes while holding a connection
is inside the measured overhead. The database has no CPU model (`cores` 0): pg_sleep uses
none. Arrivals start at LEAD_S so that a pool that the real run warmed before t0 is warm in
the simulation too; counters start at 0 and include the start-up logins, as measured.
"""

from __future__ import annotations

import csv
import math
import statistics
from pathlib import Path

import dbpoolsim
from cases import sim_policy
from per_request import replay_order, replay_start

LEAD_S = 5.0
TAIL_S = 40.0            # horizon beyond the last arrival: waits and timeouts run out
SAMPLE_S = 0.1           # the replay's time series, as often as the load generators sample
RECOVERY_GRID_S = 1.0    # the sample interval time_to_recover_s is counted on, measured and simulated


def pool_scenario(lib: str, params: dict) -> dict:
    kind, p = sim_policy(lib, params)
    return {"kind": kind, **p}


def _connect_dist(connect_times_s: list[float], in_order: bool = False) -> dict:
    """The measured connects as an empirical distribution, less the first one when there are
    others: it pays the driver's own start-up (class loading on the JVM: 1.6 s once).
    `in_order`: all of them as a `sequence` in the order recorded (the k-th login drawn
    takes the k-th one, the first included), then that empirical distribution."""
    xs = [x for x in connect_times_s if x > 0]
    if not xs:
        return {"kind": "constant", "value_s": 0.005}
    rest = xs[1:] if len(xs) > 1 else xs
    emp = {"kind": "empirical", "samples_s": [round(x, 6) for x in rest]}
    if not in_order:
        return emp
    return {"kind": "sequence", "values_s": [round(x, 6) for x in xs], "then": emp}


def restart_shift_s(m: dict) -> float:
    """How much later than the harness's `at_s` the simulated restart starts (measure.dead_by:
    when the backends were gone at the latest; measure.lost_by where a caller gives only that;
    0 without one). dbpoolsim's time_to_recover_s counts from the fault: add this to compare
    it with the measured one, which counts from `at_s`."""
    if not m.get("restart"):
        return 0.0
    lost = m.get("restart_dead_by_s", m.get("restart_lost_by_s", math.nan))
    return 0.0 if math.isnan(lost) else lost


def restart_up_s(m: dict) -> float:
    """When PostgreSQL accepted logins again, in s after the harness's `at_s`: the server
    log's "ready to accept connections" (`ready_s`, servers.Postgres.restart_marks) where the
    run recorded it; in runs stored before that, when `pg_ctl -w start` returned, or the
    first login after it that the records show, if that came first (measure.up_by). pg_ctl
    polls every 100 ms, so its return is late by up to that much: in the runs with the log,
    `ready_s` came 32-70 ms before it (experiments/reality/README.md, "A fourth full run")."""
    r = m["restart"]
    if "ready_s" in r:
        return r["ready_s"]
    up = m.get("restart_up_by_s", math.nan)
    return r["down_s"] if math.isnan(up) else min(r["down_s"], up)


def base_scenario(name: str, lib: str, params: dict, m: dict, horizon_s: float,
                  pgbouncer: dict | None, replications: int, connects_in_order: bool = False) -> dict:
    s = {
        "name": name,
        "run": {"horizon_s": horizon_s, "warmup_s": 0, "replications": replications, "seed": 13,
                "sample_interval_s": RECOVERY_GRID_S},
        "pool": pool_scenario(lib, params),
        "database": {"cores": 0, "max_connections": 300, "network_rtt_s": 0.0,
                     "connect_time": (_connect_dist(m["db_connect_times_s"]) if pgbouncer else
                                      _connect_dist(m["connect_times_s"], connects_in_order))},
    }
    if m.get("restart"):
        # From when the backends were gone at the latest (measure.dead_by: the first failure
        # a client saw, or the would-be end of a query in flight that failed, if earlier),
        # down until PostgreSQL was ready again (restart_up_s).
        down = restart_up_s(m)
        lost = restart_shift_s(m)
        s["faults"] = [{"kind": "restart", "at_s": LEAD_S + m["restart"]["at_s"] + lost,
                        "duration_s": max(1e-3, down - lost)}]
    if pgbouncer is not None:
        # PgBouncer as configured (servers.PgBouncer): the case's pool_mode and
        # default_pool_size, max_client_conn 500, and PgBouncer's defaults for the rest, which
        # are dbpoolsim's (server_reset_query "DISCARD ALL" in session mode, min_pool_size 0).
        # The application pool logs in to PgBouncer in the library's measured connect times;
        # PgBouncer logs in to PostgreSQL in the direct ones (database.connect_time).
        s["pooler"] = {"kind": "pgbouncer", "max_client_conn": 500, **pgbouncer,
                       "client_connect_time": _connect_dist(m["connect_times_s"])}
    return s


def replay(name: str, lib: str, params: dict, requests: list[dict], m: dict, out: Path,
           pgbouncer: dict | None = None, per_request_holds: bool = True,
           seed: int = 13, connects_in_order: bool = True,
           timeseries: bool = True) -> tuple[dict, list[dict]]:
    """One replication: the measured acquire starts and hold times, exactly. Returns the
    summary and the replay's request records (one per measured request, numbered in the
    order of per_request.replay_order: per_request.match pairs them). `seed` matters only
    where the policy or the connect times draw (Go's random waiter, empirical connects).
    `connects_in_order` False draws every login from the measured ones independently of
    its order (the replay before the `sequence`: seed_spread.py --independent-connects).
    `timeseries` False leaves out/replay_timeseries.csv as it is (replay_over_seeds writes it
    for its first seed only)."""
    trace = out / "replay_trace.csv"

    def hold(r: dict) -> float:
        if per_request_holds and r["outcome"] == "ok":
            return max(1e-6, r["released_s"] - r["acquired_s"])
        return r["hold_s"] + m["overhead_s"]

    order = replay_order(requests)
    durations = [round(hold(r), 6) for r in order]
    with open(trace, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "duration_s"])
        for r, d in zip(order, durations):
            w.writerow([f"{LEAD_S + replay_start(r):.6f}", f"{d:.6f}"])
    s = base_scenario(name, lib, params, m, LEAD_S + replay_start(order[-1]) + TAIL_S, pgbouncer, 1,
                      connects_in_order)
    s["run"]["record_requests"] = True
    s["run"]["seed"] = seed
    s["workload"] = {"arrivals": {"kind": "trace", "file": str(trace)},
                     "transactions": [{"name": "q", "queries": 1,
                                       "query_time": {"kind": "constant", "value_s": 0.1}}]}
    # Sampled on the measured time to recover's grid (measure.time_to_recover), which only
    # the interval metrics read; the pool's size over time comes from a second run, sampled
    # as often as the load generators sample (the sampling does not change the run).
    res = dbpoolsim.run(s, progress=False)
    if timeseries:
        # The pool's size over time, on the measurement's clock, beside samples.csv.
        s["run"]["sample_interval_s"] = SAMPLE_S
        s["run"]["record_requests"] = False
        ts = dbpoolsim.run(s, progress=False).timeseries
        ts = ts[["t_s", "total_connections", "active_connections", "waiters"]].copy()
        ts["t_s"] -= LEAD_S
        ts[ts["t_s"] >= -SAMPLE_S].to_csv(out / "replay_timeseries.csv", index=False)
    records = res.requests.to_dict("records")
    # Each record's hold as the trace gave it (records are numbered in trace order), so that
    # latency_s - duration_s is the request's whole wait: the pool's and PgBouncer's queue.
    for rec in records:
        rec["duration_s"] = durations[int(rec["request"])]
    return res.summary, records


# The figures whose spread over the replay's seeds results.csv shows (replay_sd, _min, _max).
SPREAD = ("wait_time_avg_ms", "wait_time_p95_ms", "timeout_rate", "connections_created",
          "time_to_recover_s")


def replay_over_seeds(name: str, lib: str, params: dict, requests: list[dict], m: dict, out: Path,
                      pgbouncer: dict | None = None, per_request_holds: bool = True,
                      pooler_queue: bool = False, seeds: int = 10) -> tuple[dict, list[dict]]:
    """The replay's figures as an expectation over the pool's own random draws (Go's random
    waiter, the logins past the measured ones, HikariCP's validation latency): `replay` with
    seeds 1..`seeds`, every numeric figure of the summary averaged over them, and for the
    headline figures (SPREAD) the sample standard deviation, minimum and maximum as
    `<figure>_seed_sd`, `_seed_min`, `_seed_max`. Every library and case gets the same
    seeds; a policy with no draw gives identical replays (sd 0). Behind PgBouncer in
    transaction mode (`pooler_queue`) each seed's wait includes PgBouncer's queue
    (with_pooler_queue) before it is averaged. Returns the averaged summary and seed 1's
    request records (the request-by-request comparison and replay_timeseries.csv are seed
    1's)."""
    if seeds < 1:
        raise ValueError(f"--replay-seeds: must be at least 1, got {seeds}")
    summaries, first = [], []
    for seed in range(1, seeds + 1):
        summ, recs = replay(name, lib, params, requests, m, out, pgbouncer, per_request_holds,
                            seed=seed, timeseries=seed == 1)
        summ = dict(summ)
        if pooler_queue:
            with_pooler_queue(summ, recs)
        summaries.append(summ)
        if seed == 1:
            first = recs
    mean: dict = {}
    for k, v in summaries[0].items():
        xs = [s.get(k) for s in summaries]
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs):
            xs = [float(x) for x in xs]
            mean[k] = statistics.fmean(xs)
            if k in SPREAD:
                finite_ = all(math.isfinite(x) for x in xs)   # statistics.stdev fails on NaN
                mean[f"{k}_seed_sd"] = (statistics.stdev(xs) if len(xs) > 1 else 0.0) if finite_ else math.nan
                mean[f"{k}_seed_min"], mean[f"{k}_seed_max"] = float(min(xs)), float(max(xs))
        else:
            mean[k] = v
    mean["replay_seeds"] = seeds
    return mean, first


def with_pooler_queue(summ: dict, records: list[dict]) -> None:
    """Behind PgBouncer in transaction mode: the replay's mean wait plus PgBouncer's queue
    (dbpoolsim reports it apart, pooler_wait_*: the means add up), and its p95 of the sum
    from the request records (waits_with_pooler_ms: the p95s do not add up)."""
    from measure import percentile  # measure imports this module
    summ["wait_time_avg_ms"] += summ.get("pooler_wait_avg_ms", 0.0)
    both = waits_with_pooler_ms(records)
    summ["wait_time_p95_ms"] = percentile(both, 0.95)
    summ["wait_time_avg_from_records_ms"] = sum(both) / len(both) if both else math.nan


def waits_with_pooler_ms(records: list[dict]) -> list[float]:
    """Behind PgBouncer in transaction mode, each completed request's acquire wait plus its
    time queued in PgBouncer (ms): its latency less its hold (the network round trip is 0 and
    the database has no CPU model, so nothing else is in it). dbpoolsim reports the two
    waits apart (wait_s, pooler_wait_*); their sum per request is the measured wait's
    definition there (measure.summarise)."""
    return [1e3 * (r["latency_s"] - r["duration_s"]) for r in records if r["outcome"] == "completed"]


def fitted_hold(holds: list[float]) -> dict:
    mean = statistics.fmean(holds)
    sd = statistics.pstdev(holds) if len(holds) > 1 else 0.0
    if sd < 1e-3 * mean:
        return {"kind": "constant", "value_s": mean}
    if abs(sd / mean - 1) < 0.1:
        return {"kind": "exponential", "mean_s": mean}
    return {"kind": "lognormal", "mean_s": mean, "sd_s": sd}


def statistical(name: str, lib: str, params: dict, case_arrivals: dict, requests: list[dict],
                m: dict, length_s: float, pgbouncer: dict | None, replications: int) -> dict:
    """The statistical model: Poisson arrivals at the measured rate (a burst stays a burst,
    the on/off load an MMPP with the same rates and mean holding times), holds drawn from the
    distribution fitted to the measured ones; `replications` independent replications."""
    holds = [float(r["hold_s"]) + m["overhead_s"] for r in requests]
    kind = case_arrivals["kind"]
    if kind == "burst":
        arrivals = {"kind": "burst", "count": len(requests), "at_s": LEAD_S + case_arrivals["at_s"]}
        horizon = LEAD_S + case_arrivals["at_s"] + TAIL_S
    elif kind == "onoff":
        arrivals = {"kind": "poisson", "profile": {"shape": "step", "points": _onoff_points(case_arrivals, length_s)}}
        horizon = LEAD_S + length_s + TAIL_S
    else:
        rate = len(requests) / length_s
        arrivals = {"kind": "poisson", "profile": {"shape": "step", "points": [
            {"at_s": 0, "rate_per_s": 0}, {"at_s": LEAD_S, "rate_per_s": rate},
            {"at_s": LEAD_S + length_s, "rate_per_s": 0}]}}
        horizon = LEAD_S + length_s + TAIL_S
    s = base_scenario(name, lib, params, m, horizon, pgbouncer, replications)
    s["workload"] = {"arrivals": arrivals, "transactions": [
        {"name": "q", "queries": 1, "query_time": fitted_hold(holds)}]}
    res = dbpoolsim.run(s, progress=False)
    summary = dict(res.summary)
    # Run-to-run spread: the measurement is one sample path, the model a distribution of them.
    for k, sd in res.replications.std(numeric_only=True).items():
        summary[f"{k}_sd"] = float(sd)
    return summary


def _onoff_points(a: dict, length_s: float) -> list[dict]:
    """The on/off load as a step rate profile (its phases are deterministic in the trace)."""
    pts = [{"at_s": 0, "rate_per_s": 0}]
    t = 0.0
    while t < length_s:
        pts.append({"at_s": LEAD_S + t, "rate_per_s": a["low_per_s"]})
        if t + a["low_s"] < length_s:
            pts.append({"at_s": LEAD_S + t + a["low_s"], "rate_per_s": a["high_per_s"]})
        t += a["low_s"] + a["high_s"]
    pts.append({"at_s": LEAD_S + length_s, "rate_per_s": 0})
    return pts


def finite(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x
