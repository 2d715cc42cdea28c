"""Published figures (../shared/spec/users-and-peers.md section 3) reproduced by simulation.

    python experiments/published/run.py            # every figure: writes results.md
    python experiments/published/run.py --only F9  # one figure, printed
    python experiments/published/run.py --quick    # short horizons (what the tests run)

One function per figure. Each returns rows (figure, quantity, published, simulated with its
95 % confidence half-width over replications, note on the gap) and the scenario it ran, so
tests/python/test_published.py can run the same code with --quick settings.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import dbpoolsim
from dbpoolsim import theory

HERE = Path(__file__).resolve().parent


@dataclass
class Row:
    figure: str
    quantity: str
    published: str
    simulated: str
    value: float        # the simulated mean (for tests)
    note: str = ""


def ci(res: dbpoolsim.Result, metric: str, scale: float = 1.0, fmt: str = "{:.3g}") -> tuple[str, float]:
    m = res.summary[metric] * scale
    h = res.summary.get(f"{metric}_ci95", math.nan) * scale
    text = fmt.format(m) if math.isnan(h) else f"{fmt.format(m)} ± {fmt.format(h)}"
    return text, m


def fixed_generic(n: int, timeout_s: float = 0.0) -> dict[str, Any]:
    return {"kind": "generic", "min_connections": n, "max_connections": n,
            "acquisition_timeout": timeout_s, "idle_timeout": 0, "max_lifetime": 0,
            "health_check_interval": 0}


# ---- F1: Oracle Real-World Performance, pool 2048 -> 1024 -> 96 -----------------------------
# 9,600 users sleep 550 ms between calls; a 12-core database. The contention model has two
# free numbers, the CPU work per call s and the USL sigma (kappa = 0: two operating points
# cannot separate sigma from kappa). They are chosen so that the database delivers the two
# throughputs the published response times imply by N = X (Z + R): at pool 96, R = 3 ms gives
# X = 9600 / 0.553 = 17,360/s on 12 saturated cores, so s U(35) = 12 / 17,360 = 0.691 ms with
# about X x 2 ms = 35 calls active; at pool 2048, R = 110 ms gives X = 14,545/s at about 95 %
# CPU with about 1,100 active, so s U(1100) = 0.784 ms. Hence U(1100) / U(35) = 1.135:
# sigma = 1.25e-4, s = 0.688 ms. What the simulation adds: the 1024 point, the throughput law
# at every size, and the core x 2 = 24 pool.
F1_S, F1_SIGMA = 0.000688, 1.25e-4


def f1(quick: bool) -> list[Row]:
    users = 9600
    rows = []
    for pool in (2048, 1024, 96, 24):
        sc = {"name": f"F1-pool-{pool}",
              "run": {"horizon_s": 16 if quick else 40, "warmup_s": 6 if quick else 10,
                      "replications": 2 if quick else 4, "seed": 1, "sample_interval_s": 5},
              "workload": {"arrivals": {"kind": "closed_loop", "users": users,
                                        "think_time": {"kind": "exponential", "mean_s": 0.55}},
                           "transactions": [{"query_time": {"kind": "exponential", "mean_s": F1_S}}]},
              "pool": fixed_generic(pool),
              "database": {"cores": 12, "max_connections": 5000, "network_rtt_s": 0,
                           "connect_time": {"kind": "constant", "value_s": 0.001},
                           "usl": {"sigma": F1_SIGMA, "kappa": 0}}}
        res = dbpoolsim.run(sc, progress=False)
        r_text, r = ci(res, "latency_avg_ms")
        x_text, x = ci(res, "throughput_per_s", fmt="{:.0f}")
        law = users / (0.55 + r / 1000)
        published = {2048: "~110 ms (33 queue + 77 SQL)", 1024: "similar to 2048, waits halved",
                     96: "~3 ms (1 queue + 2 SQL)", 24: "not measured (core x 2)"}[pool]
        rows.append(Row("F1", f"response time at pool {pool} (ms)", published, r_text, r,
                        f"wait {res.summary['wait_time_avg_ms']:.3g} ms + SQL; throughput "
                        f"{x_text}/s vs N/(Z+R) = {law:.0f}/s"))
    return rows


# ---- F4: PostgreSQL wiki, 10,000 transactions 5/10/20 at a time vs 500 -----------------------
# The database is the system of the USL reference dataset (F13: Baron Schwartz's measurements,
# as in codahale/usl4j), fitted here: with cores = 0 and the fitted USL, n transactions at a
# time complete at exactly the measured X(n). The makespan is the last completion of a burst of
# 10,000 (latency_max_ms: all arrive at once).
F13_N = [1, 5, 10, 15, 20, 25, 30]
F13_X = [955.16, 4315.54, 7867.61, 9645.37, 10798.52, 12075.41, 12118.04]


def f4(quick: bool) -> list[Row]:
    fit = theory.fit_usl(F13_N, F13_X)
    count = 2000 if quick else 10000
    rows = []
    for pool in (5, 10, 20, 500):
        sc = {"name": f"F4-{pool}-at-a-time",
              "run": {"horizon_s": 60, "warmup_s": 0, "replications": 2 if quick else 5,
                      "seed": 4, "sample_interval_s": 10},
              "workload": {"arrivals": {"kind": "burst", "count": count, "at_s": 1},
                           "transactions": [{"query_time": {"kind": "exponential",
                                                            "mean_s": 1 / fit["lambda"]}}]},
              "pool": fixed_generic(pool),
              "database": {"cores": 0, "max_connections": 1000, "network_rtt_s": 0,
                           "connect_time": {"kind": "constant", "value_s": 0.001},
                           "usl": {"sigma": fit["sigma"], "kappa": fit["kappa"]}}}
        res = dbpoolsim.run(sc, progress=False)
        text, m = ci(res, "latency_max_ms", 1e-3)
        x_usl = theory.usl_throughput(fit["lambda"], fit["sigma"], fit["kappa"], pool)
        rows.append(Row("F4", f"makespan of {count:,} transactions, {pool} at a time (s)",
                        "5, 10 or 20 at a time finish sooner than 500", text, m,
                        f"USL fit of F13: sigma {fit['sigma']:.4f}, kappa {fit['kappa']:.2e}, "
                        f"X({pool}) = {x_usl:.0f}/s, {count}/X = {count / x_usl:.2f} s"))
    return rows


# ---- F8: pg_doorman's PgBouncer closed loop ------------------------------------------------
# pgbench clients with no think time through PgBouncer (40 server connections, transaction
# mode) running SELECT :aid. PgBouncer is one thread: pooler.cpu_per_transaction_s =
# 1 / 66,000 s, the saturation the 120- and 500-client points imply (N / R = 66k/s). The rest of
# a transaction (network, parse, the query) is a constant 0.055 ms, so that one client sees
# 0.07 ms as published. The database has no contention (cores = 0): 40 servers at 0.055 ms can
# do 727k/s, far above PgBouncer.
F8_CPU_S = 1 / 66000
F8_PUBLISHED_P50_MS = {1: 0.07, 40: 0.46, 120: 1.81, 500: 7.59, 10000: 184.39}


def f8(quick: bool) -> list[Row]:
    rows = []
    for clients, published in F8_PUBLISHED_P50_MS.items():
        if quick and clients == 10000:
            continue
        sc = {"run": {"horizon_s": 1.5 if quick else 4, "warmup_s": 0.5, "replications": 2 if quick else 3,
                      "seed": 8, "sample_interval_s": 1},
              "workload": {"arrivals": {"kind": "closed_loop", "users": clients,
                                        "think_time": {"kind": "constant", "value_s": 0}},
                           "transactions": [{"query_time": {"kind": "constant", "value_s": 0.000055}}]},
              "pool": fixed_generic(clients),
              "pooler": {"kind": "pgbouncer", "default_pool_size": 40, "max_client_conn": 20000,
                         "cpu_per_transaction_s": F8_CPU_S,
                         "client_connect_time": {"kind": "constant", "value_s": 0}},
              "database": {"cores": 0, "max_connections": 1000, "network_rtt_s": 0,
                           "connect_time": {"kind": "constant", "value_s": 0.001}}}
        res = dbpoolsim.run(sc, progress=False)
        text, m = ci(res, "latency_p50_ms")
        x = res.summary["throughput_per_s"]
        rows.append(Row("F8", f"PgBouncer latency p50 at {clients:,} clients (ms)", f"{published}",
                        text, m, f"throughput {x:,.0f}/s; published N / R = "
                        f"{clients / published * 1000:,.0f}/s"))
    return rows


# ---- F9: pgdog #1488, one connection per 333 ms tick vs a 5 s checkout timeout ---------------
# No pool in the library creates on a timer tick; two create strictly one connection at a time.
# HikariCP's single adder pauses 30 ms after each login (docs/pools.md), so a 303 ms login
# gives one new connection per 333 ms, with connectionTimeout = pgdog's 5 s checkout timeout.
# PgBouncer opens its server connections one at a time with no pause: a 333 ms login (the same
# rate) and a 25 ms login (pgdog's fix), with query_wait_timeout = 5 s (checked on its 1/3 s
# janitor tick, so a client may wait up to 5.33 s). Session mode is emulated by 64 clients
# each holding its connection 20 s, so each new connection serves exactly one client.


def f9(quick: bool) -> list[Row]:
    rows = []
    cases = [("hikaricp", 0.303, "~18 of 64 served (15 created in 5 s + initial)"),
             ("pgbouncer", 0.333, "~18 of 64 served"),
             ("pgbouncer", 0.025, "all 64 served")]
    for kind, login_s, published in cases:
        base = {"run": {"horizon_s": 30, "warmup_s": 0, "replications": 1, "seed": 9,
                        "sample_interval_s": 1},
                "workload": {"arrivals": {"kind": "burst", "count": 64, "at_s": 1},
                             "transactions": [{"query_time": {"kind": "constant", "value_s": 20}}]},
                "database": {"cores": 0, "max_connections": 1000, "network_rtt_s": 0,
                             "connect_time": {"kind": "constant", "value_s": login_s}}}
        if kind == "hikaricp":
            base["pool"] = {"kind": "hikaricp", "maximumPoolSize": 100, "minimumIdle": 0,
                            "connectionTimeout": 5000, "initializationFailTimeout": -1}
            tick = login_s + 0.030
        else:
            base["pool"] = fixed_generic(64)
            base["pooler"] = {"kind": "pgbouncer", "default_pool_size": 100, "max_client_conn": 1000,
                              "query_wait_timeout": 5,
                              "client_connect_time": {"kind": "constant", "value_s": 0}}
            tick = login_s
        res = dbpoolsim.run(base, progress=False)
        served = res.summary["offered"] - res.summary["failed"]
        rows.append(Row("F9", f"{kind}, one login per {tick * 1000:.0f} ms: clients served",
                        published, f"{served:.0f} of 64", served,
                        "deterministic (1 replication); 5 s / tick = "
                        f"{5 / tick:.1f} logins within the timeout"))
    return rows


# ---- F10: postmaster accepting ~1,400 connections/s -----------------------------------------
# A fleet of 200 instances x 70 connections (14,000 logins) opens its pools at once against a
# server that accepts 1,400 logins/s (database.accept_rate_per_s), each login then taking 5 ms.


def f10(quick: bool) -> list[Row]:
    instances, per = (50, 70) if quick else (200, 70)
    sc = {"run": {"horizon_s": 20, "warmup_s": 0, "replications": 1, "seed": 10,
                  "sample_interval_s": 0.1},
          "workload": {"arrivals": {"kind": "burst", "count": 1, "at_s": 1000}},
          "client": {"instances": instances},
          "pool": fixed_generic(per),
          "database": {"cores": 0, "max_connections": 100000, "network_rtt_s": 0.0005,
                       "accept_rate_per_s": 1400,
                       "connect_time": {"kind": "constant", "value_s": 0.005}}}
    res = dbpoolsim.run(sc, progress=False)
    ts = res.timeseries
    total = instances * per
    # db_backends counts a login from the moment it queues (it holds its slot), so "done" is
    # every pool connection open: idle (no requests arrive) or in use.
    full = ts[ts.idle_connections + ts.active_connections >= total]
    t_full = float(full.t_s.min()) if len(full) else math.nan
    return [Row("F10", f"time for {total:,} logins at 1,400/s to complete (s)",
                "client connects delayed 10-15 s during bursts", f"{t_full:.1f}", t_full,
                f"{total:,} / 1,400 = {total / 1400:.1f} s; the published 10-15 s means "
                "14,000-21,000 logins in a burst (the fleet size is not published)")]


# ---- seed 003's before/after claim ----------------------------------------------------------
# "Pool 20 | Concurrency 50 | 4,773 RPS | P95 969 ms | Timeouts 79.5 %". At concurrency N = 50
# Little's law gives the mean response time R = N / X = 10.5 ms; a p95 of 969 ms needs
# R >= 0.05 x 969 = 48 ms. No closed workload of 50 concurrent requests can produce the line
# (and 79.5 % of requests timing out after connection_timeout = 30 s would make R >= 24 s).
# What does fit: the throughput. 50 clients with no think time on 20 connections holding
# h = 20 / 4,773 = 4.19 ms each give 4,773/s; the simulation shows what such a workload does.


def seed003(quick: bool) -> list[Row]:
    rows = []
    hold = 20 / 4773
    for pool, published in ((20, "4,773 req/s, p95 969 ms, 79.5 % timeouts"),
                            (35, "8,500+ req/s, p95 < 100 ms, < 1 % timeouts (projected)")):
        variants = (
            ("no DB limit", {"cores": 0},
             {"query_time": {"kind": "exponential", "mean_s": hold}}),
            ("1 ms CPU + 3.19 ms app work, 8-core DB", {"cores": 8},
             {"query_time": {"kind": "exponential", "mean_s": 0.001},
              "app_time": {"kind": "exponential", "mean_s": hold - 0.001}}))
        for label, db, tx in variants:
            sc = {"run": {"horizon_s": 20 if quick else 60, "warmup_s": 2,
                          "replications": 2 if quick else 5, "seed": 3, "sample_interval_s": 10},
                  "workload": {"arrivals": {"kind": "closed_loop", "users": 50,
                                            "think_time": {"kind": "constant", "value_s": 0}},
                               "transactions": [tx]},
                  "pool": fixed_generic(pool, 30.0),
                  "database": {"max_connections": 1000, "network_rtt_s": 0,
                               "connect_time": {"kind": "constant", "value_s": 0.001}, **db}}
            res = dbpoolsim.run(sc, progress=False)
            x_text, x = ci(res, "throughput_per_s", fmt="{:.0f}")
            p95 = res.summary["latency_p95_ms"]
            cpu = res.summary["db_cpu_utilization_percent"]
            rows.append(Row("seed003", f"pool {pool}, 50 clients, hold {hold * 1000:.2f} ms, "
                            f"{label}: throughput (1/s)", published, x_text, x,
                            f"p95 {p95:.3g} ms, timeouts {100 * res.summary['timeout_rate']:.2g} %"
                            + ("" if math.isnan(cpu) else f", DB CPU {cpu:.0f} %") + "; "
                            f"Little: R = 50 / X = {50 / x * 1000:.3g} ms"))
    return rows


FIGURES: dict[str, Callable[[bool], list[Row]]] = {
    "F1": f1, "F4": f4, "F8": f8, "F9": f9, "F10": f10, "seed003": seed003}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", default=[], choices=list(FIGURES))
    ap.add_argument("--quick", action="store_true", help="short horizons, few replications")
    args = ap.parse_args()
    chosen = args.only or list(FIGURES)
    t0 = time.time()
    rows: list[Row] = []
    for name in chosen:
        t = time.time()
        rows += FIGURES[name](args.quick)
        print(f"{name}: {time.time() - t:.0f} s", file=sys.stderr, flush=True)
    lines = ["| figure | quantity | published | simulated (mean ± 95 % CI) | note |",
             "|---|---|---|---|---|"]
    lines += [f"| {r.figure} | {r.quantity} | {r.published} | {r.simulated} | {r.note} |" for r in rows]
    table = "\n".join(lines)
    if args.only or args.quick:
        print(table)
        return 0
    (HERE / "results.md").write_text(
        "# Published figures: results\n\nGenerated by `python experiments/published/run.py` "
        f"(dbpoolsim {dbpoolsim.__version__}, {time.time() - t0:.0f} s on 2 cores). The "
        "findings and the gaps are discussed in README.md.\n\n" + table + "\n")
    print(f"wrote {HERE / 'results.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
