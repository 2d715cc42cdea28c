"""The `dbpoolsim` command.

    dbpoolsim run [SCENARIO] [--out DIR] [--threads N] [--set path=value ...] [--parquet] [--html [PATH]]
    dbpoolsim validate SCENARIO [SCENARIO ...]
    dbpoolsim scenarios          # built-in scenarios
    dbpoolsim pools              # pool kinds
    dbpoolsim import-config FILE [--library L] [--database DB]   # your pool's config as a scenario section
    dbpoolsim formulas SCENARIO --slo "wait_time_p99_ms <= 10" [--sizes-only] [--csv FILE]
    dbpoolsim sweep | recommend | compare | check ...   (see cli_experiments.py)

SCENARIO is a JSON or YAML file or a built-in scenario name (default: medium-application).
Errors print one line per problem and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from . import _core
from .report import render_report
from .runner import run
from ._core import ScenarioError
from .scenario import MAX_DEPTH, scenario_error, shorten
from .scenario import DEFAULT_SCENARIO, builtin_scenarios, load_scenario, pool_kinds, scenario_base_dir, with_overrides

EXIT_USAGE = 2


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise scenario_error(f"{text} is beyond the range of a double (about 1.8e308)")
    if value == 0 and re.search("[1-9]", re.split("[eE]", text)[0]):  # 1e-400
        raise scenario_error(f"{text} is below the smallest double (about 4.9e-324): it would be read as 0")
    return value


def _parse_value(text: str) -> Any:
    """A --set value: JSON when it parses (NaN and Infinity are not JSON: they stay strings),
    otherwise the text itself."""
    try:
        return json.loads(text, parse_float=_finite, parse_constant=lambda _: text)
    except json.JSONDecodeError:
        return text
    except RecursionError:
        raise scenario_error(f"nested deeper than {MAX_DEPTH} levels (the limit)") from None


def _problems(exc: BaseException) -> list[str]:
    probs = getattr(exc, "problems", None)
    return list(probs) if probs else [str(exc)]


def _fail(where: str, lines: list[str]) -> int:
    where = shorten(where, 1000)  # a path in full; not a whole JSON text given as the scenario
    for line in lines:
        print(f"dbpoolsim: error: {where}: {line}", file=sys.stderr)
    return EXIT_USAGE


def _load(spec: str, sets: Sequence[str]) -> str:
    text = load_scenario(spec)
    if sets:
        overrides = {}
        for item in sets:
            if "=" not in item:
                raise scenario_error(f"--set {shorten(item)!r}: expected path=value, e.g. pool.max_connections=20")
            if re.search("[\udc80-\udcff]", item):  # bytes that were not UTF-8 in argv
                raise scenario_error(f"--set {shorten(ascii(item))}: not UTF-8 text")
            key, value = item.split("=", 1)
            try:
                overrides[key.strip()] = _parse_value(value)
            except ScenarioError as exc:
                raise scenario_error(f"--set {shorten(item)!r}: {exc}") from None
        text = json.dumps(with_overrides(json.loads(text), **overrides))
    return text


def folder_name(name: str) -> str:
    """A scenario name (a label) as a safe folder name under results/: letters, digits, '.',
    '_' and '-' kept, every other run of characters one '-', no leading dot, at most 100."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:100].strip("-.")
    return safe or "scenario"


def _out_dir(result: Any, args: argparse.Namespace) -> Path:
    return Path(args.out) if args.out else Path("results") / folder_name(result._brief["name"])


def _interrupted(partial: Any, args: argparse.Namespace, saving: bool = False) -> int:
    """Ctrl-C during a run: save what was simulated (result.json says "interrupted": true and
    how far each replication got), say where, exit 130. With ``saving`` (Ctrl-C while the
    finished run's files were written): only result.json and replications.csv (Result.save's
    ``brief``), which take well under a second."""
    if partial is None or partial.replications.empty:
        print("dbpoolsim: interrupted", file=sys.stderr)
        return 130
    out = _out_dir(partial, args)
    horizon = partial._brief["run"]["horizon_s"]
    got = ", ".join(f"{p['replication']}: {p['simulated_s']:.6g} s" for p in partial.progress[:10])
    more = f", ... ({len(partial.progress)} replications)" if len(partial.progress) > 10 else ""
    try:
        partial.save(out, brief=saving)
    except OSError as exc:
        print(f"dbpoolsim: interrupted; the partial result could not be written to {out}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 130
    left = [o.get("file") or o["path"] for o in partial.omitted]
    left_out = f"; left out: {', '.join(left[:5])}{', ...' if len(left) > 5 else ''}" if left else ""
    if saving:
        print(f"dbpoolsim: interrupted while saving; wrote result.json (summary and metrics of the "
              f"finished run) and replications.csv to {out}{left_out}", file=sys.stderr)
        return 130
    print(f"dbpoolsim: interrupted; wrote the partial result to {out} (simulated of {horizon:g} s per "
          f"replication: {got}{more}){left_out}", file=sys.stderr)
    return 130


def cmd_run(args: argparse.Namespace) -> int:
    try:
        text = _load(args.scenario, args.set)
        base_dir = scenario_base_dir(args.scenario)
    except (OSError, ValueError, TypeError) as exc:
        return _fail(args.scenario, _problems(exc))
    try:  # validates once, in run (a scenario of 50 MB takes seconds to read)
        result = run(text, threads=args.threads, progress=None if not args.quiet else False, base_dir=base_dir)
    except KeyboardInterrupt as exc:
        return _interrupted(getattr(exc, "result", None), args)
    except (ValueError, TypeError) as exc:  # ScenarioError: the scenario, bad --threads
        return _fail(args.scenario, _problems(exc))
    # Save before printing, so the results exist even if stdout goes away (e.g. `| head`).
    out = _out_dir(result, args)
    try:
        paths = result.save(out, parquet=args.parquet)
        if args.html is not None:
            from .html_report import write_html

            paths["html"] = write_html(result, out / "report.html" if args.html == "" else Path(args.html))
    except OSError as exc:
        return _fail(str(out), [f"cannot write the results: {exc.strerror or exc}"])
    except KeyboardInterrupt:  # the run finished: keep its summary and metrics
        return _interrupted(result, args, saving=True)
    print(render_report(result))
    extra = "".join(f", {paths[k].name}" for k in ("requests", "replications_parquet", "timeseries_parquet",
                                                    "requests_parquet") if k in paths)
    print(f"\n  wrote {paths['result']}, {paths['scenario'].name}, {paths['replications'].name}, "
          f"{paths['timeseries'].name}{extra}")
    if "html" in paths:
        print(f"  HTML report: {paths['html']}")
    return 0


def cmd_import_config(args: argparse.Namespace) -> int:
    from .import_config import load

    try:
        cfg = load(args.file, args.library, database=args.database)
    except (OSError, ValueError, TypeError) as exc:
        return _fail(args.file, _problems(exc))
    print(cfg.to_json())
    for item in cfg.unsupported:
        print(f"dbpoolsim: not imported: {item['setting']} = {item['value']}: {item['reason']}", file=sys.stderr)
    for note in cfg.notes:
        print(f"dbpoolsim: note: {note}", file=sys.stderr)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    status = 0
    for spec in args.scenarios:
        try:
            _core.resolve_scenario(load_scenario(spec), scenario_base_dir(spec))
            print(f"{spec}: ok")
        except (OSError, ValueError, TypeError) as exc:
            status = _fail(spec, _problems(exc))
    return status


def cmd_scenarios(_: argparse.Namespace) -> int:
    for name, desc in builtin_scenarios().items():
        mark = " (default)" if name == DEFAULT_SCENARIO else ""
        print(f"{name}{mark}: {desc}")
    return 0


def cmd_pools(_: argparse.Namespace) -> int:
    for name, desc in pool_kinds().items():
        print(f"{name}: {desc}")
    return 0


def cmd_formulas(args: argparse.Namespace) -> int:
    from . import formulas

    try:
        text = _load(args.scenario, args.set)
        _core.resolve_scenario(text, scenario_base_dir(args.scenario))
        slo = formulas.parse_slo(args.slo or ["wait_time_p99_ms <= 10"])
        names = args.formula or None
        if args.sizes_only:
            table = formulas.sizes(text, slo, names)
        else:
            table = formulas.evaluate(text, slo, names, threads=args.threads)
    except (OSError, ValueError, TypeError) as exc:
        return _fail(args.scenario, _problems(exc))
    except KeyboardInterrupt:
        print("dbpoolsim: interrupted", file=sys.stderr)
        return 130
    if args.csv:
        table.to_csv(args.csv, index=False)
    with pd_options():
        print(table.to_string(index=False))
    return 0


def pd_options() -> Any:
    import pandas as pd

    return pd.option_context("display.width", 200, "display.max_columns", 30,
                             "display.float_format", "{:.4g}".format)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dbpoolsim", description="Simulate database connection pools.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a scenario and print its report")
    r.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO,
                   help=f"JSON file or built-in name (default: {DEFAULT_SCENARIO})")
    r.add_argument("--out", help="directory for result.json, scenario.resolved.json and CSVs "
                                 "(default: results/<scenario name>)")
    r.add_argument("--threads", type=int, default=None, help="parallel replications (default: all cores)")
    r.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="override a field, e.g. --set pool.max_connections=20 (repeatable)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--parquet", action="store_true",
                   help="also write a .parquet file beside each CSV (replications, timeseries, requests)")
    r.add_argument("--html", nargs="?", const="", default=None, metavar="PATH",
                   help="also write a self-contained HTML report (default PATH: <out>/report.html)")
    r.set_defaults(func=cmd_run)
    v = sub.add_parser("validate", help="check scenario files")
    v.add_argument("scenarios", nargs="+")
    v.set_defaults(func=cmd_validate)
    sub.add_parser("scenarios", help="list built-in scenarios").set_defaults(func=cmd_scenarios)
    sub.add_parser("pools", help="list pool kinds").set_defaults(func=cmd_pools)
    ic = sub.add_parser("import-config", help="print a pool configuration file as a scenario section (JSON)")
    ic.add_argument("file", help=".properties / application.yml (HikariCP), pgbouncer.ini, or JSON keyword "
                                 "arguments (SQLAlchemy with \"url\", psycopg_pool, asyncpg)")
    ic.add_argument("--library", help="hikaricp, sqlalchemy, psycopg_pool, asyncpg or pgbouncer "
                                      "(default: from the file)")
    ic.add_argument("--database", help="pgbouncer.ini: the [databases] entry whose pool settings apply")
    ic.set_defaults(func=cmd_import_config)
    f = sub.add_parser("formulas", help="put the sizing formulas on trial for a scenario")
    f.add_argument("scenario", help="JSON file or built-in name")
    f.add_argument("--slo", action="append", default=[], metavar="CLAUSE",
                   help="e.g. 'wait_time_p99_ms <= 10' (repeatable; default that one)")
    f.add_argument("--formula", action="append", default=[], help="only this formula (repeatable)")
    f.add_argument("--sizes-only", action="store_true", help="print the sizes, simulate nothing")
    f.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="override a field (repeatable)")
    f.add_argument("--threads", type=int, default=None)
    f.add_argument("--csv", help="also write the table to this CSV file")
    f.set_defaults(func=cmd_formulas)
    from .cli_experiments import register

    register(sub)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except KeyboardInterrupt:  # Ctrl-C while loading or validating: one line, no traceback
        print("dbpoolsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `dbpoolsim run | head`: stop quietly, like other tools
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
