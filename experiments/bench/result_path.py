#!/usr/bin/env python3
"""Time of the result path for a scenario with a huge echo: 60 classes x 100,000 empirical
samples (59 MB of scenario text), 10 s simulated at 10 requests/s (milliseconds of simulation).

    .venv/bin/python experiments/bench/result_path.py [--classes 60] [--repeat 3] [--save DIR]

Prints, best of --repeat: `build` (job start to the result text: the simulation, a few
milliseconds, then the result's JSON built in the run's thread), `convert` (the Result as
dbpoolsim.run builds it) and, with --save, `save` (Result.save). Compare builds by running
this on each, interleaved.
"""
from __future__ import annotations

import argparse
import tempfile
import time


def scenario(classes: int) -> str:
    samples = ",".join(f"0.0{i % 9973:04d}" for i in range(100_000))
    tx = ",".join(f'{{"name": "c{i}", "query_time": {{"kind": "empirical", "samples_s": [{samples}]}}}}'
                  for i in range(classes))
    return ('{"name": "big", "run": {"horizon_s": 10, "warmup_s": 0, "replications": 1}, '
            f'"workload": {{"arrivals": {{"kind": "poisson", "rate_per_s": 10}}, "transactions": [{tx}]}}}}')


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--classes", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args()
    from dbpoolsim import _core
    from dbpoolsim.result import Result

    text = scenario(args.classes)
    print(f"scenario: {len(text) / 1e6:.1f} MB")
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        job = _core.Job(text, 1, "")
        t0 = time.perf_counter()
        job.start()
        out = job.result()
        t1 = time.perf_counter()
        # Before the split of the result (a text) and after it (its parts).
        res = Result.from_json(out) if isinstance(out, str) else Result._from_parts(*out)
        t2 = time.perf_counter()
        times = {"build": t1 - t0, "convert": t2 - t1}
        if args.save:
            with tempfile.TemporaryDirectory() as tmp:
                res.save(tmp)
                times["save"] = time.perf_counter() - t2
        for k, v in times.items():
            best[k] = min(best.get(k, v), v)
        print("  ".join(f"{k} {v:.2f} s" for k, v in times.items()), flush=True)
    print("best: " + "  ".join(f"{k} {v:.2f} s" for k, v in best.items()))


if __name__ == "__main__":
    main()
