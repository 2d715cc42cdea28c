"""The reality cases: each one trace (open-loop arrivals and pg_sleep hold times) and, for
every library it applies to, the pool's parameters in the library's own names. The same
parameter dict configures the real pool and dbpoolsim's policy of that library (for HikariCP
the JVM load generator calls the HikariConfig setter of each name).

Loads are chosen so that the pool, not the harness, sets the waits: a few tens of requests
per second with holds of 100-200 ms (the Python load generators dispatch within a few
milliseconds; see the noise columns of the results).
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

PY_LIBS = ["psycopg_pool", "sqlalchemy_queuepool", "asyncpg"]
ALL_LIBS = [*PY_LIBS, "hikaricp", "go_database_sql", "node_postgres"]
# Libraries dbpoolsim has no policy for yet, and the closest policy they are compared with
# (none today: every library has its own).
CLOSEST: dict[str, str] = {}


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    arrivals: dict                     # {"kind": "poisson", "rate_per_s": r} | onoff | burst
    hold: dict                         # {"kind": "exponential", "mean_s": m} | constant value_s
    pools: dict[str, dict]             # library -> parameters in its own names
    full_s: float = 40.0               # trace length, full run
    smoke_s: float = 15.0              # trace length, CI smoke run
    connect_delay_s: float = 0.0       # > 0: connects go through the delaying proxy
    restart_at_frac: float | None = None   # PostgreSQL restarts at this fraction of the trace
    pgbouncer: dict | None = None      # PgBouncer settings (pool_mode, default_pool_size, ...)
    notes: str = ""
    seed: int = 13
    libs: list[str] = field(default_factory=list)

    def libraries(self) -> list[str]:
        return [lib for lib in ALL_LIBS if lib in self.params()]

    def params(self) -> dict[str, dict]:
        """The pools, plus Go's database/sql sized like SQLAlchemy's QueuePool wherever that
        one runs (MaxIdleConns = pool_size, MaxOpenConns = pool_size + max_overflow), and
        node-postgres's pg.Pool like psycopg_pool (max = max_size, the same timeout and idle
        retirement; pg.Pool has no minimum: it opens on demand)."""
        out = dict(self.pools)
        p = self.pools.get("psycopg_pool")
        if p is not None:
            out["node_postgres"] = {"max": p.get("max_size") or p["min_size"],
                                    "connectionTimeoutMillis": int(1000 * p.get("timeout", 30.0)),
                                    "idleTimeoutMillis": int(1000 * p.get("max_idle", 10.0))}
        q = self.pools.get("sqlalchemy_queuepool")
        if q is not None:
            out["go_database_sql"] = {"maxOpenConns": q["pool_size"] + q["max_overflow"],
                                      "maxIdleConns": q["pool_size"],
                                      "timeout_s": q.get("pool_timeout", 30.0)}
        return out


HIKARI_WORKERS = 256   # loadgen/HikariLoad.java WORKERS: the executor's threads


def sim_policy(lib: str, params: dict) -> tuple[str, dict]:
    """dbpoolsim's policy for a library and its parameters in the policy's names: the
    library's own, or for a library without a policy yet the closest one (CLOSEST).
    Go's load generator (loadgen/go) runs database/sql over lib/pq, with `timeout_s` as a
    context deadline on db.Conn: the go_database_sql kind's `context_timeout`. Debian's Go
    (1.19) hands a return to the first key of a range over a map: `waiter_order` "map".
    node-postgres's options are the node_postgres kind's own names. HikariCP is Debian's
    2.7.9 (libhikaricp-java): the hikaricp kind's `version` "2.7.9" (its connection adder
    does not pause 30 ms after each connection as 6.0.0's does), and its load generator runs
    each request on a ThreadPoolExecutor of 256 prestarted threads (loadgen/HikariLoad.java,
    WORKERS): `threads` 256, so that each borrow tries its thread's list first. asyncpg is
    PyPI's 0.32.0: the asyncpg kind's `version` "0.32" (min_size is a floor the inactivity
    timer spares and a background task restores; connected holders are taken first)."""
    if lib == "hikaricp":
        return "hikaricp", {**params, "version": "2.7.9", "threads": HIKARI_WORKERS}
    if lib == "asyncpg":
        return "asyncpg", {**params, "version": "0.32"}
    if lib == "go_database_sql":
        return "go_database_sql", {"max_open_conns": params["maxOpenConns"],
                                   "max_idle_conns": params["maxIdleConns"],
                                   "context_timeout": params["timeout_s"], "driver": "lib_pq",
                                   "waiter_order": "map"}
    return lib, params


def _fixed(size: int, timeout_s: float) -> dict[str, dict]:
    return {"psycopg_pool": {"min_size": size, "max_size": size, "timeout": timeout_s},
            "sqlalchemy_queuepool": {"pool_size": size, "max_overflow": 0, "pool_timeout": timeout_s},
            "asyncpg": {"min_size": size, "max_size": size, "timeout": timeout_s},
            "hikaricp": {"maximumPoolSize": size, "minimumIdle": size,
                         "connectionTimeout": int(round(timeout_s * 1000))}}


def _growing(low: int, high: int, **extra: dict) -> dict[str, dict]:
    pools = {"psycopg_pool": {"min_size": low, "max_size": high},
             "sqlalchemy_queuepool": {"pool_size": low, "max_overflow": high - low},
             "asyncpg": {"min_size": low, "max_size": high},
             "hikaricp": {"maximumPoolSize": high, "minimumIdle": low}}
    for lib, more in extra.items():
        pools[lib] = {**pools[lib], **more}
    return pools


def _thread_pools(pools: dict[str, dict]) -> dict[str, dict]:
    """psycopg_pool and SQLAlchemy only: asyncpg's prepared statements need
    statement_cache_size=0 behind PgBouncer, and HikariCP stays on the direct cases."""
    return {k: v for k, v in pools.items() if k in ("psycopg_pool", "sqlalchemy_queuepool")}


POISSON_32 = {"kind": "poisson", "rate_per_s": 32.0}
EXP_200MS = {"kind": "exponential", "mean_s": 0.2}

CASES: dict[str, Case] = {c.name: c for c in [
    Case("fixed80", "fixed pool of 8, Poisson 32/s, exponential holds of 200 ms (80 % busy), "
         "no acquire timeout to speak of (30 s)", POISSON_32, EXP_200MS, _fixed(8, 30.0)),
    Case("fixed80_timeout", "the same with a 250 ms acquire timeout (HikariCP's smallest "
         "connectionTimeout)", POISSON_32, EXP_200MS, _fixed(8, 0.25)),
    Case("overflow", "3 kept, up to 12, Poisson 30/s of 200 ms (6 busy on average): overflow "
         "connections opened and closed, or growth", {"kind": "poisson", "rate_per_s": 30.0},
         EXP_200MS, _growing(3, 12)),
    Case("bursty", "2 kept, up to 16; 8/s for 8 s then 60/s for 4 s, repeated, holds of "
         "100 ms: the pool grows in each burst and shrinks (idle retirement 2 s where the "
         "library allows it) in between",
         {"kind": "onoff", "low_per_s": 8.0, "low_s": 8.0, "high_per_s": 60.0, "high_s": 4.0},
         {"kind": "exponential", "mean_s": 0.1},
         _growing(2, 16, psycopg_pool={"max_idle": 2.0},
                  asyncpg={"max_inactive_connection_lifetime": 2.0},
                  hikaricp={"idleTimeout": 10000})),
    Case("cold_spike", "HikariCP's published spike: 50 requests at once against a warm "
         "minimum of 5 (max 50), 2 ms queries, connects slowed to 150 ms by a delaying proxy",
         {"kind": "burst", "count": 50, "at_s": 1.0}, {"kind": "constant", "value_s": 0.002},
         {"psycopg_pool": {"min_size": 5, "max_size": 50, "timeout": 8.0},
          "sqlalchemy_queuepool": {"pool_size": 5, "max_overflow": 45, "pool_timeout": 8.0},
          "asyncpg": {"min_size": 5, "max_size": 50, "timeout": 8.0},
          "hikaricp": {"maximumPoolSize": 50, "minimumIdle": 5, "connectionTimeout": 8000}},
         full_s=3.0, smoke_s=3.0, connect_delay_s=0.15),
    Case("restart", "fixed pool of 8 at Poisson 20/s of 200 ms, PostgreSQL restarted (fast "
         "shutdown, then start) a third of the way in; 1 s acquire timeout",
         {"kind": "poisson", "rate_per_s": 20.0}, EXP_200MS, _fixed(8, 1.0),
         restart_at_frac=1 / 3),
    Case("pgbouncer_transaction", "a client pool of 16 behind PgBouncer in transaction mode "
         "with default_pool_size 8, Poisson 32/s of 200 ms (PgBouncer's servers 80 % busy)",
         POISSON_32, EXP_200MS, _thread_pools(_fixed(16, 30.0)),
         pgbouncer={"pool_mode": "transaction", "default_pool_size": 8}),
    Case("pgbouncer_session", "a client pool of 8 behind PgBouncer in session mode with "
         "default_pool_size 8, Poisson 32/s of 200 ms: each client connection pins a server",
         POISSON_32, EXP_200MS, _thread_pools(_fixed(8, 30.0)),
         pgbouncer={"pool_mode": "session", "default_pool_size": 8}),
]}


def _draw_hold(rng: random.Random, hold: dict) -> float:
    if hold["kind"] == "exponential":
        return rng.expovariate(1.0 / hold["mean_s"])
    return hold["value_s"]


def arrival_times(arrivals: dict, length_s: float, rng: random.Random) -> list[float]:
    kind = arrivals["kind"]
    if kind == "burst":
        return [arrivals["at_s"]] * arrivals["count"]
    times: list[float] = []
    t = 0.0
    if kind == "poisson":
        while (t := t + rng.expovariate(arrivals["rate_per_s"])) < length_s:
            times.append(t)
        return times
    if kind == "onoff":            # deterministic alternation of two Poisson rates
        period = arrivals["low_s"] + arrivals["high_s"]
        while t < length_s:
            phase = t % period
            high = phase >= arrivals["low_s"]
            rate = arrivals["high_per_s"] if high else arrivals["low_per_s"]
            end = t - phase + (period if high else arrivals["low_s"])
            gap = rng.expovariate(rate)
            if t + gap < end:
                t += gap
                if t < length_s:
                    times.append(t)
            else:
                t = end            # memoryless: restart the draw at the rate change
        return times
    raise ValueError(f"arrivals.kind: unknown {kind!r}")


def write_trace(case: Case, length_s: float, path: Path) -> Path:
    """The case's trace as `id,t_s,hold_s` (hold times rounded to 0.1 ms, pg_sleep's grain
    is far coarser than that anyway)."""
    rng = random.Random(case.seed)
    times = arrival_times(case.arrivals, length_s, rng)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "t_s", "hold_s"])
        for i, t in enumerate(times):
            w.writerow([i, f"{t:.6f}", f"{max(1e-4, round(_draw_hold(rng, case.hold), 4)):.4f}"])
    return path


def mean_rate(arrivals: dict) -> float:
    if arrivals["kind"] == "poisson":
        return arrivals["rate_per_s"]
    if arrivals["kind"] == "onoff":
        return ((arrivals["low_per_s"] * arrivals["low_s"] + arrivals["high_per_s"] * arrivals["high_s"])
                / (arrivals["low_s"] + arrivals["high_s"]))
    return math.nan
