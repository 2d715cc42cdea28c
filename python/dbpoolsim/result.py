"""The result of a run: summary dict, per-replication and time-series DataFrames."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .analysis import summarize


@dataclass
class Result:
    """What ``dbpoolsim.run`` returns.

    - ``summary``: metric -> mean over replications (plus ``<metric>_ci95`` half-widths and
      the pooled percentiles over all replications under ``pooled_*``);
    - ``replications``: DataFrame, one row per replication, one column per metric;
    - ``timeseries``: DataFrame, one row per (replication, sample instant);
    - ``scenario``: the resolved scenario (every default filled in).
    """

    scenario: dict[str, Any]
    replications: pd.DataFrame
    timeseries: pd.DataFrame
    pooled: dict[str, float]
    wall_seconds: float
    threads: int
    summary: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str) -> "Result":
        data = json.loads(text)
        reps = pd.DataFrame(data["replications"]).astype(float)
        reps["replication"] = reps["replication"].astype(int)
        series = data["series"]
        ts = pd.DataFrame(series["rows"], columns=series["columns"])
        if not ts.empty:
            ts["replication"] = ts["replication"].astype(int)
        pooled = {k: (math.nan if v is None else float(v)) for k, v in data["pooled"].items()}
        res = cls(scenario=data["scenario"], replications=reps, timeseries=ts, pooled=pooled,
                  wall_seconds=float(data["wall_seconds"]), threads=int(data["threads"]))
        stats = summarize(reps)
        summary: dict[str, float] = {}
        for metric, row in stats.iterrows():
            summary[str(metric)] = float(row["mean"])
        for metric, row in stats.iterrows():
            summary[f"{metric}_ci95"] = float(row["ci95"])
        for k, v in pooled.items():
            summary[f"pooled_{k}"] = v
        res.summary = summary
        return res

    def stats(self) -> pd.DataFrame:
        """Mean, 95 % CI half-width, min and max of every metric over replications."""
        return summarize(self.replications)

    def save(self, out_dir: str | Path, parquet: bool = False) -> dict[str, Path]:
        """Write result.json, scenario.resolved.json, replications.csv and timeseries.csv; with
        ``parquet``, also replications.parquet and timeseries.parquet beside the CSVs (pyarrow)."""
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
        }
        paths["result"].write_text(json.dumps(doc, indent=2) + "\n")
        paths["scenario"].write_text(json.dumps(self.scenario, indent=2) + "\n")
        self.replications.to_csv(paths["replications"], index=False)
        self.timeseries.to_csv(paths["timeseries"], index=False)
        if parquet:
            paths["replications_parquet"] = out / "replications.parquet"
            paths["timeseries_parquet"] = out / "timeseries.parquet"
            self.replications.to_parquet(paths["replications_parquet"], index=False)
            self.timeseries.to_parquet(paths["timeseries_parquet"], index=False)
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
        return (f"<dbpoolsim.Result {self.scenario.get('name')!r}: {len(self.replications)} replications, "
                f"wait p99 {s.get('wait_time_p99_ms', math.nan):.3g} ms, "
                f"timeout rate {s.get('timeout_rate', math.nan):.3g}>")
