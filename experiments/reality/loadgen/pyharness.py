"""The load generator's shared half for the Python libraries (the Java, Go and Node load
generators in this folder implement the same design in their own language).

The design, the same in every language:
  in   a trace CSV `id,t_s,hold_s` (open-loop arrivals, seconds from the start; hold time x);
  do   at t_s, a request acquires a connection with the library's own API, runs
       `SELECT pg_backend_pid() FROM pg_sleep(x)` and gives the connection back; a request
       never waits for a worker (threads are pre-started in surplus, or tasks are created);
  out  requests.csv  one line per request (RECORD_COLUMNS; times in seconds from t0,
                     empty when not reached; ended_s is when the request ended, completed or
                     failed; outcome ok / acquire_timeout / connect_error / query_error /
                     other; backend_pid from the query);
       samples.csv   the pool's state every 100 ms (SAMPLE_COLUMNS; empty where the library
                     does not say);
       meta.json     library and version, t0 as a Unix time, connections opened and closed as
                     the library (or a wrapper around its connect) saw them, each connect's
                     duration, and the harness's own noise (dispatch lag, sampler lag, CPU
                     time, GC pauses).
The load generator writes the file `<out>/t0` (t0 as a Unix time) before the first arrival,
so that the driver (experiments/reality/run.py) can time faults.
"""

from __future__ import annotations

import csv
import gc
import json
import logging
import os
import resource
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

RECORD_COLUMNS = ["id", "arrival_s", "start_s", "acquire_start_s", "acquired_s",
                  "query_done_s", "released_s", "ended_s", "outcome", "backend_pid"]
SAMPLE_COLUMNS = ["t_s", "total", "idle", "in_use", "waiting"]
QUERY = "SELECT pg_backend_pid() FROM pg_sleep({})"


class _SinceT0(logging.Formatter):
    """A log record as `[<s from t0> s] <message>` (tracebacks as the default formatter)."""

    def __init__(self, harness: "Harness") -> None:
        super().__init__("%(message)s")
        self.harness = harness

    def format(self, record: logging.LogRecord) -> str:
        return f"[{self.harness.now():.3f} s] " + super().format(record)


START_DELAY_S = 0.5          # t0 is this long after the pool is ready


def read_trace(path: str | Path) -> list[tuple[int, float, float]]:
    with open(path, newline="") as f:
        return [(int(r["id"]), float(r["t_s"]), float(r["hold_s"])) for r in csv.DictReader(f)]


@dataclass
class Record:
    id: int
    arrival_s: float
    start_s: float = float("nan")
    acquire_start_s: float = float("nan")
    acquired_s: float = float("nan")
    query_done_s: float = float("nan")
    released_s: float = float("nan")
    ended_s: float = float("nan")
    outcome: str = "other"
    backend_pid: int | None = None

    def row(self) -> list[str]:
        def t(x: float) -> str:
            return "" if x != x else f"{x:.6f}"
        return [str(self.id), t(self.arrival_s), t(self.start_s), t(self.acquire_start_s),
                t(self.acquired_s), t(self.query_done_s), t(self.released_s), t(self.ended_s), self.outcome,
                "" if self.backend_pid is None else str(self.backend_pid)]


@dataclass
class Harness:
    """Clock, records, connection counts, state sampler and noise for one run."""
    out: Path
    library: str
    version: str
    t0_mono: float = 0.0
    records: list[Record] = field(default_factory=list)
    connects: int = 0
    closes: int = 0
    connect_times_s: list[float] = field(default_factory=list)
    samples: list[list[str]] = field(default_factory=list)
    sampler_lag_s: list[float] = field(default_factory=list)
    gc_pauses_s: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        self._gc_start = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc_pauses_s.append(time.perf_counter() - self._gc_start)

    def now(self) -> float:
        return time.monotonic() - self.t0_mono

    def begin(self) -> None:
        """Fix t0 a little in the future and publish it (Unix time) for the driver."""
        self.t0_mono = time.monotonic() + START_DELAY_S
        t0_epoch = time.time() + START_DELAY_S
        self._cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        self._t0_epoch = t0_epoch
        (self.out / "t0").write_text(f"{t0_epoch:.6f}\n")
        # The libraries' warnings (psycopg_pool's "error connecting", asyncpg's "Failed to
        # restore the pool connection floor") go to loadgen.log as before, stamped with the
        # time from t0, so a refused login's moment is on record.
        handler = logging.StreamHandler()
        handler.setFormatter(_SinceT0(self))
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)

    def connected(self, seconds: float) -> None:
        with self.lock:
            self.connects += 1
            self.connect_times_s.append(seconds)

    def closed(self) -> None:
        with self.lock:
            self.closes += 1

    def sample_loop(self, state, stop: threading.Event, period_s: float = 0.1) -> None:
        """Call `state()` -> (total, idle, in_use, waiting) every period, from a thread."""
        k = 0
        while not stop.is_set():
            due = k * period_s
            delay = due - self.now()
            if delay > 0:
                stop.wait(delay)
            now = self.now()
            self.sampler_lag_s.append(max(0.0, now - due))
            vals = state()
            self.samples.append([f"{now:.4f}", *("" if v is None else str(v) for v in vals)])
            k += 1

    def finish(self, extra: dict | None = None) -> None:
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        lags = sorted(r.start_s - r.arrival_s for r in self.records if r.start_s == r.start_s)

        def pct(xs: list[float], q: float) -> float:
            return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")

        with open(self.out / "requests.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(RECORD_COLUMNS)
            w.writerows(r.row() for r in sorted(self.records, key=lambda r: r.id))
        with open(self.out / "samples.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(SAMPLE_COLUMNS)
            w.writerows(self.samples)
        lag_sorted = sorted(self.sampler_lag_s)
        meta = {
            "library": self.library, "version": self.version, "language": "python",
            "t0_epoch": self._t0_epoch,
            "connections_opened_library": self.connects, "connections_closed_library": self.closes,
            "connect_times_s": self.connect_times_s,
            "noise": {
                "dispatch_lag_mean_ms": 1e3 * sum(lags) / len(lags) if lags else float("nan"),
                "dispatch_lag_p99_ms": 1e3 * pct(lags, 0.99),
                "dispatch_lag_max_ms": 1e3 * (lags[-1] if lags else float("nan")),
                "sampler_lag_p99_ms": 1e3 * pct(lag_sorted, 0.99),
                "cpu_user_s": cpu.ru_utime - self._cpu0.ru_utime,
                "cpu_sys_s": cpu.ru_stime - self._cpu0.ru_stime,
                "gc_pauses": len(self.gc_pauses_s),
                "gc_pause_total_ms": 1e3 * sum(self.gc_pauses_s),
                "gc_pause_max_ms": 1e3 * max(self.gc_pauses_s, default=0.0),
                "loadavg_1m_end": os.getloadavg()[0],
            },
            **(extra or {}),
        }
        (self.out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
        gc.callbacks.remove(self._on_gc)
