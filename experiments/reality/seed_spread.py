"""How much a trace replay moves with the seed alone, from a stored run (no servers):

    python experiments/reality/seed_spread.py pgbouncer_session go_database_sql --seeds 10
    python experiments/reality/seed_spread.py pgbouncer_session go_database_sql --without-pooler

The replay is exact but for the draws (Go's random waiter, the connect times past the measured
ones, HikariCP's validation latency; `--independent-connects`: every login drawn from the
measured ones independently of its order, as before connect_time's `sequence`): its
mean and p95 wait over seeds 1..N, as mean ± sample standard deviation, next to the measured
ones. `--without-pooler` replays a PgBouncer case against the database alone, as the harness
did for session mode before dbpoolsim modelled it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cases import CASES  # noqa: E402
from measure import (percentile, pooler_queue_servers, read_meta, read_requests, replay_overhead_s,  # noqa: E402
                     replay_params, summarise, warm_connections)
import simulate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("library")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--without-pooler", action="store_true")
    ap.add_argument("--independent-connects", action="store_true",
                    help="draw each login from the measured connects independently of its order "
                         "(the replay before connect_time's `sequence`)")
    ap.add_argument("--out", default=str(HERE / "results"))
    a = ap.parse_args(argv)
    case = CASES[a.case]
    run_dir = Path(a.out) / "runs" / case.name / a.library
    if not (run_dir / "measured.json").exists():
        print(f"seed_spread.py: error: no stored run in {run_dir}", file=sys.stderr)
        return 2
    saved = json.loads((run_dir / "measured.json").read_text())
    rows = read_requests(run_dir, run_dir.parent / "trace.csv")
    meta = read_meta(run_dir)
    pooler_queue = pooler_queue_servers(case.pgbouncer)
    m = summarise(rows, meta, saved["sessions_opened"], saved["restart"], pooler_queue=pooler_queue,
                  warm=warm_connections(a.library, case.params()[a.library]))
    m.update(overhead_s=replay_overhead_s(m), restart=saved["restart"], connect_times_s=meta["connect_times_s"],
             db_connect_times_s=saved["db_connect_times_s"])
    pgbouncer = None if a.without_pooler else case.pgbouncer
    means, p95s = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, a.seeds + 1):
            summ, recs = simulate.replay(case.name, a.library, replay_params(a.library, case.params()[a.library], m), rows, m,
                                         Path(tmp), pgbouncer, per_request_holds=not pooler_queue, seed=seed,
                                         connects_in_order=not a.independent_connects)
            if pooler_queue:
                # Behind PgBouncer in transaction mode the wait includes its queue (run.compare).
                both = simulate.waits_with_pooler_ms(recs)
                means.append(sum(both) / len(both))
                p95s.append(percentile(both, 0.95))
            else:
                means.append(summ["wait_time_avg_ms"])
                p95s.append(summ["wait_time_p95_ms"])
    sd = (lambda xs: statistics.stdev(xs) if len(xs) > 1 else 0.0)
    how = (" without PgBouncer" if a.without_pooler else "") + (" independent connects" if a.independent_connects else "")
    print(f"{case.name} / {a.library}{how}, seeds 1-{a.seeds}: "
          f"mean wait {statistics.fmean(means):.3g} ± {sd(means):.2g} ms (measured {m['wait_time_avg_ms']:.3g}), "
          f"p95 {statistics.fmean(p95s):.3g} ± {sd(p95s):.2g} ms (measured {m['wait_time_p95_ms']:.3g}; "
          f"replays {min(p95s):.3g} to {max(p95s):.3g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
