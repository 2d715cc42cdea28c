"""The result of a run: summary dict, per-replication and time-series DataFrames."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ._lazy import pd
from .analysis import confidence_interval, summarize


@dataclass
class Result:
    """What ``dbpoolsim.run`` returns.

    - ``summary``: metric -> mean over replications (plus ``<metric>_ci95`` half-widths and
      the pooled percentiles over all replications under ``pooled_*``);
    - ``replications``: DataFrame, one row per replication, one column per metric;
    - ``timeseries``: DataFrame, one row per (replication, sample instant);
    - ``scenario``: the resolved scenario (every default filled in);
    - ``requests``: with ``run.record_requests``, a DataFrame with one row per counted request
      (docs/scenario.md, "Request records"); None otherwise;
    - ``interrupted``: True when Ctrl-C (or ``cancel``) ended the run: then ``replications``
      holds those that started, each up to where it stopped;
    - ``progress``: per replication, ``simulated_s`` (how far it got) and ``stopped`` ("" when
      it ran to ``horizon_s``, "interrupted", or "memory": ``run.max_memory_mb`` was reached);
    - ``overload``: whether requests piled up without bound, and if so offered against
      served per second, their ratio and the resource that saturates (docs/limits.md).

    The two DataFrames are built on first access (``summary`` needs no pandas), so a run
    that only reads the summary never imports pandas (see _lazy.py).
    """

    scenario: dict[str, Any]
    pooled: dict[str, float]
    wall_seconds: float
    threads: int
    summary: dict[str, float] = field(default_factory=dict)
    requests: Optional[pd.DataFrame] = None
    interrupted: bool = False
    progress: list[dict[str, Any]] = field(default_factory=list)
    overload: dict[str, Any] = field(default_factory=dict)
    # What the DataFrames are built from: one dict per replication; the series' columns and rows.
    _replication_rows: list[dict[str, Any]] = field(default_factory=list, repr=False)
    _series: dict[str, Any] = field(default_factory=dict, repr=False)
    _frames: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def replications(self) -> "pd.DataFrame":
        if "replications" not in self._frames:
            reps = pd.DataFrame(self._replication_rows).astype(float)
            if not reps.empty:  # empty when interrupted before any replication started
                reps["replication"] = reps["replication"].astype(int)
            self._frames["replications"] = reps
        return self._frames["replications"]

    @property
    def timeseries(self) -> "pd.DataFrame":
        if "timeseries" not in self._frames:
            ts = pd.DataFrame(self._series.get("rows", []), columns=self._series.get("columns", []))
            if not ts.empty:
                # NaN crosses as null: a column without any value (e.g. pooler_wait_p99_ms
                # without a pooler) would otherwise be of objects.
                ts = ts.astype({c: float for c in ts.columns if c != "replication"})
                ts["replication"] = ts["replication"].astype(int)
            self._frames["timeseries"] = ts
        return self._frames["timeseries"]

    @classmethod
    def from_json(cls, text: str) -> "Result":
        data = json.loads(text)
        rows = data["replications"]
        pooled = {k: (math.nan if v is None else float(v)) for k, v in data["pooled"].items()}
        # The mean and 95 % half-width of every metric over replications, as summarize()
        # computes them from the DataFrame (same values, same order), without pandas.
        metrics = [k for k in (rows[0] if rows else {}) if k != "replication"]
        stats = {m: confidence_interval(math.nan if r.get(m) is None else float(r[m]) for r in rows)
                 for m in metrics}
        summary: dict[str, float] = {m: mean for m, (mean, _) in stats.items()}
        summary.update({f"{m}_ci95": half for m, (_, half) in stats.items()})
        if rows:  # interrupted before any replication started: nothing to summarise
            summary.update({f"pooled_{k}": v for k, v in pooled.items()})
        res = cls(scenario=data["scenario"], pooled=pooled, wall_seconds=float(data["wall_seconds"]),
                  threads=int(data["threads"]), summary=summary,
                  interrupted=bool(data.get("interrupted", False)), progress=list(data.get("progress", [])),
                  overload=dict(data.get("overload", {})), _replication_rows=rows,
                  _series=data["series"])
        records = data.get("request_records")
        if records and any(records["not_recorded"]):
            cap = records["max_per_replication"]
            worst = max(range(len(records["not_recorded"])), key=lambda i: records["not_recorded"][i])
            total = records["recorded"][worst] + records["not_recorded"][worst]
            warnings.warn(f"request records: run.record_requests_max is {cap}, so replication {worst} "
                          f"recorded the first {cap} of its {total} requests to end; raise "
                          f"run.record_requests_max to record them all", RuntimeWarning, stacklevel=3)
        return res

    def attach_requests(self, columns: dict[str, Any]) -> None:
        """Build ``requests`` from the core's record columns (python/src/request_columns.hpp):
        one row per counted request, sorted by replication and arrival order."""
        names = list(columns.pop("outcome_names"))
        frame = pd.DataFrame(columns)
        classes = [c["name"] for c in self.scenario["workload"]["transactions"]]
        pools = list(self.scenario["pools"]) if self.scenario.get("pools") else ["default"]
        codes = {i: n for i, n in enumerate(names)} | {255: "in_flight"}
        frame["class"] = pd.Categorical.from_codes(frame["class"], categories=classes)
        frame["pool"] = pd.Categorical.from_codes(frame["pool"], categories=pools)
        frame["outcome"] = pd.Categorical(frame["outcome"].map(codes), categories=list(codes.values()))
        self.requests = frame.sort_values(["replication", "request"], kind="stable").reset_index(drop=True)

    def stats(self) -> pd.DataFrame:
        """Mean, 95 % CI half-width, min and max of every metric over replications."""
        return summarize(self.replications)

    def save(self, out_dir: str | Path, parquet: bool = False) -> dict[str, Path]:
        """Write result.json, scenario.resolved.json, replications.csv, timeseries.csv and, with
        recorded requests, requests.csv; with ``parquet``, also a .parquet beside each CSV (pyarrow)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "result": out / "result.json",
            "scenario": out / "scenario.resolved.json",
            "replications": out / "replications.csv",
            "timeseries": out / "timeseries.csv",
        }

        def clean(v: float) -> float | None:
            return None if isinstance(v, float) and math.isnan(v) else v

        doc = {
            "scenario": self.scenario,
            "summary": {k: clean(v) for k, v in self.summary.items()},
            "replications": [{k: clean(v) for k, v in row.items()}
                             for row in self.replications.to_dict(orient="records")],
            "wall_seconds": self.wall_seconds,
            "threads": self.threads,
            "interrupted": self.interrupted,
            "progress": self.progress,
            "overload": {k: clean(v) for k, v in self.overload.items()},
        }
        paths["result"].write_text(json.dumps(doc, indent=2) + "\n")
        paths["scenario"].write_text(json.dumps(self.scenario, indent=2) + "\n")
        self.replications.to_csv(paths["replications"], index=False)
        self.timeseries.to_csv(paths["timeseries"], index=False)
        if self.requests is not None:
            paths["requests"] = out / "requests.csv"
            self.requests.to_csv(paths["requests"], index=False)
        if parquet:
            paths["replications_parquet"] = out / "replications.parquet"
            paths["timeseries_parquet"] = out / "timeseries.parquet"
            self.replications.to_parquet(paths["replications_parquet"], index=False)
            self.timeseries.to_parquet(paths["timeseries_parquet"], index=False)
            if self.requests is not None:
                paths["requests_parquet"] = out / "requests.parquet"
                self.requests.to_parquet(paths["requests_parquet"], index=False)
        return paths

    def to_html(self, path: str | Path | None = None, title: str | None = None) -> str:
        """The self-contained HTML report (report, verdict, plots, resolved scenario); also
        written to ``path`` when given. See html_report.py."""
        from .html_report import render_html

        text = render_html(self, title)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def __repr__(self) -> str:
        s = self.summary
        return (f"<dbpoolsim.Result {self.scenario.get('name')!r}: {len(self._replication_rows)} replications, "
                f"wait p99 {s.get('wait_time_p99_ms', math.nan):.3g} ms, "
                f"timeout rate {s.get('timeout_rate', math.nan):.3g}>")
