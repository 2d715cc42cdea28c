"""dbpoolsim.sweep: a scenario over a grid or a Latin hypercube of dotted paths, with
replications, common random numbers, resumable Parquet output and Dask.

    >>> res = dbpoolsim.sweep("standard-case", {"pool.max_connections": [8, 10, 12]}, replications=5)
    >>> res.points[["pool.max_connections", "wait_time_p99_ms", "wait_time_p99_ms_ci95"]]

Replication k of every point draws the same arrivals and query times (streams depend only
on seed, k and the stream's name), so differences between points are not noise.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

from ._lazy import np
from ._lazy import pd

from . import _core
from .analysis import t_quantile_975
from .execute import run_units
from .scenario import ScenarioLike, load_scenario, scenario_base_dir, set_path
from .slo import error

__all__ = ["SweepResult", "sweep", "grid_points", "latin_hypercube"]

GridKey = Union[str, tuple[str, ...]]
Point = dict[str, Any]  # path -> value

#: Paths a sweep sets itself; sweeping them would break the replication scheme.
_RESERVED = ("run.replications",)


@dataclass
class SweepResult:
    """What ``dbpoolsim.sweep`` returns.

    - ``runs``: one row per (point, replication): a column per swept path (named by the
      path), ``replication``, ``stopped_memory`` (True when ``run.max_memory_mb`` stopped the
      replication early: its metrics cover only what was simulated), then every metric of
      ``Result.summary``;
    - ``points``: one row per point: the paths, ``replications``, ``stopped_memory`` (how
      many of them the memory budget stopped: their means mix partial runs, and the sweep
      warns), each metric's mean and ``<metric>_ci95`` (95 % Student-t half-width over
      replications);
    - ``paths``: the swept paths; ``scenario``: the resolved base scenario.
    """

    runs: pd.DataFrame
    points: pd.DataFrame
    paths: list[str]
    scenario: dict[str, Any]

    def __repr__(self) -> str:
        return (f"<dbpoolsim.SweepResult: {len(self.points)} points x "
                f"{self.runs['replication'].nunique() if len(self.runs) else 0} replications over "
                f"{', '.join(self.paths)}>")


#: Column of ``runs`` (True: ``run.max_memory_mb`` stopped the replication before its horizon,
#: so its metrics cover only what was simulated) and of ``points`` (how many such replications).
STOPPED = "stopped_memory"


def summarize_points(runs: pd.DataFrame, paths: Sequence[str]) -> pd.DataFrame:
    """Per point (``runs`` has a ``point`` column): the paths, the number of replications,
    ``stopped_memory`` (replications the memory budget stopped early), each metric's mean and
    95 % CI half-width over its non-NaN values (as ``confidence_interval``); indexed by point
    number."""
    metrics = [c for c in runs.columns if c not in paths and c not in ("replication", "point", STOPPED)]
    if runs.empty:
        return pd.DataFrame()
    g = runs.groupby("point", sort=True)
    out = g[list(paths)].first()
    out["replications"] = g.size()
    if STOPPED in runs.columns:  # a count, not a metric to average
        out[STOPPED] = runs[STOPPED].fillna(False).astype(bool).groupby(runs["point"], sort=True).sum().astype(int)
    values = runs[["point", *metrics]].astype(float).groupby("point", sort=True)
    means, sds, counts = values.mean(), values.std(ddof=1), values.count()
    t = counts.apply(lambda col: col.map(lambda n: t_quantile_975(int(n) - 1) if n > 1 else np.nan))
    halves = sds * t / np.sqrt(counts.where(counts > 1))
    cols = {}
    for m in metrics:
        cols[m] = means[m]
        cols[f"{m}_ci95"] = halves[m]
    return pd.concat([out, pd.DataFrame(cols)], axis=1)


def _key_paths(key: GridKey) -> tuple[str, ...]:
    if isinstance(key, str):
        paths = tuple(p.strip() for p in key.split("+")) if "+" in key else (key,)
    elif isinstance(key, tuple) and key and all(isinstance(p, str) for p in key):
        paths = key
    else:
        raise error(f"grid key {key!r}: expected a dotted path or a tuple of paths")
    for p in paths:
        if p in _RESERVED:
            raise error(f"grid key {p!r}: set the replications with replications=, not in the grid")
    return paths


def grid_points(grid: Mapping[GridKey, Sequence[Any]]) -> list[Point]:
    """The cartesian product of the grid; a tuple key moves its paths together."""
    axes: list[tuple[tuple[str, ...], list[tuple[Any, ...]]]] = []
    for key, values in grid.items():
        paths = _key_paths(key)
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise error(f"grid {'+'.join(paths)}: expected a list of values, got {values!r}")
        vals = list(values)
        if not vals:
            raise error(f"grid {'+'.join(paths)}: no values")
        tuples = []
        for v in vals:
            if len(paths) > 1:
                if not isinstance(v, (tuple, list)) or len(v) != len(paths):
                    raise error(f"grid {'+'.join(paths)}: each value must be a tuple of "
                                f"{len(paths)}, got {v!r}")
                tuples.append(tuple(v))
            else:
                tuples.append((v,))
        axes.append((paths, tuples))
    points = []
    for combo in itertools.product(*(vals for _, vals in axes)):
        point: Point = {}
        for (paths, _), values in zip(axes, combo):
            point.update(zip(paths, values))
        points.append(point)
    return points


def latin_hypercube(samples: Mapping[str, Any]) -> list[Point]:
    """``{"n": N, "seed": S, "ranges": {path: (lo, hi) or [choices]}}``: N points, each range
    cut in N strata with one point per stratum (McKay, Beckman & Conover 1979); a range with
    two integers stays integral (lo..hi inclusive); a list is a set of choices."""
    unknown = set(samples) - {"n", "seed", "ranges"}
    if unknown:
        raise error(f"samples: unknown key(s) {sorted(unknown)} (expected n, seed, ranges)")
    n = samples.get("n")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise error(f"samples.n: must be an integer >= 1, got {n!r}")
    seed = samples.get("seed", 0)
    ranges = samples.get("ranges")
    if not isinstance(ranges, Mapping) or not ranges:
        raise error(f"samples.ranges: expected {{path: (lo, hi) or [choices]}}, got {ranges!r}")
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    points: list[Point] = [{} for _ in range(int(n))]
    for path, spec in ranges.items():
        _key_paths(path)
        strata = (rng.permutation(int(n)) + rng.random(int(n))) / int(n)  # one per stratum
        if isinstance(spec, tuple) and len(spec) == 2:
            lo, hi = spec
            if not all(isinstance(x, (int, float, np.number)) and not isinstance(x, bool) for x in spec) or not lo <= hi:
                raise error(f"samples.ranges.{path}: expected (lo, hi) numbers with lo <= hi, got {spec!r}")
            integral = all(isinstance(x, (int, np.integer)) for x in spec)
            for i, u in enumerate(strata):
                if integral:
                    points[i][path] = int(min(hi, lo + int(u * (hi - lo + 1))))
                else:
                    points[i][path] = float(lo + u * (hi - lo))
        elif isinstance(spec, list) and spec:
            for i, u in enumerate(strata):
                points[i][path] = spec[min(len(spec) - 1, int(u * len(spec)))]
        else:
            raise error(f"samples.ranges.{path}: expected a (lo, hi) tuple or a list of choices, got {spec!r}")
    return points


def point_scenarios(base: dict[str, Any], points: Sequence[Point], base_dir: str,
                    what: str = "grid") -> list[str]:
    """Each point's scenario as JSON text, every one validated before anything runs; an
    error names the point's paths and values and the scenario problem."""
    texts = []
    for i, point in enumerate(points):
        data = json.loads(json.dumps(base))
        label = ", ".join(f"{p}={v!r}" for p, v in point.items())
        try:
            for path, value in point.items():
                set_path(data, path, value)
            text = json.dumps(data, default=_plain_json, allow_nan=False)
            _core.resolve_scenario(text, base_dir)
        except (ValueError, TypeError) as exc:
            probs = getattr(exc, "problems", None) or [str(exc)]
            raise error(f"{what} point {i} ({label}): {'; '.join(probs)}"
                        f"{_linked_hint(point, probs)}") from None
        texts.append(text)
    return texts


def _linked_hint(point: Point, problems: Sequence[str]) -> str:
    """When a point's value clashes with a field the point does not set (a swept
    max_connections below the base's min_connections), say how to sweep both."""
    swept = {"/" + p.replace(".", "/") for p in point}
    others = sorted({pr.split(":", 1)[0] for pr in problems if pr.startswith("/")} - swept)
    if not others or not swept:
        return ""
    other = others[0].lstrip("/").replace("/", ".")
    first = next(iter(point))
    return (f" (the swept value clashes with {other} of the base scenario: change it there, "
            f"narrow the range, or move both together with a linked path such as "
            f"'{other}+{first}')")


def _plain_json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{value!r} ({type(value).__name__}) is not a JSON value")


def _base(scenario: ScenarioLike, replications: Optional[int]) -> tuple[dict[str, Any], str]:
    """The scenario as a dict (as written, replications set) and its base directory."""
    data = json.loads(load_scenario(scenario))
    if replications is not None:
        if not isinstance(replications, (int, np.integer)) or isinstance(replications, bool) or replications < 1:
            raise error(f"replications: must be an integer >= 1, got {replications!r}")
        data.setdefault("run", {})["replications"] = int(replications)
    base_dir = scenario_base_dir(scenario)
    _core.resolve_scenario(json.dumps(data), base_dir)  # the base alone must be valid
    return data, base_dir


def _progress_bar(enabled: Optional[bool], total: int, initial: int, desc: str) -> Any:
    if enabled is None:
        enabled = sys.stderr.isatty() and not os.environ.get("CI")
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="point", desc=desc, leave=False)


class _Store:
    """``out=DIR``: sweep.json (resolved base, grid, points, replications) and one Parquet
    file per finished point under points/, written atomically as each point completes."""

    def __init__(self, out: Union[str, os.PathLike[str]], manifest: dict[str, Any]) -> None:
        self.dir = Path(out)
        self.points_dir = self.dir / "points"
        meta = self.dir / "sweep.json"
        if meta.exists():
            old = json.loads(meta.read_text())
            for key in ("base", "grid", "samples", "replications", "points"):
                if old.get(key) != manifest.get(key):
                    raise error(f"out {str(self.dir)!r}: holds a sweep with a different {key} "
                                f"(use another directory, or delete it to start again)")
        else:
            self.points_dir.mkdir(parents=True, exist_ok=True)
            tmp = meta.with_suffix(".tmp")
            tmp.write_text(json.dumps(manifest, indent=1, default=_plain_json) + "\n")
            os.replace(tmp, meta)
        self.points_dir.mkdir(parents=True, exist_ok=True)

    def path(self, point: int) -> Path:
        return self.points_dir / f"point-{point:06d}.parquet"

    def load(self, point: int) -> Optional[pd.DataFrame]:
        p = self.path(point)
        return pd.read_parquet(p) if p.exists() else None

    def save(self, point: int, rows: pd.DataFrame) -> None:
        p = self.path(point)
        tmp = p.with_suffix(".tmp")
        rows.to_parquet(tmp, index=False)
        os.replace(tmp, p)


def _grid_manifest(grid: Optional[Mapping[GridKey, Sequence[Any]]]) -> Optional[dict[str, Any]]:
    if grid is None:
        return None
    return {"+".join(_key_paths(k)): [list(v) if isinstance(v, (tuple, list)) else v for v in vals]
            for k, vals in grid.items()}


def sweep(scenario: ScenarioLike, grid: Optional[Mapping[GridKey, Sequence[Any]]] = None, *,
          samples: Optional[Mapping[str, Any]] = None, replications: Optional[int] = None,
          threads: Optional[int] = None, client: Any = None,
          out: Optional[Union[str, os.PathLike[str]]] = None,
          progress: Optional[bool] = None) -> SweepResult:
    """Simulate ``scenario`` at every point of ``grid`` (or of a Latin hypercube ``samples``).

    - ``grid``: ``{path: values}``, dotted paths as in ``with_overrides`` (list indices
      included); a tuple of paths takes tuples of values that move together;
    - ``samples``: ``{"n": N, "seed": S, "ranges": {path: (lo, hi) or [choices]}}``;
    - ``replications``: per point (default: the scenario's ``run.replications``);
    - ``threads``: local threads over (point, replication) units (default: all cores);
    - ``client``: a ``dask.distributed.Client``: batches of units run on its workers,
      bit-identical to a local run;
    - ``out``: a directory; each finished point is written as it completes, and calling
      again with the same directory recomputes only what is missing;
    - ``progress``: a progress bar counting points (default: when stderr is a terminal).

    Every point is validated before anything runs (ScenarioError names the point, path and
    value). Ctrl-C keeps the finished points in ``out`` and raises KeyboardInterrupt.
    """
    if (grid is None) == (samples is None):
        raise error("sweep: give exactly one of grid= or samples=")
    points = grid_points(grid) if grid is not None else latin_hypercube(samples or {})
    paths = list(dict.fromkeys(p for point in points for p in point))
    data, base_dir = _base(scenario, replications)
    texts = point_scenarios(data, points, base_dir, what="grid" if grid is not None else "samples")
    resolved = json.loads(_core.resolve_scenario(json.dumps(data), base_dir))
    reps = int(resolved["run"]["replications"])
    store = None
    if out is not None:
        manifest = {"base": resolved, "grid": _grid_manifest(grid),
                    "samples": json.loads(json.dumps(samples, default=_plain_json)) if samples else None,
                    "replications": reps,
                    "points": json.loads(json.dumps(points, default=_plain_json))}
        store = _Store(out, manifest)

    frames: dict[int, pd.DataFrame] = {}
    if store is not None:
        for i in range(len(points)):
            old = store.load(i)
            if old is not None:
                frames[i] = old
    todo = [i for i in range(len(points)) if i not in frames]
    units = [(i, k) for i in todo for k in range(reps)]
    pending: dict[int, list[tuple[int, dict[str, float]]]] = {i: [] for i in todo}
    bar = _progress_bar(progress, len(points), len(frames), "sweep")

    def on_done(u: int, metrics: dict[str, float]) -> None:
        point, rep = units[u]
        pending[point].append((rep, metrics))
        if len(pending[point]) == reps:
            rows = [{"point": point, **points[point], "replication": k, **m}
                    for k, m in sorted(pending.pop(point), key=lambda r: r[0])]
            frame = pd.DataFrame(rows)
            frames[point] = frame
            if store is not None:
                store.save(point, frame)
            if bar is not None:
                bar.update(1)

    try:
        run_units(texts, units, base_dir=base_dir, threads=threads, client=client, on_done=on_done)
    finally:
        if bar is not None:
            bar.close()
    runs = pd.concat([frames[i] for i in sorted(frames)], ignore_index=True)
    # Points saved before the flag existed have none: they count as complete.
    runs[STOPPED] = (runs[STOPPED].fillna(0) if STOPPED in runs.columns else 0).astype(float) > 0
    metrics = [c for c in runs.columns if c not in paths and c not in ("point", "replication", STOPPED)]
    runs = runs[["point", *paths, "replication", STOPPED, *metrics]]
    _warn_stopped(runs, paths)
    return SweepResult(runs=runs.drop(columns="point"), points=summarize_points(runs, paths),
                       paths=paths, scenario=resolved)


def _warn_stopped(runs: pd.DataFrame, paths: Sequence[str]) -> None:
    """A RuntimeWarning naming the points where the memory budget stopped replications."""
    stopped = runs[runs[STOPPED]]
    if stopped.empty:
        return
    import warnings

    shown = []
    for point, rows in list(stopped.groupby("point", sort=True))[:5]:
        label = ", ".join(f"{p}={_plain_value(rows[p].iloc[0])!r}" for p in paths)
        shown.append(f"point {point} ({label}): {len(rows)} of "
                     f"{int((runs['point'] == point).sum())}")
    more = f", and {stopped['point'].nunique() - 5} more points" if stopped["point"].nunique() > 5 else ""
    warnings.warn(f"sweep: {len(stopped)} replication(s) stopped early at the memory budget "
                  f"(run.max_memory_mb: requests waiting far above capacity, or request records): {'; '.join(shown)}{more}. "
                  f"Their metrics cover only what was simulated; the stopped_memory column flags them.",
                  RuntimeWarning, stacklevel=3)


def _plain_value(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
