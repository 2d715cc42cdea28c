"""The `dbpoolsim` command, run as `python -m dbpoolsim` in a subprocess (CI=1: no progress bar)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import dbpoolsim

OUTPUT_FILES = {"result.json", "scenario.resolved.json", "replications.csv", "timeseries.csv"}


def test_run_prints_the_report_and_writes_the_four_files(cli, tiny, tiny_file, out_dir):
    proc = cli("run", tiny_file, "--out", out_dir, "--quiet", "--threads", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("dbpoolsim: tiny\n")
    assert "\n  health: " in proc.stdout
    assert f"wrote {out_dir / 'result.json'}, scenario.resolved.json" in proc.stdout
    assert {p.name for p in out_dir.iterdir()} == OUTPUT_FILES
    assert json.loads((out_dir / "scenario.resolved.json").read_text()) == dbpoolsim.resolve_scenario(tiny)
    assert len(pd.read_csv(out_dir / "replications.csv")) == 3


def test_run_output_matches_the_python_api(cli, tiny, tiny_file, out_dir):
    # Same scenario and seed: the CLI and dbpoolsim.run give the same numbers.
    proc = cli("run", tiny_file, "--out", out_dir, "--quiet")
    assert proc.returncode == 0, proc.stderr
    saved = pd.read_csv(out_dir / "replications.csv")
    api = dbpoolsim.run(tiny, threads=1, progress=False).replications
    assert saved["offered"].tolist() == api["offered"].tolist()
    assert saved["completed"].tolist() == api["completed"].tolist()


def test_run_defaults_to_results_slash_name_in_the_working_directory(cli, tiny_file, tmp_path):
    proc = cli("run", tiny_file, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in (tmp_path / "results" / "tiny").iterdir()} == OUTPUT_FILES


def test_set_overrides_fields(cli, tiny_file, out_dir):
    proc = cli("run", tiny_file, "--out", out_dir, "--quiet",
               "--set", "pool.max_connections=20", "--set", "run.replications=1",
               "--set", 'name="renamed"')
    assert proc.returncode == 0, proc.stderr
    resolved = json.loads((out_dir / "scenario.resolved.json").read_text())
    assert resolved["pool"]["max_connections"] == 20
    assert resolved["run"]["replications"] == 1
    assert resolved["name"] == "renamed"
    assert "1 replication(s)" in proc.stdout


def test_set_value_that_is_not_json_is_a_string(cli, tiny_file, out_dir):
    proc = cli("run", tiny_file, "--out", out_dir, "--quiet", "--set", "pool.idle_order=fifo")
    assert proc.returncode == 0, proc.stderr
    resolved = json.loads((out_dir / "scenario.resolved.json").read_text())
    assert resolved["pool"]["idle_order"] == "fifo"


def test_set_to_an_invalid_value_exits_2_with_the_problem(cli, tiny_file, out_dir):
    proc = cli("run", tiny_file, "--out", out_dir, "--quiet", "--set", "pool.max_connections=0")
    assert proc.returncode == 2
    assert proc.stderr == f"dbpoolsim: error: {tiny_file}: /pool/max_connections: must be >= 1, got 0\n"
    assert not out_dir.exists()


def test_set_without_equals_sign_exits_2(cli, tiny_file):
    proc = cli("run", tiny_file, "--quiet", "--set", "pool.max_connections")
    assert proc.returncode == 2
    assert proc.stderr == (f"dbpoolsim: error: {tiny_file}: --set 'pool.max_connections': "
                           "expected path=value, e.g. pool.max_connections=20\n")


def test_set_through_a_non_object_exits_2(cli, tiny_file):
    proc = cli("run", tiny_file, "--quiet", "--set", "pool.max_connections.x=1")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"dbpoolsim: error: {tiny_file}: ")


def test_validate_good_file_prints_ok(cli, tiny_file):
    proc = cli("validate", tiny_file, "spike-50")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{tiny_file}: ok\nspike-50: ok\n"
    assert proc.stderr == ""


def test_validate_bad_file_lists_every_problem_on_stderr(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({
        "run": {"horizon_s": "abc"},
        "pool": {"max_conections": 20, "min_connections": 60},
    }))
    proc = cli("validate", bad)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines == [
        f'dbpoolsim: error: {bad}: /run/horizon_s: must be a number, got a string "abc"',
        f"dbpoolsim: error: {bad}: /pool/min_connections: must be <= max_connections (50), got 60",
        f"dbpoolsim: error: {bad}: /pool/max_conections: unknown key (did you mean max_connections?)",
    ]
    assert all(line.startswith(f"dbpoolsim: error: {bad}: /") for line in lines)


def test_validate_checks_every_file_even_after_a_failure(cli, tmp_path, tiny_file):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    proc = cli("validate", bad, tiny_file)
    assert proc.returncode == 2
    assert proc.stdout == f"{tiny_file}: ok\n"
    assert proc.stderr.startswith(f"dbpoolsim: error: {bad}: /: invalid JSON: parse error at line 1")


def test_nonexistent_file_exits_2(cli, tmp_path):
    missing = tmp_path / "missing.json"
    for command in ("validate", "run"):
        proc = cli(command, missing)
        assert proc.returncode == 2, command
        assert proc.stderr.startswith(f"dbpoolsim: error: {missing}: scenario "), command
        assert "neither a JSON object, a file, nor a built-in scenario" in proc.stderr


def test_builtin_scenario_file_validates_as_a_path(cli):
    path = Path(dbpoolsim.__file__).parent / "scenarios" / "medium-application.json"
    proc = cli("validate", path)
    assert proc.returncode == 0, proc.stderr


def test_scenarios_lists_the_builtins_with_the_default_marked(cli):
    proc = cli("scenarios")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("medium-application (default): ") for line in lines)
    names = [line.split(":")[0].replace(" (default)", "") for line in lines]
    assert names == sorted(dbpoolsim.builtin_scenarios())


def test_pools_lists_generic(cli):
    proc = cli("pools")
    assert proc.returncode == 0, proc.stderr
    assert "generic: the min/max pool of the seed documents (seeds 000, 001, 004)" in proc.stdout.splitlines()
