"""The experiments subcommands of `dbpoolsim`: sweep, recommend, compare and check.

    dbpoolsim sweep SCENARIO --grid PATH=v1,v2 --grid PATH=start:stop:step
                    [--grid 'PATH+PATH=v1,v2' | 'PATH+PATH=a/b,c/d'] --reps N --out DIR [--plot]
    dbpoolsim recommend SCENARIO --param PATH[+PATH] --slo 'wait_time_p99_ms<=10' [--range LO:HI]
    dbpoolsim compare A.json B.json [...] [--baseline NAME]
    dbpoolsim check SCENARIO --assert 'timeout_rate<=0.001' [...]

Each takes --format json. Bad input exits 2 before anything runs; `check` exits 1 when an
assertion fails; Ctrl-C exits 130 (a sweep keeps its finished points).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from ._lazy import pd
from .compare import compare
from .recommend import recommend
from .slo import error, parse_slo
from .sweep import sweep

EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
SHOWN = ["wait_time_p99_ms", "timeout_rate", "utilization_percent", "latency_p99_ms",
         "peak_backend_connections"]


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _number(text: str, where: str) -> float:
    v = _value(text)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise error(f"{where}: {text!r} is not a number")
    return v


def parse_grid(items: Sequence[str]) -> dict[Any, list[Any]]:
    """--grid PATH=v1,v2 | PATH=start:stop:step (stop included) | PATH+PATH=v1,v2 or a/b,c/d."""
    grid: dict[Any, list[Any]] = {}
    for item in items:
        if "=" not in item:
            raise error(f"--grid {item!r}: expected PATH=v1,v2,... or PATH=start:stop:step")
        key, spec = (s.strip() for s in item.split("=", 1))
        paths = tuple(p.strip() for p in key.split("+"))
        if any(not p for p in paths):
            raise error(f"--grid {item!r}: empty path")
        if spec.count(":") == 2 and "," not in spec:
            start, stop, step = (_number(x, f"--grid {item!r}") for x in spec.split(":"))
            if step <= 0 or stop < start:
                raise error(f"--grid {item!r}: expected start <= stop and step > 0")
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            integral = all(isinstance(x, int) for x in (start, stop, step))
            values: list[Any] = [start + i * step if integral else round(start + i * step, 12)
                                 for i in range(count)]
        else:
            values = [_value(v.strip()) for v in spec.split(",") if v.strip()]
        if not values:
            raise error(f"--grid {item!r}: no values")
        if len(paths) > 1:
            linked = []
            for v in values:
                parts = [_value(x) for x in str(v).split("/")] if isinstance(v, str) else [v]
                if len(parts) == 1:
                    parts = parts * len(paths)
                if len(parts) != len(paths):
                    raise error(f"--grid {item!r}: value {v!r} must set {len(paths)} paths")
                linked.append(tuple(parts))
            grid[paths] = linked
        else:
            grid[paths[0]] = values
    return grid


def _fmt(mean: float, half: float) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    if half is None or (isinstance(half, float) and math.isnan(half)):
        return f"{mean:.4g}"
    return f"{mean:.4g} ± {half:.2g}"


def _table(df: pd.DataFrame, keys: Sequence[str], metrics: Sequence[str]) -> str:
    cols = [*keys, *metrics]
    recs = df.to_dict(orient="records")  # keeps each column's type (iterrows would not)
    rows = [[str(r[k]) for k in keys] + [_fmt(r[m], r.get(f"{m}_ci95", math.nan)) for m in metrics]
            for r in recs]
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)]
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(cols), *(line(r) for r in rows)])


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(df.to_json(orient="records"))


def _load(spec: str, sets: Sequence[str]) -> dict[str, Any]:
    from .cli import _load as load_with_sets

    return json.loads(load_with_sets(spec, sets))


def _guard(where: str, fn: Callable[[], int]) -> int:
    from .cli import _fail, _problems

    try:
        return fn()
    except KeyboardInterrupt:
        print("dbpoolsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (OSError, ValueError, TypeError) as exc:
        return _fail(where, _problems(exc))


def _progress(args: argparse.Namespace) -> Any:
    return False if args.quiet or args.format == "json" else None


def cmd_sweep(args: argparse.Namespace) -> int:
    def go() -> int:
        scenario = _load(args.scenario, args.set)
        grid = parse_grid(args.grid)
        metrics = args.metric or SHOWN
        parse_slo([f"{m} >= 0" for m in metrics], "--metric")
        res = sweep(scenario, grid, replications=args.reps, threads=args.threads,
                    out=args.out, progress=_progress(args))
        if args.plot:
            from .plot import save_sweep_plots

            for p in save_sweep_plots(res, metrics, Path(args.out)):
                print(f"wrote {p}", file=sys.stderr)
        if args.format == "json":
            print(json.dumps({"paths": res.paths, "points": _records(res.points)}))
        else:
            print(f"dbpoolsim sweep: {res.scenario.get('name')}, {len(res.points)} points x "
                  f"{args.reps or res.scenario['run']['replications']} replications (mean ± 95 % CI), "
                  f"written to {args.out}")
            print(_table(res.points, res.paths, metrics))
        return 0

    return _guard(args.scenario, go)


def cmd_recommend(args: argparse.Namespace) -> int:
    def go() -> int:
        scenario = _load(args.scenario, args.set)
        param = tuple(args.param.split("+")) if "+" in args.param else args.param
        lo = hi = None
        if args.range:
            if args.range.count(":") != 1:
                raise error(f"--range {args.range!r}: expected LO:HI")
            lo, hi = (_number(x, f"--range {args.range!r}") for x in args.range.split(":"))
        rec = recommend(scenario, param, args.slo, lo=lo, hi=hi, replications=args.reps,
                        confidence=args.confidence, threads=args.threads, progress=_progress(args))
        if args.plot:
            import matplotlib

            matplotlib.use("Agg")
            from .plot import recommend_curve

            ax = recommend_curve(rec)
            ax.figure.savefig(args.plot, dpi=120, bbox_inches="tight")
            print(f"wrote {args.plot}", file=sys.stderr)
        if args.format == "json":
            print(json.dumps({"parameter": list(rec.parameter), "value": rec.value, "met": rec.met,
                              "closest": rec.closest, "knee": rec.knee, "why": rec.why,
                              "evaluated": _records(rec.evaluated)}))
        else:
            print(rec.why)
            metrics = list(dict.fromkeys([c.metric for c in rec.slo] + ["latency_avg_ms"]))
            print(_table(rec.evaluated, [rec.parameter[0], "replications", "met"], metrics))
        return 0

    return _guard(args.scenario, go)


def cmd_compare(args: argparse.Namespace) -> int:
    def go() -> int:
        names: dict[str, Any] = {}
        for spec in args.scenarios:
            name = Path(spec).stem if Path(spec).is_file() else spec
            if name in names:
                name = spec
            names[name] = _load(spec, args.set)
        baseline = args.baseline
        if baseline is not None and baseline not in names:
            raise error(f"--baseline {baseline!r}: not one of {list(names)}")
        df = compare(names, replications=args.reps, baseline=baseline, threads=args.threads)
        metrics = args.metric or SHOWN
        parse_slo([f"{m} >= 0" for m in metrics], "--metric")
        if args.format == "json":
            print(json.dumps(_records(df.reset_index())))
            return 0
        base = baseline or next(iter(names))
        print(f"dbpoolsim compare: mean ± 95 % CI; diff = paired difference against {base}")
        for metric in metrics:
            print(f"\n{metric}")
            for name in names:
                r = df.loc[(name, metric)]
                diff = "" if name == base else f"   diff {_fmt(r['diff'], r['diff_ci95'])}"
                print(f"  {name:>24}  {_fmt(r['mean'], r['ci95'])}{diff}")
        return 0

    return _guard(" ".join(args.scenarios), go)


def cmd_check(args: argparse.Namespace) -> int:
    def go() -> int:
        scenario = _load(args.scenario, args.set)
        clauses = parse_slo(args.assertions, "--assert")
        if args.reps is not None:
            scenario.setdefault("run", {})["replications"] = args.reps
        from .runner import run

        res = run(scenario, threads=args.threads, progress=_progress(args))
        verdicts = [c.judge(res.replications[c.metric], args.confidence) for c in clauses]
        if args.format == "json":
            print(json.dumps([{"assertion": str(v.clause), "metric": v.clause.metric,
                               "mean": v.mean, "ci95": v.ci95, "bound": v.bound, "holds": v.met,
                               "replications": v.n} for v in verdicts]))
        else:
            for v in verdicts:
                side = "upper" if v.clause.upper else "lower"
                print(f"{'ok  ' if v.met else 'FAIL'} {v.clause}: {_fmt(v.mean, v.ci95)} "
                      f"({100 * args.confidence:g} % {side} bound {v.bound:.4g}, {v.n} replications)")
        return 0 if all(v.met for v in verdicts) else EXIT_FAIL

    return _guard(args.scenario, go)


def _common(p: argparse.ArgumentParser, sets: bool = True) -> None:
    p.add_argument("--reps", type=int, default=None, help="replications (default: the scenario's)")
    p.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    if sets:
        p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                       help="override a field of the scenario(s) (repeatable)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def register(sub: Any) -> None:
    """Add sweep, recommend, compare and check to the `dbpoolsim` subparsers."""
    s = sub.add_parser("sweep", help="a scenario over a grid of parameters (resumable)")
    s.add_argument("scenario")
    s.add_argument("--grid", action="append", required=True, metavar="PATH=VALUES",
                   help="PATH=v1,v2 | PATH=start:stop:step (stop included) | PATH+PATH=v1,v2 (repeatable)")
    s.add_argument("--out", required=True, help="directory: one Parquet file per finished point")
    s.add_argument("--metric", action="append", help=f"metrics to print (default: {', '.join(SHOWN)})")
    s.add_argument("--plot", action="store_true", help="write PNG plots to --out")
    _common(s)
    s.set_defaults(func=cmd_sweep)
    r = sub.add_parser("recommend", help="the smallest value of a parameter meeting an SLO")
    r.add_argument("scenario")
    r.add_argument("--param", required=True, help="dotted path, or PATH+PATH set together")
    r.add_argument("--slo", action="append", required=True, help="e.g. 'wait_time_p99_ms<=10' (repeatable)")
    r.add_argument("--range", help="LO:HI (default: 1 to 4x the current value)")
    r.add_argument("--confidence", type=float, default=0.95)
    r.add_argument("--plot", metavar="FILE.png", help="write the recommend curve")
    _common(r)
    r.set_defaults(func=cmd_recommend)
    c = sub.add_parser("compare", help="scenarios side by side with paired differences")
    c.add_argument("scenarios", nargs="+")
    c.add_argument("--baseline", help="name (file stem) of the baseline (default: the first)")
    c.add_argument("--metric", action="append", help=f"metrics to print (default: {', '.join(SHOWN)})")
    _common(c)
    c.set_defaults(func=cmd_compare)
    k = sub.add_parser("check", help="assertions on a scenario's metrics: a CI gate (exit 0/1/2)")
    k.add_argument("scenario")
    k.add_argument("--assert", dest="assertions", action="append", required=True,
                   metavar="CLAUSE", help="e.g. 'timeout_rate<=0.001' (repeatable)")
    k.add_argument("--confidence", type=float, default=0.95,
                   help="one-sided confidence of each assertion's bound (0.5: the mean)")
    _common(k)
    k.set_defaults(func=cmd_check)
