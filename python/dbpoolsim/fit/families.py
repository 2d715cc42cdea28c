"""Distribution fits for the scenario's `kind`s: to a few percentiles (a dashboard's p50/p95/p99)
or to raw samples (maximum likelihood, AIC choice, Kolmogorov-Smirnov goodness of fit).

The families are the scenario's own (docs/scenario.md#distributions): lognormal, gamma,
Weibull, and for samples also exponential; what comes back is a scenario distribution dict,
ready for `query_time`, `connect_time` or any other distribution field.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from .._errors import scenario_error

__all__ = ["Fit", "FAMILIES", "from_percentiles", "from_samples"]

FAMILIES = ("lognormal", "gamma", "weibull")
SAMPLE_FAMILIES = ("exponential", "lognormal", "gamma", "weibull")
_Z99 = 2.3263478740408408  # the normal 0.99 quantile, as the core's lognormal by median/p99
_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


@dataclass
class Fit:
    """A fitted distribution.

    - ``distribution``: the scenario distribution (a dict with ``kind``), in seconds;
    - ``kind``: its family (``empirical`` when no family fits the samples);
    - ``table``: percentile fits: one row per given statistic (given, fitted, relative error);
      sample fits: one row per family (parameters, log-likelihood, AIC, KS statistic, p-value);
    - ``max_error``: percentile fits: the largest relative error at a given statistic;
    - ``ks_statistic``, ``ks_pvalue``: sample fits: goodness of fit of the chosen distribution;
    - ``note``: why this one (and what was given up).
    """

    kind: str
    distribution: dict[str, Any]
    table: pd.DataFrame
    max_error: float = math.nan
    ks_statistic: float = math.nan
    ks_pvalue: float = math.nan
    note: str = ""
    params: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        extra = (f"max error {100 * self.max_error:.2g} %" if not math.isnan(self.max_error)
                 else f"KS D={self.ks_statistic:.3g}, p={self.ks_pvalue:.3g}")
        return f"<dbpoolsim.fit.Fit {self.kind}: {self.distribution} ({extra})>"


def _sig(x: float, digits: int = 7) -> float:
    """Rounded to `digits` significant digits, so the scenario JSON stays readable."""
    return float(f"{x:.{digits}g}")


def _dist(kind: str, shape: float, scale: float) -> dict[str, Any]:
    """Scenario distribution of a family, from (shape, scale); lognormal: (sigma, median)."""
    if kind == "lognormal":
        return {"kind": "lognormal", "median_s": _sig(scale), "p99_s": _sig(scale * math.exp(_Z99 * shape))}
    if kind == "exponential":
        return {"kind": "exponential", "mean_s": _sig(scale)}
    return {"kind": kind, "shape": _sig(shape), "scale_s": _sig(scale)}


def _frozen(kind: str, shape: float, scale: float) -> Any:
    from scipy import stats

    if kind == "lognormal":
        return stats.lognorm(shape, scale=scale)
    if kind == "gamma":
        return stats.gamma(shape, scale=scale)
    if kind == "weibull":
        return stats.weibull_min(shape, scale=scale)
    if kind == "exponential":
        return stats.expon(scale=scale)
    raise ValueError(kind)


def _mean(kind: str, shape: float, scale: float) -> float:
    if kind == "lognormal":
        return scale * math.exp(shape * shape / 2)
    if kind == "gamma":
        return shape * scale
    return scale * math.gamma(1 + 1 / shape)


# ---------------------------------------------------------------------------------------------
# Percentiles


def _given_stats(p50: Optional[float], p95: Optional[float], p99: Optional[float],
                 mean: Optional[float], percentiles: Optional[Mapping[float, float]],
                 unit: str) -> tuple[list[tuple[str, float, float]], Optional[float]]:
    """[(label, probability, value in s)] sorted by probability, and the mean in s; checked."""
    if unit not in _UNITS:
        raise scenario_error([f"unit: must be one of {', '.join(_UNITS)}, got {unit!r}"])
    k = _UNITS[unit]
    raw: list[tuple[str, float, Any]] = []
    for label, p, v in (("p50", 0.50, p50), ("p95", 0.95, p95), ("p99", 0.99, p99)):
        if v is not None:
            raw.append((label, p, v))
    for p, v in (percentiles or {}).items():
        pf = float(p)
        if pf >= 1:  # given as 90 or 99.9 rather than 0.9
            pf /= 100
        if not 0 < pf < 1:
            raise scenario_error([f"percentiles: {p!r}: must be a probability in (0, 1) or a percentile in (1, 100)"])
        raw.append((f"p{100 * pf:g}", pf, v))
    problems = []
    out: list[tuple[str, float, float]] = []
    for label, p, v in raw:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            problems.append(f"{label}: must be a number > 0 and finite, got {v!r}")
        else:
            out.append((label, p, float(v) * k))
    if mean is not None and (isinstance(mean, bool) or not isinstance(mean, (int, float))
                             or not math.isfinite(mean) or mean <= 0):
        problems.append(f"mean: must be a number > 0 and finite, got {mean!r}")
    if problems:
        raise scenario_error(problems)
    out.sort(key=lambda t: t[1])
    for (la, pa, va), (lb, pb, vb) in zip(out, out[1:]):
        if pa == pb:
            problems.append(f"{lb}: given twice")
        elif vb <= va:
            problems.append(f"{lb}: must be > {la} ({va / k:g} {unit}), got {vb / k:g}: "
                            "percentiles must increase")
    if problems:
        raise scenario_error(problems)
    m = None if mean is None else float(mean) * k
    if len(out) + (m is not None) < 2 or not out:
        raise scenario_error(["percentiles: give at least two statistics (two percentiles, or one "
                              f"and the mean) to fit a two-parameter family, got {len(out) + (m is not None)}"])
    return out, m


def _quantile(kind: str, p: np.ndarray, shape: float, scale: float) -> np.ndarray:
    from scipy import special, stats

    if kind == "lognormal":
        return scale * np.exp(shape * special.ndtri(p))
    if kind == "gamma":
        return scale * stats.gamma.ppf(p, shape)
    return scale * (-np.log1p(-p)) ** (1 / shape)


_SHAPE_BOUNDS = {"lognormal": (1e-4, 20.0), "gamma": (1e-3, 1e5), "weibull": (0.05, 200.0)}


def _cv(kind: str, shape: float) -> float:
    """Coefficient of variation: how spread out a family member is, whatever its scale."""
    if kind == "lognormal":
        return math.sqrt(math.expm1(shape * shape))
    if kind == "gamma":
        return 1 / math.sqrt(shape)
    g1, g2 = math.lgamma(1 + 1 / shape), math.lgamma(1 + 2 / shape)
    return math.sqrt(max(math.exp(g2 - 2 * g1) - 1, 0.0))


def _fit_quantiles(kind: str, probs: np.ndarray, values: np.ndarray,
                   mean: Optional[float]) -> list[tuple[float, float, float]]:
    """Least squares on log values: sum (log Q(p_i) - log x_i)^2 (+ the same for the mean).

    Returns every local optimum as (cost, shape, scale), best first. The scale is profiled out
    in closed form (log Q is log scale + a function of the shape), so the search starts from
    the local minima of the cost over a log grid of shapes; two statistics can be matched
    exactly by two members of a family (p99 and the mean of a lognormal: sigma and
    2 z99 - sigma), and the caller chooses between them."""
    from scipy import optimize

    lx = np.log(values)
    lo, hi = _SHAPE_BOUNDS[kind]

    def unit_log_q(shape: float) -> np.ndarray:
        return np.log(_quantile(kind, probs, shape, 1.0))

    def residuals(theta: np.ndarray) -> np.ndarray:
        shape, lscale = math.exp(theta[0]), theta[1]
        r = unit_log_q(shape) + lscale - lx
        if mean is not None:
            r = np.append(r, math.log(_mean(kind, shape, 1.0)) + lscale - math.log(mean))
        return r

    grid = []
    for shape in np.geomspace(lo * 1.01, hi * 0.99, 80):
        uq = unit_log_q(shape)
        gaps = lx - uq
        if mean is not None:
            gaps = np.append(gaps, math.log(mean) - math.log(_mean(kind, shape, 1.0)))
        lscale = float(np.mean(gaps))
        grid.append((float(np.sum(residuals(np.array([math.log(shape), lscale])) ** 2)), math.log(shape), lscale))
    costs = [g[0] for g in grid]
    starts = [g for i, g in enumerate(grid)
              if (i == 0 or costs[i] <= costs[i - 1]) and (i == len(grid) - 1 or costs[i] <= costs[i + 1])]
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _, lshape, lscale in starts:
            sol = optimize.least_squares(residuals, x0=[lshape, lscale], xtol=1e-14, ftol=1e-14, gtol=1e-14,
                                         bounds=([math.log(lo), -np.inf], [math.log(hi), np.inf]))
            out.append((float(2 * sol.cost), math.exp(sol.x[0]), math.exp(sol.x[1])))
    out.sort()
    return out


def from_percentiles(p50: Optional[float] = None, p95: Optional[float] = None, p99: Optional[float] = None,
                     mean: Optional[float] = None, kind: Optional[str] = None, *,
                     percentiles: Optional[Mapping[float, float]] = None, unit: str = "s",
                     tolerance: float = 0.10) -> Fit:
    """The lognormal, gamma or Weibull distribution closest to the given percentiles.

    - ``p50``, ``p95``, ``p99``, ``mean``: what the dashboard shows, in ``unit`` (``s``, ``ms``
      or ``us``); other percentiles as ``percentiles={0.9: 0.012}`` (or ``{90: ...}``);
    - ``kind``: one of ``lognormal``, ``gamma``, ``weibull``; default: the family whose largest
      relative error is smallest;
    - ``tolerance``: the largest relative error accepted at any given statistic (10 %).

    The fit minimises the squared error of the logarithms, so each statistic counts by its
    relative error. Raises ScenarioError when the percentiles are not increasing (or not
    positive), or when no family (or not the one asked for) comes within ``tolerance`` of
    every given statistic.
    """
    if kind is not None and kind not in FAMILIES:
        raise scenario_error([f"kind: must be one of {', '.join(FAMILIES)} or None, got {kind!r}"])
    stats_, m = _given_stats(p50, p95, p99, mean, percentiles, unit)
    probs = np.array([p for _, p, _ in stats_])
    values = np.array([v for _, _, v in stats_])
    k = _UNITS[unit]
    results = []
    ambiguous: list[str] = []
    for fam in ([kind] if kind else FAMILIES):
        optima = _fit_quantiles(fam, probs, values, m)
        best_cost = optima[0][0]
        # Members that fit as well (within rounding): take the least spread-out, and say so.
        ties = [o for o in optima if o[0] <= best_cost * 1.0001 + 1e-14]
        _, shape, scale = min(ties, key=lambda o: _cv(fam, o[1]))
        for _, other_shape, other_scale in ties:
            if abs(other_shape / shape - 1) > 0.01:
                ambiguous.append(f"{fam}: the statistics fit a second member as well "
                                 f"({_dist(fam, other_shape, other_scale)}), more spread out; "
                                 "add a percentile to tell them apart")
        rows = []
        for (label, p, v), q in zip(stats_, _quantile(fam, probs, shape, scale)):
            rows.append({"statistic": label, "given": v / k, "fitted": float(q) / k, "error": float(q / v - 1)})
        if m is not None:
            fm = _mean(fam, shape, scale)
            rows.append({"statistic": "mean", "given": m / k, "fitted": fm / k, "error": fm / m - 1})
        table = pd.DataFrame(rows).set_index("statistic")
        worst = float(table["error"].abs().max())
        results.append((worst, fam, shape, scale, table))
    results.sort(key=lambda r: r[0])
    worst, fam, shape, scale, table = results[0]
    if worst > tolerance:
        lines = []
        for w, f, _, _, t in results:
            at = t["error"].abs().idxmax()
            lines.append(f"{at}: cannot come from a {f} distribution within {100 * tolerance:g} %: "
                         f"the closest {f} gives {t.loc[at, 'fitted']:.4g} {unit} for the given "
                         f"{t.loc[at, 'given']:.4g} ({100 * t.loc[at, 'error']:+.1f} %)")
        raise scenario_error(lines)
    table.attrs["unit"] = unit
    others = ", ".join(f"{f} {100 * w:.2g} %" for w, f, *_ in results[1:])
    note = f"{fam}: largest error {100 * worst:.2g} %" + (f" (others: {others})" if others else "")
    note += "".join(f"; {a}" for a in ambiguous if a.startswith(fam + ":"))
    params = {"sigma": shape, "median_s": scale} if fam == "lognormal" else {"shape": shape, "scale_s": scale}
    return Fit(kind=fam, distribution=_dist(fam, shape, scale), table=table, max_error=worst, note=note,
               params=params)


# ---------------------------------------------------------------------------------------------
# Samples


def _mle(kind: str, x: np.ndarray) -> tuple[float, float]:
    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if kind == "exponential":
            return 1.0, float(np.mean(x))
        if kind == "lognormal":
            lx = np.log(x)
            return float(np.std(lx)), float(math.exp(np.mean(lx)))
        if kind == "gamma":
            a, _, scale = stats.gamma.fit(x, floc=0)
            return float(a), float(scale)
        c, _, scale = stats.weibull_min.fit(x, floc=0)
        return float(c), float(scale)


def from_samples(values: Sequence[float] | np.ndarray, kind: Optional[str] = None, *, unit: str = "s",
                 alpha: float = 0.01, max_samples: int = 1000) -> Fit:
    """The distribution of measured durations (query times, login times, ...).

    Each family (exponential, lognormal, gamma, Weibull; or only ``kind``) is fitted by
    maximum likelihood and the one with the smallest AIC (2 k - 2 log L) is chosen. Its
    goodness of fit is the Kolmogorov-Smirnov statistic against the samples; when the KS test
    rejects it at level ``alpha`` (1 %), or when the samples hold zeros, which no family can
    produce, the result is an ``empirical`` distribution of the samples instead (at most
    ``max_samples`` values: evenly spaced quantiles of the samples when there are more).

    The KS p-value uses parameters estimated from the same samples, so it errs toward
    accepting (Lilliefors); a rejection is trustworthy, an acceptance is a lower bar.
    """
    from scipy import stats

    if unit not in _UNITS:
        raise scenario_error([f"unit: must be one of {', '.join(_UNITS)}, got {unit!r}"])
    if kind is not None and kind not in SAMPLE_FAMILIES + ("empirical",):
        raise scenario_error([f"kind: must be one of {', '.join(SAMPLE_FAMILIES)}, empirical or None, got {kind!r}"])
    try:
        x = np.asarray(values, dtype=float).ravel() * _UNITS[unit]
    except (TypeError, ValueError) as exc:
        raise scenario_error([f"values: must be numbers ({exc})"]) from None
    bad = np.flatnonzero(~np.isfinite(x) | (x < 0))
    if bad.size:
        i = int(bad[0])
        raise scenario_error([f"values/{i}: must be >= 0 and finite, got {float(np.asarray(values, dtype=float).ravel()[i])!r}"
                              + (f" (and {bad.size - 1} more)" if bad.size > 1 else "")])
    if x.size < 2:
        raise scenario_error([f"values: need at least 2 samples, got {x.size}"])
    rows = []
    zeros = int(np.sum(x == 0))
    if not zeros and kind != "empirical":
        for fam in ([kind] if kind else SAMPLE_FAMILIES):
            shape, scale = _mle(fam, x)
            dist = _frozen(fam, shape, scale)
            loglik = float(np.sum(dist.logpdf(x)))
            npar = 1 if fam == "exponential" else 2
            ks = stats.kstest(x, dist.cdf)
            rows.append({"family": fam, "shape": shape, "scale_s": scale, "log_likelihood": loglik,
                         "aic": 2 * npar - 2 * loglik, "ks_statistic": float(ks.statistic),
                         "ks_pvalue": float(ks.pvalue)})
    table = pd.DataFrame(rows, columns=["family", "shape", "scale_s", "log_likelihood", "aic",
                                        "ks_statistic", "ks_pvalue"]).set_index("family")
    if not table.empty:
        best = str(table["aic"].idxmin())
        row = table.loc[best]
        if row["ks_pvalue"] >= alpha:
            note = (f"{best}: smallest AIC of {', '.join(table.index)}; KS D={row['ks_statistic']:.3g}, "
                    f"p={row['ks_pvalue']:.3g}")
            params = ({"sigma": row["shape"], "median_s": row["scale_s"]} if best == "lognormal"
                      else {"mean_s": row["scale_s"]} if best == "exponential"
                      else {"shape": row["shape"], "scale_s": row["scale_s"]})
            return Fit(kind=best, distribution=_dist(best, float(row["shape"]), float(row["scale_s"])),
                       table=table, ks_statistic=float(row["ks_statistic"]), ks_pvalue=float(row["ks_pvalue"]),
                       note=note, params={k: float(v) for k, v in params.items()})
        why = (f"no family fits: the best by AIC, {best}, is rejected by the KS test "
               f"(D={row['ks_statistic']:.3g}, p={row['ks_pvalue']:.2g} < {alpha:g})")
    elif zeros:
        why = f"{zeros} of the samples are 0, which no continuous family produces"
    else:
        why = "empirical asked for"
    xs = np.sort(x)
    if xs.size > max_samples:
        xs = np.quantile(xs, (np.arange(max_samples) + 0.5) / max_samples)
        why += f"; {x.size} samples reduced to {max_samples} evenly spaced quantiles"
    ks = stats.kstest(x, lambda v: np.searchsorted(xs, v, side="right") / xs.size)
    return Fit(kind="empirical", distribution={"kind": "empirical", "samples_s": [_sig(float(v)) for v in xs]},
               table=table, ks_statistic=float(ks.statistic), ks_pvalue=float(ks.pvalue), note=f"empirical: {why}")
