#!/usr/bin/env python3
"""Benchmark dbpoolsim.sweep: the issue-8 targets, measured in one invocation.

The sweep: the generic pool at 1,000 req/s (Poisson, exponential 5 ms queries, 0.5 ms round
trip), 300 simulated seconds, 5 replications per point, over a grid of pool sizes x acquire
timeouts. Figures (ratios are what carry over; other work shares the cores):

1. end to end: the full grid (1,000 points x 5 replications = 1.5 billion requests) with
   `sweep(threads=2)`, wall time and simulated requests per second;
2. 1 -> 2 threads: the same sub-grid with threads=1 and threads=2, interleaved, best of R;
3. Python overhead per point: the sweep's wall time with threads=1 minus the C++ time
   of its replications (their `wall_seconds`), per point, as a share of a point's C++ time;
4. Dask: a LocalCluster of 2 worker processes x 1 thread against local threads=2 on the
   same sub-grid, interleaved, best of R (cluster start-up excluded).

Usage: python experiments/bench/sweep_bench.py [--points N] [--sub N] [--repeat R] [--quick]
  --quick: 40 points x 5 replications x 30 s for the end-to-end figure, sub-grids of 8 points
  x 30 s: under a minute. Writes experiments/bench/sweep_results.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import dbpoolsim

HERE = Path(__file__).resolve().parent
RATE = 1000.0


def base(horizon_s: float) -> dict:
    return {
        "name": "sweep-bench",
        "run": {"horizon_s": horizon_s, "warmup_s": 0, "replications": 5, "seed": 1,
                "sample_interval_s": 10},
        "workload": {"arrivals": {"kind": "poisson", "rate_per_s": RATE},
                     "transactions": [{"name": "q", "weight": 1, "queries": 1,
                                       "query_time": {"kind": "exponential", "mean_s": 0.005}}]},
        "pool": {"kind": "generic", "min_connections": 8, "max_connections": 8,
                 "acquisition_timeout": 0.05},
        "database": {"connect_time": {"kind": "constant", "value_s": 0.01}, "network_rtt_s": 0.0005},
    }


def grid(points: int) -> dict:
    """Pool sizes 8.. x acquire timeouts 10..250 ms: `points` points (a multiple of 25 when
    it is large, else pool sizes only)."""
    if points >= 25 and points % 25 == 0:
        sizes = list(range(8, 8 + points // 25))
        timeouts = [round(0.01 * (1 + i), 3) for i in range(25)]
        return {("pool.min_connections", "pool.max_connections"): [(n, n) for n in sizes],
                "pool.acquisition_timeout": timeouts}
    return {("pool.min_connections", "pool.max_connections"): [(n, n) for n in range(8, 8 + points)]}


CPU: dict[str, list[float]] = {}  # label -> CPU seconds (user + system) of each timed sweep


def timed_sweep(horizon: float, points: int, reps: int = 5, label: str = "",
                **kw) -> tuple[float, dbpoolsim.SweepResult]:
    c0, m0, t0 = os.times(), time.thread_time(), time.perf_counter()
    res = dbpoolsim.sweep(base(horizon), grid(points), replications=reps,
                          progress=kw.pop("progress", False), **kw)
    wall, c1, m1 = time.perf_counter() - t0, os.times(), time.thread_time()
    CPU.setdefault(label, []).append((c1.user - c0.user) + (c1.system - c0.system))
    # The simulation runs in C++ threads; this (main) thread does all the Python work.
    CPU.setdefault(label + "/python", []).append(m1 - m0)
    return wall, res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1000, help="end-to-end grid size (default 1000)")
    ap.add_argument("--horizon", type=float, default=300.0)
    ap.add_argument("--sub", type=int, default=8, help="points in the ratio sub-grids")
    ap.add_argument("--sub-horizon", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-full", action="store_true", help="ratios only")
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.points, args.horizon, args.sub_horizon = 50, 30.0, 30.0
    out: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "platform": platform.platform(), "load_average_at_start": os.getloadavg()},
                 "rate_per_s": RATE, "replications": 5, "argv": sys.argv[1:]}

    # 2. and 3.: 1 vs 2 threads (interleaved) and the Python overhead (threads=1 runs); the
    # same with one replication per point (then only scheduling across points fills 2 cores).
    one, two, one_r1, two_r1, overhead = [], [], [], [], []
    for _ in range(args.repeat):
        w1, r1 = timed_sweep(args.sub_horizon, args.sub, label="one", threads=1)
        w2, _ = timed_sweep(args.sub_horizon, args.sub, label="two", threads=2)
        one_r1.append(timed_sweep(args.sub_horizon, args.sub, reps=1, threads=1)[0])
        two_r1.append(timed_sweep(args.sub_horizon, args.sub, reps=1, threads=2)[0])
        one.append(w1)
        two.append(w2)
        cpp = float(r1.runs["wall_seconds"].sum())
        overhead.append(((w1 - cpp) / args.sub, cpp / args.sub))
    best_over = min(overhead)
    # Load-independent: the main thread's CPU (all the Python work) against the C++
    # threads' CPU (the simulation), best of R.
    py_cpu = min(CPU["one/python"]) / args.sub
    sim_cpu = (min(CPU["one"]) - min(CPU["one/python"])) / args.sub
    out["threads"] = {"points": args.sub, "horizon_s": args.sub_horizon, "one_s": min(one),
                      "two_s": min(two), "speedup": min(one) / min(two), "all_one_s": one, "all_two_s": two,
                      "one_rep_speedup": min(one_r1) / min(two_r1), "all_one_rep_one_s": one_r1,
                      "all_one_rep_two_s": two_r1,
                      # CPU seconds do not depend on the load: equal CPU for 1 and 2 threads
                      # means the second thread adds no work, so on two idle cores the
                      # speed-up is about 2 x cpu_one / cpu_two.
                      "cpu_one_s": min(CPU["one"]), "cpu_two_s": min(CPU["two"]),
                      "idle_cores_speedup_bound": 2 * min(CPU["one"]) / min(CPU["two"])}
    # A 300 s point's C++ time, scaled from the sub-grid's points (cost is linear in time).
    point_300 = best_over[1] * 300.0 / args.sub_horizon
    out["overhead"] = {"per_point_s": best_over[0], "point_cpp_s": best_over[1],
                       "share_of_300s_point": best_over[0] / point_300,
                       "python_cpu_per_point_s": py_cpu, "sim_cpu_per_point_s": sim_cpu,
                       "cpu_share_of_300s_point": py_cpu / (sim_cpu * 300.0 / args.sub_horizon)}
    print(f"1 -> 2 threads: {min(one):.2f} s -> {min(two):.2f} s = {min(one) / min(two):.2f}x "
          f"({args.sub} points x 5 reps x {args.sub_horizon:g} s, best of {args.repeat}); with 1 "
          f"replication per point {min(one_r1) / min(two_r1):.2f}x; CPU seconds "
          f"{min(CPU['one']):.2f} (1 thread) vs {min(CPU['two']):.2f} (2 threads)", flush=True)
    print(f"Python overhead: {1e3 * best_over[0]:.1f} ms per point = "
          f"{100 * best_over[0] / point_300:.2f} % of a 300 s point ({point_300:.2f} s of C++, wall); "
          f"in CPU time {1e3 * py_cpu:.1f} ms per point = "
          f"{100 * out['overhead']['cpu_share_of_300s_point']:.2f} % of a 300 s point's "
          f"{sim_cpu * 300.0 / args.sub_horizon:.2f} CPU s", flush=True)

    # 4.: Dask LocalCluster vs local threads (interleaved, cluster already up).
    if not args.skip_dask:
        from dask.distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            timed_sweep(5.0, 2, client=client)  # warm the workers (imports)
            local, dask = [], []
            for _ in range(args.repeat):
                local.append(timed_sweep(args.sub_horizon, args.sub, threads=2)[0])
                dask.append(timed_sweep(args.sub_horizon, args.sub, client=client)[0])
        out["dask"] = {"local_s": min(local), "dask_s": min(dask), "ratio": min(dask) / min(local),
                       "all_local_s": local, "all_dask_s": dask}
        print(f"Dask LocalCluster (2 x 1 thread) vs local threads=2: {min(dask):.2f} s vs "
              f"{min(local):.2f} s = {min(dask) / min(local):.3f}x", flush=True)

    # 1.: the full sweep, end to end.
    if not args.skip_full:
        cpu0 = os.times()
        wall, res = timed_sweep(args.horizon, args.points, threads=2, progress=None)
        cpu1 = os.times()
        cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        requests = float(res.runs["offered"].sum())
        # CPU seconds do not depend on how many other processes share the cores: on two idle
        # cores the sweep would take about cpu / 2 (given the 1 -> 2 thread speed-up above).
        out["full"] = {"points": len(res.points), "horizon_s": args.horizon, "wall_s": wall,
                       "cpu_s": cpu, "requests": requests, "sim_requests_per_s": requests / wall,
                       "sim_requests_per_cpu_s": requests / cpu,
                       "projected_1000_points_s": wall * 1000 / len(res.points),
                       "projected_1000_points_two_idle_cores_s": cpu / 2 * 1000 / len(res.points)}
        print(f"end to end: {len(res.points)} points x 5 reps x {args.horizon:g} s = "
              f"{requests / 1e9:.3f} billion requests in {wall:.1f} s "
              f"({requests / wall / 1e6:.2f} million simulated requests/s; 1,000 points would take "
          f"{wall * 1000 / len(res.points) / 60:.1f} min at this load); {cpu:.1f} CPU s = "
          f"{requests / cpu / 1e6:.2f} million requests per CPU second: 1,000 points on two idle "
          f"cores would take {cpu / 2 * 1000 / len(res.points) / 60:.1f} min", flush=True)
    out["machine"]["load_average_at_end"] = os.getloadavg()
    path = HERE / ("sweep_results_quick.json" if args.quick else "sweep_results.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
