"""e02: one example scenario per incident class, and the variants that answer its question.

    python experiments/e02_incidents/run.py                 # every incident, writes results.md
    python experiments/e02_incidents/run.py --only failover # one section (prints, writes nothing)

The scenarios are the files in experiments/scenarios/incidents/ (each one says what it
models and where its numbers come from). A variant is the file plus a few dotted-path
overrides (dbpoolsim.with_overrides), named in the tables. Every variant of a file keeps the
file's seed, so variants that share their arrivals see the same requests (common random
numbers). Tables give the mean over replications and, after the ±, the 95 % confidence
half-width (Student t); time-series excerpts are replication 0 of each variant.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import pandas as pd

import dbpoolsim

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCENARIOS = ROOT / "experiments" / "scenarios" / "incidents"
THREADS = 2


# ---- derived metrics: computed per replication from the time series ------------------------

def peak_in_window(column: str) -> Callable[[pd.DataFrame, dict], float]:
    """Largest value of an instant column over the statistics window."""
    def f(ts: pd.DataFrame, sc: dict) -> float:
        w = ts[ts.t_s > sc["run"]["warmup_s"]]
        return float(w[column].max()) if len(w) else math.nan
    return f


def last_unhealthy_s(ts: pd.DataFrame, sc: dict) -> float:
    """Seconds from the first fault to the end of the last unhealthy sample interval.

    Unhealthy uses time_to_recover_s's own rule (failures > 1 % of the requests that ended
    in the interval, or nothing completed while requests arrived), but looks for the *last*
    such interval instead of the first run of 5 healthy ones. 0 when there is none.
    """
    at = min(f["at_s"] for f in sc["faults"])
    w = ts[ts.t_s > at]
    bad = w[(w.failures > 0.01 * (w.completions + w.failures)) | ((w.completions == 0) & (w.arrivals > 0))]
    return float(bad.t_s.max() - at) if len(bad) else 0.0


# ---- the incidents -------------------------------------------------------------------------

@dataclass
class Excerpt:
    """A few rows of replication 0's time series: (variant label, column, header) per column."""
    title: str
    times: list[float]
    columns: list[tuple[str, str, str]]
    bin_s: Optional[float] = None   # sum interval columns over bins of this width ending at each time


@dataclass
class Table:
    file: str
    variants: list[tuple[str, dict]]
    metrics: list[tuple[str, str]]  # (metric or derived name, header)
    excerpts: list[Excerpt] = field(default_factory=list)
    derived: dict[str, Callable[[pd.DataFrame, dict], float]] = field(default_factory=dict)


@dataclass
class Incident:
    key: str
    title: str
    tables: list[Table]


HIKARI20 = {"kind": "hikaricp", "maximumPoolSize": 20, "minimumIdle": 20}
REPLACE_45 = [{"kind": "rolling_deploy", "at_s": 60, "batch": 1, "interval_s": 30, "ready_after_s": 0}]
SCALE_8 = [{"kind": "scale", "at_s": 60, "instances": 8, "ready_after_s": 10}]
PGB_SEEDS003 = {"kind": "pgbouncer", "pool_mode": "transaction", "max_client_conn": 10000, "default_pool_size": 35,
                "min_pool_size": 15, "reserve_pool_size": 10, "reserve_pool_timeout": 2}
PGB_150 = dict(PGB_SEEDS003, default_pool_size=150, reserve_pool_size=20)
BREAKER = {"client.circuit_breaker_threshold": 5, "client.circuit_breaker_timeout": 30, "client.circuit_breaker_reset": 2}

INCIDENTS = [
    Incident("lifetime-herd", "Lifetime herd: with and without lifetime jitter", [Table(
        "lifetime-herd.json",
        [("sqlx, max_lifetime 600 s, no jitter", {}),
         ("sqlx, the same without login CPU", {"database.connect_cpu_s": 0}),
         ("generic, max_lifetime 600 s, no jitter",
          {"pool": {"kind": "generic", "min_connections": 20, "max_connections": 20, "max_lifetime": 600}}),
         ("HikariCP, maxLifetime 600000 (minus up to 2.5 %)",
          {"pool": {"kind": "hikaricp", "maximumPoolSize": 20, "minimumIdle": 20, "maxLifetime": 600000}}),
         ("psycopg_pool, max_lifetime 600 (minus up to 5 %)",
          {"pool": {"kind": "psycopg_pool", "min_size": 20, "max_size": 20, "max_lifetime": 600}})],
        [("connections_closed_lifetime", "closed by lifetime"), ("logins", "logins"),
         ("logins_per_s_peak", "logins/s peak (0.1 s bins)"), ("db_jobs_peak", "peak DB CPU jobs"),
         ("wait_time_p99_ms", "wait p99 ms"), ("wait_time_max_ms", "wait max ms"),
         ("latency_p99_ms", "latency p99 ms"), ("latency_max_ms", "latency max ms"), ("failed", "failed")],
        [Excerpt("Around the sqlx expiry (0.1 s samples; logins started, p99 and largest acquire wait in ms, "
                 "CPU jobs = queries + logins on the database CPU)",
                 [round(599.9 + 0.1 * k, 1) for k in range(10)],
                 [("sqlx, max_lifetime 600 s, no jitter", "logins", "sqlx logins"),
                  ("sqlx, max_lifetime 600 s, no jitter", "wait_p99_ms", "sqlx wait p99"),
                  ("sqlx, max_lifetime 600 s, no jitter", "wait_max_ms", "sqlx wait max"),
                  ("sqlx, max_lifetime 600 s, no jitter", "db_active_queries", "sqlx CPU jobs"),
                  ("sqlx, the same without login CPU", "db_active_queries", "sqlx no login CPU: CPU jobs"),
                  ("generic, max_lifetime 600 s, no jitter", "wait_max_ms", "generic wait max"),
                  ("HikariCP, maxLifetime 600000 (minus up to 2.5 %)", "logins", "HikariCP logins"),
                  ("psycopg_pool, max_lifetime 600 (minus up to 5 %)", "logins", "psycopg logins")]),
         Excerpt("Logins per 5 s (the jittered pools spread the same 320 re-logins)",
                 [575.0, 580.0, 585.0, 590.0, 595.0, 600.0, 605.0],
                 [("sqlx, max_lifetime 600 s, no jitter", "logins", "sqlx"),
                  ("generic, max_lifetime 600 s, no jitter", "logins", "generic"),
                  ("HikariCP, maxLifetime 600000 (minus up to 2.5 %)", "logins", "HikariCP"),
                  ("psycopg_pool, max_lifetime 600 (minus up to 5 %)", "logins", "psycopg_pool")], bin_s=5.0)],
        {"db_jobs_peak": peak_in_window("db_active_queries")})]),

    Incident("fleet-cold-start", "Cold start of a fleet: rolling deploy and scale-out", [Table(
        "fleet-rolling-deploy.json",
        [("rolling deploy, 45 per instance, ready after 10 s", {}),
         ("rolling deploy, 45 per instance, ready at once", {"fleet": REPLACE_45}),
         ("rolling deploy, 35 per instance, ready after 10 s",
          {"pool.maximumPoolSize": 35, "pool.minimumIdle": 35}),
         ("scale-out 4 -> 8 at 60 s, 45 per instance", {"fleet": SCALE_8}),
         ("scale-out 4 -> 8 at 60 s, 24 per instance",
          {"fleet": SCALE_8, "pool.maximumPoolSize": 24, "pool.minimumIdle": 24})],
        [("instances_max", "instances max"), ("peak_backend_connections", "peak backends"),
         ("rejected_logins", "rejected logins"), ("wait_time_p99_ms", "wait p99 ms"),
         ("wait_time_max_ms", "wait max ms"), ("latency_max_ms", "latency max ms"),
         ("waiters_peak", "peak waiters"), ("failed_acquire_timeout", "acquire timeouts"), ("failed", "failed")],
        [Excerpt("First deploy step (starts at 60 s): running instances, backends (max_connections 200), "
                 "logins started, largest acquire wait in ms",
                 [59.0, 60.0, 61.0, 62.0, 63.0, 64.0, 65.0, 70.0, 71.0, 72.0, 73.0, 74.0, 75.0],
                 [("rolling deploy, 45 per instance, ready after 10 s", "instances", "ready 10 s: instances"),
                  ("rolling deploy, 45 per instance, ready after 10 s", "db_backends", "backends"),
                  ("rolling deploy, 45 per instance, ready after 10 s", "logins", "logins"),
                  ("rolling deploy, 45 per instance, ready after 10 s", "wait_max_ms", "wait max"),
                  ("rolling deploy, 45 per instance, ready at once", "db_backends", "ready at once: backends"),
                  ("rolling deploy, 45 per instance, ready at once", "waiters", "waiters"),
                  ("rolling deploy, 45 per instance, ready at once", "wait_max_ms", "wait max")]),
         Excerpt("Scale-out 4 -> 8 at 60 s: backends, requests waiting, p99 acquire wait (ms)",
                 [59.0, 61.0, 65.0, 70.0, 71.0, 80.0, 100.0, 150.0, 200.0, 239.0],
                 [("scale-out 4 -> 8 at 60 s, 45 per instance", "db_backends", "45: backends"),
                  ("scale-out 4 -> 8 at 60 s, 45 per instance", "waiters", "45: waiters"),
                  ("scale-out 4 -> 8 at 60 s, 45 per instance", "wait_p99_ms", "45: wait p99"),
                  ("scale-out 4 -> 8 at 60 s, 24 per instance", "db_backends", "24: backends"),
                  ("scale-out 4 -> 8 at 60 s, 24 per instance", "waiters", "24: waiters"),
                  ("scale-out 4 -> 8 at 60 s, 24 per instance", "wait_p99_ms", "24: wait p99")])],
        {"waiters_peak": peak_in_window("waiters")})]),

    Incident("failover", "Failover (silent) against restart (reset), socket and connect timeouts", [Table(
        "failover.json",
        [("failover, socket 924.6 s, connect 127 s (Linux defaults)", {}),
         ("restart (reset) instead of failover", {"faults": [{"kind": "restart", "at_s": 120, "duration_s": 20}]}),
         ("failover, socket_timeout_s 30", {"network.socket_timeout_s": 30}),
         ("failover, socket_timeout_s 3", {"network.socket_timeout_s": 3}),
         ("failover, socket 3 s, connect_timeout_s 10", {"network.socket_timeout_s": 3, "network.connect_timeout_s": 10}),
         ("failover, HikariCP defaults, Linux timeouts", {"pool": HIKARI20}),
         ("failover, HikariCP defaults, connect_timeout_s 10", {"pool": HIKARI20, "network.connect_timeout_s": 10})],
        [("time_to_recover_s", "time to recover s"), ("last_unhealthy_s", "last unhealthy s"),
         ("failed_socket_timeout", "socket timeouts"), ("failed_query_error", "query errors (reset)"),
         ("failed_acquire_timeout", "acquire timeouts"), ("failed_connect_error", "connect errors"),
         ("goodput_ratio", "goodput"), ("latency_max_ms", "latency max ms")],
        [Excerpt("Completed requests per second (about 200 arrive per second); the fault starts at 120 s, "
                 "the new primary answers from 140 s",
                 [119.0, 121.0, 124.0, 126.0, 130.0, 141.0, 145.0, 146.0, 150.0, 151.0, 152.0, 200.0,
                  250.0, 253.0, 254.0, 300.0, 1044.0, 1045.0, 1046.0],
                 [("failover, socket 924.6 s, connect 127 s (Linux defaults)", "completions", "Linux defaults"),
                  ("restart (reset) instead of failover", "completions", "restart"),
                  ("failover, socket_timeout_s 30", "completions", "socket 30"),
                  ("failover, socket_timeout_s 3", "completions", "socket 3"),
                  ("failover, socket 3 s, connect_timeout_s 10", "completions", "socket 3, connect 10"),
                  ("failover, HikariCP defaults, Linux timeouts", "completions", "HikariCP"),
                  ("failover, HikariCP defaults, connect_timeout_s 10", "completions", "HikariCP, connect 10")])],
        {"last_unhealthy_s": last_unhealthy_s}),
     Table(
        "failover-read-only.json",
        [("read-only demotion, pool_recycle -1 (unset)", {}),
         ("read-only demotion, pool_recycle 300", {"pool.pool_recycle": 300})],
        [("time_to_recover_s", "time to recover s"), ("last_unhealthy_s", "last unhealthy s"),
         ("failed_read_only", "writes failed (read-only)"), ("goodput_ratio", "goodput"),
         ("connections_closed_lifetime", "recycled")],
        [Excerpt("Failed requests per second (writes are 20 % of about 200 per second)",
                 [119.0, 121.0, 151.0, 240.0, 300.0, 301.0, 302.0, 420.0, 600.0, 899.0],
                 [("read-only demotion, pool_recycle -1 (unset)", "failures", "pool_recycle -1"),
                  ("read-only demotion, pool_recycle 300", "failures", "pool_recycle 300")])],
        {"last_unhealthy_s": last_unhealthy_s})]),

    Incident("nat-idle-drop", "NAT idle drop after quiet periods", [Table(
        "nat-idle-drop.json",
        [("generic, no health check, silent drop", {}),
         ("generic, no health check, NAT sends a reset", {"network.nat_drop": "reset"}),
         ("generic, health_check_interval 60 (its default)", {"pool.health_check_interval": 60}),
         ("generic, min 0, idle_timeout 180 (< NAT 240)",
          {"pool.min_connections": 0, "pool.idle_timeout": 180}),
         ("HikariCP 5/10, keepaliveTime 0 (6.0.0 default)",
          {"pool": {"kind": "hikaricp", "maximumPoolSize": 10, "minimumIdle": 5}}),
         ("HikariCP 5/10, keepaliveTime 120000",
          {"pool": {"kind": "hikaricp", "maximumPoolSize": 10, "minimumIdle": 5, "keepaliveTime": 120000}}),
         ("sqlx 5/10, defaults (ping before acquire)",
          {"pool": {"kind": "sqlx", "min_connections": 5, "max_connections": 10}}),
         ("psycopg_pool 5/10, defaults", {"pool": {"kind": "psycopg_pool", "min_size": 5, "max_size": 10}})],
        [("offered", "requests"), ("nat_drops", "NAT drops found"), ("failed_socket_timeout", "socket timeouts"),
         ("failed_query_error", "query errors (reset)"), ("failed_acquire_timeout", "acquire timeouts"),
         ("wait_time_max_ms", "wait max ms"), ("latency_p99_ms", "latency p99 ms"),
         ("latency_max_ms", "latency max ms"), ("round_trips", "pool round trips")],
        [Excerpt("Start of the fourth busy minute (1080 s, after 300 s of silence): completed / failed requests "
                 "per second",
                 [1080.0, 1081.0, 1082.0, 1085.0, 1086.0, 1087.0, 1100.0, 1110.0, 1111.0, 1112.0],
                 [("generic, no health check, silent drop", "completions+failures", "generic silent"),
                  ("generic, no health check, NAT sends a reset", "completions+failures", "generic reset"),
                  ("generic, health_check_interval 60 (its default)", "completions+failures", "generic hc 60"),
                  ("HikariCP 5/10, keepaliveTime 0 (6.0.0 default)", "completions+failures", "HikariCP ka 0"),
                  ("sqlx 5/10, defaults (ping before acquire)", "completions+failures", "sqlx"),
                  ("psycopg_pool 5/10, defaults", "completions+failures", "psycopg_pool"),
                  ("psycopg_pool 5/10, defaults", "total_connections", "psycopg_pool: connections")])])]),

    Incident("retry-storm", "Retry storm: retries, jitter and a circuit breaker", [Table(
        "retry-storm-restart.json",
        [("no retries", {"client.retry_attempts": 0}),
         ("3 retries, jitter 0.1", {}),
         ("3 retries, jitter 0", {"client.retry_jitter_factor": 0}),
         ("3 retries, jitter 1.0", {"client.retry_jitter_factor": 1.0}),
         ("3 retries + circuit breaker (5 failures, 30 s)", BREAKER)],
        [("attempts", "attempts"), ("retry_amplification", "retry amplification"), ("failed", "failed"),
         ("failed_circuit_open", "failed: breaker open"), ("goodput_ratio", "goodput"),
         ("time_to_recover_s", "time to recover s"), ("last_unhealthy_s", "last unhealthy s"),
         ("logins", "logins"), ("logins_per_s_peak", "logins/s peak"), ("latency_p99_ms", "latency p99 ms")],
        [Excerpt("Logins started per second (restart at 120 s, logins refused until 135 s)",
                 [119.0, 121.0, 122.0, 125.0, 130.0, 135.0, 136.0, 137.0, 150.0, 151.0, 152.0],
                 [("no retries", "logins", "no retries"), ("3 retries, jitter 0.1", "logins", "jitter 0.1"),
                  ("3 retries, jitter 0", "logins", "jitter 0"), ("3 retries, jitter 1.0", "logins", "jitter 1.0"),
                  ("3 retries + circuit breaker (5 failures, 30 s)", "logins", "breaker"),
                  ("no retries", "failures", "failed: no retries"),
                  ("3 retries, jitter 0.1", "failures", "failed: 3 retries"),
                  ("3 retries + circuit breaker (5 failures, 30 s)", "failures", "failed: breaker")])],
        {"last_unhealthy_s": last_unhealthy_s}),
     Table(
        "retry-storm-slow-queries.json",
        [("no retries", {"client.retry_attempts": 0}),
         ("3 retries, jitter 0.1", {}),
         ("3 retries + circuit breaker (5 failures, 30 s)", BREAKER)],
        [("attempts", "attempts"), ("retry_amplification", "retry amplification"), ("failed", "failed"),
         ("failed_statement_timeout", "statement timeouts"), ("failed_acquire_timeout", "acquire timeouts"),
         ("failed_circuit_open", "failed: breaker open"), ("goodput_ratio", "goodput"),
         ("time_to_recover_s", "time to recover s"), ("last_unhealthy_s", "last unhealthy s"),
         ("waiters_peak", "peak waiters"), ("db_cpu_utilization_percent", "DB CPU %"),
         ("latency_p99_ms", "latency p99 ms")],
        [Excerpt("Requests waiting for a connection, and failed requests per second "
                 "(slow queries from 120 s to 150 s)",
                 [120.0, 121.0, 125.0, 130.0, 135.0, 140.0, 150.0, 155.0, 160.0, 165.0, 170.0],
                 [("no retries", "waiters", "no retries: waiting"), ("no retries", "failures", "failed"),
                  ("3 retries, jitter 0.1", "waiters", "3 retries: waiting"),
                  ("3 retries, jitter 0.1", "failures", "failed"),
                  ("3 retries + circuit breaker (5 failures, 30 s)", "waiters", "breaker: waiting"),
                  ("3 retries + circuit breaker (5 failures, 30 s)", "failures", "failed")])],
        {"last_unhealthy_s": last_unhealthy_s, "waiters_peak": peak_in_window("waiters")})]),

    Incident("too-many-instances", "Too many instances for max_connections", [Table(
        "too-many-instances.json",
        [("5 x 35 (seeds/003 sizing)", {"client.instances": 5}),
         ("6 x 35", {}),
         ("6 x 35, 3 retries", {"client.retry_attempts": 3}),
         ("6 x 30", {"pool.max_size": 30}),
         ("6 x 35 via PgBouncer as in seeds/003 (35 + 10 reserve)", {"pooler": PGB_SEEDS003}),
         ("6 x 35 via PgBouncer, default_pool_size 150 + 20 reserve", {"pooler": PGB_150}),
         ("7 x 35 via PgBouncer, default_pool_size 150 + 20 reserve", {"pooler": PGB_150, "client.instances": 7})],
        [("offered", "requests"), ("success_rate", "success rate"), ("failed_connect_error", "connect errors"),
         ("rejected_logins", "rejected logins"), ("retry_amplification", "retry amplification"),
         ("peak_backend_connections", "peak backends"), ("wait_time_p99_ms", "wait p99 ms"),
         ("pooler_wait_p99_ms", "PgBouncer wait p99 ms"), ("latency_p99_ms", "latency p99 ms")],
        [Excerpt("A few seconds of the steady state: backends, failed requests per second",
                 [100.0, 101.0, 102.0, 103.0, 104.0],
                 [("6 x 35", "db_backends", "6 x 35: backends"), ("6 x 35", "failures", "failed"),
                  ("6 x 35, 3 retries", "failures", "3 retries: failed"),
                  ("6 x 30", "db_backends", "6 x 30: backends"), ("6 x 30", "failures", "failed"),
                  ("6 x 35 via PgBouncer, default_pool_size 150 + 20 reserve", "db_backends", "PgBouncer 150: backends"),
                  ("6 x 35 via PgBouncer, default_pool_size 150 + 20 reserve", "failures", "failed")])])]),
]


# ---- running and formatting ----------------------------------------------------------------

def fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a == 0:
        return "0"
    if a < 0.01:
        return f"{v:.2g}"
    return f"{v:.3g}"


def cell(values: pd.Series, metric: str) -> str:
    """Mean ± 95 % half-width over replications; for times to recover, also how many recovered."""
    mean, half = dbpoolsim.confidence_interval(values)
    if metric in ("success_rate", "goodput_ratio"):
        text = "-" if math.isnan(mean) else f"{mean:.4f}" + ("" if math.isnan(half) else f" ± {half:.4f}")
    else:
        text = fmt(mean) + ("" if math.isnan(half) or math.isnan(mean) else f" ± {fmt(half)}")
    if metric == "time_to_recover_s":
        ok = int(values.notna().sum())
        if ok < len(values):
            text += f" ({ok}/{len(values)} recovered)"
    return text


def series_value(ts: pd.DataFrame, t: float, column: str, bin_s: Optional[float]) -> float:
    if bin_s:
        w = ts[(ts.t_s > t - bin_s + 1e-9) & (ts.t_s <= t + 1e-9)]
        return float(w[column].sum())
    row = ts[(ts.t_s - t).abs() < 1e-6]
    return float(row[column].iloc[0]) if len(row) else math.nan


def run_table(table: Table) -> tuple[list[str], dict[str, dict]]:
    path = SCENARIOS / table.file
    described = dbpoolsim.resolve_scenario(path)
    lines = [f"Scenario [`{table.file}`](../scenarios/incidents/{table.file}): {described['description']}", ""]
    header = "| variant | overrides | " + " | ".join(h for _, h in table.metrics) + " |"
    lines += [header, "|---|---|" + "---|" * len(table.metrics)]
    results: dict[str, dict] = {}
    for label, overrides in table.variants:
        scenario = dbpoolsim.with_overrides(path, **overrides)
        t0 = time.perf_counter()
        res = dbpoolsim.run(scenario, threads=THREADS, progress=False, base_dir=str(SCENARIOS))
        wall = time.perf_counter() - t0
        reps = res.replications.copy()
        ts0 = res.timeseries[res.timeseries.replication == 0]
        for name, f in table.derived.items():
            reps[name] = [f(res.timeseries[res.timeseries.replication == r], res.scenario)
                          for r in reps.replication]
        results[label] = {"reps": reps, "ts": ts0, "scenario": res.scenario}
        shown = ", ".join(f"`{k}`" if isinstance(v, (dict, list)) else f"`{k}={v}`" for k, v in overrides.items())
        row = f"| {label} | {shown or '(the file)'} | " + " | ".join(cell(reps[m], m) for m, _ in table.metrics) + " |"
        lines.append(row)
        print(f"  {label}: {wall:.1f} s")
    lines.append("")
    n = len(next(iter(results.values()))["reps"])
    lines += [f"{n} replications per variant.", ""]
    for ex in table.excerpts:
        lines += [f"**{ex.title}.**", "",
                  "| t (s) | " + " | ".join(h for _, _, h in ex.columns) + " |",
                  "|---|" + "---|" * len(ex.columns)]
        for t in ex.times:
            cells = []
            for label, column, _ in ex.columns:
                ts = results[label]["ts"]
                if column == "completions+failures":
                    c = series_value(ts, t, "completions", ex.bin_s)
                    f = series_value(ts, t, "failures", ex.bin_s)
                    cells.append(f"{fmt(c)} / {fmt(f)}")
                else:
                    cells.append(fmt(series_value(ts, t, column, ex.bin_s)))
            lines.append(f"| {t:g} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines, results


def git_sha() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=[i.key for i in INCIDENTS], help="run one incident; print, write nothing")
    args = parser.parse_args()
    start = time.perf_counter()
    body: list[str] = []
    for inc in INCIDENTS:
        if args.only and inc.key != args.only:
            continue
        print(inc.title)
        t0 = time.perf_counter()
        body += [f"## {inc.title}", ""]
        for table in inc.tables:
            lines, _ = run_table(table)
            body += lines
        body += [f"_Section run time: {time.perf_counter() - t0:.0f} s._", ""]
    total = time.perf_counter() - start
    head = ["# e02: one scenario per incident class", "",
            f"Generated by `python experiments/e02_incidents/run.py` (dbpoolsim {dbpoolsim.__version__}, "
            f"commit {git_sha()}, {THREADS} threads, {total:.0f} s in all). Do not edit by hand.", "",
            "Each table: one row per variant (the scenario file plus the overrides shown), the mean over "
            "replications ± the 95 % confidence half-width (Student t); `-` where a value is undefined. "
            "`time to recover s` is the simulator's `time_to_recover_s` (see the README for a caveat); "
            "`last unhealthy s` is computed here from the time series: seconds from the fault to the end of "
            "the last sample interval in which more than 1 % of the requests that ended failed (or none "
            "completed while requests arrived). Time-series excerpts show replication 0.", ""]
    text = "\n".join(head + body)
    if args.only:
        print(text)
        return
    out = HERE / "results.md"
    out.write_text(text.rstrip() + "\n")
    print(f"wrote {out} in {total:.0f} s")


if __name__ == "__main__":
    main()
