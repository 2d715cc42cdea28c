#!/usr/bin/env python3
"""Hashes of the results of a set of scenarios, to show that a speed change changes no number.

    python experiments/bench/result_hashes.py BINARY > before.txt     # on the old build
    python experiments/bench/result_hashes.py BINARY --compare before.txt

BINARY is `dbpoolsim_profile` (experiments/bench/profile.cpp) of the build to check; its
`--json` mode prints `result_to_json` with every wall time set to 0. The cases: bench.py's
standard case (100 s) under every pool policy of `POLICIES`; a busier variant (2 cores, a
0.5 ms round trip, a request deadline, retries, warm-up, two query classes with app time);
sqlx, asyncpg and node-postgres at 400 requests/s with their own timers short enough to
fire (idle, lifetime, inactivity, max_queries), with and without 2 cores and a 0.5 ms round
trip, and (2 cores, 0.5 ms) with a database restart and behind PgBouncer; and every scenario
file under experiments/scenarios and python/dbpoolsim/scenarios with the horizon cut to 60 s
and at most 2 replications (faults, fleets, poolers, named pools...).
Only the standard library is needed.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import bench  # noqa: E402  (POLICIES and scenario(): the standard case)


def cases() -> list[tuple[str, dict, Path]]:
    out = []
    for name, pool in bench.POLICIES.items():
        out.append((f"standard/{name}",
                    bench.scenario(bench.RATE_PER_S, bench.CONNS, 100.0, "standard", pool), HERE))
    busy = bench.scenario(bench.RATE_PER_S, bench.CONNS, 60.0, "busy")
    busy["run"]["warmup_s"] = 5
    busy["database"].update({"cores": 2, "network_rtt_s": 0.0005})
    busy["client"] = {"deadline_s": 0.2, "retry_attempts": 2}
    busy["workload"]["transactions"] = [
        {"name": "a", "weight": 3, "queries": 2,
         "query_time": {"kind": "exponential", "mean_s": 0.003}},
        {"name": "b", "weight": 1, "queries": 1,
         "query_time": {"kind": "exponential", "mean_s": 0.01},
         "app_time": {"kind": "exponential", "mean_s": 0.001}},
    ]
    out.append(("busy/generic", busy, HERE))
    # The policies' own timers short enough to fire, and the round trips with a network
    # delay, so that a change to the pool-host path (round trips, pool timers) shows.
    timers = {
        "sqlx": {**bench.POLICIES["sqlx"], "min_connections": 2, "idle_timeout": 0.01,
                 "max_lifetime": 0.5},
        "asyncpg": {**bench.POLICIES["asyncpg"], "min_size": 2,
                    "max_inactive_connection_lifetime": 0.02, "max_queries": 50},
        "node_postgres": {**bench.POLICIES["node_postgres"], "idleTimeoutMillis": 20,
                          "maxLifetimeSeconds": 1},
    }
    for name, pool in timers.items():
        for variant in ("timers", "timers_rtt", "restart", "pooler"):
            s = bench.scenario(400.0, bench.CONNS, 30.0, variant, pool)  # idle enough to close
            if variant != "timers":
                s["database"].update({"cores": 2, "network_rtt_s": 0.0005})
            # A restart breaks connections (pings fail, acquires reconnect: the policies'
            # deadlines can fire); a pooler between the pool and the database.
            if variant == "restart":
                s["faults"] = [{"kind": "restart", "at_s": 10, "duration_s": 2}]
            if variant == "pooler":
                s["pooler"] = {"kind": "pgbouncer", "pool_mode": "transaction", "default_pool_size": 8}
            out.append((f"{variant}/{name}", s, HERE))
    for f in sorted([*ROOT.glob("experiments/scenarios/**/*.json"),
                     *ROOT.glob("python/dbpoolsim/scenarios/*.json")]):
        s = json.loads(f.read_text())
        s = copy.deepcopy(s)
        run = s.setdefault("run", {})
        warmup = max(float(run.get("warmup_s", 0)), 0.0)
        run["horizon_s"] = min(float(run.get("horizon_s", 60)), warmup + 60.0)
        run["replications"] = min(int(run.get("replications", 1)), 2)
        out.append((str(f.relative_to(ROOT)), s, f.parent))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--compare", help="a file printed by an earlier run")
    args = ap.parse_args()
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, s, base in cases():
            path = Path(tmp) / "scenario.json"
            path.write_text(json.dumps(s))
            p = subprocess.run([args.binary, "--json", str(path), str(base)], capture_output=True, text=True)
            digest = (hashlib.sha256(p.stdout.encode()).hexdigest()[:16] if p.returncode == 0
                      else "error: " + p.stderr.strip().splitlines()[-1][:80])
            lines.append(f"{name} {digest}")
            print(lines[-1], flush=True)
    if args.compare:
        old = dict(line.split(" ", 1) for line in Path(args.compare).read_text().splitlines() if line)
        new = dict(line.split(" ", 1) for line in lines)
        diff = [k for k in new if old.get(k) != new[k]]
        print(f"{len(new) - len(diff)} of {len(new)} identical" + (": differ: " + ", ".join(diff) if diff else ""),
              file=sys.stderr)
        return 1 if diff else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
