#!/usr/bin/env python3
"""Time `dbpoolsim.run` spends outside the event loop on the standard case (1000 s, one
thread): the call's wall time minus the core's `wall_seconds`, best of 5 calls after one warm-up.

    .venv/bin/python experiments/bench/result_overhead.py
    PYTHONPATH=/path/to/other/install .venv/bin/python experiments/bench/result_overhead.py

Run it on two builds interleaved to compare them (README.md, "The result path").
"""
import sys, time
sys.path.insert(0, "experiments/bench")
import bench, dbpoolsim
s = bench.scenario(bench.RATE_PER_S, bench.CONNS, 1000.0, "standard")
dbpoolsim.run(s, threads=1, progress=False)
best = 9.0
for _ in range(5):
    t = time.perf_counter(); r = dbpoolsim.run(s, threads=1, progress=False); e = time.perf_counter() - t
    best = min(best, e - r.wall_seconds)
print(f"{best*1e3:.1f} ms outside the event loop")
