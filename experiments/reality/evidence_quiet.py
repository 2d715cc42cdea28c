"""The figures README.md quotes for the misses of the second full run ("A second full run, on a
quiet machine"), from the stored runs in results/runs and results/quiet/runs (no servers):

  python experiments/reality/evidence_quiet.py

- handoffs: psycopg_pool's cold spike: on each connection, the time from one request's release
  to the next (already waiting) request's acquire, in both runs, and the replay three ways:
  with no hand-off latency (before issue 13), as the table replays it (the run's mean hand-off
  as `wakeup_latency_s`), and with each measured hand-off counted as the connection's time
  (added to the woken request's hold, no `wakeup_latency_s`);
- restart_start: psycopg_pool and HikariCP after the restart: the requests in flight at the stop
  whose query failed, when their pg_sleep would have ended and when they failed, and the replay
  with the restart starting at measure.lost_by (the replay's rule before issue 13's seventh pass)
  and at the earliest of lost_by and those would-be ends (measure.dead_by, the replay's rule now);
- psycopg_restart: the quiet run's psycopg_pool after the restart: when each new connection was
  first served, the waits summed around the restart, the outcomes that differ, the up time;
- episodes: Go's `restart` in the quiet run: per second of acquire start, the measured and
  replayed waits summed and the waits over 20 ms counted (where the p95's cliff is).
"""

from __future__ import annotations

import math
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import simulate  # noqa: E402
from cases import CASES  # noqa: E402
from evidence import load, replayed  # noqa: E402
from measure import replay_params  # noqa: E402

RUNS = {"stored run": HERE / "results" / "runs", "quiet run": HERE / "results" / "quiet" / "runs"}


def handoff_gaps(rows: list[dict]) -> list[tuple[dict, float]]:
    """(the woken request, its hand-off in s) for each request that was waiting when the
    previous request on its connection released it (measure.handoffs_ms's pairs)."""
    by_pid: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["backend_pid"] and not math.isnan(r["released_s"]):
            by_pid[r["backend_pid"]].append(r)
    out = []
    for reqs in by_pid.values():
        reqs.sort(key=lambda r: r["acquired_s"])
        for a, b in zip(reqs, reqs[1:]):
            if b["acquire_start_s"] < a["released_s"] <= b["acquired_s"]:
                out.append((b, b["acquired_s"] - a["released_s"]))
    return out


def replay_waits(case: str, lib: str, rows: list[dict], m: dict, **override) -> tuple[float, float]:
    """The replay's mean and p95 wait (ms), with the table's parameters (replay_params) and
    `override` on top."""
    c = CASES[case]
    with tempfile.TemporaryDirectory() as t:
        s, _ = simulate.replay(case, lib, {**replay_params(lib, c.params()[lib], m), **override}, rows, m, Path(t),
                               c.pgbouncer)
    return s["wait_time_avg_ms"], s["wait_time_p95_ms"]


def handoffs() -> dict:
    print("psycopg_pool, cold_spike: hand-offs (release to the woken waiter's acquire); mean / p95 wait, ms: "
          "measured; replayed with no hand-off latency, with the mean hand-off as wakeup_latency_s (the table's), "
          "and with each hand-off as the connection's time")
    out = {}
    for name, runs in RUNS.items():
        rows, m = load("cold_spike", "psycopg_pool", runs)
        gaps = handoff_gaps(rows)
        g = sorted(1e3 * x for _, x in gaps)
        first = " ".join(f"{1e3 * x:.1f}" for _, x in sorted(gaps, key=lambda p: p[0]["acquired_s"])[:6])
        zero = replay_waits("cold_spike", "psycopg_pool", rows, m, wakeup_latency_s=0.0)
        table = replay_waits("cold_spike", "psycopg_pool", rows, m)
        for b, x in gaps:  # the woken request holds its connection from the release on
            b["acquired_s"] -= x
        busy = replay_waits("cold_spike", "psycopg_pool", rows, m, wakeup_latency_s=0.0)
        own = 1e3 * sum(x for _, x in gaps) / len(rows)
        print(f"  {name}: {len(g)} hand-offs, sum {sum(g):.1f} ms, mean {sum(g) / len(g):.2f}, max {g[-1]:.2f} "
              f"(the first six: {first}); measured {m['wait_time_avg_ms']:.1f} / {m['wait_time_p95_ms']:.1f}, "
              f"replay without latency {zero[0]:.1f} / {zero[1]:.1f}, with the mean latency {table[0]:.1f} / "
              f"{table[1]:.1f}, with each hand-off {busy[0]:.1f} / {busy[1]:.1f} "
              f"(+ each request's own hand-off: mean {busy[0] + own:.1f})")
        out[name] = {"sum_ms": sum(g), "mean_ms": sum(g) / len(g), "replay_no_latency": zero, "replay": table,
                     "with_handoffs": busy}
    return out


def restart_start() -> dict:
    print("After the restart: the queries in flight at the stop that failed (s after the stop: pg_sleep would "
          "have ended / failed), and the replay's mean / p95 wait (ms, seed 13) with the restart from measure.lost_by "
          "and from measure.dead_by (the earlier of lost_by and the earliest would-be end: the table's)")
    out = {}
    for lib in ["psycopg_pool", "hikaricp"]:
        for name, runs in RUNS.items():
            rows, m = load("restart", lib, runs)
            at = m["restart"]["at_s"]
            lost = [(r["acquired_s"] + r["hold_s"] - at, r["ended_s"] - at) for r in rows
                    if r["outcome"] == "query_error" and r["acquired_s"] < at]
            start = min([m["restart_lost_by_s"], *(max(0.0, e) for e, _ in lost)])
            figs = []
            for s in (m["restart_lost_by_s"], start):
                figs.append(replay_waits("restart", lib, rows, {**m, "restart_dead_by_s": s}))
            pairs = ", ".join(f"{e:+.3f} / {f:+.3f}" for e, f in sorted(lost))
            print(f"  {lib}, {name}: {pairs}; measured {m['wait_time_avg_ms']:.2f} / {m['wait_time_p95_ms']:.1f}; "
                  f"from {m['restart_lost_by_s']:.3f}: {figs[0][0]:.2f} / {figs[0][1]:.1f}; "
                  f"from {start:.3f}: {figs[1][0]:.2f} / {figs[1][1]:.1f}")
            out[(lib, name)] = figs
    return out


def psycopg_restart() -> dict:
    """The quiet run's psycopg_pool after the restart: the first request served on each
    connection opened after it, the waits summed over -0.3 to +2.5 s measured and replayed,
    the requests whose outcomes differ, and the replay against the up time."""
    rows, m = load("restart", "psycopg_pool", RUNS["quiet run"])
    at = m["restart"]["at_s"]
    before = {r["backend_pid"] for r in rows if r["outcome"] == "ok" and r["acquired_s"] < at}
    first: dict[str, float] = {}
    for r in sorted((r for r in rows if r["outcome"] == "ok" and r["acquired_s"] > at), key=lambda r: r["acquired_s"]):
        if r["backend_pid"] not in before:
            first.setdefault(r["backend_pid"], r["acquired_s"] - at)
    sums, differ = [0.0, 0.0], []
    for a, b in replayed("restart", "psycopg_pool", rows, m):
        if -0.3 < a["acquire_start_s"] - at < 2.5:
            if a["outcome"] == "ok":
                sums[0] += a["acquired_s"] - a["acquire_start_s"]
            sums[1] += b["wait_s"]
            if (a["outcome"] == "ok") != (b["outcome"] == "completed"):
                differ.append(f"{a['acquire_start_s'] - at:+.3f} s {a['outcome']} / {b['outcome']}")
    ups = [replay_waits("restart", "psycopg_pool", rows, {**m, "restart_up_by_s": u})[0] for u in (0.25, 0.3, 0.35, 0.4)]
    print(f"psycopg_pool, restart, quiet run: new connections first served at (s after the stop) "
          f"{', '.join(f'{t:.3f}' for t in sorted(first.values()))}; requests from -0.3 to +2.5 s waited "
          f"{sums[0]:.2f} s measured, {sums[1]:.2f} s replayed; outcomes differ: {'; '.join(differ)}; "
          f"replayed mean wait with PostgreSQL up at 0.25 / 0.30 / 0.35 / 0.40 s: "
          + " / ".join(f"{u:.2f}" for u in ups) + " ms")
    return {"first": sorted(first.values()), "sums": sums, "ups": ups}


def episodes() -> None:
    rows, m = load("restart", "go_database_sql", RUNS["quiet run"])
    print(f"Go, restart, quiet run (measured p95 {m['wait_time_p95_ms']:.1f} ms): per second of acquire start "
          "with a wait over 20 ms, the waits summed (ms) and the waits over 20 ms, measured / replayed")
    ep: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0, 0])
    for a, b in replayed("restart", "go_database_sql", rows, m):
        if a["outcome"] == "ok" and b["outcome"] == "completed":
            w1, w2 = 1e3 * (a["acquired_s"] - a["acquire_start_s"]), 1e3 * b["wait_s"]
            e = ep[int(a["acquire_start_s"])]
            e[0] += w1
            e[1] += w2
            e[2] += w1 > 20
            e[3] += w2 > 20
    for k in sorted(ep):
        e = ep[k]
        if e[2] or e[3]:
            print(f"  {k:2d} s: {e[0]:6.1f} / {e[1]:6.1f}; {e[2]} / {e[3]}")
    tot = [sum(e[i] for e in ep.values()) for i in range(4)]
    print(f"  all: {tot[0]:.0f} / {tot[1]:.0f}; {tot[2]:.0f} / {tot[3]:.0f}")


if __name__ == "__main__":
    handoffs()
    restart_start()
    psycopg_restart()
    episodes()
