"""Scenarios in YAML: the same scenario as JSON, the same checks and JSON paths, plus the YAML
line; YAML 1.1's traps are errors, never a silently different scenario."""

from __future__ import annotations

import json
import textwrap

import pytest

import dbpoolsim

YAML = textwrap.dedent("""\
    # the tiny scenario, in YAML
    name: tiny
    run: {horizon_s: 30, warmup_s: 5, replications: 3, seed: 7, sample_interval_s: 1}
    workload:
      arrivals:
        kind: poisson
        rate_per_s: 200
      transactions:
        - name: q
          weight: 1
          queries: 1
          query_time: {kind: exponential, mean_s: 0.02}
    pool:
      kind: generic
      min_connections: 2
      max_connections: 5
      acquisition_timeout: 0.05
    database:
      connect_time: {kind: constant, value_s: 0.01}
      network_rtt_s: 0.0005
""")


@pytest.fixture
def yaml_file(tmp_path):
    def write(text: str, name: str = "s.yaml"):
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def test_a_yaml_scenario_is_the_same_scenario_as_its_json(yaml_file, tiny):
    path = yaml_file(YAML)
    assert dbpoolsim.resolve_scenario(path) == dbpoolsim.resolve_scenario(tiny)
    assert dbpoolsim.resolve_scenario(str(yaml_file(YAML, "s.yml"))) == dbpoolsim.resolve_scenario(tiny)
    a = dbpoolsim.run(path, threads=1, progress=False).replications.drop(columns="wall_seconds")
    b = dbpoolsim.run(tiny, threads=1, progress=False).replications.drop(columns="wall_seconds")
    assert a.equals(b)


def _problems(path):
    with pytest.raises(dbpoolsim.ScenarioError) as err:
        dbpoolsim.resolve_scenario(path)
    return list(err.value.problems)


def test_core_errors_keep_the_json_path_and_gain_the_yaml_line(yaml_file):
    path = yaml_file(YAML.replace("max_connections: 5", "max_connections: 0").replace("queries: 1", "querys: 1"))
    problems = _problems(path)
    assert f"/pool/max_connections: must be >= 1, got 0 ({path} line 16)" in problems
    assert any(p.startswith("/workload/transactions/0/querys: unknown key") and p.endswith(f"({path} line 11)")
               for p in problems), problems


@pytest.mark.parametrize("snippet, message", [
    ("pool:\n  kind: generic\n  kind: hikaricp\n", "/pool/kind: duplicate key 'kind' (first at line 2) ({} line 3)"),
    ("pool:\n  kind: generic\n  validate_on_borrow: yes\n",
     "/pool/validate_on_borrow: 'yes' is a YAML 1.1 boolean, not the word: write true or false, or quote it ({} line 3)"),
    ("network: {nat_drop: off}\n", "/network/nat_drop: 'off' is a YAML 1.1 boolean"),
    ("base: &b {kind: generic}\npool: *b\n", "anchor &b: anchors and aliases are not supported: write the value out ({} line 1)"),
    ("pool:\n  <<: {kind: generic}\n", "anchors and aliases|merge keys"),
    ("pool:\n  1: generic\n", "/pool: key '1' is not a string (YAML reads it as int); quote it ({} line 2)"),
    ("- a\n- b\n", "/: a scenario must be a mapping, got a list ({} line 1)"),
    ("just text\n", "/: a scenario must be a mapping, got the scalar 'just text'"),
    ("", "/: the YAML document is empty"),
    ("name: a\n---\nname: b\n", "/: a scenario file holds one YAML document, found a second ({} line 2)"),
    ("run: {horizon_s: 1:30}\n", "/run/horizon_s: '1:30' is a sexagesimal number in YAML 1.1"),
    ("run: {seed: 010}\n", "/run/seed: '010' is an octal, hex or binary number in YAML 1.1"),
    ("run: {horizon_s: .inf}\n", "/run/horizon_s: '.inf' is not a finite number"),
    ("name: 2024-01-02\n", "/name: '2024-01-02' reads as timestamp in YAML"),
    ("pool: {kind: generic\n", "/: not valid YAML"),
])
def test_yaml_traps_are_clear_errors(yaml_file, snippet, message):
    path = yaml_file(snippet)
    text = "\n".join(_problems(path))
    if "|" in message:
        assert any(m in text for m in message.split("|")), text
    else:
        assert message.format(path) in text


def test_quoted_words_and_true_false_are_fine(yaml_file):
    path = yaml_file(YAML + 'network: {nat_drop: "silent", nat_idle_timeout_s: 350}\n' + "description: 'yes'\n")
    resolved = dbpoolsim.resolve_scenario(path)
    assert resolved["network"]["nat_drop"] == "silent"
    assert resolved["description"] == "yes"


def test_cli_runs_and_validates_yaml(cli, yaml_file, tmp_path):
    good = yaml_file(YAML)
    proc = cli("run", good, "--out", tmp_path / "out", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "out" / "scenario.resolved.json").read_text())["name"] == "tiny"
    bad = yaml_file(YAML.replace("rate_per_s: 200", "rate_per_s: -1"), "bad.yaml")
    proc = cli("validate", bad)
    assert proc.returncode == 2
    assert "/workload/arrivals/rate_per_s: " in proc.stderr and f"({bad} line 7)" in proc.stderr
    assert "Traceback" not in proc.stderr
