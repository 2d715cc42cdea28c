"""`dbpoolsim sweep | recommend | compare | check`: tables, JSON, exit codes. Most tests call
the entry point in-process (`run`, a fixture) to stay quick; one per command goes through a
subprocess (`cli`) as a user would."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

import dbpoolsim
from dbpoolsim.cli import main
from dbpoolsim.cli_experiments import parse_grid


@pytest.fixture
def run(capsys, monkeypatch, tmp_path):
    """`dbpoolsim ARGS...` in this process (cwd tmp_path); returns returncode/stdout/stderr."""
    monkeypatch.chdir(tmp_path)

    def go(*args) -> SimpleNamespace:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    return go


def test_grid_syntax():
    assert parse_grid(["pool.max_connections=2:8:3"]) == {"pool.max_connections": [2, 5, 8]}
    assert parse_grid(["a.b=0.5:1:0.25"]) == {"a.b": [0.5, 0.75, 1.0]}
    assert parse_grid(["pool.idle_order=fifo,lifo"]) == {"pool.idle_order": ["fifo", "lifo"]}
    assert parse_grid(["pool.min_connections+pool.max_connections=5,10"]) == {
        ("pool.min_connections", "pool.max_connections"): [(5, 5), (10, 10)]}
    assert parse_grid(["pool.min_connections+pool.max_connections=2/5,3/10"]) == {
        ("pool.min_connections", "pool.max_connections"): [(2, 5), (3, 10)]}
    with pytest.raises(dbpoolsim.ScenarioError, match=r"--grid 'x=1:0:1': expected start <= stop and step > 0"):
        parse_grid(["x=1:0:1"])


def test_sweep_prints_points_with_cis_and_resumes(cli, run, tiny_file, tmp_path):
    args = ("sweep", tiny_file, "--grid", "pool.max_connections=3,5", "--reps", "2",
            "--out", tmp_path / "sw", "--quiet")
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("dbpoolsim sweep: tiny, 2 points x 2 replications (mean ± 95 % CI)")
    assert lines[1].split()[:3] == ["pool.max_connections", "wait_time_p99_ms", "timeout_rate"]
    assert lines[2].split()[0] == "3" and "±" in lines[2]
    assert len(list((tmp_path / "sw" / "points").glob("*.parquet"))) == 2
    again = run(*args, "--format", "json")
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert doc["paths"] == ["pool.max_connections"]
    assert [p["pool.max_connections"] for p in doc["points"]] == [3, 5]
    assert "wait_time_p99_ms_ci95" in doc["points"][0]


def test_sweep_plot_writes_pngs(run, tiny_file, tmp_path):
    proc = run("sweep", tiny_file, "--grid", "pool.max_connections=3:6:1", "--reps", "2",
               "--out", tmp_path / "sw", "--quiet", "--plot", "--metric", "wait_time_p99_ms")
    assert proc.returncode == 0, proc.stderr
    png = tmp_path / "sw" / "wait_time_p99_ms.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("args", "message"), [
    (("--grid", "pool.max_connections=3,0"), "grid point 1 (pool.max_connections=0): /pool/max_connections: must be >= 1, got 0"),
    (("--grid", "pool.max_connections"), "--grid 'pool.max_connections': expected PATH=v1,v2,..."),
    (("--grid", "pool.max_connections=3", "--metric", "nope"), "--metric 'nope >= 0': unknown metric 'nope'"),
])
def test_sweep_bad_input_exits_2_naming_path_and_value(run, tiny_file, tmp_path, args, message):
    proc = run("sweep", tiny_file, "--out", tmp_path / "sw", "--quiet", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "sw").exists()


def test_recommend_prints_the_sentence_and_the_curve(cli, run, tiny_file, tmp_path):
    proc = cli("recommend", tiny_file, "--param", "pool.max_connections", "--slo", "timeout_rate<=0.02",
               "--range", "2:16", "--quiet")
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("pool.max_connections = ") and "is the smallest value in [2, 16]" in first
    assert proc.stdout.splitlines()[1].split() == ["pool.max_connections", "replications", "met",
                                                   "timeout_rate", "latency_avg_ms"]
    js = run("recommend", tiny_file, "--param", "pool.max_connections", "--slo", "timeout_rate<=0.02",
             "--range", "2:16", "--format", "json", "--plot", tmp_path / "rec.png")
    doc = json.loads(js.stdout)
    assert doc["met"] is True and doc["why"] == first
    assert (tmp_path / "rec.png").read_bytes()[:4] == b"\x89PNG"
    bad = run("recommend", tiny_file, "--param", "pool.max_connections", "--slo", "timeout_rate=<0.02")
    assert bad.returncode == 2 and "slo 'timeout_rate=<0.02'" in bad.stderr
    bad = run("recommend", tiny_file, "--param", "pool.max_connections", "--slo", "timeout_rate<0.02",
              "--range", "2-16")
    assert bad.returncode == 2 and "--range '2-16': expected LO:HI" in bad.stderr


def test_compare_two_files(cli, run, tiny, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(tiny))
    b.write_text(json.dumps(dbpoolsim.with_overrides(tiny, **{"pool.max_connections": 8})))
    proc = cli("compare", a, b, "--metric", "timeouts")
    assert proc.returncode == 0, proc.stderr
    assert "paired difference against a" in proc.stdout
    assert "\ntimeouts\n" in proc.stdout and "diff " in proc.stdout
    js = run("compare", a, b, "--format", "json")
    rows = pd.DataFrame(json.loads(js.stdout))
    assert set(rows["scenario"]) == {"a", "b"}


def test_check_exit_codes(cli, run, tiny_file):
    ok = cli("check", tiny_file, "--assert", "timeout_rate<=0.5", "--assert", "offered>=1000")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[0].startswith("ok   timeout_rate <= 0.5: ")
    assert "95 % upper bound" in ok.stdout and "3 replications" in ok.stdout
    fail = run("check", tiny_file, "--assert", "timeout_rate<=0.5", "--assert", "wait_time_max_ms<=0.001")
    assert fail.returncode == 1
    assert "FAIL wait_time_max_ms <= 0.001" in fail.stdout
    bad = run("check", tiny_file, "--assert", "timeout_rat<=0.5")
    assert bad.returncode == 2 and "--assert 'timeout_rat<=0.5': unknown metric 'timeout_rat'" in bad.stderr
    js = run("check", tiny_file, "--assert", "timeout_rate<=0.5", "--format", "json")
    assert json.loads(js.stdout)[0]["holds"] is True
    missing = run("check", "no-such-file.json", "--assert", "timeout_rate<=0.5")
    assert missing.returncode == 2 and "no-such-file.json" in missing.stderr
