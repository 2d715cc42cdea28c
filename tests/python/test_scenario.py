"""Scenario loading, defaults, the resolved round trip, overrides and validation messages.

Messages are pinned verbatim: they are the user interface of a strict format (path, rule,
offending value), so a change to one is a deliberate, reviewed event.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dbpoolsim
from dbpoolsim import ScenarioError, load_scenario, resolve_scenario, with_overrides

# ---- loading --------------------------------------------------------------------------------


def test_dict_json_text_path_and_str_path_load_the_same_scenario(tiny, tiny_file):
    expected = resolve_scenario(tiny)
    assert resolve_scenario(json.dumps(tiny)) == expected
    assert resolve_scenario("  \n" + json.dumps(tiny)) == expected  # leading blanks ignored
    assert resolve_scenario(tiny_file) == expected  # os.PathLike
    assert resolve_scenario(str(tiny_file)) == expected  # str path
    assert expected["name"] == "tiny"


def test_builtin_scenarios_load_by_name():
    names = dbpoolsim.builtin_scenarios()
    assert {"medium-application", "spike-50", "standard-case"} <= set(names)
    # Incident presets (copies of experiments/scenarios/incidents, findings in e02).
    assert {"lifetime-herd", "rolling-deploy", "failover", "nat-idle-drop", "retry-storm"} <= set(names)
    assert dbpoolsim.resolve_scenario("failover")["faults"][0]["kind"] == "failover"
    assert all(isinstance(desc, str) and desc for desc in names.values())
    for name in names:
        resolved = resolve_scenario(name)
        assert resolved["name"] == name
        assert resolved["description"] == names[name]  # a scenario field, kept when resolved


def test_builtin_medium_application_matches_the_seed_configuration():
    s = resolve_scenario("medium-application")
    assert s["workload"]["arrivals"] == {"kind": "poisson", "rate_per_s": 80}
    pool = s["pool"]
    assert (pool["min_connections"], pool["max_connections"]) == (10, 50)
    assert (pool["idle_timeout"], pool["max_lifetime"]) == (300, 3600)
    assert s["database"]["cores"] == 8


def test_default_scenario_is_the_resolved_medium_application():
    assert dbpoolsim.default_scenario() == resolve_scenario("medium-application")


def test_load_scenario_returns_unvalidated_json_text(tiny):
    text = load_scenario(tiny)
    assert json.loads(text) == tiny
    # Not validated yet: a bad value loads, and fails only when resolved.
    bad = load_scenario({"pool": {"max_connections": 0}})
    assert json.loads(bad) == {"pool": {"max_connections": 0}}


def test_unknown_name_or_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither a JSON object, a file, nor a built-in"):
        load_scenario("no-such-scenario")
    with pytest.raises(FileNotFoundError):
        load_scenario(str(tmp_path / "missing.json"))
    with pytest.raises(FileNotFoundError):
        load_scenario(tmp_path / "missing.json")


def test_a_non_scenario_object_raises_type_error():
    with pytest.raises(TypeError, match="scenario must be a dict, JSON string, path or built-in name"):
        load_scenario(42)  # type: ignore[arg-type]


def test_pool_kinds_lists_generic():
    kinds = dbpoolsim.pool_kinds()
    assert "generic" in kinds
    assert "seeds" in kinds["generic"]


# ---- defaults -------------------------------------------------------------------------------


def test_empty_scenario_gets_every_default():
    s = resolve_scenario({})
    assert s["name"] == "unnamed"
    assert s["run"] == {"horizon_s": 600, "warmup_s": 60, "replications": 5, "seed": 1,
                        "sample_interval_s": 1, "wait_threshold_s": 0.05, "record_requests": False,
                        "record_requests_max": 1000000, "pool_start_s": 0, "max_memory_mb": 2048}
    assert s["workload"]["arrivals"] == {"kind": "poisson", "rate_per_s": 100}
    assert s["workload"]["transactions"] == [
        {"name": "default", "weight": 1, "queries": 1,
         "query_time": {"kind": "exponential", "mean_s": 0.005}, "app_time": None,
         "read_only": False, "leak_probability": 0, "leak_hold_time": None}]
    assert s["database"] == {
        "cores": 0, "max_connections": 100,
        "connect_time": {"kind": "uniform", "low_s": 0.05, "high_s": 0.1},
        "network_rtt_s": 0.0005, "connect_cpu_s": 0, "accept_rate_per_s": 0,
        "idle_session_timeout_s": 0,
        "tcp_keepalive_s": 7875,        # Linux: tcp_keepalive_time 7200 + 9 probes x 75 s
        "usl": None}
    assert s["network"] == {"nat_idle_timeout_s": 0, "nat_drop": "silent",
                            "socket_timeout_s": 924.6,  # Linux tcp_retries2 = 15
                            "connect_timeout_s": 127}   # Linux tcp_syn_retries = 6
    assert s["faults"] == [] and s["fleet"] == []
    assert s["client"]["statement_timeout_s"] == 0
    assert s["client"]["patience"] is None


def test_generic_pool_defaults_are_the_seeds_values():
    pool = resolve_scenario({"pool": {"kind": "generic"}})["pool"]
    assert pool == {
        "kind": "generic",
        "min_connections": 10,          # seeds/000
        "max_connections": 50,          # seeds/000
        "acquisition_timeout": 30,      # seeds/000
        "idle_timeout": 300,            # seeds/000
        "max_lifetime": 3600,           # seeds/000
        "idle_cleanup_interval": 30,    # seeds/000 "Check every 30 seconds"
        "validate_on_borrow": False,
        "validation_query": "SELECT 1",  # seeds/000
        "validation_timeout": 5,        # seeds/000
        "health_check_interval": 60,    # seeds/001
        "idle_order": "lifo",
    }
    # An absent pool section is the same generic pool.
    assert resolve_scenario({})["pool"] == pool


def test_partial_sections_keep_the_other_defaults():
    s = resolve_scenario({"run": {"replications": 2}, "pool": {"max_connections": 20}})
    assert s["run"]["replications"] == 2 and s["run"]["horizon_s"] == 600
    assert s["pool"]["max_connections"] == 20 and s["pool"]["min_connections"] == 10


def test_transaction_classes_given_without_name_are_numbered():
    s = resolve_scenario({"workload": {"transactions": [{}, {"weight": 3}]}})
    assert [t["name"] for t in s["workload"]["transactions"]] == ["class0", "class1"]


def test_resolved_arrivals_hold_only_their_kinds_fields():
    burst = resolve_scenario({"workload": {"arrivals": {"kind": "burst"}}})["workload"]["arrivals"]
    assert burst == {"kind": "burst", "count": 50, "at_s": 0, "every_s": 0}
    closed = resolve_scenario({"workload": {"arrivals": {"kind": "closed_loop"}}})["workload"]["arrivals"]
    assert closed == {"kind": "closed_loop", "users": 50,
                      "think_time": {"kind": "exponential", "mean_s": 1}}


def test_gamma_given_by_mean_resolves_to_shape_and_scale():
    d = resolve_scenario({"workload": {"transactions": [
        {"query_time": {"kind": "gamma", "shape": 2, "mean_s": 0.01}}]}})
    assert d["workload"]["transactions"][0]["query_time"] == {"kind": "gamma", "shape": 2, "scale_s": 0.005}


def test_large_seed_survives_as_an_exact_integer():
    seed = 2**64 - 1
    assert resolve_scenario({"run": {"seed": seed}})["run"]["seed"] == seed


# ---- round trip -----------------------------------------------------------------------------

EVERY_FEATURE = {
    "name": "every-feature",
    "run": {"horizon_s": 10, "warmup_s": 1, "replications": 2, "seed": 99, "sample_interval_s": 0.5},
    "workload": {
        "arrivals": {"kind": "closed_loop", "users": 7,
                     "think_time": {"kind": "weibull", "shape": 1.5, "scale_s": 0.2}},
        "transactions": [
            {"name": "ln1", "weight": 0.5, "queries": 3,
             "query_time": {"kind": "lognormal", "median_s": 0.004, "p99_s": 0.04},
             "app_time": {"kind": "constant", "value_s": 0.001}},
            {"name": "ln2", "query_time": {"kind": "lognormal", "mean_s": 0.01, "sd_s": 0.02}},
            {"name": "pa", "query_time": {"kind": "pareto", "shape": 2.5, "scale_s": 0.003}},
            {"name": "un", "query_time": {"kind": "uniform", "low_s": 0.001, "high_s": 0.002}},
            {"name": "em", "query_time": {"kind": "empirical", "samples_s": [0.001, 0.002, 0.01]}},
            {"name": "ga", "query_time": {"kind": "gamma", "shape": 0.5, "scale_s": 0.02}},
            {"name": "mx", "query_time": {"kind": "mixture", "components": [
                {"weight": 1, "dist": {"kind": "constant", "value_s": 0.001}},
                {"weight": 3, "dist": {"kind": "mixture", "components": [
                    {"dist": {"kind": "exponential", "mean_s": 0.05}}]}}]}},
        ],
    },
    "pool": {"kind": "generic", "min_connections": 0, "max_connections": 3,
             "acquisition_timeout": 0, "idle_timeout": 0, "max_lifetime": 0,
             "idle_cleanup_interval": 1, "validate_on_borrow": True,
             "validation_query": "SELECT 2", "validation_timeout": 0.5,
             "health_check_interval": 0, "idle_order": "fifo"},
    "database": {"cores": 4, "max_connections": 2,
                 "connect_time": {"kind": "exponential", "mean_s": 0.02}, "network_rtt_s": 0},
}


@pytest.mark.parametrize("scenario", [
    {},
    EVERY_FEATURE,
    {"workload": {"arrivals": {"kind": "burst", "count": 3, "at_s": 1.25, "every_s": 0.5}}},
    "medium-application", "spike-50", "standard-case",
], ids=["defaults", "every-feature", "burst", "medium-application", "spike-50", "standard-case"])
def test_resolved_scenario_round_trips(scenario):
    once = resolve_scenario(scenario)
    assert resolve_scenario(once) == once
    assert resolve_scenario(json.dumps(once)) == once


def test_resolved_scenario_keeps_the_values_as_given():
    s = resolve_scenario(EVERY_FEATURE)
    tx = {t["name"]: t for t in s["workload"]["transactions"]}
    assert tx["ln1"]["query_time"] == {"kind": "lognormal", "median_s": 0.004, "p99_s": 0.04}
    assert tx["ln2"]["query_time"] == {"kind": "lognormal", "mean_s": 0.01, "sd_s": 0.02}
    assert tx["ln2"]["weight"] == 1 and tx["ln2"]["app_time"] is None
    assert tx["mx"]["query_time"]["components"][1]["dist"]["components"][0]["weight"] == 1
    assert s["pool"]["idle_order"] == "fifo" and s["pool"]["validation_query"] == "SELECT 2"


# ---- overrides ------------------------------------------------------------------------------


def test_with_overrides_sets_dotted_paths_without_touching_the_input(tiny):
    before = json.dumps(tiny, sort_keys=True)
    out = with_overrides(tiny, **{"pool.max_connections": 20, "run.replications": 1,
                                  "database.connect_time": {"kind": "constant", "value_s": 0},
                                  "name": "renamed"})
    assert json.dumps(tiny, sort_keys=True) == before
    assert out["pool"]["max_connections"] == 20 and out["pool"]["min_connections"] == 2
    assert out["run"]["replications"] == 1 and out["run"]["horizon_s"] == 30
    assert out["database"]["connect_time"] == {"kind": "constant", "value_s": 0}
    assert out["name"] == "renamed"


def test_with_overrides_creates_missing_sections_and_accepts_names():
    out = with_overrides({}, **{"workload.arrivals.rate_per_s": 5})
    assert out == {"workload": {"arrivals": {"rate_per_s": 5}}}
    out = with_overrides("standard-case", **{"run.horizon_s": 5})
    assert out["run"]["horizon_s"] == 5 and out["pool"]["max_connections"] == 10
    assert resolve_scenario(out)["run"]["horizon_s"] == 5


def test_with_overrides_through_a_non_object_raises_value_error(tiny):
    with pytest.raises(ValueError, match="override pool.max_connections.x: max_connections is not an object, got 5"):
        with_overrides(tiny, **{"pool.max_connections.x": 1})


# ---- errors ---------------------------------------------------------------------------------


def problems_of(scenario) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        resolve_scenario(scenario)
    return list(info.value.problems)


QTIME = "/workload/transactions/0/query_time"


def with_query_time(dist) -> dict:
    return {"workload": {"transactions": [{"query_time": dist}]}}


@pytest.mark.parametrize("scenario, expected", [
    ({"pool": {"kind": "generic", "max_connections": 0}},
     "/pool/max_connections: must be >= 1, got 0"),
    ({"pool": {"max_conections": 20}},
     "/pool/max_conections: unknown key (did you mean max_connections?)"),
    ({"run": {"horizon_s": "abc"}},
     '/run/horizon_s: must be a number, got a string "abc"'),
    (with_query_time({"kind": "exponential", "mean_s": -1}),
     f"{QTIME}/mean_s: must be > 0 and finite, got -1"),
    ({"pool": {"min_connections": 20, "max_connections": 10}},
     "/pool/min_connections: must be <= max_connections (10), got 20"),
    ({"pool": {"min_connections": 60}},
     "/pool/min_connections: must be <= max_connections (50), got 60"),
    ({"pool": {"kind": "hikari"}},
     "/pool/kind: must be one of " + ", ".join(dbpoolsim.pool_kinds()) + ', got "hikari"'),
    ({"run": 5}, "/run: must be an object, got a number 5"),
    ({"run": {"warmup_s": 700}}, "/run/warmup_s: must be < horizon_s (600), got 700"),
    ({"run": {"horizon_s": 1e9 + 1}}, "/run/horizon_s: must be <= 1e+09, got 1000000001"),
    ({"run": {"horizon_s": 0}}, "/run/horizon_s: must be > 0, got 0"),
    ({"run": {"seed": -1}}, "/run/seed: must be a non-negative integer, got a number -1"),
    ({"run": {"replications": 1.5}}, "/run/replications: must be an integer, got a number 1.5"),
    ({"run": {"replications": 0}}, "/run/replications: must be >= 1, got 0"),
    ({"run": {"sample_interval_s": 0.00001, "horizon_s": 1000}},
     "/run/sample_interval_s: gives more than 10,000,000 samples over horizon_s, got 1e-05"),
    ({"name": 5}, "/name: must be a string, got a number 5"),
    ({"workload": {"transactions": []}},
     "/workload/transactions: must be a non-empty array of transaction classes, got []"),
    ({"workload": {"transactions": [{"weight": 0}]}},
     "/workload/transactions/0/weight: must be > 0, got 0"),
    ({"workload": {"arrivals": {"kind": "burst", "rate_per_s": 5}}},
     "/workload/arrivals/rate_per_s: unknown key"),
    ({"workload": {"arrivals": {"kind": "poisson", "rate_per_s": 0}}},
     "/workload/arrivals/rate_per_s: must be > 0, got 0"),
    ({"workload": {"arrivals": {"kind": "fixed"}}},
     '/workload/arrivals/kind: must be one of poisson, burst, closed_loop, mmpp, trace, got "fixed"'),
    ({"pool": {"validate_on_borrow": 1}},
     "/pool/validate_on_borrow: must be true or false, got a number 1"),
    ({"pool": {"idle_order": "random"}},
     '/pool/idle_order: must be one of lifo, fifo, got "random"'),
    ({"pool": {"acquisition_timeout": -1}}, "/pool/acquisition_timeout: must be >= 0, got -1"),
    ({"pool": {"idle_cleanup_interval": 0}}, "/pool/idle_cleanup_interval: must be > 0, got 0"),
    ({"database": {"max_connections": 0}}, "/database/max_connections: must be >= 1, got 0"),
    ({"database": {"cores": -1}}, "/database/cores: must be >= 0, got -1"),
    ({"database": {"network_rtt_s": -0.5}}, "/database/network_rtt_s: must be >= 0, got -0.5"),
    ({"database": {"connect_time": {"kind": "uniform", "low_s": 0.1}}},
     "/database/connect_time/high_s: missing (required for uniform)"),
    (with_query_time({"kind": "lognormal", "median_s": 0.01, "p99_s": 0.001}),
     f"{QTIME}/p99_s: must be > median_s (0.01), got 0.001"),
    (with_query_time({"kind": "lognormal", "median_s": 0.01, "mean_s": 0.001}),
     f"{QTIME}: lognormal takes either mean_s and sd_s, or median_s and p99_s, not both"),
    (with_query_time({"kind": "normal"}),
     f"{QTIME}/kind: must be one of constant, exponential, lognormal, gamma, weibull, pareto, "
     'uniform, empirical, mixture, sequence, got "normal"'),
    (with_query_time({"kind": "exponential"}), f"{QTIME}/mean_s: missing (required for exponential)"),
    (with_query_time({"kind": "sequence", "values_s": [0.1]}),
     f"{QTIME}/kind: must not be sequence here: only database.connect_time counts its draws "
     '(docs/scenario.md, "Distributions"), got sequence'),
    (with_query_time({"kind": "constant", "value_s": -0.5}),
     f"{QTIME}/value_s: must be >= 0 and finite, got -0.5"),
    (with_query_time({"kind": "uniform", "low_s": 2, "high_s": 1}),
     f"{QTIME}/high_s: must be >= low_s (2), got 1"),
    (with_query_time({"kind": "weibull", "shape": 0, "scale_s": 1}),
     f"{QTIME}/shape: must be > 0 and finite, got 0"),
    (with_query_time({"kind": "gamma", "shape": 0, "mean_s": 1}),
     f"{QTIME}/shape: must be > 0, got 0"),
    (with_query_time({"kind": "empirical", "samples_s": []}),
     f"{QTIME}/samples_s: must hold at least one value, got none"),
    (with_query_time({"kind": "empirical", "samples_s": [0.1, -2]}),
     f"{QTIME}/samples_s/1: must be >= 0 and finite, got -2"),
    (with_query_time({"kind": "empirical", "samples_s": 0.1}),
     f"{QTIME}/samples_s: must be an array of numbers, got 0.1"),
    (with_query_time({"kind": "mixture", "components": []}),
     f"{QTIME}/components: must hold at least one component, got none"),
    (with_query_time({"kind": "mixture", "components": [{"weight": 1}]}),
     f"{QTIME}/components/0/dist: missing (the component's distribution)"),
    (with_query_time({"kind": "mixture", "components": [
        {"dist": {"kind": "exponential", "mean_s": 0}}]}),
     f"{QTIME}/components/0/dist/mean_s: must be > 0 and finite, got 0"),
    ({"workload": {"transactions": [5]}},
     "/workload/transactions/0: must be an object, got a number 5"),
])
def test_invalid_scenario_reports_the_exact_problem(scenario, expected):
    problems = problems_of(scenario)
    assert problems == [expected]


def test_misspelt_distribution_parameter_is_missing_and_unknown():
    assert problems_of(with_query_time({"kind": "exponential", "mean": 1})) == [
        f"{QTIME}/mean_s: missing (required for exponential)",
        f"{QTIME}/mean: unknown key (did you mean mean_s?)",
    ]


def test_unknown_key_with_no_close_match_has_no_suggestion():
    assert problems_of({"bogus": 1}) == ["/bogus: unknown key"]


def test_every_problem_is_reported_at_once_in_document_order():
    problems = problems_of({
        "pool": {"kind": "generic", "max_connections": 0, "idle_order": "random"},
        "run": {"horizon_s": "abc", "replicatons": 3},
        "workload": {"transactions": [{"query_time": {"kind": "exponential", "mean_s": -1}},
                                      {"queries": 0}]},
        "database": {"max_connections": 0},
        "bogus": 1,
    })
    # Sections are read in the order run, workload, pool, database; unknown keys of an object
    # are reported when that object is finished, after its own fields.
    assert problems == [
        '/run/horizon_s: must be a number, got a string "abc"',
        "/run/replicatons: unknown key (did you mean replications?)",
        "/workload/transactions/0/query_time/mean_s: must be > 0 and finite, got -1",
        "/workload/transactions/1/queries: must be >= 1, got 0",
        "/pool/max_connections: must be >= 1, got 0",
        '/pool/idle_order: must be one of lifo, fifo, got "random"',
        "/database/max_connections: must be >= 1, got 0",
        "/bogus: unknown key",
    ]


def test_scenario_error_message_is_every_problem_one_per_line():
    with pytest.raises(ScenarioError) as info:
        resolve_scenario({"pool": {"max_connections": 0}, "bogus": 1})
    err = info.value
    assert isinstance(err, ValueError)
    assert str(err) == "\n".join(err.problems)
    assert len(err.problems) == 2


def test_invalid_json_text_is_one_problem_at_the_root():
    problems = problems_of('{"run": {')
    assert len(problems) == 1
    assert problems[0].startswith("/: invalid JSON: parse error at line 1, column 10: ")


def test_json_text_that_is_not_an_object_is_not_a_scenario():
    # Only text starting with "{" is taken as JSON; anything else is a name or a file.
    with pytest.raises(FileNotFoundError):
        resolve_scenario("[1, 2]")


def test_cross_field_checks_use_the_given_values():
    # warm-up is compared with the horizon actually given
    assert problems_of({"run": {"horizon_s": 10, "warmup_s": 10}}) == [
        "/run/warmup_s: must be < horizon_s (10), got 10"]
    # min_connections may equal max_connections
    assert resolve_scenario({"pool": {"min_connections": 5, "max_connections": 5}})["pool"]["min_connections"] == 5


def test_invalid_scenario_file_names_its_problems(tmp_path: Path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"pool": {"max_connections": 0}}))
    assert problems_of(path) == ["/pool/max_connections: must be >= 1, got 0"]
