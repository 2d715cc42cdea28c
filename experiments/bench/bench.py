#!/usr/bin/env python3
"""Benchmark dbpoolsim against a plain C++ heap loop and SimPy on the standard case.

Standard case: M/M/c with deterministic patience (a fixed connection pool).
Poisson arrivals at 900/s, 10 connections, exponential holding time with mean
10 ms, FIFO waiters, 50 ms acquire timeout.  All three implementations run in
the same invocation, so their speed ratios are comparable; absolute times are
not comparable across runs on a noisy machine.

Then runs the standard case with every pool policy (interleaved, best of the same
repeats) and reports each one's speed against the generic pool's.

Also runs a memory test: dbpoolsim simulating one hour at 10,000 requests/s
(120 connections) in a child process, reporting that child's peak RSS.

Usage:  python experiments/bench/bench.py [--quick] [--skip-simpy] [--skip-memory]
                                          [--skip-policies]
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PLAIN_SRC = HERE / "plain_loop.cpp"
SIMPY_SCRIPT = HERE / "simpy_model.py"
DEFAULT_BUILD_DIR = HERE / "build"
CXXFLAGS = ["-std=c++20", "-O2"]

# The standard case.
RATE_PER_S = 900.0
MEAN_S = 0.010
CONNS = 10
TIMEOUT_S = 0.050
SEED = 1

# Full / --quick horizons (simulated seconds).
PLAIN_HORIZON_S = (1000.0, 100.0)
DBPOOLSIM_HORIZON_S = (1000.0, 100.0)
SIMPY_HORIZON_S = (100.0, 10.0)  # SimPy is ~100x slower; rates are compared, not totals
MEMORY_HORIZON_S = (3600.0, 60.0)
POLICY_HORIZON_S = (300.0, 30.0)

# Every pool policy on the standard case: 10 connections open from the start, the acquire
# timeout at 50 ms, everything else at the library's default (so a policy that validates,
# pings or resets pays for it, as it would in production). HikariCP rejects a
# connectionTimeout below 250 ms, so it waits up to 250 ms.
POLICIES: dict[str, dict[str, Any]] = {
    "generic": {"kind": "generic", "min_connections": CONNS, "max_connections": CONNS,
                "acquisition_timeout": TIMEOUT_S, "idle_timeout": 0, "max_lifetime": 0,
                "validate_on_borrow": False, "health_check_interval": 0},
    "hikaricp": {"kind": "hikaricp", "maximumPoolSize": CONNS, "minimumIdle": CONNS,
                 "connectionTimeout": 250},
    "sqlalchemy_queuepool": {"kind": "sqlalchemy_queuepool", "pool_size": CONNS,
                             "max_overflow": 0, "pool_timeout": TIMEOUT_S},
    "sqlalchemy_asyncadaptedqueuepool": {"kind": "sqlalchemy_asyncadaptedqueuepool",
                                         "pool_size": CONNS, "max_overflow": 0,
                                         "pool_timeout": TIMEOUT_S},
    "psycopg_pool": {"kind": "psycopg_pool", "min_size": CONNS, "max_size": CONNS,
                     "timeout": TIMEOUT_S},
    "sqlx": {"kind": "sqlx", "max_connections": CONNS, "min_connections": CONNS,
             "acquire_timeout": TIMEOUT_S},
    "asyncpg": {"kind": "asyncpg", "min_size": CONNS, "max_size": CONNS, "timeout": TIMEOUT_S},
    # Go and node-postgres open nothing at start (the first requests log in, at no cost here);
    # the caller's context / connectionTimeoutMillis is the 50 ms timeout.
    "go_database_sql": {"kind": "go_database_sql", "max_open_conns": CONNS, "max_idle_conns": CONNS,
                        "context_timeout": TIMEOUT_S},
    "node_postgres": {"kind": "node_postgres", "max": CONNS,
                      "connectionTimeoutMillis": int(TIMEOUT_S * 1000)},
}

# Memory test: one hour at 10,000 requests/s must stay under 100 MB peak RSS.
MEMORY_RATE_PER_S = 10_000.0
MEMORY_CONNS = 120
MEMORY_LIMIT_MB = 100.0  # MB = 10**6 bytes

# Run-to-run standard deviation of the standard-case estimators at a 1000 s
# horizon, measured over 60 seeds of plain_loop (sd scales as 1/sqrt(horizon)).
# Used only to say whether a simulated figure agrees with theory.
P_TIMEOUT_SD_AT_1000S = 9.0e-5
MEAN_WAIT_SD_MS_AT_1000S = 0.17

RSS_UNIT_BYTES = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is KiB on Linux


@dataclass
class Row:
    """One implementation's best run on the standard case."""
    name: str
    horizon_s: float
    requests: int = 0
    wall_s: float = math.nan          # simulation wall time (what the speed is based on)
    end_to_end_s: float = math.nan    # wall time including process/Python overhead
    req_per_s: float = math.nan
    p_timeout: float = math.nan
    mean_wait_ms: float = math.nan
    all_wall_s: list[float] = field(default_factory=list)
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------- theory

def mmc_deterministic_patience(lam: float, mu: float, c: int, tau: float) -> tuple[float, float]:
    """Exact P(timeout) and mean wait (over all requests) for M/M/c+D.

    V is the virtual waiting time.  With n < c busy, V = 0 and P(n) ∝ a^n/n!
    (a = lam/mu).  On 0 < v < tau its density is lam*p_{c-1}*exp(-(c*mu-lam)*v);
    beyond tau arrivals abandon and do not add work, so the density decays as
    exp(-c*mu*(v-tau)).  P(timeout) = P(V >= tau); a request waits min(V, tau).
    """
    a = lam / mu
    term, total = 1.0, 0.0
    for n in range(c):
        if n:
            term *= a / n
        total += term
    p_cm1 = term                      # unnormalised p_{c-1}
    d = c * mu - lam
    if abs(d * tau) < 1e-12:
        mass_mid = lam * p_cm1 * tau
        wait_mid = lam * p_cm1 * tau * tau / 2
    else:
        e = math.exp(-d * tau)
        mass_mid = lam * p_cm1 * (1 - e) / d
        wait_mid = lam * p_cm1 * (1 - e * (1 + d * tau)) / (d * d)
    mass_tail = lam * p_cm1 * math.exp(-d * tau) / (c * mu)
    norm = total + mass_mid + mass_tail
    return mass_tail / norm, (wait_mid + tau * mass_tail) / norm


# ------------------------------------------------------------ child processes

def run_measured(cmd: list[str]) -> tuple[int, str, str, float]:
    """Run cmd to completion; return (exit code, stdout, stderr, child's ru_maxrss in MB).

    os.wait4 gives the rusage of exactly this child (RUSAGE_CHILDREN would be
    the maximum over every child reaped so far, g++ included).  On Linux a
    child's ru_maxrss is at least this process's RSS at fork time, so it is
    an upper bound; the dbpoolsim child also reports its own VmHWM.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read(), err.read(), usage.ru_maxrss * RSS_UNIT_BYTES / 1e6


def last_json_line(text: str) -> dict[str, Any]:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise ValueError("no output")
    return json.loads(lines[-1])


def run_json(cmd: list[str]) -> tuple[dict[str, Any], float]:
    code, out, err, rss_mb = run_measured(cmd)
    if code != 0:
        tail = (err.strip() or out.strip()).splitlines()[-3:]
        raise RuntimeError(f"exit code {code}: " + " | ".join(tail))
    return last_json_line(out), rss_mb


def peak_rss_mb() -> float:
    """This process's peak RSS in MB: VmHWM on Linux (exact), else ru_maxrss.

    ru_maxrss is not used on Linux because it includes the parent's RSS at fork.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * RSS_UNIT_BYTES / 1e6


def child_main(scenario_json: str) -> int:
    """Hidden mode: run one dbpoolsim scenario and print one JSON line."""
    scenario = json.loads(scenario_json)
    report: dict[str, Any] = {"rss_mb_interpreter": peak_rss_mb()}
    try:
        import dbpoolsim  # noqa: PLC0415 - imported only in the child on purpose
    except Exception as exc:  # ImportError, or a broken extension module
        report["error"] = f"import dbpoolsim failed: {type(exc).__name__}: {exc}"
        print(json.dumps(report))
        return 0
    report["rss_mb_after_import"] = peak_rss_mb()
    start = time.perf_counter()
    try:
        result = dbpoolsim.run(scenario, threads=1, progress=False)
    except Exception as exc:
        report["error"] = f"dbpoolsim.run failed: {type(exc).__name__}: {exc}"
        print(json.dumps(report))
        return 0
    report["end_to_end_s"] = time.perf_counter() - start
    report["rss_mb_peak"] = peak_rss_mb()
    report["summary"] = {str(k): v for k, v in dict(result.summary).items()}
    print(json.dumps(report, default=lambda o: float(o) if hasattr(o, "__float__") else str(o)))
    return 0


# ------------------------------------------------------------ implementations

def up_to_date(binary: Path) -> bool:
    """The binary exists and is newer than plain_loop.cpp."""
    return binary.exists() and binary.stat().st_mtime >= PLAIN_SRC.stat().st_mtime


def cxx_compiler() -> str:
    cxx = os.environ.get("CXX") or shutil.which("g++")
    if not cxx:
        raise RuntimeError("no C++ compiler found (install g++ or set CXX)")
    return cxx


def build_plain_loop(build_dir: Path) -> Path:
    """Compile plain_loop.cpp unless the binary is newer than the source."""
    binary = build_dir / "plain_loop"
    if up_to_date(binary):
        return binary
    cxx = cxx_compiler()
    build_dir.mkdir(parents=True, exist_ok=True)
    cmd = [cxx, *CXXFLAGS, "-o", str(binary), str(PLAIN_SRC)]
    print("compiling:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    return binary


def build_plain_loop_pgo(build_dir: Path) -> Path:
    """plain_loop.cpp with profile-guided optimisation, as dbpoolsim's wheel is built
    (cmake/pgo.cmake): compiled instrumented, trained on the standard case for 100 simulated
    seconds, compiled again with the counts. The table shows it beside the -O2 reference so
    that the ratio's build difference is in view; "vs plain loop" stays against -O2."""
    out_dir = build_dir / "plain_pgo"
    binary = out_dir / "plain_loop"  # both compiles write the same output (same count file)
    if up_to_date(binary):
        return binary
    cxx = cxx_compiler()
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    data = out_dir / "data"
    gen = [cxx, *CXXFLAGS, f"-fprofile-generate={data}", "-o", str(binary), str(PLAIN_SRC)]
    use = [cxx, *CXXFLAGS, f"-fprofile-use={data}", "-fprofile-partial-training",
           "-o", str(binary), str(PLAIN_SRC)]
    print("compiling (profile-guided):", " ".join(use), flush=True)
    subprocess.run(gen, check=True)
    subprocess.run([str(binary), *model_args(RATE_PER_S, CONNS, 100.0)], check=True,
                   stdout=subprocess.DEVNULL)
    binary.unlink()
    subprocess.run(use, check=True)
    return binary


def model_args(rate: float, conns: int, horizon_s: float) -> list[str]:
    return [repr(rate), repr(MEAN_S), str(conns), repr(TIMEOUT_S), repr(horizon_s), str(SEED)]


def scenario(rate: float, conns: int, horizon_s: float, name: str,
             pool: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "run": {"horizon_s": horizon_s, "warmup_s": 0, "replications": 1, "seed": SEED,
                "sample_interval_s": 1},
        "workload": {"arrivals": {"kind": "poisson", "rate_per_s": rate},
                     "transactions": [{"name": "q", "weight": 1, "queries": 1,
                                       "query_time": {"kind": "exponential", "mean_s": MEAN_S}}]},
        "pool": pool or {**POLICIES["generic"], "min_connections": conns,
                         "max_connections": conns},
        "database": {"cores": 0, "max_connections": 1000,
                     "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0},
    }


def row_from_model_output(name: str, out: dict[str, Any]) -> Row:
    """plain_loop and simpy_model print the same JSON fields."""
    return Row(name=name, horizon_s=out["horizon_s"], requests=out["arrivals"],
               wall_s=out["wall_s"], req_per_s=out["sim_req_per_s"],
               p_timeout=out["timeout_prob"], mean_wait_ms=out["mean_wait_s"] * 1e3,
               extra={k: out[k] for k in ("served", "timeouts", "events") if k in out})


def run_plain_once(binary: Path, horizon_s: float, name: str = "plain C++ heap loop") -> Row:
    start = time.perf_counter()
    out, _ = run_json([str(binary), *model_args(RATE_PER_S, CONNS, horizon_s)])
    row = row_from_model_output(name, out)
    row.end_to_end_s = time.perf_counter() - start
    return row


def run_simpy_once(horizon_s: float) -> Row:
    start = time.perf_counter()
    out, _ = run_json([sys.executable, str(SIMPY_SCRIPT),
                       *model_args(RATE_PER_S, CONNS, horizon_s)])
    row = row_from_model_output(f"SimPy {out.get('simpy_version', '')}".strip(), out)
    row.end_to_end_s = time.perf_counter() - start
    return row


def run_dbpoolsim_child(scen: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """Run one scenario in a child interpreter; return (child report, peak RSS MB)."""
    report, rss = run_json([sys.executable, str(Path(__file__).resolve()),
                            "--child", json.dumps(scen)])
    if "error" in report:
        raise RuntimeError(report["error"])
    return report, rss


def run_dbpoolsim_once(horizon_s: float) -> Row:
    report, _ = run_dbpoolsim_child(
        scenario(RATE_PER_S, CONNS, horizon_s, "standard-case"))
    s = report["summary"]
    missing = [k for k in ("offered", "wall_seconds", "wait_time_all_avg_ms") if k not in s]
    if missing:
        raise RuntimeError(f"dbpoolsim summary lacks {', '.join(missing)}")
    offered = float(s["offered"])
    wall = float(s["wall_seconds"])
    p = float(s["timeout_rate"]) if "timeout_rate" in s else float(s["timeouts"]) / offered
    return Row(name="dbpoolsim", horizon_s=horizon_s, requests=round(offered), wall_s=wall,
               end_to_end_s=report["end_to_end_s"],
               req_per_s=offered / wall if wall > 0 else math.nan, p_timeout=p,
               mean_wait_ms=float(s["wait_time_all_avg_ms"]),  # over all requests, as the references
               extra={k: s[k] for k in ("completed", "timeouts", "events") if k in s})


def best_of(name: str, horizon_s: float, runs: list[Row], errors: list[str]) -> Row:
    if not runs:
        return Row(name=name, horizon_s=horizon_s, error=errors[0] if errors else "not run")
    best = min(runs, key=lambda r: r.wall_s)
    best.all_wall_s = [r.wall_s for r in runs]
    return best


def run_standard_case(args: argparse.Namespace) -> list[Row]:
    """Run the implementations interleaved, round by round, and keep each one's fastest run."""
    q = 1 if args.quick else 0
    horizons = {"plain": PLAIN_HORIZON_S[q], "plain_pgo": PLAIN_HORIZON_S[q],
                "simpy": SIMPY_HORIZON_S[q], "dbpoolsim": DBPOOLSIM_HORIZON_S[q]}
    names = {"plain": "plain C++ heap loop", "plain_pgo": "plain C++ heap loop, profile-guided",
             "simpy": "SimPy", "dbpoolsim": "dbpoolsim"}
    runs: dict[str, list[Row]] = {k: [] for k in horizons}
    errors: dict[str, list[str]] = {k: [] for k in horizons}

    plain_bin: Path | None = None
    try:
        plain_bin = build_plain_loop(args.build_dir)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        errors["plain"].append(f"build failed: {exc}")
    plain_pgo_bin: Path | None = None
    try:
        plain_pgo_bin = build_plain_loop_pgo(args.build_dir)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        errors["plain_pgo"].append(f"build failed: {exc}")
    if not args.skip_simpy and importlib.util.find_spec("simpy") is None:
        errors["simpy"].append("simpy is not installed (pip install simpy)")

    def attempt(key: str, fn: Any, *fn_args: Any) -> None:
        if errors[key]:  # a failure is not retried: it would fail the same way
            return
        print(f"  {names[key]:<20} horizon {horizons[key]:g} s ...", end=" ", flush=True)
        try:
            row = fn(*fn_args)
        except Exception as exc:
            errors[key].append(str(exc))
            print(f"FAILED: {exc}", flush=True)
            return
        runs[key].append(row)
        print(f"{row.wall_s:.3f} s, {row.req_per_s:,.0f} req/s", flush=True)

    rounds = max(args.repeats, 0 if args.skip_simpy else args.simpy_repeats)
    for i in range(rounds):
        print(f"round {i + 1}/{rounds}", flush=True)
        if i < args.repeats and plain_bin is not None:
            attempt("plain", run_plain_once, plain_bin, horizons["plain"])
        if i < args.repeats and plain_pgo_bin is not None:
            attempt("plain_pgo", run_plain_once, plain_pgo_bin, horizons["plain_pgo"],
                    names["plain_pgo"])
        if i < args.repeats:
            attempt("dbpoolsim", run_dbpoolsim_once, horizons["dbpoolsim"])
        if not args.skip_simpy and i < args.simpy_repeats:
            attempt("simpy", run_simpy_once, horizons["simpy"])

    rows = [best_of(names["plain"], horizons["plain"], runs["plain"], errors["plain"]),
            best_of(names["plain_pgo"], horizons["plain_pgo"], runs["plain_pgo"],
                    errors["plain_pgo"]),
            best_of(names["dbpoolsim"], horizons["dbpoolsim"], runs["dbpoolsim"],
                    errors["dbpoolsim"])]
    if not args.skip_simpy:
        rows.append(best_of(names["simpy"], horizons["simpy"], runs["simpy"], errors["simpy"]))
    return rows


def run_policy_once(kind: str, horizon_s: float) -> dict[str, Any]:
    report, _ = run_dbpoolsim_child(
        scenario(RATE_PER_S, CONNS, horizon_s, f"standard-case-{kind}", POLICIES[kind]))
    s = report["summary"]
    wall = float(s["wall_seconds"])
    return {"requests": float(s["offered"]), "wall_s": wall,
            "req_per_s": float(s["offered"]) / wall if wall > 0 else math.nan,
            "events": float(s.get("events", math.nan))}


def run_policies(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every pool policy on the standard case, interleaved round by round, best of repeats."""
    horizon = POLICY_HORIZON_S[1 if args.quick else 0]
    best: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for i in range(args.repeats):
        print(f"policies, round {i + 1}/{args.repeats} (horizon {horizon:g} s)", flush=True)
        for kind in POLICIES:
            if kind in errors:
                continue
            try:
                row = run_policy_once(kind, horizon)
            except Exception as exc:  # reported in its row; the others still run
                errors[kind] = str(exc)
                continue
            if kind not in best or row["wall_s"] < best[kind]["wall_s"]:
                best[kind] = row
            best[kind].setdefault("all_wall_s", []).append(row["wall_s"])
    ref = best.get("generic", {}).get("req_per_s", math.nan)
    out = []
    for kind in POLICIES:
        if kind in errors:
            out.append({"kind": kind, "error": errors[kind]})
            continue
        r = best[kind]
        out.append({"kind": kind, "horizon_s": horizon, **r,
                    "events_per_request": r["events"] / r["requests"],
                    "vs_generic": r["req_per_s"] / ref})
    return out


def policy_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| pool policy | requests | wall s | sim req/s | events per request | vs generic |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['kind']} | failed: {r['error']} | | | | |")
            continue
        lines.append(f"| {r['kind']} | {r['requests']:,.0f} | {r['wall_s']:.3f} | "
                     f"{r['req_per_s']:,.0f} | {r['events_per_request']:.2f} | "
                     f"{r['vs_generic']:.2f}× |")
    return lines


def run_memory_test(quick: bool) -> dict[str, Any]:
    horizon = MEMORY_HORIZON_S[1 if quick else 0]
    info: dict[str, Any] = {"rate_per_s": MEMORY_RATE_PER_S, "conns": MEMORY_CONNS,
                            "mean_s": MEAN_S, "timeout_s": TIMEOUT_S, "horizon_s": horizon,
                            "limit_mb": MEMORY_LIMIT_MB}
    print(f"memory test: dbpoolsim, {MEMORY_RATE_PER_S:,.0f} req/s for {horizon:g} s, "
          f"{MEMORY_CONNS} connections ...", flush=True)
    try:
        report, ru_maxrss_mb = run_dbpoolsim_child(
            scenario(MEMORY_RATE_PER_S, MEMORY_CONNS, horizon, "memory-test"))
    except Exception as exc:
        info["error"] = str(exc)
        print(f"  FAILED: {exc}", flush=True)
        return info
    s = report["summary"]
    rss = float(report["rss_mb_peak"])
    info |= {"peak_rss_mb": rss, "rss_mb_after_import": report.get("rss_mb_after_import"),
             "rss_mb_interpreter": report.get("rss_mb_interpreter"),
             "ru_maxrss_mb_upper_bound": ru_maxrss_mb,
             "under_limit": rss < MEMORY_LIMIT_MB, "offered": s.get("offered"),
             "wall_seconds": s.get("wall_seconds"), "end_to_end_s": report.get("end_to_end_s")}
    print(f"  peak RSS {rss:.1f} MB ({'under' if rss < MEMORY_LIMIT_MB else 'OVER'} "
          f"{MEMORY_LIMIT_MB:g} MB), {s.get('offered', 0):,.0f} requests", flush=True)
    return info


# ------------------------------------------------------------------ reporting

def agreement(row: Row, p_theory: float, w_theory_ms: float) -> str:
    """'yes' if both estimates are within 3 run-to-run sd of theory (sd from 60 seeds)."""
    if row.error or not row.horizon_s:
        return ""
    scale = math.sqrt(1000.0 / row.horizon_s)
    zp = abs(row.p_timeout - p_theory) / (P_TIMEOUT_SD_AT_1000S * scale)
    zw = abs(row.mean_wait_ms - w_theory_ms) / (MEAN_WAIT_SD_MS_AT_1000S * scale)
    return f"{'yes' if max(zp, zw) < 3 else 'NO'} ({zp:.1f}σ, {zw:.1f}σ)"


def ratio(num: Row, den: Row | None) -> str:
    if num.error or den is None or den.error or not den.req_per_s:
        return "–"
    return f"{num.req_per_s / den.req_per_s:.3g}×"


def table_lines(rows: list[Row], p_theory: float, w_theory_ms: float) -> list[str]:
    plain = next((r for r in rows if r.name == "plain C++ heap loop"), None)
    simpy = next((r for r in rows if r.name.startswith("SimPy")), None)
    head = ["implementation", "horizon s", "requests", "wall s", "end-to-end s",
            "sim req/s", "vs plain loop", "vs SimPy", "P(timeout)", "mean wait ms",
            "agrees with theory"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if r.error:
            message = r.error.replace("|", "\\|").replace("\n", " ")
            cells = [r.name, f"{r.horizon_s:g}", f"unavailable: {message}"] + [""] * (len(head) - 3)
        else:
            cells = [r.name, f"{r.horizon_s:g}", f"{r.requests:,}", f"{r.wall_s:.3f}",
                     f"{r.end_to_end_s:.3f}", f"{r.req_per_s:,.0f}", ratio(r, plain),
                     ratio(r, simpy), f"{r.p_timeout:.6f}", f"{r.mean_wait_ms:.3f}",
                     agreement(r, p_theory, w_theory_ms)]
        lines.append("| " + " | ".join(cells) + " |")
    theory = ["theory (M/M/c+D)", "", "", "", "", "", "", "", f"{p_theory:.6f}",
              f"{w_theory_ms:.3f}", ""]
    lines.append("| " + " | ".join(theory) + " |")
    return lines


def core_profile_guided() -> bool | None:
    """Whether the installed module's core was built with profile feedback (cmake/pgo.cmake);
    None if it cannot be imported."""
    try:
        from dbpoolsim import _core
    except ImportError:
        return None
    return bool(getattr(_core, "profile_guided", False))


def core_build_line() -> str:
    pgo = core_profile_guided()
    if pgo is None:
        return "not importable."
    if pgo:
        return ("built with profile-guided optimisation (cmake/pgo.cmake, trained on "
                "experiments/bench/pgo_training.json); the plain loop's profile-guided row "
                "shows what the same treatment does to the reference.")
    return "built without profile-guided optimisation (DBPOOLSIM_PGO off)."


def memory_line(mem: dict[str, Any] | None) -> str:
    if mem is None:
        return "Memory test: skipped."
    if "error" in mem:
        return f"Memory test: unavailable ({mem['error']})."
    verdict = "under" if mem["under_limit"] else "OVER"
    return (f"Memory test: dbpoolsim, {mem['rate_per_s']:,.0f} req/s for {mem['horizon_s']:g} s "
            f"({mem['offered']:,.0f} requests, {mem['conns']} connections): peak RSS "
            f"{mem['peak_rss_mb']:.1f} MB of which {mem['rss_mb_after_import']:.1f} MB is the "
            f"interpreter plus `import dbpoolsim`; {verdict} the {mem['limit_mb']:g} MB limit "
            f"(child's VmHWM; its ru_maxrss, {mem['ru_maxrss_mb_upper_bound']:.1f} MB, also "
            "counts the parent's RSS at fork).")


def without_nan(obj: Any) -> Any:
    """Replace NaN (not valid JSON) by None, recursively."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: without_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [without_nan(v) for v in obj]
    return obj


def compiler_version() -> str:
    cxx = os.environ.get("CXX") or shutil.which("g++")
    if not cxx:
        return "none"
    out = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else cxx


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        return child_main(sys.argv[2])

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="short horizons and one repeat (smoke test)")
    parser.add_argument("--skip-simpy", action="store_true", help="do not run SimPy")
    parser.add_argument("--skip-memory", action="store_true", help="do not run the memory test")
    parser.add_argument("--skip-policies", action="store_true",
                        help="do not run every pool policy on the standard case")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs of plain loop and dbpoolsim, best kept (default 7, quick 1)")
    parser.add_argument("--simpy-repeats", type=int, default=1, help="runs of SimPy (default 1)")
    parser.add_argument("--build-dir", type=Path, default=DEFAULT_BUILD_DIR,
                        help=f"where plain_loop is compiled (default {DEFAULT_BUILD_DIR})")
    parser.add_argument("--output", type=Path, default=None,
                        help="results file (default results.json, or results_quick.json "
                             "with --quick, next to this script)")
    args = parser.parse_args()
    if (args.repeats is not None and args.repeats < 1) or args.simpy_repeats < 1:
        parser.error("repeat counts must be at least 1")
    if args.repeats is None:
        args.repeats = 1 if args.quick else 7
    output = args.output or HERE / ("results_quick.json" if args.quick else "results.json")

    p_theory, w_theory_s = mmc_deterministic_patience(RATE_PER_S, 1 / MEAN_S, CONNS, TIMEOUT_S)
    print(f"standard case: Poisson {RATE_PER_S:g}/s, {CONNS} connections, exponential "
          f"{MEAN_S * 1e3:g} ms holding, FIFO, {TIMEOUT_S * 1e3:g} ms acquire timeout",
          flush=True)
    rows = run_standard_case(args)
    policies = [] if args.skip_policies else run_policies(args)
    mem = None if args.skip_memory else run_memory_test(args.quick)

    lines = table_lines(rows, p_theory, w_theory_s * 1e3)
    notes = [
        "- sim req/s = requests simulated / wall s. Wall s is the simulation's own timer: "
        "plain loop and SimPy time their event loop; dbpoolsim's is its reported "
        "`wall_seconds` (Python overhead excluded). End-to-end s is the whole child process "
        "(for dbpoolsim, the `dbpoolsim.run` call).",
        "- SimPy runs a shorter horizon than the others; only rates are compared.",
        f"- Best of {args.repeats} for plain loop and dbpoolsim, best of {args.simpy_repeats} "
        "for SimPy, interleaved in the same invocation. Compare ratios, not absolute times "
        "across runs.",
        "- Agreement: |simulated − theory| within 3 run-to-run standard deviations "
        "(measured over 60 seeds, scaled to the horizon) for both P(timeout) and mean wait.",
        "- " + memory_line(mem),
        "- dbpoolsim's core: " + core_build_line(),
    ]
    if policies:
        notes.append(f"- Pool policies: the standard case with each policy (10 connections, "
                     f"50 ms acquire timeout, HikariCP 250 ms, library defaults otherwise), "
                     f"{policies[0].get('horizon_s', 0):g} s, best of {args.repeats}, "
                     "interleaved; vs generic = sim req/s over the generic pool's.")
    plines = policy_lines(policies) if policies else []
    print()
    print("\n".join(lines))
    if plines:
        print()
        print("\n".join(plines))
    print()
    print("\n".join(notes))

    results = {
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version(), "compiler": compiler_version(),
                    "cxxflags": CXXFLAGS, "core_profile_guided": core_profile_guided()},
        "standard_case": {"rate_per_s": RATE_PER_S, "mean_s": MEAN_S, "conns": CONNS,
                          "timeout_s": TIMEOUT_S, "seed": SEED},
        "theory": {"p_timeout": p_theory, "mean_wait_ms": w_theory_s * 1e3},
        "repeats": {"fast": args.repeats, "simpy": args.simpy_repeats},
        "implementations": [asdict(r) for r in rows],
        "memory_test": mem,
        "policies": policies,
        "markdown": "\n".join(lines + ([""] + plines if plines else []) + [""] + notes),
    }
    output.write_text(json.dumps(without_nan(results), indent=2, default=str) + "\n")
    print(f"\nwrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
