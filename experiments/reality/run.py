"""The reality harness: real pools on a real PostgreSQL, side by side with dbpoolsim.

    python experiments/reality/run.py                 # every case, every library (make reality)
    python experiments/reality/run.py --smoke         # the CI subset, 15 s traces
    python experiments/reality/run.py --cases fixed80 --libs asyncpg --out /tmp/r

Starts a scratch PostgreSQL (and PgBouncer, and a delaying proxy, where a case needs them) on
127.0.0.1, runs each case's trace through each library's load generator, replays the same
trace through dbpoolsim with the library's policy (each figure the mean over seeds 1..N of
the pool's own draws, --replay-seeds, default 10) and runs the statistical model, and writes
<out>/results.csv (one row per case, library and metric: measured, replayed, statistical,
relative errors), <out>/per_request.csv (each measured request against its own replay,
summarised per case and library: per_request.py), <out>/results.md and <out>/plots/. The
servers are stopped on the way out, whatever happened (context managers; Ctrl-C included). Per-run raw files (requests.csv,
samples.csv, meta.json, replay_trace.csv) stay in <out>/runs/<case>/<library>/.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cases import CASES, CLOSEST, PY_LIBS, Case, write_trace  # noqa: E402
from measure import (percentile, percentile_rank, pooler_queue_servers, read_meta, read_requests, replay_overhead_s,  # noqa: E402
                     replay_params, summarise, warm_connections)
from servers import DelayProxy, PgBouncer, Postgres  # noqa: E402
import per_request  # noqa: E402
import simulate  # noqa: E402

# Figures compared, with dbpoolsim's metric name for each.
COMPARED = [("wait_time_avg_ms", "wait_time_avg_ms"), ("wait_time_p95_ms", "wait_time_p95_ms"),
            ("timeout_rate", "timeout_rate"), ("latency_avg_ms", "latency_avg_ms"),
            ("latency_p95_ms", "latency_p95_ms"),
            ("connections_opened_library", "connections_created"),
            ("time_to_recover_s", "time_to_recover_s"),
            ("failed_connect_error", "failed_connect_error"),
            ("failed_query_error", "failed_query_error"),
            ("pooler_servers_used", "pooler_servers_used")]
# The CI smoke subset (tests/python/test_reality.py): PostgreSQL, PgBouncer, the Python pools.
SMOKE = {"fixed80_timeout": PY_LIBS, "overflow": PY_LIBS,
         "pgbouncer_session": ["psycopg_pool", "sqlalchemy_queuepool"],
         "pgbouncer_transaction": ["psycopg_pool"]}


class LoadgenError(RuntimeError):
    pass


def loadgen_command(lib: str, trace: Path, target, cfg: dict, out: Path) -> list[str]:
    if lib in PY_LIBS:
        return [sys.executable, str(HERE / "loadgen" / "python_pools.py"), "--library", lib,
                "--trace", str(trace), "--dsn", target.dsn(), "--config", json.dumps(cfg),
                "--out", str(out)]
    if lib == "hikaricp":
        import jvm
        return jvm.command(trace, target, cfg, out)
    if lib == "go_database_sql":
        import golang
        return golang.command(trace, target, cfg, out)
    if lib == "node_postgres":
        import nodejs
        return nodejs.command(trace, target, cfg, out)
    raise LoadgenError(f"no load generator for {lib}")


def sessions(pg: Postgres) -> int:
    """pg_stat_database.sessions of the database `postgres`, read on a fresh connection
    (which counts itself: the caller subtracts the reads it made)."""
    import psycopg
    with psycopg.connect(pg.dsn(), autocommit=True) as c:
        c.execute("SELECT pg_stat_force_next_flush()")
        return int(c.execute("SELECT sessions FROM pg_stat_database WHERE datname = 'postgres'").fetchone()[0])


def connect_times(dsn: str, n: int = 5) -> list[float]:
    import psycopg
    out = []
    for _ in range(n):
        t = time.monotonic()
        psycopg.connect(dsn).close()
        out.append(time.monotonic() - t)
    return out


def wait_for_t0(proc: subprocess.Popen, out: Path, lib: str) -> float:
    """The load generator's t0 (a Unix time), once it has written the whole line."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return float((out / "t0").read_text())
        except (OSError, ValueError):     # not there yet, or half written
            if proc.poll() is not None or time.monotonic() > deadline:
                raise LoadgenError(f"{lib}: load generator did not start; see {out / 'loadgen.log'}")
            time.sleep(0.01)


def run_one(case: Case, lib: str, cfg: dict, trace: Path, pg: Postgres, target, out: Path,
            timeout_s: float) -> tuple[list[dict], dict]:
    out.mkdir(parents=True, exist_ok=True)
    for f in ("t0", "meta.json", "requests.csv"):
        (out / f).unlink(missing_ok=True)
    s0 = sessions(pg)
    cmd = loadgen_command(lib, trace, target, cfg, out)
    log = open(out / "loadgen.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    restart = None
    try:
        if case.restart_at_frac is not None:
            t0 = wait_for_t0(proc, out, lib)
            length = max(float(r.split(",")[1]) for r in trace.read_text().splitlines()[1:])
            time.sleep(max(0.0, t0 + case.restart_at_frac * length - time.time()))
            t_down = time.time()
            pg.down("fast")
            pg.up()
            restart = {"at_s": t_down - t0, "down_s": time.time() - t_down, **pg.restart_marks(t_down)}
        rc = proc.wait(timeout_s)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        log.close()
    if rc != 0:
        raise LoadgenError(f"{lib} load generator exited {rc}:\n"
                           + "\n".join((out / "loadgen.log").read_text().splitlines()[-20:]))
    opened = sessions(pg) - s0 - 1    # less the first read's own session
    if restart:
        opened = None                 # the restart resets nothing, but the reading is unreliable across it
    rows = read_requests(out, trace)
    meta = read_meta(out)
    m = summarise(rows, meta, opened, restart, pooler_queue=pooler_queue_servers(case.pgbouncer),
                  warm=warm_connections(lib, cfg))
    m["restart"] = restart
    return rows, m


def rel_err(model: float | None, measured: float | None) -> float:
    if model is None or measured is None or any(isinstance(x, float) and math.isnan(x) for x in (model, measured)):
        return math.nan
    if measured == 0:
        return 0.0 if model == 0 else math.inf
    return (model - measured) / measured


def run_case(case: Case, libs: list[str], pg: Postgres, out: Path, smoke: bool,
             replications: int, rows_out: list[dict], replay_seeds: int = 10) -> None:
    length = case.smoke_s if smoke else case.full_s
    trace = write_trace(case, length, out / "runs" / case.name / "trace.csv")
    with ExitStack() as stack:
        target = pg
        db_connects = connect_times(pg.dsn())
        if case.connect_delay_s > 0:
            target = stack.enter_context(DelayProxy(pg.port, case.connect_delay_s))
            target.dsn = lambda dbname="postgres", p=target: pg.dsn(dbname).replace(
                f"port={pg.port}", f"port={p.port}")
        if case.pgbouncer:
            target = stack.enter_context(PgBouncer(pg, **case.pgbouncer))
        params = case.params()
        for lib in libs:
            if lib not in params:
                continue
            run_dir = out / "runs" / case.name / lib
            t = time.monotonic()
            print(f"[reality] {case.name} / {lib}: {length:g} s trace ...", flush=True)
            try:
                _, m = run_one(case, lib, params[lib], trace, pg, target, run_dir, timeout_s=length + 120)
            except LoadgenError as e:       # one library failing does not stop the others
                print(f"[reality]   FAILED: {e}", flush=True)
                rows_out.append({"case": case.name, "library": lib, "metric": "loadgen_failed",
                                 "measured": str(e).splitlines()[0]})
                if not pg.running:
                    pg.up()
                continue
            (run_dir / "measured.json").write_text(json.dumps(
                {"length_s": length, "db_connect_times_s": db_connects,
                 "sessions_opened": m["connections_pg_sessions"], "restart": m["restart"]}) + "\n")
            compare(case, lib, run_dir, replications, rows_out, replay_seeds)
            print(f"[reality]   {time.monotonic() - t:.0f} s", flush=True)


def compare(case: Case, lib: str, run_dir: Path, replications: int, rows_out: list[dict],
            replay_seeds: int = 10) -> None:
    """dbpoolsim against one measured run, from its files alone (so --resimulate can redo it)."""
    saved = json.loads((run_dir / "measured.json").read_text())
    rows = read_requests(run_dir, run_dir.parent / "trace.csv")
    meta = read_meta(run_dir)
    pooler_queue = pooler_queue_servers(case.pgbouncer)
    m = summarise(rows, meta, saved["sessions_opened"], saved["restart"], pooler_queue=pooler_queue,
                  warm=warm_connections(lib, case.params()[lib]))
    m["restart"] = saved["restart"]
    # The overhead beyond pg_sleep for requests without a measured hold (failed ones; behind
    # PgBouncer in transaction mode every request): measure.replay_overhead_s.
    m["overhead_s"] = replay_overhead_s(m)
    params = replay_params(lib, case.params()[lib], m)
    m["connect_times_s"] = meta["connect_times_s"]
    m["db_connect_times_s"] = saved["db_connect_times_s"]
    name = f"{case.name}-{lib}"
    # The replay's figures are their mean over seeds 1..replay_seeds (the pool's own draws:
    # Go's random waiter, logins past the measured ones, HikariCP's validation latency),
    # with their spread; behind PgBouncer in transaction mode each seed's wait includes
    # PgBouncer's queue (simulate.with_pooler_queue). The request records are seed 1's.
    rep, replayed = simulate.replay_over_seeds(name, lib, params, rows, m, run_dir, case.pgbouncer,
                                               per_request_holds=not pooler_queue,
                                               pooler_queue=bool(pooler_queue), seeds=replay_seeds)
    # Request by request: each measured request against its own replay of seed 1 (per_request.py).
    by_request = per_request.compare(per_request.match(rows, replayed, simulate.LEAD_S))
    stat = simulate.statistical(name, lib, params, case.arrivals, rows, m, saved["length_s"],
                                case.pgbouncer, replications)
    for summ in (rep, stat):
        # dbpoolsim counts the recovery from its fault, which starts when the queries failed.
        for k in ("time_to_recover_s", "time_to_recover_s_seed_min", "time_to_recover_s_seed_max"):
            if k in summ:
                summ[k] += simulate.restart_shift_s(m)
    if pooler_queue:
        # dbpoolsim reports PgBouncer's queueing apart (pooler_wait_*): the mean adds up. The
        # replay's p95 of the sum comes from its request records (simulate.with_pooler_queue,
        # per seed); the statistical model draws its holds, which its records do not keep,
        # so its p95 cell stays empty.
        stat["wait_time_avg_ms"] += stat.get("pooler_wait_avg_ms", 0.0)
        stat["wait_time_p95_ms"] = math.nan
    (run_dir / "summary.json").write_text(json.dumps(
        {"measured": {k: v for k, v in m.items()
                      if k not in ("connect_times_s", "db_connect_times_s", "validation_waits_ms", "waits_ms")},
         "replay": rep, "statistical": stat, "per_request": by_request}, indent=1, default=str) + "\n")
    if case.pgbouncer:
        # PgBouncer's servers that served a query: the distinct backend pids the queries
        # returned, against the most servers PgBouncer held in the replay.
        m["pooler_servers_used"] = m["connections_distinct_pids"]
        rep["pooler_servers_used"] = rep.get("pooler_peak_servers", 0.0)
        stat["pooler_servers_used"] = stat.get("pooler_peak_servers", math.nan)
    for mk, sk in COMPARED:
        if mk not in m:
            continue
        meas = m[mk]
        r, s = rep.get(sk, math.nan), stat.get(sk, math.nan)
        rows_out.append({"case": case.name, "library": lib, "metric": mk,
                         "measured": meas, "replay": r, "statistical": s,
                         # the spread of the replay over its seeds (simulate.replay_over_seeds)
                         **{f"replay_{x}": rep.get(f"{sk}_seed_{x}", math.nan) for x in ("sd", "min", "max")},
                         "statistical_sd": stat.get(f"{sk}_sd", math.nan),
                         "replay_rel_err": rel_err(r, meas), "statistical_rel_err": rel_err(s, meas)})
    # Where the replayed p95 falls among the measured waits (extra information, not a
    # criterion): a p95 on a cliff of the measured distribution moves by milliseconds for
    # one request more or less that waited; q94 and q96 show how steep it is there.
    rows_out.append({"case": case.name, "library": lib, "metric": "wait_p95_rank",
                     "measured": percentile(m["waits_ms"], 0.94), "replay": percentile_rank(
                         m["waits_ms"], float(rep.get("wait_time_p95_ms", math.nan))),
                     "statistical": percentile(m["waits_ms"], 0.96)})
    rows_out.append({"case": case.name, "library": lib, "metric": "per_request", **by_request})
    rows_out.append({"case": case.name, "library": lib, "metric": "replay_seeds", "measured": replay_seeds,
                     "replay_seeds": replay_seeds})
    if lib in CLOSEST:
        rows_out.append({"case": case.name, "library": lib, "metric": "compared_with",
                         "measured": CLOSEST[lib]})
    rows_out.append({"case": case.name, "library": lib, "metric": "noise_dispatch_lag_p99_ms",
                     "measured": m["dispatch_lag_p99_ms"]})
    for k in ("connections_distinct_pids", "connections_pg_sessions", "connect_time_mean_ms",
              "overhead_ms", "handoff_median_ms", "noise_cpu_user_s", "noise_gc_pause_max_ms",
              "noise_loadavg_1m_end"):
        rows_out.append({"case": case.name, "library": lib, "metric": k, "measured": m.get(k)})
    print(f"[reality]   {case.name} / {lib}: {len(rows)} requests, wait avg "
          f"{m['wait_time_avg_ms']:.1f} ms (replay {rep['wait_time_avg_ms']:.1f}), timeouts "
          f"{m['timeout_rate']:.3f} (replay {rep['timeout_rate']:.3f}), opened "
          f"{m['connections_opened_library']} (replay {rep['connections_created']:.0f})", flush=True)


def machine() -> str:
    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{platform.node() or 'host'}: {os.cpu_count()} cores ({cpu}), Linux {platform.release()}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="real pools on a real PostgreSQL vs dbpoolsim")
    ap.add_argument("--smoke", action="store_true", help="the CI subset with 15 s traces")
    ap.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    ap.add_argument("--libs", default="", help="comma-separated libraries (default: all)")
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--replay-seeds", type=int, default=10,
                    help="the replay's figures are their mean over seeds 1..N of the pools' own draws "
                         "(default 10); results.csv gives their sd, min and max")
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--resimulate", action="store_true",
                    help="no servers: redo dbpoolsim's side from the raw files already in --out")
    a = ap.parse_args(argv)
    # SIGTERM (and SIGINT, which a background job ignores) unwind through the `with` blocks,
    # so the servers are stopped and their directories removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    names = [c for c in a.cases.split(",") if c] or (list(SMOKE) if a.smoke else list(CASES))
    if a.replay_seeds < 1:
        print(f"run.py: error: --replay-seeds: must be at least 1, got {a.replay_seeds}", file=sys.stderr)
        return 2
    for n in names:
        if n not in CASES:
            print(f"run.py: error: --cases: unknown case {n!r} (known: {', '.join(CASES)})", file=sys.stderr)
            return 2
    libs = [x for x in a.libs.split(",") if x]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    started = time.time()
    command = " ".join(["python", "experiments/reality/run.py", *(argv if argv is not None else sys.argv[1:])])
    if a.resimulate:
        # Keep the measuring command(s) the previous results.md named.
        previous = (out / "results.md").read_text().splitlines() if (out / "results.md").exists() else []
        command = next((ln.rstrip() for ln in previous if ln.startswith("Command")), f"Command: `{command}`")
        for n in names:
            case = CASES[n]
            for lib in libs or case.libraries():
                if (out / "runs" / n / lib / "measured.json").exists():
                    compare(case, lib, out / "runs" / n / lib, a.replications, rows, a.replay_seeds)
        write_results(rows, out, command, time.time() - started, resimulated=True)
        return 0
    with Postgres() as pg:
        for n in names:
            case = CASES[n]
            chosen = libs or (SMOKE[n] if a.smoke and n in SMOKE else case.libraries())
            run_case(case, chosen, pg, out, a.smoke, a.replications, rows, a.replay_seeds)
    write_results(rows, out, f"Command: `{command}`", time.time() - started)
    return 0


def write_results(rows: list[dict], out: Path, command: str, seconds: float,
                  resimulated: bool = False) -> None:
    cols = ["case", "library", "metric", "measured", "replay", "statistical", "statistical_sd",
            "replay_rel_err", "statistical_rel_err", "replay_sd", "replay_min", "replay_max"]
    with open(out / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, cols)
        w.writeheader()
        for r in rows:
            if r["metric"] != "per_request":
                w.writerow({k: r.get(k, "") for k in cols})
    with open(out / "per_request.csv", "w", newline="") as f:
        w = csv.DictWriter(f, ["case", "library", *per_request.FIGURES])
        w.writeheader()
        for r in rows:
            if r["metric"] == "per_request":
                w.writerow({k: r.get(k, "") for k in ["case", "library", *per_request.FIGURES]})
    import report
    report.write(rows, out, command, machine(), seconds, resimulated)


if __name__ == "__main__":
    sys.exit(main())
