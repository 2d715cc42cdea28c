"""Ctrl-C: a long run in a subprocess receives SIGINT and stops promptly.

The C++ replications run in a background thread with the GIL released; the Python side wakes
every 0.1 s, so SIGINT raises KeyboardInterrupt there, cancels the job and waits for the
simulation threads to notice. The CLI turns that into "dbpoolsim: interrupted" and exit 130.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

STARTUP_S = 1.5  # importing numpy/pandas takes ~0.6 s; SIGINT must land during the run
PROMPT_S = 3.0   # how long the process may take to exit after SIGINT


def interrupt(args: list[str], cwd: Path, ready_line: Optional[str] = None,
              may_finish_first: bool = False):
    """Start `python ARGS`, send SIGINT once it runs, and return (returncode, stdout, stderr,
    seconds to exit), or None if it did not exit within PROMPT_S (it is then killed).
    With may_finish_first, a process that ended before SIGINT is returned as is."""
    proc = subprocess.Popen([sys.executable, *args], cwd=cwd, env=dict(os.environ, CI="1"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if ready_line is not None:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == ready_line
            time.sleep(0.5)
        else:
            time.sleep(STARTUP_S)
        if proc.poll() is not None and may_finish_first:
            out, err = proc.communicate()
            return proc.returncode, out, err, 0.0
        assert proc.poll() is None, "the run finished before it could be interrupted"
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=PROMPT_S)
        except subprocess.TimeoutExpired:
            return None
        return proc.returncode, out, err, time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()  # only the process this test started
            proc.communicate()


def cli_when_ready(*argv: str) -> list[str]:
    """`python -c ...` that imports the CLI, prints "ready", then runs `dbpoolsim ARGV`.

    Waiting for "ready" rather than a fixed sleep keeps SIGINT from landing during interpreter
    start-up and imports, which are slow on a fresh machine (first .pyc compiles)."""
    return ["-c", "import sys\nfrom dbpoolsim.cli import main\nprint('ready', flush=True)\n"
                  f"sys.exit(main({list(argv)!r}))\n"]


def test_cli_run_stops_on_sigint_with_exit_130(tmp_path):
    outcome = interrupt(cli_when_ready("run", "medium-application", "--quiet", "--out", str(tmp_path / "out"),
                                       "--set", "run.horizon_s=100000"), tmp_path, ready_line="ready")
    assert outcome is not None, f"still running {PROMPT_S} s after SIGINT"
    code, out, err, seconds = outcome
    assert code == 130, err
    assert err == "dbpoolsim: interrupted\n"
    assert out == ""  # the "ready" line was consumed by interrupt()
    assert seconds < PROMPT_S
    assert not (tmp_path / "out").exists()  # nothing is written for a cancelled run


def test_api_run_raises_keyboard_interrupt(tmp_path):
    script = (
        "import sys, dbpoolsim\n"
        "s = dbpoolsim.with_overrides('medium-application', **{'run.horizon_s': 100000})\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    dbpoolsim.run(s, progress=False)\n"
        "except KeyboardInterrupt:\n"
        "    print('KeyboardInterrupt', flush=True)\n"
        "    sys.exit(0)\n"
        "sys.exit(3)\n"
    )
    outcome = interrupt(["-c", script], tmp_path, ready_line="ready")
    assert outcome is not None, f"still running {PROMPT_S} s after SIGINT"
    code, out, err, _ = outcome
    assert (code, out) == (0, "KeyboardInterrupt\n"), err


def test_cli_run_stops_promptly_whatever_the_horizon(tmp_path):
    outcome = interrupt(cli_when_ready("run", "medium-application", "--quiet", "--out", str(tmp_path / "out"),
                                       "--set", "run.horizon_s=100000000", "--set", "run.sample_interval_s=1000"),
                        tmp_path, ready_line="ready")
    assert outcome is not None, f"still running {PROMPT_S} s after SIGINT"
    assert outcome[0] == 130


def test_zero_duration_closed_loop_is_rejected_instead_of_hanging(tmp_path):
    # Nothing in this closed loop takes time, so the clock could never advance: validation
    # refuses it (exit 2, one line) rather than letting a run spin forever.
    scenario = tmp_path / "zero.json"
    scenario.write_text(json.dumps({
        "run": {"horizon_s": 10, "warmup_s": 0, "replications": 1},
        "workload": {"arrivals": {"kind": "closed_loop", "users": 2,
                                  "think_time": {"kind": "constant", "value_s": 0}},
                     "transactions": [{"query_time": {"kind": "constant", "value_s": 0}}]},
        "database": {"network_rtt_s": 0},
    }))
    proc = subprocess.run([sys.executable, "-m", "dbpoolsim", "run", str(scenario), "--quiet",
                           "--out", str(tmp_path / "out")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, CI="1"))
    assert proc.returncode == 2
    assert proc.stderr == (f"dbpoolsim: error: {scenario}: /workload/arrivals/think_time: a closed loop "
                           "needs think time or transactions that take time: with zero think time, zero "
                           "query and app time and zero network_rtt_s the clock never advances\n")
