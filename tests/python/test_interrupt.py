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


def test_cli_run_stops_on_sigint_with_exit_130(tmp_path):
    outcome = interrupt(["-m", "dbpoolsim", "run", "medium-application", "--quiet",
                         "--out", str(tmp_path / "out"), "--set", "run.horizon_s=100000"], tmp_path)
    assert outcome is not None, f"still running {PROMPT_S} s after SIGINT"
    code, out, err, seconds = outcome
    assert code == 130, err
    assert err == "dbpoolsim: interrupted\n"
    assert out == ""
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
    outcome = interrupt(["-m", "dbpoolsim", "run", "medium-application", "--quiet",
                         "--out", str(tmp_path / "out"), "--set", "run.horizon_s=100000000",
                         "--set", "run.sample_interval_s=1000"], tmp_path)
    assert outcome is not None, f"still running {PROMPT_S} s after SIGINT"
    assert outcome[0] == 130


def test_zero_duration_closed_loop_does_not_hang(tmp_path):
    scenario = tmp_path / "zero.json"
    scenario.write_text(json.dumps({
        "run": {"horizon_s": 10, "warmup_s": 0, "replications": 1},
        "workload": {"arrivals": {"kind": "closed_loop", "users": 2,
                                  "think_time": {"kind": "constant", "value_s": 0}},
                     "transactions": [{"query_time": {"kind": "constant", "value_s": 0}}]},
        "database": {"network_rtt_s": 0},
    }))
    outcome = interrupt(["-m", "dbpoolsim", "run", str(scenario), "--quiet",
                         "--out", str(tmp_path / "out")], tmp_path, may_finish_first=True)
    # Either the run finishes (or is rejected) before SIGINT, or SIGINT stops it.
    assert outcome is not None, f"still running {STARTUP_S + PROMPT_S} s after start and SIGINT"
    assert outcome[0] in (0, 2, 130)
