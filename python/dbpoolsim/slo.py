"""SLO clauses ("wait_time_p99_ms <= 10") and their one-sided confidence bounds.

A clause holds with confidence c when the one-sided c bound of the metric's mean over
replications lies on the right side of the target: for ``<=`` the upper bound
``mean + t(c, n-1) * sd / sqrt(n)`` is at most the target, for ``>=`` the lower bound is at
least it. Confidence 0.5 judges the mean itself.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence, Union

from ._core import ScenarioError
from .analysis import t_quantile

__all__ = ["Clause", "Verdict", "parse_slo", "metric_names"]

OPS = ("<=", ">=", "<", ">")
_CLAUSE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>|==|=)\s*(\S.*?)\s*$")

_SEPARATOR = re.compile(r",|\band\b")

SloLike = Union[str, Mapping[str, Any], Sequence[str]]


def error(message: str) -> ScenarioError:
    """A ScenarioError (ValueError) carrying its one problem, as the C++ ones do."""
    exc = ScenarioError(message)
    exc.problems = (message,)  # type: ignore[attr-defined]
    return exc


_NAMES: list[str] = []


def metric_names() -> list[str]:
    """Every metric of a run's summary (per replication), in the core's order."""
    if not _NAMES:
        from .execute import run_units_here

        tiny = ('{"run": {"horizon_s": 1, "warmup_s": 0, "replications": 1},'
                ' "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 10}}}')
        _NAMES.extend(run_units_here([tiny], [(0, 0)])[0][1].keys())
    return list(_NAMES)


@dataclass(frozen=True)
class Verdict:
    """A clause judged on n replications."""

    clause: "Clause"
    mean: float
    ci95: float     # two-sided 95 % half-width (for display)
    bound: float    # the one-sided bound at the stated confidence (NaN with one replication)
    met: bool
    n: int

    @property
    def text(self) -> str:
        ci = "" if math.isnan(self.ci95) else f" ± {self.ci95:.4g}"
        return (f"{self.clause.metric} = {self.mean:.4g}{ci} (bound {self.bound:.4g}) "
                f"{self.clause.op} {self.clause.target:g}: {'holds' if self.met else 'FAILS'}")


@dataclass(frozen=True)
class Clause:
    """``metric op target``, e.g. Clause("wait_time_p99_ms", "<=", 10.0)."""

    metric: str
    op: str
    target: float

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.target:g}"

    @property
    def upper(self) -> bool:
        """True when the metric must stay below the target (so the upper bound counts)."""
        return self.op in ("<=", "<")

    def holds(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return {"<=": value <= self.target, "<": value < self.target,
                ">=": value >= self.target, ">": value > self.target}[self.op]

    def judge(self, values: Iterable[float], confidence: float = 0.95) -> Verdict:
        """Judge the clause on per-replication values with a one-sided bound."""
        xs = [float(v) for v in values]
        n = len(xs)
        if n == 0 or any(math.isnan(x) for x in xs):
            return Verdict(self, math.nan, math.nan, math.nan, False, n)
        mean = sum(xs) / n
        if n == 1:
            bound = mean if confidence <= 0.5 else math.nan
            return Verdict(self, mean, math.nan, bound, self.holds(bound), n)
        sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
        se = sd / math.sqrt(n)
        half = t_quantile(0.975, n - 1) * se
        t = 0.0 if confidence <= 0.5 else t_quantile(confidence, n - 1)
        bound = mean + t * se if self.upper else mean - t * se
        return Verdict(self, mean, half, bound, self.holds(bound), n)


def _target(metric: str, raw: Any, where: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise error(f"{where}: target of {metric} must be a number, got {raw!r}") from None
    if math.isnan(value):
        raise error(f"{where}: target of {metric} must be a number, got {raw!r}")
    return value


def _check_metric(metric: str, where: str) -> None:
    names = metric_names()
    if metric not in names:
        close = [n for n in names if metric.split("_")[0] in n][:6]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise error(f"{where}: unknown metric {metric!r}{hint}; `dbpoolsim.slo.metric_names()` lists them")


def parse_clause(text: str, where: str = "slo") -> Clause:
    """``"wait_time_p99_ms <= 10"`` -> Clause; errors name the clause."""
    m = _CLAUSE.match(text) if isinstance(text, str) else None
    if not m:
        raise error(f"{where} {text!r}: expected 'metric <= value' (operators {', '.join(OPS)})")
    metric, op, raw = m.groups()
    if op in ("==", "="):
        raise error(f"{where} {text!r}: operator {op!r} is not allowed (use one of {', '.join(OPS)})")
    _check_metric(metric, f"{where} {text!r}")
    return Clause(metric, op, _target(metric, raw, f"{where} {text!r}"))


def parse_slo(slo: SloLike, where: str = "slo") -> list[Clause]:
    """Clauses from a dict ``{"wait_time_p99_ms": ("<=", 10)}``, a string
    ``"wait_time_p99_ms <= 10"`` (several clauses may be separated by commas or "and"), a
    list of strings, or a list of Clause. Raises ScenarioError naming the bad clause and its
    value before anything runs."""
    if isinstance(slo, Clause):
        return [slo]
    if isinstance(slo, str):
        parts = [p for p in _SEPARATOR.split(slo) if p.strip()]
        if not parts:
            raise error(f"{where}: no clause given, e.g. 'wait_time_p99_ms <= 10'")
        return [parse_clause(p, where) for p in parts]
    if isinstance(slo, Mapping):
        out = []
        for metric, spec in slo.items():
            if (not isinstance(spec, (tuple, list)) or len(spec) != 2 or spec[0] not in OPS):
                raise error(f"{where} {metric!r}: expected (op, target) with op one of "
                            f"{', '.join(OPS)}, got {spec!r}")
            _check_metric(str(metric), f"{where} {metric!r}")
            out.append(Clause(str(metric), spec[0], _target(str(metric), spec[1], f"{where} {metric!r}")))
        if not out:
            raise error(f"{where}: no clause given")
        return out
    if isinstance(slo, (list, tuple)):
        if not slo:
            raise error(f"{where}: no clause given")
        return [c for item in slo for c in parse_slo(item, where)]
    raise error(f"{where}: expected a dict, a string or a list of strings, got {type(slo).__name__}")
