"""Telemetry in: a pg_stat_statements export, a Prometheus histogram, PgBouncer SHOW STATS /
SHOW POOLS captures. Each becomes scenario pieces (a transaction mix, a distribution, rates)
and a table of what was read, so the numbers can be checked by eye.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import pandas as pd

from .._errors import scenario_error
from .families import _sig

__all__ = ["TransactionMix", "PgBouncerCapture", "from_pg_stat_statements", "from_prometheus_histogram",
           "from_pgbouncer", "read_psql_table"]

TextOrPath = Union[str, "os.PathLike[str]"]


def _text(source: TextOrPath, what: str) -> tuple[str, str]:
    """(text, name for messages): a path (or os.PathLike) is read; a string with a newline is the text."""
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source):
        path = Path(source)
        try:
            return path.read_text(), str(path)
        except OSError as exc:
            raise scenario_error([f"{what}: cannot read {str(path)!r}: {exc.strerror or exc}"]) from None
    if isinstance(source, str):
        return source, what
    raise scenario_error([f"{what}: must be a path or the text itself, got {type(source).__name__}"])


# ---------------------------------------------------------------------------------------------
# pg_stat_statements

# Column names: PostgreSQL 13+ (mean_exec_time...) and 9.4-12 (mean_time...); times in ms.
_PGSS_COLUMNS = {"mean": ("mean_exec_time", "mean_time"), "stddev": ("stddev_exec_time", "stddev_time")}
_UTILITY = {"BEGIN", "COMMIT", "ROLLBACK", "START", "END", "SET", "RESET", "SHOW", "DISCARD", "DEALLOCATE",
            "SAVEPOINT", "RELEASE", "LISTEN", "UNLISTEN", "PREPARE"}


@dataclass
class TransactionMix:
    """A transaction mix read from telemetry.

    - ``transactions``: the scenario's ``workload.transactions`` (one class per statement class,
      ``weight`` = calls, ``queries`` = 1, ``query_time`` fitted from the mean and standard
      deviation of execution time);
    - ``arrivals``: ``{"kind": "poisson", "rate_per_s": calls / window_s}`` when ``window_s`` was
      given, else None;
    - ``table``: one row per class (calls, share, mean and sd in ms, rows per call, statements);
    - ``skipped``: what was left out, and why.
    """

    transactions: list[dict[str, Any]]
    table: pd.DataFrame
    arrivals: Optional[dict[str, Any]] = None
    skipped: list[str] = field(default_factory=list)

    def workload(self) -> dict[str, Any]:
        """The ``workload`` section (transactions, and arrivals when known)."""
        out: dict[str, Any] = {"transactions": self.transactions}
        if self.arrivals is not None:
            out["arrivals"] = self.arrivals
        return out


def _command(query: str) -> str:
    """The statement's command: its first keyword (WITH ... looks at the statement it leads to)."""
    text = re.sub(r"/\*.*?\*/|--[^\n]*", " ", query, flags=re.S).strip().lstrip("(").strip()
    words = re.findall(r"[A-Za-z_]+", text)
    if not words:
        return "OTHER"
    first = words[0].upper()
    if first == "WITH":
        # CTEs come first; a data-modifying statement anywhere makes it a write
        upper = [w.upper() for w in words[1:]]
        for cmd in ("INSERT", "UPDATE", "DELETE", "MERGE"):
            if cmd in upper:
                return cmd
        return "SELECT"
    return first


def _moments_dist(mean_s: float, sd_s: float, kind: str) -> dict[str, Any]:
    if sd_s <= 0 or sd_s / mean_s < 1e-9:
        return {"kind": "constant", "value_s": _sig(mean_s)}
    if kind == "gamma":
        return {"kind": "gamma", "shape": _sig(mean_s ** 2 / sd_s ** 2), "scale_s": _sig(sd_s ** 2 / mean_s)}
    return {"kind": "lognormal", "mean_s": _sig(mean_s), "sd_s": _sig(sd_s)}


def from_pg_stat_statements(source: TextOrPath, *, group_by: str = "command", top: int = 10,
                            window_s: Optional[float] = None, kind: str = "lognormal",
                            include_utility: bool = False) -> TransactionMix:
    """A transaction mix from a ``pg_stat_statements`` CSV export (a path or the text), e.g.
    ``psql -c "\\copy (SELECT * FROM pg_stat_statements) TO 'pgss.csv' CSV HEADER"``.

    - ``group_by``: ``"command"`` (one class per SELECT, INSERT, UPDATE, ...) or ``"query"``
      (one class per statement, the ``top`` most called, the rest merged as ``other``);
    - ``window_s``: the time the counters cover (since ``pg_stat_statements_reset()``); with it
      the arrival rate is calls per second;
    - ``kind``: the family fitted to each class's mean and standard deviation: ``lognormal``
      (by ``mean_s`` and ``sd_s``) or ``gamma`` (shape = mean^2 / sd^2); a class with no
      spread becomes ``constant``;
    - ``include_utility``: keep BEGIN, COMMIT, SET... (left out by default: they are listed in
      ``skipped``).

    Classes are merged exactly: the pooled mean is the calls-weighted mean and the pooled
    variance adds the spread between statements (pg_stat_statements' stddev is the
    population standard deviation). pg_stat_statements does not know transaction
    boundaries, so each class is one statement (``queries`` = 1); execution time is the
    server's whole time for the statement (CPU, I/O and lock waits), which the scenario uses
    as the query's database work.
    """
    if group_by not in ("command", "query"):
        raise scenario_error([f"group_by: must be 'command' or 'query', got {group_by!r}"])
    if kind not in ("lognormal", "gamma"):
        raise scenario_error([f"kind: must be 'lognormal' or 'gamma', got {kind!r}"])
    if window_s is not None and not (isinstance(window_s, (int, float)) and math.isfinite(window_s) and window_s > 0):
        raise scenario_error([f"window_s: must be > 0 and finite, got {window_s!r}"])
    text, name = _text(source, "pg_stat_statements")
    try:
        df = pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise scenario_error([f"{name}: not a CSV export ({exc})"]) from None
    cols: dict[str, str] = {}
    for role, names in _PGSS_COLUMNS.items():
        found = [c for c in names if c in df.columns]
        if not found:
            raise scenario_error([f"{name}: no {' or '.join(names)} column (columns: {', '.join(map(str, df.columns))})"])
        cols[role] = found[0]
    for need in ("calls", "query"):
        if need not in df.columns:
            raise scenario_error([f"{name}: no {need} column (columns: {', '.join(map(str, df.columns))})"])
    problems = []
    for c in ("calls", cols["mean"], cols["stddev"]):
        vals = pd.to_numeric(df[c], errors="coerce")
        bad = vals.isna() | (vals < 0)
        if bad.any():
            i = int(bad.idxmax())
            raw = df[c].iloc[i]
            shown = raw.item() if hasattr(raw, "item") else raw
            problems.append(f"{name}: row {i + 1}, {c}: must be a number >= 0, got {shown!r}")
        df[c] = vals
    if problems:
        raise scenario_error(problems)
    rows = df["rows"] if "rows" in df.columns else pd.Series(0.0, index=df.index)
    skipped = []
    records = []
    for i in df.index:
        query = str(df.at[i, "query"])
        calls = float(df.at[i, "calls"])
        command = _command(query)
        short = " ".join(query.split())[:60]
        if calls == 0:
            skipped.append(f"row {i + 1} ({short}): 0 calls")
            continue
        if command in _UTILITY and not include_utility:
            skipped.append(f"row {i + 1} ({short}): utility statement {command} ({calls:g} calls)")
            continue
        records.append({"command": command, "query": short, "calls": calls, "mean_ms": float(df.at[i, cols["mean"]]),
                        "sd_ms": float(df.at[i, cols["stddev"]]), "rows": float(rows[i])})
    if not records:
        raise scenario_error([f"{name}: no statement with calls left to build a mix from"
                              + (f" ({len(skipped)} skipped)" if skipped else "")])
    rec = pd.DataFrame(records)
    if group_by == "command":
        rec["class"] = rec["command"].str.lower()
    else:
        rec = rec.sort_values("calls", ascending=False, kind="stable").reset_index(drop=True)
        rec["class"] = [f"q{i + 1}" if i < top else "other" for i in range(len(rec))]
    out_rows = []
    transactions = []
    total = float(rec["calls"].sum())
    for cls, g in rec.groupby("class", sort=False):
        n = float(g["calls"].sum())
        mean = float((g["calls"] * g["mean_ms"]).sum() / n)
        second = float((g["calls"] * (g["sd_ms"] ** 2 + g["mean_ms"] ** 2)).sum() / n)
        sd = math.sqrt(max(second - mean * mean, 0.0))
        if mean <= 0:
            skipped.append(f"class {cls}: mean execution time 0 ms ({n:g} calls)")
            continue
        transactions.append({"name": str(cls), "weight": n, "queries": 1,
                             "query_time": _moments_dist(mean / 1000, sd / 1000, kind)})
        out_rows.append({"class": cls, "calls": n, "share": n / total, "mean_ms": mean, "sd_ms": sd,
                         "rows_per_call": float(g["rows"].sum() / n), "statements": len(g),
                         "example": g["query"].iloc[0]})
    table = pd.DataFrame(out_rows).set_index("class")
    arrivals = None
    if window_s is not None:
        arrivals = {"kind": "poisson", "rate_per_s": _sig(float(table["calls"].sum()) / window_s)}
    return TransactionMix(transactions=transactions, table=table, arrivals=arrivals, skipped=skipped)


# ---------------------------------------------------------------------------------------------
# Prometheus histogram

_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)(?:\s+\S+)?\s*$")
_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


def _parse_exposition(text: str, name: str) -> dict[str, dict[tuple, dict[str, float]]]:
    """{histogram: {labels without le: {"buckets": {le: count}, "sum": s, "count": n}}}."""
    out: dict[str, dict[tuple, dict[str, Any]]] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise scenario_error([f"{name}:{lineno}: not a Prometheus sample line: {line[:80]!r}"])
        metric, labels_text, value_text = m.group(1), m.group(2) or "", m.group(3)
        labels = dict(_LABEL.findall(labels_text[1:-1])) if labels_text else {}
        try:
            value = float(value_text)
        except ValueError:
            raise scenario_error([f"{name}:{lineno}: value {value_text!r} is not a number"]) from None
        for suffix in ("_bucket", "_sum", "_count"):
            if metric.endswith(suffix):
                base = metric[: -len(suffix)]
                key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
                series = out.setdefault(base, {}).setdefault(key, {"buckets": {}, "sum": None, "count": None})
                if suffix == "_bucket":
                    if "le" not in labels:
                        raise scenario_error([f"{name}:{lineno}: bucket without an le label"])
                    le = labels["le"]
                    try:
                        bound = math.inf if le in ("+Inf", "Inf", "+inf") else float(le)
                    except ValueError:
                        raise scenario_error([f"{name}:{lineno}: le={le!r} is not a number"]) from None
                    series["buckets"][bound] = value
                else:
                    series[suffix[1:]] = value
                break
    return {k: v for k, v in out.items() if any(s["buckets"] for s in v.values())}


def _histogram(text: str, name: str, metric: Optional[str], labels: Mapping[str, str]) -> tuple[str, dict[float, float], float, float]:
    """(metric, cumulative counts by upper bound, sum, count), summed over the matching series."""
    hists = _parse_exposition(text, name)
    if not hists:
        raise scenario_error([f"{name}: no histogram (no *_bucket samples) found"])
    if metric is None:
        if len(hists) > 1:
            raise scenario_error([f"metric: {name} holds several histograms ({', '.join(sorted(hists))}); name one"])
        metric = next(iter(hists))
    if metric not in hists:
        raise scenario_error([f"metric: no histogram {metric!r} in {name} (found: {', '.join(sorted(hists))})"])
    chosen = [s for key, s in hists[metric].items() if all(dict(key).get(k) == v for k, v in labels.items())]
    if not chosen:
        raise scenario_error([f"labels: no series of {metric} has {dict(labels)} (series: "
                              f"{', '.join(str(dict(k)) for k in hists[metric])})"])
    bounds = sorted(chosen[0]["buckets"])
    buckets = {b: 0.0 for b in bounds}
    total_sum, total_count = 0.0, 0.0
    for s in chosen:
        if sorted(s["buckets"]) != bounds:
            raise scenario_error([f"{metric}: series have different bucket bounds; choose one with labels="])
        for b in bounds:
            buckets[b] += s["buckets"][b]
        total_sum = math.nan if s["sum"] is None else total_sum + s["sum"]
        total_count = math.nan if s["count"] is None else total_count + s["count"]
    return metric, buckets, total_sum, total_count


def from_prometheus_histogram(source: TextOrPath, *, metric: Optional[str] = None,
                              labels: Optional[Mapping[str, str]] = None, before: Optional[TextOrPath] = None,
                              unit: Optional[str] = None) -> dict[str, Any]:
    """A Prometheus histogram (text exposition format: ``*_bucket{le=...}``, ``*_sum``,
    ``*_count``) as a scenario distribution: the histogram itself, a ``mixture`` of ``uniform``
    components, one per non-empty bucket, weighted by its count (the first bucket starts at 0).

    - ``metric``: the histogram's name (needed when the text holds several);
    - ``labels``: keep only series with these labels; the matching series are added up;
    - ``before``: an earlier scrape of the same target: the distribution is then of the
      observations between the two (counters are cumulative since the process started);
    - ``unit``: ``s`` or ``ms``; default ``ms`` for names ending ``_milliseconds`` or ``_ms``,
      else ``s`` (Prometheus' convention).

    Observations above the last finite bound (the ``+Inf`` bucket) have no upper edge: when
    ``*_sum`` is there, their mean is what the sum leaves after the finite buckets (each counted
    at its midpoint), and they become a uniform component with that mean starting at the last
    bound; without ``*_sum`` (or if that mean is not above the bound) they sit at the last
    bound, as Prometheus' ``histogram_quantile`` places them.
    """
    text, name = _text(source, "histogram")
    metric, buckets, hsum, hcount = _histogram(text, name, metric, labels or {})
    if before is not None:
        btext, bname = _text(before, "before")
        _, b0, s0, c0 = _histogram(btext, bname, metric, labels or {})
        if sorted(b0) != sorted(buckets):
            raise scenario_error([f"before: {metric} has different bucket bounds in {bname}"])
        for b in buckets:
            if buckets[b] < b0[b]:
                raise scenario_error([f"before: {metric} le={b:g} went down ({b0[b]:g} -> {buckets[b]:g}): "
                                      "the counters were reset between the scrapes"])
            buckets[b] -= b0[b]
        hsum, hcount = hsum - s0, hcount - c0
    if unit is None:
        unit = "ms" if metric.endswith(("_milliseconds", "_ms")) else "s"
    if unit not in ("s", "ms"):
        raise scenario_error([f"unit: must be 's' or 'ms', got {unit!r}"])
    k = 1e-3 if unit == "ms" else 1.0
    bounds = sorted(buckets)
    if math.inf not in buckets:
        raise scenario_error([f"{metric}: no le=\"+Inf\" bucket"])
    prev_bound, prev_count = 0.0, 0.0
    components = []
    finite_sum = 0.0
    for b in bounds:
        c = buckets[b]
        if c < prev_count:
            raise scenario_error([f"{metric}: bucket le={b:g} holds {c:g}, fewer than the previous ({prev_count:g}); "
                                  "bucket counts are cumulative"])
        n = c - prev_count
        if n > 0 and b != math.inf:
            if b < 0:
                raise scenario_error([f"{metric}: negative bucket bound le={b:g}: not a duration"])
            components.append({"weight": n, "dist": {"kind": "uniform", "low_s": _sig(prev_bound * k),
                                                     "high_s": _sig(b * k)}})
            finite_sum += n * (prev_bound + b) / 2
        elif n > 0:
            last = prev_bound
            tail_mean = (hsum - finite_sum) / n if not math.isnan(hsum) else math.nan
            if not math.isnan(tail_mean) and tail_mean > last:
                high = 2 * tail_mean - last
                dist = {"kind": "uniform", "low_s": _sig(last * k), "high_s": _sig(high * k)}
            else:
                dist = {"kind": "constant", "value_s": _sig(last * k)}
            components.append({"weight": n, "dist": dist})
        prev_bound = b if b != math.inf else prev_bound
        prev_count = c
    if not components:
        raise scenario_error([f"{metric}: every bucket is empty (no observations"
                              + (" between the two scrapes)" if before is not None else ")")])
    if len(components) == 1:
        return components[0]["dist"]
    return {"kind": "mixture", "components": components}


# ---------------------------------------------------------------------------------------------
# PgBouncer SHOW STATS / SHOW POOLS


def read_psql_table(source: TextOrPath) -> pd.DataFrame:
    """A psql result as a DataFrame: the aligned format (``col | col`` header, ``---+---`` rule,
    rows, ``(N rows)``), ``psql --csv`` output, or expanded ``\\x`` records
    (``-[ RECORD 1 ]---`` then ``col | value``). Numbers become numbers."""
    text, name = _text(source, "capture")
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not re.match(r"^\(\d+ rows?\)$", ln.strip()) and not ln.lstrip().startswith(("pgbouncer=", "#"))]
    if not lines:
        raise scenario_error([f"{name}: empty capture"])
    if lines[0].startswith("-[ RECORD"):
        records: list[dict[str, str]] = []
        for ln in lines:
            if ln.startswith("-[ RECORD"):
                records.append({})
            elif "|" in ln:
                k, v = ln.split("|", 1)
                records[-1][k.strip()] = v.strip()
        df = pd.DataFrame(records)
    elif len(lines) > 1 and re.match(r"^[-+\s]+$", lines[1]):
        header = [h.strip() for h in lines[0].split("|")]
        rows = [[c.strip() for c in ln.split("|")] for ln in lines[2:]]
        for i, r in enumerate(rows):
            if len(r) != len(header):
                raise scenario_error([f"{name}: row {i + 1} has {len(r)} columns, the header {len(header)}"])
        df = pd.DataFrame(rows, columns=header)
    else:
        df = pd.DataFrame(list(csv.DictReader(io.StringIO("\n".join(lines)))))
    for c in df.columns:
        num = pd.to_numeric(df[c], errors="coerce")
        if num.notna().all():
            df[c] = num
    return df


@dataclass
class PgBouncerCapture:
    """What two SHOW STATS captures (and optionally SHOW POOLS) say about the traffic.

    - ``stats``: per database: ``transactions_per_s``, ``queries_per_transaction``,
      ``transaction_time_ms``, ``query_time_ms``, ``wait_ms`` (per server assignment, as
      PgBouncer's own ``avg_wait_time``), ``assignments_per_s``;
    - ``pools``: per (database, user) from SHOW POOLS: ``clients`` (cl_active + cl_waiting),
      ``cl_waiting``, ``servers`` (sv_active + sv_idle + sv_used + sv_tested + sv_login),
      ``sv_active``, ``maxwait_s``, ``pool_mode``; None without SHOW POOLS.
    """

    stats: pd.DataFrame
    pools: Optional[pd.DataFrame]
    interval_s: float

    def workload(self, database: Optional[str] = None) -> dict[str, Any]:
        """A ``workload`` section for one database: Poisson arrivals at the measured rate, one
        transaction class with the measured queries per transaction (rounded), exponential
        query times with the measured mean, and the rest of the transaction time (idle in
        transaction: the application holding the connection) as exponential ``app_time``.
        Only means are measured, so the exponential shapes are an assumption."""
        row = self._row(database)
        q = max(1, round(float(row["queries_per_transaction"])))
        per_query_s = float(row["query_time_ms"]) / 1000
        app_s = (float(row["transaction_time_ms"]) / 1000 - q * per_query_s) / q
        txn: dict[str, Any] = {"name": str(row.name), "weight": 1, "queries": q,
                               "query_time": {"kind": "exponential", "mean_s": _sig(per_query_s)}}
        if app_s > 1e-6:
            txn["app_time"] = {"kind": "exponential", "mean_s": _sig(app_s)}
        return {"arrivals": {"kind": "poisson", "rate_per_s": _sig(float(row["transactions_per_s"]))},
                "transactions": [txn]}

    def check(self, result: Any, database: Optional[str] = None) -> pd.DataFrame:
        """Measured beside simulated: throughput, PgBouncer wait and server connections in use.
        ``result`` is a ``dbpoolsim.Result`` of a scenario with a ``pgbouncer`` pooler."""
        row = self._row(database)
        s = result.summary
        rows = [("transactions_per_s", float(row["transactions_per_s"]), s.get("throughput_per_s", math.nan)),
                ("wait_ms", float(row["wait_ms"]), s.get("pooler_wait_avg_ms", math.nan))]
        if self.pools is not None:
            p = self.pools[self.pools["database"] == row.name]
            rows.append(("servers", float(p["servers"].sum()), s.get("pooler_servers_avg", math.nan)))
            rows.append(("cl_waiting", float(p["cl_waiting"].sum()), math.nan))
        df = pd.DataFrame(rows, columns=["metric", "measured", "simulated"]).set_index("metric")
        df["ratio"] = df["simulated"] / df["measured"]
        return df

    def _row(self, database: Optional[str]) -> pd.Series:
        if database is None:
            if len(self.stats) != 1:
                raise scenario_error([f"database: the capture has {len(self.stats)} databases "
                                      f"({', '.join(map(str, self.stats.index))}); name one"])
            return self.stats.iloc[0]
        if database not in self.stats.index:
            raise scenario_error([f"database: {database!r} is not in the capture ({', '.join(map(str, self.stats.index))})"])
        return self.stats.loc[database]


_STATS_NEEDED = ("database", "total_xact_count", "total_query_count", "total_xact_time", "total_query_time",
                 "total_wait_time")
_POOLS_NEEDED = ("database", "user", "cl_active", "cl_waiting", "sv_active", "sv_idle", "sv_used", "sv_tested",
                 "sv_login", "maxwait")


def _need(df: pd.DataFrame, cols: tuple[str, ...], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise scenario_error([f"{what}: missing column(s) {', '.join(missing)} (columns: {', '.join(map(str, df.columns))})"])


def from_pgbouncer(stats_before: TextOrPath, stats_after: TextOrPath, interval_s: float, *,
                   pools: Optional[TextOrPath] = None, include_admin: bool = False) -> PgBouncerCapture:
    """Rates and times from two ``SHOW STATS`` captures taken ``interval_s`` apart (the totals
    are counters since PgBouncer started; their differences over the interval are what this
    reads; a database absent from the first capture had not been used yet, so it counts from
    0), and the pool state from an optional ``SHOW POOLS`` capture. Captures are psql
    output (aligned, ``--csv`` or ``\\x``), as text or a path. The ``pgbouncer`` admin
    database is left out unless ``include_admin``.

    Times in SHOW STATS are microseconds (PgBouncer's usage docs, "SHOW STATS"); the wait per
    assignment uses ``total_server_assignment_count`` (PgBouncer 1.23+), as PgBouncer's own
    ``avg_wait_time`` does, and per transaction on older versions that lack it.
    """
    if not (isinstance(interval_s, (int, float)) and math.isfinite(interval_s) and interval_s > 0):
        raise scenario_error([f"interval_s: must be > 0 and finite, got {interval_s!r}"])
    a, b = read_psql_table(stats_before), read_psql_table(stats_after)
    _need(a, _STATS_NEEDED, "stats_before")
    _need(b, _STATS_NEEDED, "stats_after")
    a, b = a.set_index("database"), b.set_index("database")
    rows = []
    for db in b.index:
        if db == "pgbouncer" and not include_admin:
            continue
        # A database appears in SHOW STATS once it is first used: absent before, its counters
        # started from 0 within the interval.
        before = a.loc[db] if db in a.index else pd.Series(0.0, index=a.columns)
        d = b.loc[db] - before.reindex(b.columns)
        for c in _STATS_NEEDED[1:]:
            if d[c] < 0:
                raise scenario_error([f"stats_after: {db}: {c} went down ({before[c]:g} -> {b.loc[db, c]:g}); "
                                      "is stats_before the earlier capture, and did PgBouncer restart?"])
        xacts, queries = float(d["total_xact_count"]), float(d["total_query_count"])
        if xacts <= 0:
            raise scenario_error([f"stats_after: {db}: no transaction between the captures"])
        assignments = float(d["total_server_assignment_count"]) if "total_server_assignment_count" in d else xacts
        rows.append({"database": db, "transactions_per_s": xacts / interval_s,
                     "queries_per_transaction": queries / xacts,
                     "transaction_time_ms": float(d["total_xact_time"]) / xacts / 1000,
                     "query_time_ms": float(d["total_query_time"]) / max(queries, 1) / 1000,
                     "wait_ms": float(d["total_wait_time"]) / max(assignments, 1) / 1000,
                     "assignments_per_s": assignments / interval_s})
    if not rows:
        raise scenario_error(["stats_after: no database rows (besides the pgbouncer admin database)"])
    stats_df = pd.DataFrame(rows).set_index("database")
    pools_df = None
    if pools is not None:
        p = read_psql_table(pools)
        _need(p, _POOLS_NEEDED, "pools")
        if not include_admin:
            p = p[p["database"] != "pgbouncer"]
        p = p.copy()
        p["clients"] = p["cl_active"] + p["cl_waiting"]
        p["servers"] = p[["sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"]].sum(axis=1)
        us = p["maxwait_us"] if "maxwait_us" in p.columns else 0
        p["maxwait_s"] = p["maxwait"] + us / 1e6
        keep = ["database", "user", "clients", "cl_waiting", "servers", "sv_active", "maxwait_s"]
        pools_df = p[keep + (["pool_mode"] if "pool_mode" in p.columns else [])].reset_index(drop=True)
    return PgBouncerCapture(stats=stats_df, pools=pools_df, interval_s=float(interval_s))
