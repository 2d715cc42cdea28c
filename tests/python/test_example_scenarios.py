"""Every example scenario in experiments/ is valid, and the seeds' parameter names resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

import dbpoolsim

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "experiments" / "scenarios").rglob("*.json"))


def test_there_are_example_scenarios():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_example_scenario_is_valid_and_describes_itself(path):
    resolved = dbpoolsim.resolve_scenario(path)
    assert resolved["name"]
    assert resolved.get("description"), "example scenarios say where they come from"


def test_seed_001_names_are_aliases_of_seed_000_names():
    resolved = dbpoolsim.resolve_scenario(
        {"pool": {"kind": "generic", "connection_timeout": 15, "connection_lifetime": 1800}})
    assert resolved["pool"]["acquisition_timeout"] == 15
    assert resolved["pool"]["max_lifetime"] == 1800
    assert "connection_timeout" not in resolved["pool"]


def test_an_alias_and_its_canonical_name_together_are_an_error():
    with pytest.raises(dbpoolsim.ScenarioError) as err:
        dbpoolsim.resolve_scenario({"pool": {"kind": "generic", "connection_timeout": 15,
                                             "acquisition_timeout": 20}})
    assert err.value.problems == [
        "/pool/connection_timeout: is seeds/001's name for acquisition_timeout; give only one of them"]


def test_a_seed_scenario_runs_short():
    res = dbpoolsim.run(dbpoolsim.with_overrides(
        ROOT / "experiments" / "scenarios" / "seeds" / "001-heavy.json",
        **{"run.horizon_s": 20, "run.warmup_s": 5, "run.replications": 2}))
    s = res.summary
    assert s["offered"] == s["completed"] + s["failed"] + s["in_flight"]
    assert s["round_trips"] > 0  # validate_on_borrow: one round trip per borrow
