#!/usr/bin/env python3
"""SimPy reference implementation of the dbpoolsim "standard case".

M/M/c queue with deterministic patience (a fixed connection pool): Poisson
arrivals, CONNS connections, exponential holding time, FIFO waiters, and a
waiter that has not got a connection after TIMEOUT_S leaves with a timeout.
Arrivals are generated in [0, HORIZON_S); the model then runs until every
arrival has been served or has timed out (same convention as plain_loop.cpp).

Written as idiomatic SimPy: a ``simpy.Resource`` for the pool, one process per
request, and the patience race ``req | env.timeout(tau)``.

Usage: simpy_model.py RATE MEAN_S CONNS TIMEOUT_S HORIZON_S SEED   (one JSON line)
"""
from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from typing import Generator

import simpy


@dataclass
class Stats:
    arrivals: int = 0
    served: int = 0
    timeouts: int = 0
    wait_sum: float = 0.0


def request(env: simpy.Environment, pool: simpy.Resource, stats: Stats,
            rng: random.Random, mean_s: float, timeout_s: float) -> Generator:
    arrived = env.now
    with pool.request() as req:
        outcome = yield req | env.timeout(timeout_s)
        if req in outcome:
            stats.served += 1
            stats.wait_sum += env.now - arrived
            yield env.timeout(rng.expovariate(1.0 / mean_s))
        else:  # patience ran out; leaving the `with` block withdraws the request
            stats.timeouts += 1
            stats.wait_sum += timeout_s


def source(env: simpy.Environment, pool: simpy.Resource, stats: Stats, rng: random.Random,
           rate: float, mean_s: float, timeout_s: float, horizon_s: float) -> Generator:
    while True:
        yield env.timeout(rng.expovariate(rate))
        if env.now >= horizon_s:
            return
        stats.arrivals += 1
        env.process(request(env, pool, stats, rng, mean_s, timeout_s))


def simulate(rate: float, mean_s: float, conns: int, timeout_s: float,
             horizon_s: float, seed: int) -> dict:
    rng = random.Random(seed)
    stats = Stats()
    start = time.perf_counter()
    env = simpy.Environment()
    pool = simpy.Resource(env, capacity=conns)
    env.process(source(env, pool, stats, rng, rate, mean_s, timeout_s, horizon_s))
    env.run()  # no `until`: drain every in-flight request after the last arrival
    wall = time.perf_counter() - start
    n = stats.arrivals
    return {
        "impl": "simpy",
        "simpy_version": simpy.__version__,
        "rate_per_s": rate, "mean_s": mean_s, "conns": conns, "timeout_s": timeout_s,
        "horizon_s": horizon_s, "seed": seed,
        "arrivals": n, "served": stats.served, "timeouts": stats.timeouts,
        "timeout_prob": stats.timeouts / n if n else 0.0,
        "mean_wait_s": stats.wait_sum / n if n else 0.0,
        "wall_s": wall,
        "sim_req_per_s": n / wall if wall > 0 else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rate", type=float, help="arrival rate, requests/s")
    parser.add_argument("mean_s", type=float, help="mean holding time, s")
    parser.add_argument("conns", type=int, help="pool size")
    parser.add_argument("timeout_s", type=float, help="acquire timeout (patience), s")
    parser.add_argument("horizon_s", type=float, help="arrivals are generated in [0, horizon)")
    parser.add_argument("seed", type=int)
    args = parser.parse_args()
    print(json.dumps(simulate(args.rate, args.mean_s, args.conns, args.timeout_s,
                              args.horizon_s, args.seed)))


if __name__ == "__main__":
    main()
