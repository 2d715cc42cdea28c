"""e03: the workload library the sizing formulas are tried on.

Each workload is a scenario (a dict built from a few knobs) and the SLO it is sized for.
They span what users run: 10 to 10,000 requests/s; constant, exponential, lognormal, gamma,
Weibull and Pareto (heavy-tailed) query times; application work inside the transaction
(holding the connection); 1 to 20 instances; databases of 2 to 64 cores, with and without USL
contention; with and without acquire timeouts; bursts (MMPP, instantaneous bursts) and closed
loops. Every pool is a fixed-size generic pool (min = max), as the formulas assume, with logins
of 50 ms done before the statistics window starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

WAIT_SLO = "wait_time_p99_ms <= 10"
TIMEOUT_SLO = "wait_time_p99_ms <= 10, timeout_rate <= 0.001"
# Every SLO also bounds the mean latency at 10 ms plus twice the uncontended hold time: a
# wait-only SLO is met by any pool so large that nobody waits for a connection, even when the
# database behind it is past its USL knee and every query crawls (or the system is unstable).


def exp(mean_s: float) -> dict[str, Any]:
    return {"kind": "exponential", "mean_s": mean_s}


def const(value_s: float) -> dict[str, Any]:
    return {"kind": "constant", "value_s": value_s}


def lognormal(median_s: float, p99_s: float) -> dict[str, Any]:
    return {"kind": "lognormal", "median_s": median_s, "p99_s": p99_s}


@dataclass
class Workload:
    name: str
    description: str
    rate_per_s: float = 100.0              # fleet-wide mean offered rate (open arrivals)
    query_time: dict[str, Any] = field(default_factory=lambda: exp(0.005))
    queries: int = 1
    app_time: Optional[dict[str, Any]] = None  # work inside the transaction, per query
    instances: int = 1
    cores: int = 8
    usl: Optional[dict[str, float]] = None
    timeout_s: float = 0.0                 # acquire timeout, 0 = none
    arrivals: Optional[dict[str, Any]] = None  # overrides Poisson at rate_per_s
    max_connections: int = 100000          # the database's limit
    rtt_s: float = 0.0005
    slo_base: str = WAIT_SLO

    @property
    def slo(self) -> str:
        from dbpoolsim import formulas

        hold_ms = 1000 * formulas.workload_terms(self.scenario()).hold_mean_s
        return f"{self.slo_base}, latency_avg_ms <= {10 + 2 * hold_ms:.3g}"

    def scenario(self, horizon_scale: float = 1.0, replications: int = 3,
                 seed: int = 3) -> dict[str, Any]:
        """The scenario: about 60,000 requests in the window (30 s to 600 s) times
        ``horizon_scale``, 5 s of warm-up."""
        horizon = min(600.0, max(30.0, 60000.0 / self.rate_per_s)) * horizon_scale
        arrivals = self.arrivals or {"kind": "poisson", "rate_per_s": self.rate_per_s}
        return {
            "name": f"e03-{self.name}",
            "description": self.description,
            "run": {"horizon_s": horizon + 5, "warmup_s": 5, "replications": replications,
                    "seed": seed, "sample_interval_s": 10},
            "workload": {"arrivals": arrivals,
                         "transactions": [{"queries": self.queries, "query_time": self.query_time,
                                           "app_time": self.app_time}]},
            "client": {"instances": self.instances},
            "pool": {"kind": "generic", "min_connections": 10, "max_connections": 10,
                     "acquisition_timeout": self.timeout_s, "idle_timeout": 0,
                     "max_lifetime": 0, "health_check_interval": 0},
            "database": {"cores": self.cores, "max_connections": self.max_connections,
                         "connect_time": const(0.05), "network_rtt_s": self.rtt_s,
                         "usl": self.usl},
        }


USL_PG = {"sigma": 0.02, "kappa": 0.0005}   # N* = sqrt(0.98 / 0.0005) = 44 active queries
USL_STRONG = {"sigma": 0.05, "kappa": 0.002}  # N* = 22
USL_BIG = {"sigma": 0.002, "kappa": 0.00001}  # N* = 316: a 64-core server scales further

WORKLOADS: list[Workload] = [
    Workload("tiny-10", "a back-office app: 10 req/s, Exp(5 ms), 2-core database",
             rate_per_s=10, cores=2),
    Workload("small-100", "a small service: 100 req/s, Exp(20 ms), 2 instances, 4 cores",
             rate_per_s=100, query_time=exp(0.02), instances=2, cores=4),
    Workload("constant-1000", "1,000 req/s of constant 5 ms queries, 4 instances, 8 cores",
             rate_per_s=1000, query_time=const(0.005), instances=4),
    Workload("exp-1000", "1,000 req/s, Exp(5 ms), 4 instances, 8 cores",
             rate_per_s=1000, instances=4),
    Workload("lognormal-1000", "1,000 req/s, lognormal median 4 ms p99 40 ms, 2 queries, "
             "4 instances, 16 cores", rate_per_s=1000, query_time=lognormal(0.004, 0.040),
             queries=2, instances=4, cores=16),
    Workload("heavy-lognormal-1000", "1,000 req/s, lognormal median 2 ms p99 100 ms "
             "(sd/mean about 4), 4 instances, 16 cores", rate_per_s=1000,
             query_time=lognormal(0.002, 0.100), instances=4, cores=16),
    Workload("pareto-1000", "1,000 req/s, Pareto shape 2.2 from 2.5 ms (mean 4.6 ms, finite "
             "variance), 4 instances", rate_per_s=1000,
             query_time={"kind": "pareto", "shape": 2.2, "scale_s": 0.0025}, instances=4),
    Workload("pareto-heavy-500", "500 req/s, Pareto shape 1.5 from 2 ms (mean 6 ms, infinite "
             "variance), 2 instances", rate_per_s=500,
             query_time={"kind": "pareto", "shape": 1.5, "scale_s": 0.002}, instances=2),
    Workload("gamma-bursty-holds-800", "800 req/s, gamma shape 0.25 mean 6 ms (cv 2), "
             "2 instances", rate_per_s=800,
             query_time={"kind": "gamma", "shape": 0.25, "scale_s": 0.024}, instances=2),
    Workload("weibull-300", "300 req/s, Weibull shape 0.7 scale 8 ms, 1 instance", rate_per_s=300,
             query_time={"kind": "weibull", "shape": 0.7, "scale_s": 0.008}),
    Workload("design-3000", "DESIGN.md's planner: 3,000 req/s, 2 x lognormal(0.6 ms, p99 6 ms) "
             "queries, 8-core database (73 % busy), 6 instances", rate_per_s=3000,
             query_time=lognormal(0.0006, 0.006), queries=2, instances=6, cores=8),
    Workload("design-3000-usl", "as design-3000 on a contended 16-core database (USL sigma "
             "0.02, kappa 0.0005)", rate_per_s=3000, query_time=lognormal(0.0006, 0.006),
             queries=2, instances=6, cores=16, usl=USL_PG),
    Workload("fleet-10000", "10,000 req/s, Exp(2 ms), 20 instances, 64 cores", rate_per_s=10000,
             query_time=exp(0.002), instances=20, cores=64),
    Workload("fleet-10000-usl", "10,000 req/s, Exp(2 ms), 20 instances, 64 cores with USL "
             "contention (sigma 0.002, kappa 1e-5: N* = 316)", rate_per_s=10000,
             query_time=exp(0.002), instances=20, cores=64, usl=USL_BIG),
    Workload("two-core-busy", "300 req/s, Exp(5 ms) on a 2-core database (75 % CPU)",
             rate_per_s=300, cores=2),
    Workload("sixteen-core-usl", "1,500 req/s, Exp(4 ms), 4 instances, 16 cores, strong USL "
             "contention (N* = 22)", rate_per_s=1500, query_time=exp(0.004), instances=4,
             cores=16, usl=USL_STRONG),
    Workload("app-work-200", "200 req/s, 3 queries of Exp(2 ms) each followed by Exp(20 ms) of "
             "application work holding the connection", rate_per_s=200, query_time=exp(0.002),
             queries=3, app_time=exp(0.020)),
    Workload("app-work-2000", "2,000 req/s, 2 queries of Exp(1 ms) + lognormal(5 ms, p99 "
             "50 ms) app work each, 10 instances, 16 cores", rate_per_s=2000,
             query_time=exp(0.001), queries=2, app_time=lognormal(0.005, 0.050), instances=10,
             cores=16),
    Workload("slow-analytics-20", "20 req/s of Exp(200 ms) reports, 8 cores", rate_per_s=20,
             query_time=exp(0.2)),
    Workload("timeout-standard", "the standard case: 900 req/s, Exp(10 ms), 50 ms acquire "
             "timeout", rate_per_s=900, query_time=exp(0.010), cores=0, timeout_s=0.05,
             slo_base=TIMEOUT_SLO),
    Workload("timeout-1s-lognormal", "1,500 req/s, lognormal(5 ms, p99 60 ms), 3 instances, "
             "32 cores, 1 s acquire timeout", rate_per_s=1500, query_time=lognormal(0.005, 0.060),
             instances=3, cores=32, timeout_s=1.0, slo_base=TIMEOUT_SLO),
    Workload("timeout-usl-4000", "4,000 req/s, Exp(3 ms), 8 instances, 32 cores with USL, "
             "200 ms acquire timeout", rate_per_s=4000, query_time=exp(0.003), instances=8,
             cores=32, usl=USL_PG, timeout_s=0.2, slo_base=TIMEOUT_SLO),
    Workload("mmpp-bursts", "MMPP: 200 req/s for 20 s then 1,200 req/s for 2 s (mean 291/s), "
             "Exp(5 ms), 2 instances", rate_per_s=291,
             arrivals={"kind": "mmpp", "states": [{"rate_per_s": 200, "mean_holding_s": 20},
                                                  {"rate_per_s": 1200, "mean_holding_s": 2}]},
             instances=2),
    Workload("spike-burst", "50 requests at once every second (a cron fan-out), constant "
             "2 ms queries", rate_per_s=50,
             arrivals={"kind": "burst", "count": 50, "at_s": 5.5, "every_s": 1},
             query_time=const(0.002)),
    Workload("closed-loop-200", "200 users thinking Exp(0.5 s) (about 390 req/s), Exp(10 ms), "
             "2 instances", rate_per_s=390,
             arrivals={"kind": "closed_loop", "users": 200, "think_time": exp(0.5)},
             query_time=exp(0.010), instances=2),
    Workload("closed-loop-oracle-mini", "F1 in miniature: 960 users with 550 ms think time, "
             "12-core database with USL contention, 2 ms queries", rate_per_s=1700,
             arrivals={"kind": "closed_loop", "users": 960, "think_time": exp(0.55)},
             query_time=exp(0.002), cores=12, usl=USL_STRONG),
    Workload("seed003-fleet", "seeds/003-like: 5 instances, 2,500 req/s, Exp(2 ms), 8 cores, "
             "max_connections 200", rate_per_s=2500, query_time=exp(0.002), instances=5,
             cores=8, max_connections=200),
]

assert len({w.name for w in WORKLOADS}) == len(WORKLOADS)
