"""Across-replication statistics: means with Student-t confidence intervals."""

from __future__ import annotations

import math
from typing import Iterable

import pandas as pd

# Two-sided 95 % Student-t quantiles t_{0.975, df} for df = 1..30.
_T975 = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
]


def t_quantile_975(df: int) -> float:
    """t_{0.975, df}: table up to 30, then the Cornish-Fisher expansion (error < 1e-4)."""
    if df < 1:
        raise ValueError(f"df must be >= 1, got {df}")
    if df <= 30:
        return _T975[df - 1]
    z = 1.959963984540054
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def confidence_interval(values: Iterable[float]) -> tuple[float, float]:
    """(mean, 95 % half-width) over independent replications; half-width NaN with one value."""
    xs = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    n = len(xs)
    if n == 0:
        return math.nan, math.nan
    mean = sum(xs) / n
    if n == 1:
        return mean, math.nan
    var = sum((x - mean) ** 2 for x in xs) / (n - 1)
    return mean, t_quantile_975(n - 1) * math.sqrt(var / n)


def summarize(replications: pd.DataFrame) -> pd.DataFrame:
    """One row per metric: mean, 95 % CI half-width, min, max over replications."""
    rows = []
    for col in replications.columns:
        if col == "replication":
            continue
        mean, half = confidence_interval(replications[col])
        rows.append({"metric": col, "mean": mean, "ci95": half,
                     "min": replications[col].min(), "max": replications[col].max()})
    return pd.DataFrame(rows).set_index("metric")
