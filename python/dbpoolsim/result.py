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
      served per second, their ratio and the resource that saturates (docs/limits.md);
    - ``omitted``: what an interrupted run left out to stop at once (docs/limits.md,
      "Ctrl-C"): ``{"path": JSON pointer, "values": n}`` for the scenario echo's long arrays
      (empirical samples) and the time series' rows after the first million values,
      ``{"file": name}`` for files a Ctrl-C while saving did not write. Empty otherwise.

    The two DataFrames are built on first access (``summary`` needs no pandas), so a run
    that only reads the summary never imports pandas (see _lazy.py). From ``dbpoolsim.run``
    the scenario and the series stay JSON text until first read: a scenario with millions of
    empirical samples costs nothing until ``scenario`` is read, and ``save`` writes that text
    as the core dumped it when ``scenario`` was never read or set.
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
    omitted: list[dict[str, Any]] = field(default_factory=list)
    # What the DataFrames are built from: one dict per replication; the series' columns and
    # rows (or their JSON text, parsed on first use).
    _replication_rows: list[dict[str, Any]] = field(default_factory=list, repr=False)
    _series: Any = field(default_factory=dict, repr=False)
    _frames: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # From the core: the resolved scenario as JSON text (indented 2) until `scenario` is read
    # or set, and the same with its long arrays replaced by a note (what reports need).
    _scenario_json: Optional[str] = field(default=None, repr=False, compare=False)
    _brief_json: Optional[str] = field(default=None, repr=False, compare=False)

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
            if isinstance(self._series, str):
                self._series = json.loads(self._series)
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
        """A Result from ``result_to_json``'s text (the core's whole result)."""
        data = json.loads(text)
        return cls._from_data(data, data.pop("scenario"), data.pop("series"))

    @classmethod
    def _from_parts(cls, head: str, series: str, scenario: str, brief: str) -> "Result":
        """A Result from the core's parts (models/run.hpp, ``result_json_parts``): only the
        head is parsed here; the scenario and the series when first read."""
        res = cls._from_data(json.loads(head), None, series)
        res._scenario_json, res._brief_json = scenario, brief
        return res

    @classmethod
    def _from_data(cls, data: dict[str, Any], scenario: Any, series: Any) -> "Result":
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
        res = cls(scenario=scenario, pooled=pooled, wall_seconds=float(data["wall_seconds"]),
                  threads=int(data["threads"]), summary=summary,
                  interrupted=bool(data.get("interrupted", False)), progress=list(data.get("progress", [])),
                  overload=dict(data.get("overload", {})), omitted=list(data.get("omitted", [])),
                  _replication_rows=rows, _series=series)
        records = data.get("request_records")
        res._records = records
        if records and any(records["not_recorded"]):
            cap = records["max_per_replication"]
            worst = max(range(len(records["not_recorded"])), key=lambda i: records["not_recorded"][i])
            total = records["recorded"][worst] + records["not_recorded"][worst]
            warnings.warn(f"request records: run.record_requests_max is {cap}, so replication {worst} "
                          f"recorded the first {cap} of its {total} requests to end; raise "
                          f"run.record_requests_max to record them all", RuntimeWarning, stacklevel=4)
        return res

    @property
    def _brief(self) -> dict[str, Any]:
        """The scenario without its long arrays (each replaced by a note): name, run, pools...
        for reports and folder names, without parsing millions of samples."""
        if "brief" not in self._frames:
            if self._brief_json is not None and self.__dict__.get("_scenario_value") is None:
                self._frames["brief"] = json.loads(self._brief_json)
            else:
                self._frames["brief"] = self.scenario
        return self._frames["brief"]

    def _unread_scenario_json(self) -> Optional[str]:
        """The core's scenario text while ``scenario`` was never read or set (then it is
        exactly the scenario), else None."""
        return self._scenario_json if self.__dict__.get("_scenario_value") is None else None

    def attach_requests(self, columns: dict[str, Any]) -> None:
        """Build ``requests`` from the core's record columns (python/src/request_columns.hpp):
        one row per counted request, sorted by replication and arrival order."""
        names = list(columns.pop("outcome_names"))
        frame = pd.DataFrame(columns)
        sc = self._brief
        classes = [c["name"] for c in sc["workload"]["transactions"]]
        pools = list(sc["pools"]) if sc.get("pools") else ["default"]
        codes = {i: n for i, n in enumerate(names)} | {255: "in_flight"}
        frame["class"] = pd.Categorical.from_codes(frame["class"], categories=classes)
        frame["pool"] = pd.Categorical.from_codes(frame["pool"], categories=pools)
        frame["outcome"] = pd.Categorical(frame["outcome"].map(codes), categories=list(codes.values()))
        self.requests = frame.sort_values(["replication", "request"], kind="stable").reset_index(drop=True)

    def stats(self) -> pd.DataFrame:
        """Mean, 95 % CI half-width, min and max of every metric over replications."""
        return summarize(self.replications)

    def save(self, out_dir: str | Path, parquet: bool = False, brief: bool = False) -> dict[str, Path]:
        """Write result.json, scenario.resolved.json, replications.csv, timeseries.csv and, with
        recorded requests, requests.csv; with ``parquet``, also a .parquet beside each CSV (pyarrow).

        With ``brief`` (the CLI after a Ctrl-C while saving): only result.json, marked
        interrupted, with the scenario's long arrays replaced by a note, and replications.csv,
        which take well under a second whatever the scenario; the other files of a full save
        are removed if present (they may be half written) and listed in ``omitted``.
        scenario.resolved.json is not written when the scenario echo lost arrays (``omitted``)."""
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

        if brief:
            others = [paths.pop("scenario"), paths.pop("timeseries"),
                      *(out / f"{n}.{ext}" for n in ("requests", "replications", "timeseries")
                        for ext in ("csv", "parquet") if (n, ext) != ("replications", "csv"))]
            self.interrupted = True
            for p in others:
                if not any(o.get("file") == p.name for o in self.omitted):
                    self.omitted.append({"file": p.name})
                p.unlink(missing_ok=True)
        doc = {
            "summary": {k: clean(v) for k, v in self.summary.items()},
            "replications": [{k: clean(v) for k, v in row.items()}
                             for row in self.replications.to_dict(orient="records")],
            "wall_seconds": self.wall_seconds,
            "threads": self.threads,
            "interrupted": self.interrupted,
            "progress": self.progress,
            "overload": {k: clean(v) for k, v in self.overload.items()},
        }
        if self.omitted:
            doc["omitted"] = self.omitted
        # The scenario: the core's text as it is when `scenario` was never read (pretty-printing
        # millions of samples in Python takes tens of seconds), else the dict.
        text = self._brief_json if brief and self._brief_json is not None else self._unread_scenario_json()
        if text is None:
            sc = self._brief if brief else self.scenario
            text = json.dumps(sc, indent=2)
        body = json.dumps(doc, indent=2)
        paths["result"].write_text('{\n  "scenario": ' + text.replace("\n", "\n  ") + ",\n" + body[2:] + "\n")
        if "scenario" in paths:
            if any(str(o.get("path", "")).startswith("/scenario") for o in self.omitted):
                del paths["scenario"]  # a scenario with arrays left out is no scenario to run
            else:
                paths["scenario"].write_text(text + "\n")
        self.replications.to_csv(paths["replications"], index=False)
        if brief:
            return paths
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
        return (f"<dbpoolsim.Result {self._brief.get('name')!r}: {len(self._replication_rows)} replications, "
                f"wait p99 {s.get('wait_time_p99_ms', math.nan):.3g} ms, "
                f"timeout rate {s.get('timeout_rate', math.nan):.3g}>")


# `scenario` is read from the core's JSON text on first access (Result._from_parts): a
# property over the dataclass field, so Result(scenario=...) and `r.scenario = ...` still work.
def _get_scenario(self: Result) -> Any:
    value = self.__dict__.get("_scenario_value")
    if value is None and self.__dict__.get("_scenario_json") is not None:
        value = self.__dict__["_scenario_value"] = json.loads(self._scenario_json)
    return value


def _set_scenario(self: Result, value: Any) -> None:
    self.__dict__["_scenario_value"] = value
    self.__dict__.get("_frames", {}).pop("brief", None)


Result.scenario = property(_get_scenario, _set_scenario)  # type: ignore[assignment]
