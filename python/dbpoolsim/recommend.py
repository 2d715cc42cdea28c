"""dbpoolsim.recommend: the smallest value of a parameter that meets every SLO clause with a
stated confidence, the curve it searched, and the knee where a bigger value makes things
worse (when the database model, e.g. a USL curve, says so).

The search (O(log range) points):
1. a doubling ladder lo, lo+1, lo+3, lo+7, ... hi, run as one parallel batch;
2. bisection between the last ladder value that fails and the first that meets the SLO.
A point whose mean meets a clause but whose confidence bound does not is "close": it gets
more replications (doubling, up to 4x) before it is judged. Bisection assumes the SLO is
monotone below the knee, which is where it searches.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

from ._lazy import pd

from . import _core
from .execute import run_units
from .slo import Clause, SloLike, Verdict, error, parse_slo
from .sweep import _base, _progress_bar, point_scenarios, summarize_points

__all__ = ["Recommendation", "recommend"]

Parameter = Union[str, tuple[str, ...]]
LATENCY = "latency_avg_ms"
DEFAULT_REPLICATIONS = 5  # when neither the call nor the scenario asks for 2 or more
THROUGHPUT = "throughput_per_s"


@dataclass
class Recommendation:
    """What ``dbpoolsim.recommend`` returns.

    - ``value``: the smallest value meeting every clause (None when nothing in range does);
    - ``met``: whether it does; ``closest``: when nothing does, the value closest to it;
    - ``evaluated``: every value tried (mean and ``_ci95`` of every metric, the one-sided
      bound of each clause as ``<metric>_bound``, ``met``), sorted by value;
    - ``knee``: the value beyond which mean latency rises again or throughput falls (None
      when no bigger value is worse in every replication); ``why``: a sentence.
    """

    parameter: tuple[str, ...]
    slo: list[Clause]
    confidence: float
    lo: float
    hi: float
    value: Optional[float]
    met: bool
    evaluated: pd.DataFrame
    knee: Optional[float]
    why: str
    closest: Optional[float] = None
    verdicts: dict[float, list[Verdict]] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"<dbpoolsim.Recommendation {'+'.join(self.parameter)}: {self.why}>"


def _ladder(lo: float, hi: float, integral: bool) -> list[float]:
    if integral:
        out, step = [int(lo)], 1
        while out[-1] + step < hi:
            out.append(out[-1] + step)
            step *= 2
        if out[-1] != hi:
            out.append(int(hi))
        return out
    n = max(2, math.ceil(math.log2(1000)) + 1)
    return [lo + (hi - lo) * (2 ** i - 1) / (2 ** (n - 1) - 1) for i in range(n)]


def _current(resolved: dict[str, Any], path: str) -> Any:
    node: Any = resolved
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


class _Search:
    """Evaluated values, their per-replication metrics, and adaptive replications."""

    def __init__(self, data: dict[str, Any], base_dir: str, paths: tuple[str, ...],
                 clauses: list[Clause], confidence: float, reps: int, threads: Optional[int],
                 client: Any, bar: Any) -> None:
        self.data, self.base_dir, self.paths = data, base_dir, paths
        self.clauses, self.confidence = clauses, confidence
        self.reps, self.max_reps = reps, 4 * reps
        self.threads, self.client, self.bar = threads, client, bar
        self.metrics: dict[float, dict[int, dict[str, float]]] = {}

    def run(self, values: Sequence[float], n: int) -> None:
        """Make sure each value has replications 0..n-1 (one batch for all of them)."""
        todo = [v for v in values if len(self.metrics.get(v, {})) < n]
        if not todo:
            return
        texts = point_scenarios(self.data, [{p: v for p in self.paths} for v in todo],
                                self.base_dir, what="recommend")
        units = [(i, k) for i, v in enumerate(todo) for k in range(n)
                 if k not in self.metrics.get(v, {})]

        def on_done(u: int, m: dict[str, float]) -> None:
            i, k = units[u]
            self.metrics.setdefault(todo[i], {})[k] = m

        run_units(texts, units, base_dir=self.base_dir, threads=self.threads,
                  client=self.client, on_done=on_done)
        if self.bar is not None:
            self.bar.update(len(todo))

    def verdicts(self, v: float) -> list[Verdict]:
        reps = [self.metrics[v][k] for k in sorted(self.metrics[v])]
        return [c.judge([r[c.metric] for r in reps], self.confidence) for c in self.clauses]

    def close(self, v: float) -> bool:
        """The mean meets every clause but some bound does not: more replications decide."""
        vs = self.verdicts(v)
        return all(c.clause.holds(c.mean) for c in vs) and not all(c.met for c in vs)

    def judge(self, values: Sequence[float]) -> dict[float, bool]:
        self.run(values, self.reps)
        n = self.reps
        while n < self.max_reps:
            close = [v for v in values if self.close(v)]
            if not close:
                break
            n = min(self.max_reps, 2 * n)
            self.run(close, n)
        return {v: all(c.met for c in self.verdicts(v)) for v in values}

    def mean(self, v: float, metric: str) -> tuple[float, float]:
        from .analysis import confidence_interval

        return confidence_interval(r[metric] for r in self.metrics[v].values())

    def table(self) -> pd.DataFrame:
        rows = [{"point": i, **{p: v for p in self.paths}, "replication": k, **m}
                for i, v in enumerate(sorted(self.metrics))
                for k, m in sorted(self.metrics[v].items())]
        pts = summarize_points(pd.DataFrame(rows), list(self.paths))
        for c in self.clauses:
            pts[f"{c.metric}_bound"] = [next(x.bound for x in self.verdicts(v) if x.clause == c)
                                        for v in sorted(self.metrics)]
        pts["met"] = [all(x.met for x in self.verdicts(v)) for v in sorted(self.metrics)]
        return pts.reset_index(drop=True)


def _worse(s: _Search, best: float, v: float) -> Optional[str]:
    """Why v (> best) is worse than best, or None. Replication k of both saw the same
    arrivals and query times (CRN), so the test is paired: worse when the mean latency is
    5 % higher in every replication, or the throughput 1 % lower in every replication."""
    reps = sorted(set(s.metrics[best]) & set(s.metrics[v]))
    a, b = s.metrics[best], s.metrics[v]
    if reps and all(b[k][LATENCY] > 1.05 * a[k][LATENCY] for k in reps):
        return (f"mean latency rises from {s.mean(best, LATENCY)[0]:.3g} ms to "
                f"{s.mean(v, LATENCY)[0]:.3g} ms")
    if reps and all(b[k][THROUGHPUT] < 0.99 * a[k][THROUGHPUT] for k in reps):
        return (f"throughput falls from {s.mean(best, THROUGHPUT)[0]:.4g}/s to "
                f"{s.mean(v, THROUGHPUT)[0]:.4g}/s")
    return None


def _knee(s: _Search, integral: bool) -> tuple[Optional[float], Optional[str]]:
    values = sorted(s.metrics)
    best = min(values, key=lambda v: s.mean(v, LATENCY)[0])
    i = values.index(best)
    # Refine between the best value and its neighbours on the ladder (one batch).
    extra = []
    for nb in (values[i - 1] if i > 0 else None, values[i + 1] if i + 1 < len(values) else None):
        if nb is not None:
            mid = (best + nb) // 2 if integral else (best + nb) / 2
            if mid not in s.metrics and mid != best:
                extra.append(mid)
    if extra:
        s.run(extra, s.reps)
        best = min(sorted(s.metrics), key=lambda v: s.mean(v, LATENCY)[0])
    for v in sorted(s.metrics):
        if v > best:
            reason = _worse(s, best, v)
            if reason is not None:
                return best, f"{reason} between {best:g} and {v:g}"
    return None, None


def _miss(verdicts: list[Verdict]) -> float:
    """How far a value is from meeting the SLO: the worst clause's relative violation."""
    out = 0.0
    for x in verdicts:
        b = x.bound if not math.isnan(x.bound) else x.mean
        if math.isnan(b):
            return math.inf
        scale = abs(x.clause.target) or 1.0
        out = max(out, ((b - x.clause.target) if x.clause.upper else (x.clause.target - b)) / scale)
    return out


def recommend(scenario: Any, parameter: Parameter, slo: SloLike, *, lo: Optional[float] = None,
              hi: Optional[float] = None, replications: Optional[int] = None,
              confidence: float = 0.95, threads: Optional[int] = None, client: Any = None,
              progress: Optional[bool] = None, also: Sequence[float] = ()) -> Recommendation:
    """The smallest value of ``parameter`` (a dotted path, or a tuple of paths set to the same
    value) in ``[lo, hi]`` meeting every clause of ``slo`` with ``confidence``.

    ``lo``/``hi`` default to 1 and 4x the scenario's current value (at least 8) for integer
    parameters, and to a quarter and 4x the current value otherwise. ``replications``
    defaults to the scenario's, or 5 when the scenario has one (a bound needs a spread);
    close points get up to 4x more. ``also``: further values judged by the same rule after the
    search (in ``evaluated`` and ``verdicts``; they do not steer it). Bad paths, values or clauses raise ScenarioError before anything runs.
    """
    paths = (parameter,) if isinstance(parameter, str) else tuple(parameter)
    if not paths or not all(isinstance(p, str) and p for p in paths):
        raise error(f"parameter: expected a dotted path or a tuple of paths, got {parameter!r}")
    if not 0.5 <= confidence < 1:
        raise error(f"confidence: must be in [0.5, 1), got {confidence!r}")
    clauses = parse_slo(slo)
    data, base_dir = _base(scenario, replications)
    resolved = json.loads(_core.resolve_scenario(json.dumps(data), base_dir))
    if replications is None and int(resolved["run"]["replications"]) < 2:
        data, base_dir = _base(scenario, DEFAULT_REPLICATIONS)  # one replication has no spread
        resolved = json.loads(_core.resolve_scenario(json.dumps(data), base_dir))
    reps = int(resolved["run"]["replications"])
    if reps < 2:
        raise error(f"replications: recommend needs at least 2 for a confidence bound, got {reps}")
    current = _current(resolved, paths[0])
    if current is None and (lo is None or hi is None):
        raise error(f"parameter {paths[0]!r}: not a field of the resolved scenario; give lo= and hi=")
    if current is not None and (isinstance(current, bool) or not isinstance(current, (int, float))):
        raise error(f"parameter {paths[0]!r}: is not a number (it is {current!r})")
    integral = all(isinstance(x, int) for x in (lo, hi, current) if x is not None)
    if lo is None:
        lo = 1 if integral else current / 4
    if hi is None:
        hi = max(4 * current, 8) if integral else 4 * current
    if not lo < hi:
        raise error(f"range: lo must be below hi, got lo={lo!r}, hi={hi!r}")
    ladder = _ladder(lo, hi, integral)
    point_scenarios(data, [{p: v for p in paths} for v in (lo, hi, *also)], base_dir, what="recommend")

    bar = _progress_bar(progress, len(ladder) + 2 * math.ceil(math.log2(max(2, hi - lo))) + 2,
                        0, "recommend")
    try:
        s = _Search(data, base_dir, paths, clauses, confidence, reps, threads, client, bar)
        met = s.judge(ladder)
        passing = [v for v in ladder if met[v]]
        value: Optional[float] = None
        if passing:
            top = passing[0]
            below = [v for v in ladder if v < top]
            bottom = below[-1] if below else None
            if bottom is not None:  # bisect (bottom fails, top meets)
                while (top - bottom > 1) if integral else (top - bottom > (hi - lo) / 1000):
                    mid = (bottom + top) // 2 if integral else (bottom + top) / 2
                    if s.judge([mid])[mid]:
                        top = mid
                    else:
                        bottom = mid
            value = top
        knee, knee_why = _knee(s, integral)
        if also:
            s.judge(sorted(set(also)))
    finally:
        if bar is not None:
            bar.close()

    name = "+".join(paths)
    pct = f"{100 * confidence:g} %"
    verdicts = {v: s.verdicts(v) for v in sorted(s.metrics)}
    closest = None
    if value is not None:
        held = "; ".join(x.text for x in verdicts[value])
        why = f"{name} = {value:g} is the smallest value in [{lo:g}, {hi:g}] meeting every clause with {pct} confidence ({held})"
        fails = [v for v in verdicts if v < value]
        if fails:
            prev = max(fails)
            failed = "; ".join(x.text for x in verdicts[prev] if not x.met)
            why += f"; {prev:g} does not ({failed})"
        why += "."
    else:
        closest = min(verdicts, key=lambda v: _miss(verdicts[v]))
        held = "; ".join(x.text for x in verdicts[closest])
        why = (f"nothing in [{lo:g}, {hi:g}] meets the SLO with {pct} confidence; the closest is "
               f"{name} = {closest:g} ({held}).")
    if knee is not None:
        why += (f" Bigger is worse beyond about {knee:g}: {knee_why} (the database's contention "
                f"model: more connections than it can serve only queue inside it).")
    return Recommendation(parameter=paths, slo=clauses, confidence=confidence, lo=lo, hi=hi,
                          value=value, met=value is not None, evaluated=s.table(), knee=knee,
                          why=why, closest=closest, verdicts=verdicts)
