#!/usr/bin/env python3
"""The bench's core measure for two or more builds of the Python module, interleaved.

    python experiments/bench/core_builds.py [--rounds 9] DIR [DIR ...]

Each DIR holds a `dbpoolsim` package (python/dbpoolsim plus a built `_core*.so`). Round by
round, the plain loop and then `dbpoolsim.run` of bench.py's standard case (1000 s) in a child
interpreter with PYTHONPATH=DIR; prints each one's best `wall_seconds` (the event loop, as
bench.py's core column) and its ratio to the plain loop's best. Used for build options, which
change the module but not `dbpoolsim_profile` (README.md, "Fifth speed pass").
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402

CHILD = f"""
import sys; sys.path.insert(0, {str(HERE)!r})
import bench, dbpoolsim
r = dbpoolsim.run(bench.scenario(bench.RATE_PER_S, bench.CONNS, 1000.0, "standard-case"))
print(r.summary["wall_seconds"])
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    plain_bin = bench.build_plain_loop(HERE / "build")
    best = {d: float("inf") for d in args.dirs}
    plain = float("inf")
    for _ in range(args.rounds):
        out = subprocess.run([str(plain_bin), *bench.model_args(bench.RATE_PER_S, bench.CONNS, 1000.0)],
                             capture_output=True, text=True, check=True).stdout
        plain = min(plain, json.loads(out)["wall_s"])
        for d in args.dirs:
            env = dict(os.environ, PYTHONPATH=d)
            out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                                 env=env, check=True).stdout
            best[d] = min(best[d], float(out.split()[-1]))
    print(f"plain loop {plain:.4f} s")
    for d in args.dirs:
        print(f"{best[d]:.4f} s  core vs plain loop {plain / best[d]:.3f}x  {d}")


if __name__ == "__main__":
    main()
