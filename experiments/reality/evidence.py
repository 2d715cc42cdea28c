"""The figures README.md quotes for the gaps ("Where the replay misses, and why"), from the
stored runs in results/runs (no servers):

  python experiments/reality/evidence.py

- overhead: behind PgBouncer, the hold beyond pg_sleep, in session mode, in transaction mode
  over all requests, and in transaction mode over those that found a server free;
- barging: in `fixed80`, returns taken by a request that arrived after them while an older
  request still waited, and how long after the return the newcomer arrived;
- waits: P(wait > 1 ms) measured and replayed, and the measured waits of the requests the
  replay serves at once (the library's own borrow cost);
- validations: HikariCP's borrows that paid an isValid() check, measured, against the
  replay's checks;
- restart: HikariCP's requests around the restart, measured against replayed;
- up_sensitivity: psycopg_pool's replay against the time PostgreSQL accepts logins again;
- hikari_attempts: HikariCP's connection attempts around the restart, from the re-run's
  attempts.csv (results/reruns/restart/hikaricp; the stored run predates that log).
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import per_request  # noqa: E402
import simulate  # noqa: E402
from cases import CASES  # noqa: E402
from measure import (percentile, pooler_queue_servers, read_meta, read_requests,  # noqa: E402
                     replay_overhead_s, replay_params, summarise, unqueued_overheads,
                     warm_connections)

RUNS = HERE / "results" / "runs"
LIBS = ["psycopg_pool", "sqlalchemy_queuepool", "asyncpg", "hikaricp", "go_database_sql", "node_postgres"]


def load(case: str, lib: str, runs: Path | None = None):
    d = (runs or RUNS) / case / lib
    saved = json.loads((d / "measured.json").read_text())
    rows = read_requests(d, d.parent / "trace.csv")
    meta = read_meta(d)
    m = summarise(rows, meta, saved["sessions_opened"], saved["restart"], pooler_queue_servers(CASES[case].pgbouncer),
                  warm=warm_connections(lib, CASES[case].params()[lib]))
    m.update(restart=saved["restart"], overhead_s=replay_overhead_s(m), connect_times_s=meta["connect_times_s"],
             db_connect_times_s=saved["db_connect_times_s"])
    return rows, m


def replayed(case: str, lib: str, rows: list[dict], m: dict) -> list[tuple[dict, dict]]:
    c = CASES[case]
    with tempfile.TemporaryDirectory() as t:
        _, recs = simulate.replay(case, lib, replay_params(lib, c.params()[lib], m), rows, m, Path(t), c.pgbouncer,
                                  per_request_holds=not pooler_queue_servers(c.pgbouncer))
    return per_request.match(rows, recs, simulate.LEAD_S)


def ms(xs: list[float]) -> str:
    return f"median {1e3 * percentile(xs, 0.5):.2f} ms"


def overhead() -> None:
    print("Overhead beyond pg_sleep behind PgBouncer (session / transaction, all / transaction, server free):")
    for lib in ["psycopg_pool", "sqlalchemy_queuepool", "go_database_sql", "node_postgres"]:
        s, _ = load("pgbouncer_session", lib)
        t, _ = load("pgbouncer_transaction", lib)
        over = lambda rows: [r["released_s"] - r["acquired_s"] - r["hold_s"] for r in rows if r["outcome"] == "ok"]
        print(f"  {lib}: {ms(over(s))} / {ms(over(t))} / {ms(unqueued_overheads(t, 8))}")


def barging() -> None:
    print("Barging in fixed80 (a return taken by a later arrival while an older request waited):")
    for lib in LIBS:
        rows = [r for r in load("fixed80", lib)[0] if r["outcome"] == "ok"]
        by_pid = defaultdict(list)
        for r in rows:
            by_pid[r["backend_pid"]].append(r)
        gaps = []
        for reqs in by_pid.values():
            reqs.sort(key=lambda r: r["acquired_s"])
            for a, b in zip(reqs, reqs[1:]):
                t = a["released_s"]
                if b["acquire_start_s"] < t:
                    continue  # b was waiting already: a hand-off
                if any(w["acquire_start_s"] < t < w["acquired_s"] for w in rows):
                    gaps.append(b["acquire_start_s"] - t)
        tail = f", newcomer {ms(gaps)} after the return, max {1e3 * max(gaps):.1f} ms" if gaps else ""
        print(f"  {lib}: {len(gaps)}{tail}")


def waits() -> None:
    print("P(wait > 1 ms) measured / replayed; measured waits where the replay has none (p90, p95, p99):")
    for case, lib in [("bursty", "asyncpg"), ("bursty", "node_postgres"), ("bursty", "sqlalchemy_queuepool"),
                      ("bursty", "hikaricp"), ("overflow", "hikaricp"), ("overflow", "psycopg_pool")]:
        rows, m = load(case, lib)
        pairs = [(a, b) for a, b in replayed(case, lib, rows, m) if a["outcome"] == "ok"]
        wm = [a["acquired_s"] - a["acquire_start_s"] for a, _ in pairs]
        wr = [b["wait_s"] for _, b in pairs]
        free = [x for x, y in zip(wm, wr) if y < 1e-5]
        q = " ".join(f"{1e3 * percentile(free, p):.2f}" for p in (0.9, 0.95, 0.99))
        print(f"  {case} / {lib}: {sum(w > 1e-3 for w in wm) / len(wm):.1%} / "
              f"{sum(w > 1e-3 for w in wr) / len(wr):.1%}; {q} ms")


def validations() -> None:
    print("HikariCP 2.7.9's isValid() on borrow: measured checks (waits: median, p90, mean) / the replay's checks:")
    for case in ["overflow", "bursty", "fixed80", "fixed80_timeout", "cold_spike", "restart"]:
        rows, m = load(case, "hikaricp")
        v = [x / 1e3 for x in m["validation_waits_ms"]]
        c = CASES[case]
        with tempfile.TemporaryDirectory() as t:
            summ, _ = simulate.replay(case, "hikaricp", replay_params("hikaricp", c.params()["hikaricp"], m), rows, m,
                                      Path(t), c.pgbouncer)
        print(f"  {case}: {len(v)} ({ms(v)}, p90 {1e3 * percentile(v, 0.9):.2f} ms, mean {1e3 * sum(v) / len(v):.2f} ms)"
              f" / {summ['round_trips']:.0f}")


def recovery() -> None:
    print("After the restart (s after it): pg_ctl returned / PostgreSQL up by (measure.up_by) / "
          "the first request that waited over 50 ms served, measured and replayed (the libraries that "
          "reconnect in the background):")
    for lib in ["psycopg_pool", "asyncpg", "hikaricp"]:
        rows, m = load("restart", lib)
        at = m["restart"]["at_s"]
        pairs = replayed("restart", lib, rows, m)
        meas = [a["acquired_s"] for a, _ in pairs
                if a["outcome"] == "ok" and a["acquire_start_s"] > at and a["acquired_s"] - a["acquire_start_s"] > 0.05]
        rep = [a["acquire_start_s"] + b["wait_s"] for a, b in pairs
               if b["outcome"] == "completed" and a["acquire_start_s"] > at and b["wait_s"] > 0.05]
        f = (lambda xs: f"{min(xs) - at:.3f}" if xs else "none")
        print(f"  {lib}: {m['restart']['down_s']:.3f} / {m['restart_up_by_s']:.3f} / {f(meas)}, {f(rep)}")


def restart() -> None:
    rows, m = load("restart", "hikaricp")
    at = m["restart"]["at_s"]
    print(f"HikariCP around the restart (at {at:.2f} s): time after it, measured wait / outcome, replayed")
    for a, b in replayed("restart", "hikaricp", rows, m):
        if -0.3 < a["acquire_start_s"] - at < 1.3:
            w = 1e3 * (a["acquired_s"] - a["acquire_start_s"]) if a["outcome"] == "ok" else float("nan")
            if w > 1 or b["wait_s"] > 1e-3 or a["outcome"] != "ok" or b["outcome"] != "completed":
                print(f"  {a['acquire_start_s'] - at:6.3f} s  {w:6.1f} ms {a['outcome']:<12} "
                      f"{1e3 * b['wait_s']:6.1f} ms {b['outcome']}")


def up_sensitivity() -> None:
    """psycopg_pool after the restart: the replay's mean and p95 wait against the time
    PostgreSQL accepts logins again (the replay's restart ends there), in the stored run and
    in a re-run whose loadgen.log stamps each refused login (results/reruns: `run.py --cases
    restart --libs psycopg_pool --out <dir>` at a load average of 6, after pyharness's log
    stamps)."""
    c = CASES["restart"]
    print("psycopg_pool after the restart: the replay against the time PostgreSQL is up again "
          "(s after the stop): mean / p95 wait, ms")
    for name, runs, ups in [("stored run", RUNS, [0.4, 0.3]),
                            ("re-run", HERE / "results" / "reruns", [0.25, 0.245])]:
        if not (runs / "restart" / "psycopg_pool" / "measured.json").exists():
            continue
        rows, m = load("restart", "psycopg_pool", runs)
        out = []
        for up in ups:
            m["restart_up_by_s"] = up
            with tempfile.TemporaryDirectory() as t:
                s, _ = simulate.replay("restart", "psycopg_pool", replay_params(
                    "psycopg_pool", c.params()["psycopg_pool"], m), rows, m, Path(t))
            out.append(f"up {up:.3f}: {s['wait_time_avg_ms']:.1f} / {s['wait_time_p95_ms']:.1f}")
        print(f"  {name}: measured {m['wait_time_avg_ms']:.1f} / {m['wait_time_p95_ms']:.1f}; "
              f"pg_ctl returned {m['restart']['down_s']:.3f}; replay " + ", ".join(out))


def read_attempts(d: Path) -> list[dict]:
    """HikariLoad's attempts.csv: each physical connection attempt, times from t0."""
    import csv
    with open(d / "attempts.csv", newline="") as f:
        return [{k: (float(v) if k.endswith("_s") and v else (math.nan if k.endswith("_s") else v))
                 for k, v in r.items()} for r in csv.DictReader(f)]


def hikari_attempts(runs: Path = HERE / "results" / "reruns") -> None:
    """After the restart, per attempt: refused ones (start after the stop, the driver's time to
    fail), successful ones (the driver's connect; HikariCP's own time from the driver returning
    to newConnection returning: setupConnection; from one success's newConnection returning to
    the adder's next attempt; from newConnection returning to the first request served on it)."""
    d = runs / "restart" / "hikaricp"
    if not (d / "attempts.csv").exists():
        return
    rows, m = load("restart", "hikaricp", runs)
    at = m["restart"]["at_s"]
    served = {}
    for r in sorted((r for r in rows if r["outcome"] == "ok"), key=lambda r: r["acquired_s"]):
        served.setdefault(r["backend_pid"], r)
    att = sorted((a for a in read_attempts(d) if a["start_s"] > at), key=lambda a: a["start_s"])
    print(f"HikariCP's attempts after the restart (re-run; stop at {at:.3f} s, pg_ctl returned "
          f"+{m['restart']['down_s']:.3f} s, load average {read_meta(d)['noise']['loadavg_1m_end']:.1f}): "
          "start after the stop, driver ms, setup ms (driver returned to newConnection returned), "
          "ms since the previous attempt's end, ms to the first request served on it")
    prev = math.nan
    for a in att:
        drv = 1e3 * (a["connected_s"] - a["start_s"])
        setup = 1e3 * (a["created_s"] - a["connected_s"])
        gap = 1e3 * (a["start_s"] - prev)
        first = served.get(a["backend_pid"])
        use = f"{1e3 * (first['acquired_s'] - a['created_s']):7.2f}" if first else "      -"
        print(f"  {a['start_s'] - at:7.3f} s {a['outcome']:<7} {drv:7.2f} {setup:6.2f} {gap:7.2f} {use}"
              f"  {a['thread'][:24]:<24} {a['error'][:40]}")
        prev = a["created_s"] if not math.isnan(a["created_s"]) else a["connected_s"]


if __name__ == "__main__":
    overhead()
    barging()
    waits()
    validations()
    recovery()
    restart()
    up_sensitivity()
    hikari_attempts()
