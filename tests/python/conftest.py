"""Shared fixtures: a tiny, fast scenario and helpers to run the command line.

The Python tests cover the package's boundary (loading, validation messages, results,
determinism across threads, CLI, interrupts); the models themselves are tested in C++.
Every scenario here simulates at most a few hundred seconds so the suite stays fast.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest


def sigint_as_at_a_terminal() -> None:
    """``preexec_fn`` for a child that a test sends SIGINT: Ctrl-C's default disposition.

    A process started in the background of a non-interactive shell (``make test &``, some CI
    runners) inherits SIGINT *ignored*, and Python then installs no KeyboardInterrupt handler,
    so the child would never see the test's SIGINT. The tests check what a user's Ctrl-C does."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


# A small pool under real pressure (about 80 % utilisation, some 50 ms acquire timeouts), so
# every outcome counter moves; 3 replications x 30 s run in a few milliseconds.
TINY: dict[str, Any] = {
    "name": "tiny",
    "run": {"horizon_s": 30, "warmup_s": 5, "replications": 3, "seed": 7, "sample_interval_s": 1},
    "workload": {
        "arrivals": {"kind": "poisson", "rate_per_s": 200},
        "transactions": [
            {"name": "q", "weight": 1, "queries": 1,
             "query_time": {"kind": "exponential", "mean_s": 0.02}},
        ],
    },
    "pool": {"kind": "generic", "min_connections": 2, "max_connections": 5,
             "acquisition_timeout": 0.05},
    "database": {"connect_time": {"kind": "constant", "value_s": 0.01}, "network_rtt_s": 0.0005},
}


@pytest.fixture
def tiny() -> dict[str, Any]:
    """A fresh copy of the tiny scenario (tests may mutate it)."""
    return copy.deepcopy(TINY)


@pytest.fixture(scope="session")
def tiny_result():
    """The tiny scenario run once on 2 threads (shared: tests must not mutate it)."""
    import dbpoolsim

    return dbpoolsim.run(TINY, threads=2, progress=False)


@pytest.fixture
def tiny_file(tmp_path: Path, tiny: dict[str, Any]) -> Path:
    """The tiny scenario written to a JSON file."""
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny, indent=2))
    return path


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """A directory for results (not created: the code under test must create it)."""
    return tmp_path / "out"


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m dbpoolsim ARGS...` in tmp_path; returns the CompletedProcess."""

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dbpoolsim", *map(str, args)],
            cwd=tmp_path, env=dict(os.environ, CI="1"), capture_output=True, text=True, timeout=timeout,
        )

    return run
