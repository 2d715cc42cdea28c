"""Plots of sweeps and recommendations: a metric against a parameter with its 95 % CI
band, a heatmap over two parameters, and the recommend curve with the SLO line, the chosen
value and the knee. Axes carry units (read from the metric's name) so a plot reads alone."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

__all__ = ["label", "sweep_curve", "heatmap", "recommend_curve", "save_sweep_plots"]

_UNITS = [("_percent", "%"), ("_per_s", "per second"), ("_per_min", "per minute"),
          ("_ms", "ms"), ("_rate", "fraction of requests"), ("_ratio", "ratio"), ("_s", "s")]
# Whole names, then prefixes, in words a reader of the plot knows without the docs.
_NAMES = {"p_wait": "P(wait for a connection)", "timeout_rate": "acquire timeouts",
          "utilization_percent": "pool utilisation",
          "throughput_per_s": "throughput, completed requests",
          "peak_backend_connections": "peak database backends, fleet total"}
_PREFIXES = {"wait_time": "acquire wait", "latency": "end-to-end latency",
             "db_cpu_utilization": "database CPU utilisation"}


def label(name: str) -> str:
    """A readable axis label with units for a metric or a dotted path."""
    base, unit = name, ""
    for suffix, u in _UNITS:
        if name.endswith(suffix):
            base, unit = name[: -len(suffix)], u
            break
    if name in _NAMES:
        words = _NAMES[name]
    else:
        words = base.replace(".", " › ").replace("_", " ")
        for prefix, nice in _PREFIXES.items():
            if base.startswith(prefix):
                words = nice + base[len(prefix):].replace("_", " ")
    if not unit and name.lower().endswith(("connections", "size")):
        unit = "connections"
    return f"{words} ({unit})" if unit else words


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4.2))
    return ax


def sweep_curve(result: Any, metric: str, x: Optional[str] = None, by: Optional[str] = None,
                ax: Any = None) -> Any:
    """``metric`` against the swept path ``x`` (default: the first), one line per value of
    ``by``, each with its 95 % CI band; returns the matplotlib Axes."""
    pts: pd.DataFrame = result.points
    x = x or result.paths[0]
    ax = _axes(ax)
    groups = [(None, pts)] if by is None else list(pts.groupby(by, sort=True))
    for key, grp in groups:
        grp = grp.sort_values(x)
        xs, ys = grp[x].to_numpy(float), grp[metric].to_numpy(float)
        half = grp.get(f"{metric}_ci95", pd.Series(np.zeros(len(grp)))).fillna(0).to_numpy(float)
        name = None if by is None else f"{by} = {key}"
        line, = ax.plot(xs, ys, marker="o", ms=4, label=name)
        ax.fill_between(xs, ys - half, ys + half, color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(metric))
    reps = int(pts["replications"].max()) if "replications" in pts else 0
    ax.set_title(f"{label(metric)} vs {x}\n(mean of {reps} replications, band: 95 % CI)", fontsize=10)
    ax.grid(alpha=0.3)
    if by is not None:
        ax.legend(fontsize=8)
    return ax


def heatmap(result: Any, metric: str, x: Optional[str] = None, y: Optional[str] = None,
            ax: Any = None, annotate: bool = True) -> Any:
    """``metric``'s mean over two swept paths (default: the first two), annotated cells."""
    pts: pd.DataFrame = result.points
    x = x or result.paths[0]
    y = y or result.paths[1]
    table = pts.pivot_table(index=y, columns=x, values=metric, aggfunc="mean").sort_index(ascending=False)
    ax = _axes(ax)
    im = ax.imshow(table.to_numpy(float), aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(table.columns)), [f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in table.columns])
    ax.set_yticks(range(len(table.index)), [f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in table.index])
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    cbar = ax.figure.colorbar(im, ax=ax)
    cbar.set_label(label(metric))
    if annotate and table.size <= 150:
        vals = table.to_numpy(float)
        finite = vals[np.isfinite(vals)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0
        for i in range(vals.shape[0]):
            for j in range(vals.shape[1]):
                if math.isfinite(vals[i, j]):
                    ax.text(j, i, f"{vals[i, j]:.3g}", ha="center", va="center", fontsize=7,
                            color="black" if vals[i, j] > mid else "white")
    ax.set_title(f"{label(metric)}: mean over replications", fontsize=10)
    return ax


def recommend_curve(rec: Any, metric: Optional[str] = None, ax: Any = None) -> Any:
    """The searched values of a Recommendation: ``metric`` (default: the first SLO clause's)
    with 95 % CIs, the SLO target, the chosen value and the knee."""
    ev: pd.DataFrame = rec.evaluated.sort_values(rec.parameter[0])
    clause = next((c for c in rec.slo if c.metric == metric), rec.slo[0]) if metric is None or any(c.metric == metric for c in rec.slo) else None
    metric = metric or rec.slo[0].metric
    x = rec.parameter[0]
    ax = _axes(ax)
    xs, ys = ev[x].to_numpy(float), ev[metric].to_numpy(float)
    half = ev[f"{metric}_ci95"].fillna(0).to_numpy(float)
    ax.plot(xs, ys, color="0.6", lw=1, zorder=1)
    for ok, colour, name in ((True, "tab:green", "meets the SLO"), (False, "tab:red", "fails the SLO")):
        sel = ev["met"].to_numpy(bool) == ok
        if sel.any():
            ax.errorbar(xs[sel], ys[sel], yerr=half[sel], fmt="o", ms=5, color=colour, capsize=3,
                        label=f"{name} ({100 * rec.confidence:g} % bound)", zorder=2)
    if clause is not None:
        ax.axhline(clause.target, color="tab:blue", ls="--", lw=1, label=f"SLO: {clause}")
    if rec.value is not None:
        ax.axvline(rec.value, color="tab:green", lw=1.5, label=f"recommended: {rec.value:g}")
    if rec.knee is not None:
        ax.axvline(rec.knee, color="tab:purple", ls=":", lw=1.5, label=f"knee: {rec.knee:g} (bigger is worse)")
    if np.nanmax(ys) > 0 and np.nanmax(ys) / max(np.nanmin(ys[ys > 0]) if (ys > 0).any() else 1, 1e-12) > 20:
        ax.set_yscale("log")
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(__import__("matplotlib").ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel(label(x) if len(rec.parameter) == 1 else
                  " = ".join(rec.parameter) + label(x)[len(label(x).split(" (")[0]):])
    ax.set_ylabel(label(metric))
    ax.set_title(f"recommend {'+'.join(rec.parameter)}: every value tried (error bars: 95 % CI)", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax


def save_sweep_plots(result: Any, metrics: Sequence[str], out: Path) -> list[Path]:
    """PNGs for the CLI's --plot: a curve per metric (one path; lines per value of a second
    path), or a heatmap per metric (two paths)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for m in metrics:
        if len(result.paths) == 2 and result.points[result.paths[1]].nunique() > 4:
            ax = heatmap(result, m)
        else:
            ax = sweep_curve(result, m, by=result.paths[1] if len(result.paths) > 1 else None)
        path = out / f"{m}.png"
        ax.figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(ax.figure)
        written.append(path)
    return written
