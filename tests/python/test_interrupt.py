"""Ctrl-C: a long run in a subprocess receives SIGINT and stops promptly.

The C++ replications run in a background thread with the GIL released; the Python side wakes
every 0.1 s, so SIGINT raises KeyboardInterrupt there, cancels the job and waits for the
simulation threads to notice; each replication ends where it was and the partial result is
on the KeyboardInterrupt (dbpoolsim.RunInterrupted). The CLI writes it, marked interrupted,
and exits with status 130.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest
from conftest import sigint_as_at_a_terminal

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

STARTUP_S = 1.5  # importing numpy/pandas takes ~0.6 s; SIGINT must land during the run
PROMPT_S = 3.0   # how long the process may take to exit after SIGINT
# ... when it also writes the partial result (pandas and CSV work: 1.6 s at a load average
# of 17 on 2 cores, against 0.2 s for stopping alone)
SAVE_PROMPT_S = 10.0


SIGINT_SENT_AT = [0.0]  # time.monotonic() of interrupt()'s last SIGINT (the clock is system-wide)


def interrupt(args: list[str], cwd: Path, ready_line: Optional[str] = None,
              may_finish_first: bool = False, prompt_s: float = PROMPT_S, delay_s: float = 0.5,
              then_line: Optional[str] = None):
    """Start `python ARGS`, send SIGINT once it runs, and return (returncode, stdout, stderr,
    seconds to exit), or None if it did not exit within prompt_s (it is then killed).
    With may_finish_first, a process that ended before SIGINT is returned as is. With
    then_line, SIGINT goes as soon as the process prints that line (after ready_line)."""
    proc = subprocess.Popen([sys.executable, *args], cwd=cwd, env=dict(os.environ, CI="1"),
                            preexec_fn=sigint_as_at_a_terminal,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if ready_line is not None:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == ready_line
            if then_line is not None:
                line = proc.stdout.readline().strip()
                assert line == then_line, f"expected {then_line!r}, got {line!r}: {proc.communicate()[1]}"
            else:
                time.sleep(delay_s)
        else:
            time.sleep(STARTUP_S)
        if proc.poll() is not None and may_finish_first:
            out, err = proc.communicate()
            return proc.returncode, out, err, 0.0
        assert proc.poll() is None, "the run finished before it could be interrupted"
        sent = SIGINT_SENT_AT[0] = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=prompt_s)
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


def test_cli_run_on_sigint_writes_the_partial_result_and_exits_130(tmp_path):
    out_dir = tmp_path / "out"
    # SIGINT must land once the replications run: on a loaded machine, loading and validating
    # can take longer than the first delay (then the CLI says only "interrupted": retry later).
    for delay_s in (0.5, 2.0, 5.0):
        outcome = interrupt(cli_when_ready("run", "medium-application", "--quiet", "--out", str(out_dir),
                                           "--set", "run.horizon_s=100000", "--threads", "2"), tmp_path,
                            ready_line="ready", prompt_s=SAVE_PROMPT_S, delay_s=delay_s)
        assert outcome is not None, f"still running {SAVE_PROMPT_S} s after SIGINT"
        if outcome[2] != "dbpoolsim: interrupted\n":
            break
    code, out, err, seconds = outcome
    assert code == 130, err
    assert re.fullmatch(rf"dbpoolsim: interrupted; wrote the partial result to {re.escape(str(out_dir))} "
                        r"\(simulated of 100000 s per replication: 0: [0-9.e+]+ s, 1: [0-9.e+]+ s\)\n", err), err
    assert out == ""  # the "ready" line was consumed by interrupt()
    assert seconds < SAVE_PROMPT_S
    doc = json.loads((out_dir / "result.json").read_text())
    assert doc["interrupted"] is True
    # Two threads: replications 0 and 1 started, each stopped somewhere short of the horizon.
    assert [p["replication"] for p in doc["progress"]] == [0, 1]
    for p in doc["progress"]:
        assert p["stopped"] == "interrupted" and 0 < p["simulated_s"] < 100000
    assert [r["replication"] for r in doc["replications"]] == [0, 1]
    # The rows are what was simulated: offered requests counted after the warm-up (60 s).
    assert all(r["offered"] > 0 for r in doc["replications"])
    assert (out_dir / "timeseries.csv").read_text().count("\n") > 10


def test_api_run_raises_keyboard_interrupt_with_the_partial_result(tmp_path):
    script = (
        "import sys, dbpoolsim\n"
        # pandas (read below for .replications and .timeseries) is imported before the signal:
        # its import took about 1 s of the bound at load 9.
        "import pandas\n"
        "s = dbpoolsim.with_overrides('medium-application', **{'run.horizon_s': 100000, 'run.replications': 3})\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    dbpoolsim.run(s, progress=False, threads=1)\n"
        "except KeyboardInterrupt as exc:\n"
        "    r = exc.result\n"
        "    assert isinstance(exc, dbpoolsim.RunInterrupted) and r.interrupted\n"
        "    print(len(r.replications), r.progress[0]['stopped'], 0 < r.progress[0]['simulated_s'] < 100000,\n"
        "          r.timeseries['t_s'].max() <= r.progress[0]['simulated_s'], flush=True)\n"
        "    sys.exit(0)\n"
        "sys.exit(3)\n"
    )
    outcome = interrupt(["-c", script], tmp_path, ready_line="ready")
    assert outcome is not None, f"still running {PROMPT_S} s after SIGINT"
    code, out, err, _ = outcome
    # One thread: replication 0 started and stopped; 1 and 2 never started.
    assert (code, out) == (0, "1 interrupted True True\n"), err


def test_cli_run_stops_promptly_whatever_the_horizon(tmp_path):
    outcome = interrupt(cli_when_ready("run", "medium-application", "--quiet", "--out", str(tmp_path / "out"),
                                       "--set", "run.horizon_s=100000000", "--set", "run.sample_interval_s=1000"),
                        tmp_path, ready_line="ready", prompt_s=SAVE_PROMPT_S)
    assert outcome is not None, f"still running {SAVE_PROMPT_S} s after SIGINT"
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


def test_a_run_interrupted_before_any_replication_started_is_an_empty_partial_result(tmp_path):
    # Ctrl-C can land between the job's start and its first replication: the partial result
    # then has no rows, and must still load, print and make the CLI exit 130 with one line.
    import argparse

    import dbpoolsim
    from dbpoolsim import cli
    from dbpoolsim.report import render_report

    doc = {"scenario": dbpoolsim.resolve_scenario({}), "wall_seconds": 0.0, "threads": 2, "interrupted": True,
           "progress": [], "overload": {"overloaded": False, "replications": 0}, "replications": [],
           "pooled": {"wait_time_p50_ms": None}, "series": {"columns": ["replication", "t_s"], "rows": []}}
    r = dbpoolsim.Result.from_json(json.dumps(doc))
    assert r.interrupted and r.replications.empty and r.summary == {}
    assert "INTERRUPTED: a partial result; 0 replication(s) started" in render_report(r)
    assert cli._interrupted(r, argparse.Namespace(out=str(tmp_path / "out"))) == 130
    assert not (tmp_path / "out").exists()


# ---- Ctrl-C while a long scenario is read and validated (models/interrupt.hpp) ----------------
#
# Validation runs in C++ holding the GIL; it polls PyErr_CheckSignals every 4,096 JSON values,
# samples or trace rows (a few milliseconds), so SIGINT stops it there. The scenario is sized
# here to take about VALIDATION_S to validate on this machine at this moment (its empirical
# samples, calibrated on one class), and SIGINT lands 1 s in: without the check the process
# would exit only when validation ends, VALIDATION_S - 1 s later, well beyond VALIDATE_PROMPT_S.
VALIDATION_S = 5.0
VALIDATE_PROMPT_S = 2.0  # the check (ms), then freeing the parsed JSON and the interpreter's exit


def _samples_scenario(classes: int) -> str:
    samples = ",".join(f"0.0{i % 9973:04d}" for i in range(100_000))  # 8 bytes each
    tx = ",".join(f'{{"name": "c{i}", "query_time": {{"kind": "empirical", "samples_s": [{samples}]}}}}'
                  for i in range(classes))
    return ('{"name": "big", "run": {"horizon_s": 10, "warmup_s": 0, "replications": 1}, '
            f'"workload": {{"arrivals": {{"kind": "poisson", "rate_per_s": 10}}, "transactions": [{tx}]}}}}')


@pytest.fixture(scope="module")
def slow_scenario(tmp_path_factory) -> Path:
    import dbpoolsim

    one = _samples_scenario(1)
    start = time.monotonic()
    dbpoolsim.resolve_scenario(one)
    per_class = max(time.monotonic() - start, 1e-3)
    # At most 60 classes (48 MB, under the 64 MiB limit on scenario text).
    classes = int(min(60, max(10, VALIDATION_S / per_class)))
    path = tmp_path_factory.mktemp("slow") / "big.json"
    path.write_text(_samples_scenario(classes))
    return path


def test_cli_stops_a_long_validation_on_sigint(tmp_path, slow_scenario):
    outcome = interrupt(cli_when_ready("run", str(slow_scenario), "--quiet", "--out", str(tmp_path / "out")),
                        tmp_path, ready_line="ready", prompt_s=VALIDATE_PROMPT_S, delay_s=1.0)
    assert outcome is not None, f"still validating {VALIDATE_PROMPT_S} s after SIGINT"
    code, out, err, seconds = outcome
    assert (code, out, err) == (130, "", "dbpoolsim: interrupted\n")
    assert seconds < VALIDATE_PROMPT_S
    assert not (tmp_path / "out").exists()


def test_api_raises_keyboard_interrupt_during_a_long_validation(tmp_path, slow_scenario):
    script = (
        "import sys, time, dbpoolsim\n"
        "print('ready', flush=True)\n"
        "try:\n"
        f"    dbpoolsim.resolve_scenario({str(slow_scenario)!r})\n"
        "except KeyboardInterrupt:\n"
        "    print('KeyboardInterrupt', flush=True)\n"
        "    sys.exit(0)\n"
        "sys.exit(3)\n"
    )
    outcome = interrupt(["-c", script], tmp_path, ready_line="ready", prompt_s=VALIDATE_PROMPT_S, delay_s=1.0)
    assert outcome is not None, f"still validating {VALIDATE_PROMPT_S} s after SIGINT"
    code, out, err, seconds = outcome
    assert (code, out) == (0, "KeyboardInterrupt\n"), err
    assert "Traceback" not in err


# ---- Ctrl-C after the simulation, while the result is built and saved --------------------------
#
# The run's thread builds the result (models/run.cpp, result_to_json_parts) and honours the
# cancel there too: it leaves out the scenario echo's long arrays (the empirical samples) and
# says so in "omitted". The scenario of the validation tests takes about VALIDATION_S / 2 to
# build a result from (the echo of its samples), and its simulation takes milliseconds (10
# requests), so a SIGINT sent when the simulation has ended lands in the result building. The
# child says "simulated" once the job's progress is 100 % and it is not done: a state it
# observes, not a fixed sleep. Without the cancel there, the result would carry the whole echo
# and the CLI would also write it to scenario.resolved.json (a minute for 59 MB before).

WATCH_JOB = (
    "import sys, time\n"
    "import dbpoolsim, dbpoolsim.runner as runner\n"
    "from dbpoolsim import _core\n"
    "class Watched:\n"
    "    def __init__(self, *a):\n"
    "        self._job, self._said = _core.Job(*a), False\n"
    "    def wait(self, t):\n"
    "        done = self._job.wait(t)\n"
    "        if not done and not self._said and self._job.progress() >= 0.999:\n"
    "            self._said = True\n"
    "            print('simulated', flush=True)\n"
    "        return done\n"
    "    def __getattr__(self, name):\n"
    "        return getattr(self._job, name)\n"
    "class Core:\n"
    "    Job = Watched\n"
    "runner._core = Core\n"
)
# The core stops building within a second of the cancel (what it does not poll: building the
# scenario's JSON tree, 0.6 s for 60 classes at a load average of 8); the CLI then imports
# pandas and writes result.json, replications.csv and timeseries.csv (small): SAVE_PROMPT_S
# covers that at a load of 17.
BUILD_PROMPT_S = SAVE_PROMPT_S
# SIGINT to RunInterrupted: 0.7 s measured at a load average of 8 (the 0.1 s wait slice, then
# the core's unpolled part); 3 s for a machine running 4 builds.
API_PROMPT_S = 3.0
SAMPLES_PATH = "/scenario/workload/transactions/{}/query_time/samples_s"


def test_cli_ctrl_c_while_the_result_is_built_keeps_the_metrics_without_the_samples(tmp_path, slow_scenario):
    out_dir = tmp_path / "out"
    script = (WATCH_JOB + "from dbpoolsim.cli import main\nprint('ready', flush=True)\n"
              f"sys.exit(main({['run', str(slow_scenario), '--quiet', '--out', str(out_dir)]!r}))\n")
    outcome = interrupt(["-c", script], tmp_path, ready_line="ready", then_line="simulated",
                        prompt_s=BUILD_PROMPT_S)
    assert outcome is not None, f"still running {BUILD_PROMPT_S} s after SIGINT"
    code, out, err, seconds = outcome
    assert code == 130, err
    classes = json.loads(slow_scenario.read_text())["workload"]["transactions"]
    assert re.fullmatch(rf"dbpoolsim: interrupted; wrote the partial result to {re.escape(str(out_dir))} "
                        r"\(simulated of 10 s per replication: 0: 10 s\); left out: "
                        + re.escape(", ".join(SAMPLES_PATH.format(i) for i in range(5))) + r", \.\.\.\n", err), err
    assert seconds < BUILD_PROMPT_S
    doc = json.loads((out_dir / "result.json").read_text())
    assert doc["interrupted"] is True
    assert doc["progress"] == [{"replication": 0, "simulated_s": 10.0, "stopped": ""}]  # it ran to the end
    assert doc["replications"][0]["offered"] > 0 and doc["summary"]["offered"] > 0
    assert doc["omitted"] == [{"path": SAMPLES_PATH.format(i), "values": 100000} for i in range(len(classes))]
    assert doc["scenario"]["workload"]["transactions"][0]["query_time"]["samples_s"] == "(100000 values omitted)"
    assert (out_dir / "replications.csv").exists() and (out_dir / "timeseries.csv").exists()
    assert not (out_dir / "scenario.resolved.json").exists()  # a scenario without its samples is no scenario


def test_api_ctrl_c_while_the_result_is_built_raises_with_the_finished_metrics(tmp_path, slow_scenario):
    script = WATCH_JOB + (
        "print('ready', flush=True)\n"
        "try:\n"
        f"    dbpoolsim.run({str(slow_scenario)!r}, progress=False, threads=1)\n"
        "except KeyboardInterrupt as exc:\n"
        "    caught = time.monotonic()\n"
        "    r = exc.result\n"
        "    print(caught, type(exc).__name__, r.interrupted, len(r.omitted), r.progress[0]['stopped'] == '',\n"
        "          r.summary['offered'] > 0, r.scenario['workload']['transactions'][1]['query_time']['samples_s'],\n"
        "          sep='|', flush=True)\n"
        "    sys.exit(0)\n"
        "sys.exit(3)\n"
    )
    outcome = interrupt(["-c", script], tmp_path, ready_line="ready", then_line="simulated", prompt_s=BUILD_PROMPT_S)
    assert outcome is not None, f"still running {BUILD_PROMPT_S} s after SIGINT"
    code, out, err, _ = outcome
    assert code == 0, err
    caught, *rest = out.strip().split("|")
    classes = len(json.loads(slow_scenario.read_text())["workload"]["transactions"])
    assert rest == ["RunInterrupted", "True", str(classes), "True", "True", "(100000 values omitted)"]
    assert float(caught) - SIGINT_SENT_AT[0] < API_PROMPT_S


def test_cli_ctrl_c_while_saving_a_finished_run_writes_result_json_and_replications(tmp_path):
    # The save is made slow at its end (after every file is written, as parquet or the HTML
    # report would be): SIGINT lands there. The CLI then writes the brief result at once and
    # removes the files a full save wrote, which may be half written.
    out_dir = tmp_path / "out"
    script = (
        "import sys, time\nfrom dbpoolsim.result import Result\nfrom dbpoolsim.cli import main\n"
        "full_save = Result.save\n"
        "def slow_save(self, out, parquet=False, brief=False):\n"
        "    paths = full_save(self, out, parquet=parquet, brief=brief)\n"
        "    if not brief:\n"
        "        print('saving', flush=True)\n"
        "        time.sleep(60)\n"
        "    return paths\n"
        "Result.save = slow_save\n"
        "print('ready', flush=True)\n"
        f"sys.exit(main({['run', 'medium-application', '--quiet', '--out', str(out_dir), '--set', 'run.horizon_s=120']!r}))\n"
    )
    outcome = interrupt(["-c", script], tmp_path, ready_line="ready", then_line="saving", prompt_s=PROMPT_S)
    assert outcome is not None, f"still running {PROMPT_S} s after SIGINT"
    code, out, err, seconds = outcome
    assert code == 130, err
    assert err == (f"dbpoolsim: interrupted while saving; wrote result.json (summary and metrics of the finished "
                   f"run) and replications.csv to {out_dir}; left out: scenario.resolved.json, timeseries.csv, "
                   "requests.csv, requests.parquet, replications.parquet, ...\n")
    assert out == ""  # no report: the Ctrl-C came before it
    doc = json.loads((out_dir / "result.json").read_text())
    assert doc["interrupted"] is True and doc["summary"]["offered"] > 0
    assert all(p["stopped"] == "" for p in doc["progress"])
    assert {"file": "timeseries.csv"} in doc["omitted"]
    assert sorted(p.name for p in out_dir.iterdir()) == ["replications.csv", "result.json"]


def test_a_second_ctrl_c_while_waiting_for_the_run_thread_is_honoured(tmp_path):
    # The first Ctrl-C cancels the job; here that cancel is made to do nothing (as if the run's
    # thread were stuck in work that does not poll), so dbpoolsim.run then waits in
    # job.result() for a run of 100,000 s. The second Ctrl-C must raise KeyboardInterrupt
    # there at once (Job.result polls Python's signal handlers every 50 ms), cancel the run
    # for real and join its thread before the process exits.
    script = WATCH_JOB + (
        "def no_cancel():\n"
        "    print('cancel ignored', flush=True)\n"
        "Watched.cancel = lambda self: no_cancel()\n"
        "s = dbpoolsim.with_overrides('medium-application', **{'run.horizon_s': 100000})\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    dbpoolsim.run(s, progress=False, threads=1)\n"
        "except KeyboardInterrupt as exc:\n"
        "    print(time.monotonic(), type(exc).__name__, sep='|', flush=True)\n"
        "    sys.exit(0)\n"
        "sys.exit(3)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, env=dict(os.environ, CI="1"),
                            preexec_fn=sigint_as_at_a_terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)  # into the simulation (if it lands earlier, the run raises before it starts)
        proc.send_signal(signal.SIGINT)
        line = proc.stdout.readline().strip()
        assert line == "cancel ignored", proc.communicate()[1]
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=PROMPT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {PROMPT_S} s after the second SIGINT")
        assert proc.returncode == 0, err
        caught, name = out.strip().split("|")
        assert name == "KeyboardInterrupt"  # not RunInterrupted: the second one gives up the result
        assert float(caught) - sent < API_PROMPT_S
    finally:
        if proc.poll() is None:
            proc.kill()  # only the process this test started
            proc.communicate()


def test_api_ctrl_c_while_the_request_records_are_converted_gives_the_result_without_them(tmp_path):
    # 900 req/s x 1000 s x 2 replications: about 1.8 million records, a second or more to
    # become Result.requests (columns in C++, polled; then pandas). SIGINT lands as the
    # conversion starts ("converting"): the rest of the result is complete and kept.
    script = (
        "import sys, time, dbpoolsim\nfrom dbpoolsim.result import Result\n"
        "attach = Result.attach_requests\n"
        "def converting(self, columns):\n"
        "    print('converting', flush=True)\n"
        "    time.sleep(0.5)  # SIGINT lands here or in the conversion below\n"
        "    return attach(self, columns)\n"
        "Result.attach_requests = converting\n"
        "s = dbpoolsim.with_overrides('standard-case', **{'run.horizon_s': 1000, 'run.replications': 2,\n"
        "                                                 'run.record_requests': True})\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    dbpoolsim.run(s, progress=False, threads=2)\n"
        "except KeyboardInterrupt as exc:\n"
        "    r = exc.result\n"
        "    print(type(exc).__name__, r.interrupted, r.requests is None, r.omitted[-1]['path'],\n"
        "          r.omitted[-1]['values'] > 1000000, all(p['stopped'] == '' for p in r.progress), flush=True)\n"
        "    sys.exit(0)\n"
        "sys.exit(3)\n"
    )
    outcome = interrupt(["-c", script], tmp_path, ready_line="ready", then_line="converting", prompt_s=PROMPT_S)
    assert outcome is not None, f"still running {PROMPT_S} s after SIGINT"
    code, out, err, _ = outcome
    assert (code, out) == (0, "RunInterrupted True True /requests True True\n"), err
