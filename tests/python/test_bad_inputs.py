"""The bad-input corpus (tests/python/bad_inputs.py) through the CLI and the Python API.

Every case ends within CASE_TIMEOUT_S with its expected outcome: exit 2 and one
"dbpoolsim: error: ..." line per problem naming the path and the value (ScenarioError in
Python), or a valid run; never a crash, a hang or a traceback. Cases run in a worker
process (one import of dbpoolsim for all of them); the test kills the worker and fails the
case when it does not answer in time, and starts a new worker for the next case.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bad_inputs import CASES, Case, field_cases

# A case must end within this: validation takes milliseconds and a valid case runs 2 simulated
# seconds; the margin covers a machine shared with compilers (CI runners are slower).
CASE_TIMEOUT_S = 20.0
# Known failures (strict xfail) that hang are given less: they fail either way.
XFAIL_TIMEOUT_S = 5.0

WORKER = r'''
import contextlib, io, json, sys, traceback
from pathlib import Path
import dbpoolsim as d
from dbpoolsim import cli
TINY = {"run": {"horizon_s": 2, "replications": 1, "warmup_s": 0}}
def deep_dict(n, inner=1):
    v = inner
    for _ in range(n):
        v = {"a": v}
    return v
for line in sys.stdin:
    job = json.loads(line)
    out, err, status = io.StringIO(), io.StringIO(), None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            if job["how"] == "api":
                try:
                    eval(job["expr"])
                    status = "ok"
                except d.ScenarioError as exc:
                    status, err = "error", io.StringIO(str(exc))
                except TypeError as exc:
                    status, err = "typeerror", io.StringIO(str(exc))
            else:
                try:
                    status = cli.main(job["argv"])
                except SystemExit as exc:  # argparse usage errors
                    status = exc.code
        except BaseException:
            status = "traceback"
            err.write(traceback.format_exc())
    o = out.getvalue()  # the report's head (run notes) and tail (where it wrote)
    o = o if len(o) <= 4000 else o[:3000] + "\n...\n" + o[-1000:]
    print(json.dumps({"status": status, "stdout": o, "stderr": err.getvalue()[-4000:]}), flush=True)
'''


class Worker:
    def __init__(self, cwd: Path) -> None:
        # The worker's own stderr (a crash report) goes to a file: a pipe nobody reads could fill.
        self.log = cwd / "worker-stderr.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([sys.executable, "-c", WORKER], cwd=cwd, env=dict(os.environ, CI="1"),
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)

    def ask(self, job: dict, timeout: float) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            self.close()
            return {"status": "timeout", "stdout": "", "stderr": ""}
        line = self.proc.stdout.readline()
        if not line:
            self.close()
            err = self.log.read_text(errors="replace")
            return {"status": f"crashed (signal/exit {self.proc.returncode})", "stdout": "", "stderr": err[-4000:]}
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()  # only the worker this test started
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe:
                pipe.close()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files the argv cases name: @scenario, @escape, @dir, traces."""
    d = tmp_path_factory.mktemp("bad-inputs")
    short = {"run": {"horizon_s": 2, "replications": 1, "warmup_s": 0}}
    (d / "scenario.json").write_text(json.dumps(short))
    (d / "escape.json").write_text(json.dumps({**short, "name": "../../escaped"}))
    (d / "overload.json").write_text(json.dumps({"run": {"horizon_s": 20, "replications": 1, "warmup_s": 0},
                                                 "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 10000}}}))
    (d / "d").mkdir()
    (d / "t.csv").write_bytes(b"t_s\n1\n2\xff\n")
    (d / "tl.csv").write_text("t_s\n0\n1\n")
    (d / "ts.csv").write_text("t_s\n0\n10\n")
    trace = {"kind": "trace", "file": "t.csv"}
    for name, arrivals in (("tracebad", trace), ("tracedir", {**trace, "file": "d"}),
                           ("tracedevzero", {**trace, "file": "/dev/zero"}),
                           ("traceloop", {**trace, "file": "tl.csv", "loop": True, "time_scale": 1e-300}),
                           ("tracescale", {**trace, "file": "ts.csv", "time_scale": 1e300})):
        (d / f"{name}.json").write_text(json.dumps({"workload": {"arrivals": arrivals}}))
    return d


@pytest.fixture(scope="module")
def worker(workdir: Path):
    box = {"w": Worker(workdir)}
    yield box
    box["w"].close()


def _bases() -> dict[str, dict]:
    import dbpoolsim

    bases = {"medium": dbpoolsim.resolve_scenario("medium-application")}
    for kind in dbpoolsim.pool_kinds():
        bases[kind] = dbpoolsim.resolve_scenario({"pool": {"kind": kind}})
    for name in ("failover", "rolling-deploy", "retry-storm", "nat-idle-drop"):
        bases[name] = dbpoolsim.resolve_scenario(name)
    for b in bases.values():
        b["run"].update(horizon_s=2, replications=1, warmup_s=0, sample_interval_s=1)
    return bases


ALL = CASES + field_cases(_bases())


def test_the_corpus_has_at_least_250_kinds():
    assert len(ALL) >= 250
    assert len({c.id for c in ALL}) == len(ALL)


def _argv(case: Case, workdir: Path) -> list[str]:
    names = {"@scenario": "scenario.json", "@escape": "escape.json", "@dir": "d", "@tracebad": "tracebad.json",
             "@tracedir": "tracedir.json", "@tracedevzero": "tracedevzero.json", "@traceloop": "traceloop.json",
             "@tracescale": "tracescale.json", "@overload": "overload.json"}
    return [names.get(a, a) for a in case.payload]


def _check(case: Case, answer: dict) -> None:
    status, err = answer["status"], answer["stderr"]
    where = f"{case.id}: status {status}\nstderr: {err}\nstdout: {answer['stdout'][-500:]}"
    assert "Traceback" not in err and status != "traceback", where
    assert status not in ("timeout",) and not str(status).startswith("crashed"), where
    if case.how == "api":
        assert status == case.expect or (case.expect == "clean" and status in ("ok", "error")), where
    else:
        code = {"ok": 0, "error": 2}.get(case.expect)
        assert status in ((0, 2) if code is None else (code,)), where
        if status == 2 and not answer.get("api"):
            lines = err.rstrip("\n").split("\n")
            usage = lines[0].startswith("usage:")
            assert usage or all(line.startswith("dbpoolsim: error: ") for line in lines), where
    if case.pattern and status not in (0, "ok"):
        assert re.search(case.pattern, err), where
    if case.pattern and case.expect == "ok" and case.how == "argv":  # what the report must say
        assert re.search(case.pattern, answer["stdout"]), where


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)]
                                               if c.xfail else []) for c in ALL])
def test_bad_input(case: Case, workdir: Path, worker: dict, tmp_path: Path) -> None:
    if case.how == "file":
        path = tmp_path / "s.json"
        path.write_bytes(case.payload)
        jobs = [{"how": "argv", "argv": ["validate", str(path)]},
                {"how": "api", "expr": f"d.resolve_scenario(Path({str(path)!r}))"}]
        expect_run = case.expect in ("ok", "clean")
    elif case.how == "argv":
        argv = _argv(case, workdir)
        if argv[:1] == ["run"] and "--out" not in argv and case.id != "name-escape-dotdot":
            argv += ["--out", str(tmp_path / "out")]
        jobs, expect_run = [{"how": "argv", "argv": argv}], False
    else:
        jobs, expect_run = [{"how": "api", "expr": case.payload}], False
    limit = XFAIL_TIMEOUT_S if case.xfail else CASE_TIMEOUT_S
    for job in jobs:
        answer = worker["w"].ask(job, limit)
        if job["how"] == "api" and case.how == "file":  # the same file through the Python API
            answer["status"] = {"ok": 0, "error": 2}.get(answer["status"], answer["status"])
            answer["api"] = True
        if answer["status"] == "timeout" or str(answer["status"]).startswith("crashed"):
            worker["w"] = Worker(workdir)
        _check(case, answer)
        if expect_run and answer["status"] == 0:
            answer = worker["w"].ask({"how": "argv", "argv": ["run", str(path), "--quiet", "--out", str(tmp_path / "out")]},
                                     limit)
            if answer["status"] == "timeout" or str(answer["status"]).startswith("crashed"):
                worker["w"] = Worker(workdir)
            _check(case, answer)
    if case.id == "name-escape-dotdot":  # a name is a label: the folder stays under results/
        assert (workdir / "results" / "escaped" / "result.json").is_file()
        assert not (workdir.parent.parent / "escaped").exists()


def test_ctrl_c_while_loading_or_validating_is_one_line_and_status_130(monkeypatch, capsys, tmp_path):
    from dbpoolsim import cli

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    (tmp_path / "s.json").write_text("{}")
    for target, argv in (("load_scenario", ["validate", str(tmp_path / "s.json")]),
                         ("load_scenario", ["run", str(tmp_path / "s.json")]),
                         ("scenario_base_dir", ["run", str(tmp_path / "s.json")])):
        with monkeypatch.context() as m:
            m.setattr(cli, target, interrupted)
            assert cli.main(argv) == 130
        assert capsys.readouterr().err == "dbpoolsim: interrupted\n"


def test_scenario_names_become_safe_folder_names():
    from dbpoolsim.cli import folder_name

    assert folder_name("../../escaped") == "escaped"
    assert folder_name("/tmp/x") == "tmp-x"
    assert folder_name("a\x00b") == "a-b"
    assert folder_name("..") == folder_name("") == folder_name("///") == "scenario"
    assert folder_name("medium-application") == "medium-application"
    assert folder_name("x" * 500) == "x" * 100


def test_a_run_whose_threads_cannot_all_be_created_uses_those_it_has(tmp_path):
    # The address space is capped just above what the process uses, so only a few 8 MiB thread
    # stacks fit: run() starts what it can (std::system_error on the rest) and gives the same
    # numbers as on one thread, where it used to abort ("terminate called without an active
    # exception").
    script = (
        "import re, resource, dbpoolsim as d\n"
        "s = {'run': {'horizon_s': 2, 'replications': 16, 'warmup_s': 0}}\n"
        "ref = d.run(s, threads=1, progress=False)\n"
        "expected = ref.replications.drop(columns='wall_seconds')  # pandas (and its threads) before the cap\n"
        "vm = int(re.search(r'VmSize:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1)) * 1024\n"
        "resource.setrlimit(resource.RLIMIT_AS, (vm + 40 * 2**20, resource.RLIM_INFINITY))\n"
        "r = d.run(s, threads=16, progress=False)\n"
        "same = r.replications.drop(columns='wall_seconds').equals(expected)\n"
        "print(1 <= r.threads < 16, same)\n"
    )
    # One malloc arena: otherwise each new thread's first allocation reserves a 64 MiB arena
    # under the cap, and whether glibc then fails the thread's creation (EAGAIN, what run()
    # handles) or aborts in its thread-local storage depends on the order of those reservations.
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, CI="1", MALLOC_ARENA_MAX="1"))
    assert (proc.returncode, proc.stdout) == (0, "True True\n"), proc.stderr
