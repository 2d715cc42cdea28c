"""dbpoolsim.formulas: the pool-sizing formulas users meet, put on trial against the simulator.

    >>> from dbpoolsim import formulas
    >>> formulas.catalogue()                                   # every formula, source, claim
    >>> formulas.sizes("standard-case", "wait_time_p99_ms <= 10")   # their sizes, no simulation
    >>> formulas.evaluate("standard-case", "wait_time_p99_ms <= 10")  # simulated at each size

Each formula reads the scenario in its own terms (``workload_terms``): the offered rate per
instance, the mean connection hold time, the database's cores and ``max_connections``, the
acquire timeout. It returns a pool size per application instance. ``evaluate`` simulates the
scenario at every formula's size and compares with the smallest size that meets the SLO
(``needed_size``: ``dbpoolsim.recommend`` on the pool's size fields), both judged by
recommend's rule (dbpoolsim.slo: one-sided 95 % Student-t bounds over replications).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence

from ._lazy import pd

from ._core import theory
from .recommend import Recommendation, recommend
from .scenario import ScenarioLike, resolve_scenario
from .slo import Clause, SloLike, parse_slo

__all__ = [
    "Formula",
    "WorkloadTerms",
    "FORMULAS",
    "catalogue",
    "evaluate",
    "needed_size",
    "parse_slo",
    "set_pool_size",
    "sizes",
    "workload_terms",
]

Slo = list[Clause]

# Defaults used by the formulas when the SLO does not say (each stated in the catalogue).
_DEFAULT_WAIT_P99_S = 0.010     # a p99 acquire wait of 10 ms (DESIGN.md's planner question)
_DEFAULT_TIMEOUT_RATE = 0.001   # the seeds' timeout-rate threshold (seeds/000 health check)
_HEADROOM_UTILIZATION = 0.7     # the top of the seeds' "healthy" utilisation band (40-70 %)
_SQRT_STAFFING_BETA = 1.0       # Halfin-Whitt: beta = 1 gives P(wait) ~ 0.22
_PEAK_QUANTILE = 0.999          # "peak concurrent requests": the 99.9 % point of Poisson(L)


# ---------------------------------------------------------------------------------------------
# The scenario in the formulas' terms


def _mean_s(dist: Optional[Mapping[str, Any]], where: str) -> float:
    """Mean of a scenario distribution (docs/scenario.md, 'Distributions')."""
    if dist is None:
        return 0.0
    kind = dist["kind"]
    if kind == "constant":
        return float(dist["value_s"])
    if kind == "exponential":
        return float(dist["mean_s"])
    if kind == "lognormal":
        if "mean_s" in dist:
            return float(dist["mean_s"])
        mu = math.log(dist["median_s"])
        sigma = (math.log(dist["p99_s"]) - mu) / 2.3263478740408408
        return math.exp(mu + sigma * sigma / 2)
    if kind == "gamma":
        return float(dist["shape"]) * float(dist["scale_s"])
    if kind == "weibull":
        return float(dist["scale_s"]) * math.gamma(1 + 1 / float(dist["shape"]))
    if kind == "pareto":
        alpha = float(dist["shape"])
        if alpha <= 1:
            raise ValueError(f"{where}: a pareto with shape {alpha} <= 1 has no mean; the "
                             f"formulas need one")
        return alpha * float(dist["scale_s"]) / (alpha - 1)
    if kind == "uniform":
        return (float(dist["low_s"]) + float(dist["high_s"])) / 2
    if kind in ("empirical", "sequence"):  # a sequence's mean is its values' (models/distribution.cpp)
        xs = dist["samples_s" if kind == "empirical" else "values_s"]
        return sum(xs) / len(xs)
    if kind == "mixture":
        comps = dist["components"]
        total = sum(float(c.get("weight", 1)) for c in comps)
        return sum(float(c.get("weight", 1)) * _mean_s(c["dist"], f"{where}/components/{i}/dist")
                   for i, c in enumerate(comps)) / total
    raise ValueError(f"{where}: distribution kind {kind!r} has no mean the formulas can use")


@dataclass(frozen=True)
class WorkloadTerms:
    """What a sizing formula sees of a scenario (all per second and seconds)."""

    arrival_rate_per_s: float   # fleet-wide mean offered rate (closed loop: N / (Z + hold))
    peak_arrival_rate_per_s: float  # the highest rate of a profile / MMPP state; = mean else
    burst_size: int             # requests arriving at one instant (burst arrivals), else 0
    instances: int              # client.instances
    hold_mean_s: float          # mean connection hold: queries x (query + rtt + app) per request
    db_time_mean_s: float       # mean database time per request: queries x query_time
    db_cores: int               # database.cores (0 = not modelled)
    db_max_connections: int     # database.max_connections
    acquire_timeout_s: float    # the pool's acquire timeout (inf = none)

    @property
    def rate_per_instance(self) -> float:
        return self.peak_arrival_rate_per_s / self.instances

    @property
    def offered_load_per_instance(self) -> float:
        """Little's law: mean connections busy per instance, lambda_i E[hold] (Erlangs)."""
        return self.rate_per_instance * self.hold_mean_s


_TIMEOUT_FIELD = {  # pool kind -> (field, unit factor to seconds)
    "generic": ("acquisition_timeout", 1.0), "hikaricp": ("connectionTimeout", 1e-3),
    "sqlalchemy_queuepool": ("pool_timeout", 1.0),
    "sqlalchemy_asyncadaptedqueuepool": ("pool_timeout", 1.0),
    "psycopg_pool": ("timeout", 1.0), "sqlx": ("acquire_timeout", 1.0), "asyncpg": ("timeout", 1.0),
}


def workload_terms(scenario: ScenarioLike) -> WorkloadTerms:
    """The scenario in the formulas' terms. Raises ScenarioError for an invalid scenario and
    ValueError (naming the field) for one the formulas cannot read (trace arrivals, several
    pools, a hold-time distribution without a mean)."""
    s = resolve_scenario(scenario)
    wl = s["workload"]
    rtt = float(s.get("database", {}).get("network_rtt_s", 0.0))
    txs = wl["transactions"]
    total_w = sum(float(t["weight"]) for t in txs)
    hold = db = 0.0
    for i, t in enumerate(txs):
        q = int(t["queries"])
        qt = _mean_s(t["query_time"], f"/workload/transactions/{i}/query_time")
        app = _mean_s(t.get("app_time"), f"/workload/transactions/{i}/app_time")
        w = float(t["weight"]) / total_w
        hold += w * q * (qt + rtt + app)
        db += w * q * qt
    arr = wl["arrivals"]
    kind = arr["kind"]
    burst = 0
    if kind == "poisson":
        if arr.get("profile"):
            pts = arr["profile"]["points"]
            rates = [float(p["rate_per_s"]) for p in pts]
            mean = sum(rates) / len(rates)
            peak = max(rates)
        else:
            mean = peak = float(arr["rate_per_s"])
    elif kind == "mmpp":
        st = arr["states"]
        mean = (sum(float(x["rate_per_s"]) * float(x["mean_holding_s"]) for x in st)
                / sum(float(x["mean_holding_s"]) for x in st))
        peak = max(float(x["rate_per_s"]) for x in st)
    elif kind == "closed_loop":
        z = _mean_s(arr["think_time"], "/workload/arrivals/think_time")
        mean = peak = int(arr["users"]) / (z + hold)  # the bound with no waiting
    elif kind == "burst":
        burst = int(arr["count"])
        period = float(arr["every_s"]) or float(s["run"]["horizon_s"])
        mean = peak = burst / period
    else:
        raise ValueError(f"/workload/arrivals/kind: the formulas need an analytic rate, and "
                         f"{kind!r} arrivals have none; use poisson, mmpp, burst or closed_loop")
    if s.get("pools"):
        raise ValueError("/pools: the formulas size one pool per instance; this scenario has "
                         f"{len(s['pools'])} named pools")
    pool = s["pool"]
    field, unit = _TIMEOUT_FIELD.get(pool["kind"], ("", 1.0))
    timeout = float(pool.get(field, 0) or 0) * unit if field else 0.0
    if pool["kind"] == "hikaricp" and timeout >= 2147483.647 - 1e-6:
        timeout = 0.0
    db_conf = s["database"]
    return WorkloadTerms(
        arrival_rate_per_s=mean, peak_arrival_rate_per_s=peak, burst_size=burst,
        instances=int(s["client"]["instances"]), hold_mean_s=hold, db_time_mean_s=db,
        db_cores=int(db_conf.get("cores", 0)), db_max_connections=int(db_conf["max_connections"]),
        acquire_timeout_s=timeout if timeout > 0 else math.inf)


# ---------------------------------------------------------------------------------------------
# The catalogue


@dataclass(frozen=True)
class Formula:
    """One sizing formula: ``size(terms, slo)`` is connections per instance (NaN when the
    formula does not apply, e.g. core-count rules with ``database.cores`` = 0)."""

    name: str
    expression: str
    source: str
    inputs: str
    claims: str
    size: Callable[[WorkloadTerms, Slo], float]


def _ceil(x: float) -> int:
    """ceil, with values within 1e-9 (relative) above an integer taken as that integer."""
    r = round(x)
    return int(r) if abs(x - r) <= 1e-9 * max(1.0, abs(x)) else int(math.ceil(x))


def _poisson_quantile(mean: float, q: float) -> int:
    """Smallest k with P(Poisson(mean) <= k) >= q (M/G/inf: busy connections are Poisson)."""
    if mean <= 0:
        return 0
    if mean > 1e5:  # normal approximation with continuity correction
        z = {0.999: 3.090232306167813, 0.99: 2.3263478740408408}.get(q, 3.090232306167813)
        return _ceil(mean + z * math.sqrt(mean) - 0.5)
    k, term = 0, math.exp(-mean)
    cum = term
    while cum < q:
        k += 1
        term *= mean / k
        cum += term
    return k


def _wait_target(slo: Slo) -> tuple[float, float]:
    """(percentile, seconds) of the SLO's wait-time clause, or the 10 ms p99 default."""
    for c in slo:
        m = re.fullmatch(r"wait_time_p(\d+)_ms", c.metric)
        if m and c.upper:
            return int(m.group(1)) / 100, c.target / 1000
        if c.metric == "wait_time_avg_ms" and c.upper:
            return -1.0, c.target / 1000  # a mean target
    return 0.99, _DEFAULT_WAIT_P99_S


def _timeout_target(slo: Slo) -> float:
    for c in slo:
        if c.metric == "timeout_rate" and c.upper:
            return c.target
    return _DEFAULT_TIMEOUT_RATE


def _erlang_c_wait_ok(c: int, lam: float, mu: float, q: float, t: float) -> bool:
    """M/M/c: the q-quantile of the wait is <= t (q < 0: the mean wait is <= t)."""
    if lam >= c * mu:
        return False
    if q < 0:
        return float(theory.mmc(lam, mu, c)["mean_wait"]) <= t
    # P(W > t) = C(c, a) exp(-(c mu - lam) t)  (Kleinrock vol. 1, eq. 3.41)
    return float(theory.erlang_c(c, lam / mu)) * math.exp(-(c * mu - lam) * t) <= 1 - q + 1e-12


def _smallest(ok: Callable[[int], bool], start: int) -> int:
    c = max(1, start)
    while not ok(c):
        c += 1
        if c > 10_000_000:
            raise ValueError("no pool size up to 10,000,000 meets this formula's target")
    return c


def _lam_mu(w: WorkloadTerms) -> tuple[float, float]:
    return w.rate_per_instance, 1.0 / w.hold_mean_s


def _f_seed000(w: WorkloadTerms, slo: Slo) -> float:
    peak = w.burst_size or _poisson_quantile(w.peak_arrival_rate_per_s * w.hold_mean_s, _PEAK_QUANTILE)
    return max(1, _ceil(peak * 1.2 / w.instances))


def _f_seed002_literal(w: WorkloadTerms, slo: Slo) -> float:
    concurrent = w.rate_per_instance * w.hold_mean_s
    return max(1, _ceil(concurrent * w.db_time_mean_s / w.rate_per_instance))


def _f_seed002_example(w: WorkloadTerms, slo: Slo) -> float:
    return max(1, _ceil(w.rate_per_instance * w.db_time_mean_s * 1.5))


def _f_seed003(w: WorkloadTerms, slo: Slo) -> float:
    return 35.0


def _f_seed004(w: WorkloadTerms, slo: Slo) -> float:
    expected = w.offered_load_per_instance * 1.2
    cap = w.db_max_connections * 0.8 / w.instances
    return max(1, _ceil(min(expected, cap)))


def _f_hikaricp(w: WorkloadTerms, slo: Slo) -> float:
    if w.db_cores <= 0:
        return math.nan
    return max(1, _ceil((w.db_cores * 2 + 0) / w.instances))


def _f_little(w: WorkloadTerms, slo: Slo) -> float:
    return max(1, _ceil(w.offered_load_per_instance))


def _f_little_headroom(w: WorkloadTerms, slo: Slo) -> float:
    return max(1, _ceil(w.offered_load_per_instance / _HEADROOM_UTILIZATION))


def _f_erlang_c(w: WorkloadTerms, slo: Slo) -> float:
    lam, mu = _lam_mu(w)
    q, t = _wait_target(slo)
    return _smallest(lambda c: _erlang_c_wait_ok(c, lam, mu, q, t), math.floor(lam / mu))


def _f_sqrt_staffing(w: WorkloadTerms, slo: Slo) -> float:
    return float(theory.square_root_staffing(w.offered_load_per_instance, _SQRT_STAFFING_BETA))


def _f_barrer(w: WorkloadTerms, slo: Slo) -> float:
    lam, mu = _lam_mu(w)
    target = _timeout_target(slo)
    tau = w.acquire_timeout_s
    if math.isinf(tau):  # no timeout: the smallest stable M/M/c
        return float(math.floor(lam / mu) + 1)
    return _smallest(lambda c: float(theory.mmc_deterministic_patience(lam, mu, c, tau)["p_timeout"])
                     <= target, 1)


def _f_peer(w: WorkloadTerms, slo: Slo) -> float:
    lam, mu = _lam_mu(w)
    _, t = _wait_target(slo)
    return _smallest(lambda c: lam / (c * mu) < 0.85 and _erlang_c_wait_ok(c, lam, mu, 0.99, t),
                     math.floor(lam / mu))


FORMULAS: tuple[Formula, ...] = (
    Formula("seed000", "max_connections = peak_concurrent_requests * 1.2 / num_app_servers",
            "seeds/000 lines 514-526 (also line 68)",
            "peak_concurrent_requests = the 99.9 % point of Poisson(lambda E[hold]) (the M/G/inf "
            "count of busy connections), or the burst size; num_app_servers = client.instances",
            "max pool size per instance (seeds/000 also gives min_connections = avg_concurrent "
            "x 0.8 / num_app_servers and idle_timeout = 2 x avg_request_interval)", _f_seed000),
    Formula("seed002_literal", "pool_size = concurrent_requests * avg_db_time_per_request / request_rate",
            "seeds/002 line 163",
            "concurrent_requests = lambda E[hold] (Little), avg_db_time = queries x E[query_time], "
            "request_rate = lambda; per instance",
            "pool size; as written its units are requests x s / (requests/s) = s^2: it computes "
            "E[hold] x E[db time], a number far below 1 for any OLTP load, so 1 connection",
            _f_seed002_literal),
    Formula("seed002_example", "pool_size = request_rate * avg_db_time_per_request * 1.5",
            "seeds/002 lines 165-169 (the worked example: 100/s x 50 ms = 5, +50 % = 8)",
            "request_rate = lambda per instance, avg_db_time = queries x E[query_time]",
            "pool size: the formula the example actually computes (Little's law on DB time "
            "only, plus 50 %)", _f_seed002_example),
    Formula("seed003", "max_connections = 50 + app_instances * 35",
            "seeds/003 line 285 (pool 35 per instance, lines 63 and 77)",
            "none: 35 connections per instance whatever the load",
            "the database's max_connections for a fleet of 35-connection pools; the pool size "
            "it implies is 35", _f_seed003),
    Formula("seed004", "max_connections = min(expected_concurrent_requests * 1.2, "
            "postgres_max_connections * 0.8)", "seeds/004 line 25",
            "expected_concurrent_requests = lambda_i E[hold]; postgres_max_connections = "
            "database.max_connections, shared by client.instances",
            "max pool size per instance", _f_seed004),
    Formula("hikaricp", "connections = core_count * 2 + effective_spindle_count",
            "HikariCP wiki 'About Pool Sizing' (from the PostgreSQL wiki 'Number Of Database "
            "Connections')",
            "core_count = database.cores, effective_spindle_count = 0 (SSD / cached data); the "
            "total split over client.instances (Brett Wooldridge, HikariCP #1652/#1991: the "
            "formula is per database)", "connections to the database, fleet-wide",
            _f_hikaricp),
    Formula("little", "pool = lambda * E[hold]", "Little (1961)",
            "lambda = offered rate per instance, E[hold] = mean connection hold",
            "the mean number of busy connections: the floor below which the pool is unstable",
            _f_little),
    Formula("little_headroom", "pool = lambda * E[hold] / 0.7", "Little (1961) + the seeds' "
            "healthy utilisation band (40-70 %, seeds/000)",
            "as little", "a pool busy at most 70 % on average", _f_little_headroom),
    Formula("erlang_c", "smallest c with P(W > t) = C(c, a) exp(-(c mu - lambda) t) <= 1 - q",
            "Erlang C, M/M/c (Kleinrock, Queueing Systems vol. 1, eq. 3.41)",
            "lambda per instance, mu = 1 / E[hold] (exponential holds assumed), (q, t) from the "
            "SLO's wait_time_pXX_ms clause (default p99 <= 10 ms)",
            "the pool meeting a wait-percentile target with Poisson arrivals, exponential "
            "holds, no timeouts", _f_erlang_c),
    Formula("sqrt_staffing", "c = ceil(a + beta sqrt(a)), beta = 1",
            "Halfin & Whitt, Operations Research 29 (1981); square-root staffing",
            "a = lambda_i E[hold]", "a pool in the quality-and-efficiency-driven regime "
            "(P(wait) about 0.22 at beta = 1)", _f_sqrt_staffing),
    Formula("barrer", "smallest c with P(timeout) of M/M/c+D <= target",
            "Barrer, Operations Research 5 (1957); exact form in dbpoolsim.theory."
            "mmc_deterministic_patience",
            "lambda per instance, mu = 1 / E[hold], patience = the pool's acquire timeout, "
            "target = the SLO's timeout_rate clause (default 0.001, the seeds' threshold)",
            "the pool meeting a timeout-rate target", _f_barrer),
    Formula("peer_calculator", "smallest c with rho < 0.85 and Erlang-C p99 wait <= target",
            "poolsim (gregorian-09/poolsim), users-and-peers.md section 1.1 row 1",
            "lambda per instance, mu = 1 / E[hold], target from the SLO's wait clause "
            "(default 10 ms)", "the peer calculator's recommended pool size", _f_peer),
)


def catalogue() -> pd.DataFrame:
    """Every formula: name, expression, source, inputs (in the scenario's terms), claim."""
    return pd.DataFrame([{"formula": f.name, "expression": f.expression, "source": f.source,
                          "inputs": f.inputs, "claims": f.claims} for f in FORMULAS])


def _select(names: Optional[Sequence[str]]) -> list[Formula]:
    if names is None:
        return list(FORMULAS)
    known = {f.name: f for f in FORMULAS}
    bad = [n for n in names if n not in known]
    if bad:
        raise ValueError(f"unknown formula {bad[0]!r}; known: {', '.join(known)}")
    return [known[n] for n in names]


def sizes(scenario: ScenarioLike, slo: SloLike = "wait_time_p99_ms <= 10",
          formulas: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """Each formula's pool size per instance for this scenario (no simulation)."""
    terms = workload_terms(scenario)
    clauses = parse_slo(slo)
    return pd.DataFrame([{"formula": f.name, "size": f.size(terms, clauses)}
                         for f in _select(formulas)])


# ---------------------------------------------------------------------------------------------
# The pool's size fields, and the simulated need (dbpoolsim.recommend)


_SIZE_FIELDS = {"generic": ("min_connections", "max_connections"),  # kind -> (min, max)
                "hikaricp": ("minimumIdle", "maximumPoolSize"),
                "psycopg_pool": ("min_size", "max_size"), "asyncpg": ("min_size", "max_size"),
                "sqlx": ("min_connections", "max_connections")}


def set_pool_size(scenario: ScenarioLike, size: int) -> dict[str, Any]:
    """A copy of the resolved scenario whose pool holds at most ``size`` connections per
    instance, in the pool library's own fields: a fixed-size pool (minimum = maximum) stays
    fixed at ``size``, other minimums are clamped to it; QueuePool gets pool_size = size,
    max_overflow = 0."""
    if int(size) != size or size < 1:
        raise ValueError(f"pool size must be an integer >= 1, got {size!r}")
    n = int(size)
    s = copy.deepcopy(resolve_scenario(scenario))
    p = s["pool"]
    kind = p["kind"]
    fields = _SIZE_FIELDS
    if kind in ("sqlalchemy_queuepool", "sqlalchemy_asyncadaptedqueuepool"):
        p["pool_size"] = n
        p["max_overflow"] = 0
    elif kind in fields:
        lo, hi = fields[kind]
        fixed = p.get(hi) is None or int(p.get(lo) or 0) >= int(p[hi])  # psycopg: null max = min
        p[hi] = n
        p[lo] = n if fixed else min(int(p[lo] or 0), n)  # a fixed-size pool stays fixed
    else:
        raise ValueError(f"/pool/kind: set_pool_size does not know the size fields of {kind!r}")
    return s


def _size_parameter(resolved: dict[str, Any], lo: int) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The scenario and the dotted path(s) ``recommend`` sets to a size, matching
    ``set_pool_size``: both bounds of a fixed-size pool, only the maximum of a growing one
    (its minimum clamped to ``lo``, the smallest size judged), QueuePool's pool_size with
    max_overflow = 0."""
    s = copy.deepcopy(resolved)
    p = s["pool"]
    kind = p["kind"]
    if kind in ("sqlalchemy_queuepool", "sqlalchemy_asyncadaptedqueuepool"):
        p["max_overflow"] = 0
        return s, ("pool.pool_size",)
    if kind not in _SIZE_FIELDS:
        raise ValueError(f"/pool/kind: set_pool_size does not know the size fields of {kind!r}")
    low, high = _SIZE_FIELDS[kind]
    if p.get(high) is None or int(p.get(low) or 0) >= int(p[high]):
        p[high] = p[low] = lo  # both set together by recommend
        return s, (f"pool.{low}", f"pool.{high}")
    p[high] = max(int(p[high]), lo)
    p[low] = min(int(p[low] or 0), lo)
    return s, (f"pool.{high}",)


def needed_size(scenario: ScenarioLike, slo: SloLike, start: int = 1, max_size: int = 4096,
                threads: Optional[int] = None, also: Sequence[int] = (),
                window: int = 64) -> Recommendation:
    """The smallest pool size per instance in ``[start, max_size]`` meeting every SLO clause
    with 95 % confidence: ``dbpoolsim.recommend`` on the pool's size field(s) (see
    ``set_pool_size``), judging ``also`` (e.g. the formulas' sizes) by the same rule.

    When ``start`` itself meets the SLO, the sizes below it are searched too (from 1). When
    recommend's answer lies more than one above ``start``, every size between them that its
    bisection skipped (up to ``start + window``) is judged too, and the smallest meeting the
    SLO taken: the SLO need not be monotone in the size (deterministic bursts). When
    nothing meets it and recommend reports a knee (a USL database where a pool can be too
    small and too large at once, with the sizes meeting the SLO in a window narrower than
    recommend's doubling ladder), every size from ``start`` to ``start + window`` is judged
    and the smallest meeting the SLO is taken; ``value`` stays None when none does."""
    resolved = resolve_scenario(scenario)
    clauses = parse_slo(slo)
    lo = max(1, min(int(start), max_size - 1))
    extra = sorted({int(n) for n in also if 1 <= n <= max_size})

    def search(a: int, b: int, more: Sequence[int]) -> Recommendation:
        scen, paths = _size_parameter(resolved, min([a, *more]))
        return recommend(scen, paths, clauses, lo=a, hi=b, threads=threads, progress=False,
                         also=more)

    rec = search(lo, max_size, extra)
    if rec.value == lo and lo > 1:
        rec = search(1, lo, extra)  # the start already meets it: look below
    elif rec.value is not None and rec.value - lo > 1:
        # Bisection assumes the SLO, once met, stays met; with deterministic bursts or holds
        # it can be met, lost and met again. Judge every size it skipped below its answer.
        top = int(rec.value)
        gaps = [n for n in range(lo, min(top, lo + window)) if n not in rec.verdicts]
        if gaps:
            below = search(lo, top, sorted(set(extra) | set(gaps)))
            met = [v for v, vs in below.verdicts.items() if v < top and all(x.met for x in vs)]
            if met:
                below.value, below.met, below.knee = min(met), True, rec.knee
                below.why = (f"{min(met):g} meets every clause with 95 % confidence, below "
                             f"recommend's bisection answer {top:g}: the SLO is not monotone in "
                             f"the pool size here. {rec.why}")
                rec = below
    elif rec.value is None and rec.knee is not None:
        scan = list(range(lo, min(lo + window, max_size) + 1))
        rec = search(lo, max_size, sorted(set(extra) | set(scan)))
        met = [v for v, vs in rec.verdicts.items() if all(x.met for x in vs)]
        if met:
            rec.value, rec.met = min(met), True
            rec.why += (f" Outside the doubling ladder, sizes {lo}..{scan[-1]} judged one by "
                        f"one: {min(met):g} is the smallest meeting the SLO.")
    return rec


def evaluate(scenario: ScenarioLike, slo: SloLike, formulas: Optional[Sequence[str]] = None,
             max_size: int = 4096, threads: Optional[int] = None) -> pd.DataFrame:
    """One row per formula: its size per instance, the simulated SLO metrics at that size
    (mean and 95 % CI half-width over replications), whether the SLO holds there (every
    clause's one-sided 95 % bound on the right side of its target: dbpoolsim.slo, the rule
    of ``dbpoolsim.recommend``), the simulated need (``needed_size``: recommend's smallest
    size meeting the SLO by the same rule) and the over-provisioning ``size - needed``
    (negative: under). ``needed`` is NaN when no size up to ``max_size`` meets the SLO (with
    a USL knee, sizes near the knee are judged one by one first); ``knee`` is recommend's
    knee (NaN when bigger is never worse) and ``why`` its sentence.
    Raises ScenarioError for an invalid scenario or SLO, ValueError for a formula name.

    Bound the latency in the SLO too (e.g. ``latency_avg_ms``): a wait-only SLO is met by a
    pool so large that nobody waits for a connection even when the database behind it is
    overloaded, and the search then reports that size as the need."""
    resolved = resolve_scenario(scenario)
    clauses = parse_slo(slo)
    terms = workload_terms(resolved)
    chosen = _select(formulas)
    size_of = {f.name: f.size(terms, clauses) for f in chosen}
    at = {f: int(min(n, max_size)) for f, n in size_of.items() if not math.isnan(n)}
    start = max(1, math.floor(terms.offered_load_per_instance))
    rec = needed_size(resolved, clauses, start=start, max_size=max_size, threads=threads,
                      also=sorted(set(at.values())))
    table = rec.evaluated.set_index(rec.parameter[-1])
    rows: list[dict[str, Any]] = []
    for f in chosen:
        row: dict[str, Any] = {"formula": f.name, "size": size_of[f.name]}
        if f.name in at:
            n = at[f.name]
            for c in clauses:
                row[c.metric] = table.at[n, c.metric]
                row[f"{c.metric}_ci95"] = table.at[n, f"{c.metric}_ci95"]
            row["slo_holds"] = bool(table.at[n, "met"])
        rows.append(row)
    out = pd.DataFrame(rows)
    needed = math.nan if rec.value is None else float(rec.value)
    out["needed"] = needed
    out["over_provision"] = out["size"] - needed
    out["over_provision_pct"] = 100 * out["over_provision"] / needed
    out["knee"] = math.nan if rec.knee is None else float(rec.knee)
    out["why"] = rec.why
    return out
