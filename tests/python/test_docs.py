"""docs/scenario.md stays in step with the code: its JSON examples are valid, the complete
example is a resolved scenario, and every field, metric and series column is documented."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import dbpoolsim

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario.md"

pytestmark = pytest.mark.skipif(not DOC.is_file(), reason="docs/scenario.md not in this tree")


def json_blocks() -> list[str]:
    return re.findall(r"```json\n(.*?)```", DOC.read_text(), flags=re.S)


def documented(name: str) -> bool:
    return f"`{name}`" in DOC.read_text()


def keys(obj):
    """Every key in a nested object (array items share their parent's path)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from keys(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from keys(v)


def complete_example() -> dict:
    blocks = [json.loads(b) for b in json_blocks() if b.startswith('{\n  "name"')]
    assert len(blocks) == 1, "exactly one complete example"
    return blocks[0]


def test_complete_example_is_a_resolved_scenario():
    example = complete_example()
    assert dbpoolsim.resolve_scenario(example) == example


def test_every_json_example_is_valid():
    for block in json_blocks():
        for line_group in _objects(block):
            obj = json.loads(line_group)
            if "kind" in obj and "arrivals" not in obj:  # a distribution
                dbpoolsim.resolve_scenario({"workload": {"transactions": [{"query_time": obj}]}})
            elif "arrivals" in obj:  # a workload fragment
                dbpoolsim.resolve_scenario({"workload": obj})
            else:
                dbpoolsim.resolve_scenario(obj)


def _objects(block: str) -> list[str]:
    """A block holds one JSON value, or several distributions one per (possibly wrapped) line."""
    try:
        json.loads(block)
        return [block]
    except json.JSONDecodeError:
        out, cur = [], ""
        for line in block.splitlines():
            cur += line + "\n"
            try:
                json.loads(cur)
                out.append(cur)
                cur = ""
            except json.JSONDecodeError:
                continue
        assert cur.strip() == ""
        return out


def test_every_scenario_field_is_documented():
    scenarios = [complete_example(), dbpoolsim.resolve_scenario({}),
                 dbpoolsim.resolve_scenario({"workload": {"arrivals": {"kind": "burst"}}}),
                 dbpoolsim.resolve_scenario({"workload": {"arrivals": {"kind": "closed_loop"}}})]
    missing = sorted({k for s in scenarios for k in keys(s) if not documented(k)})
    assert missing == []


def test_every_metric_and_series_column_is_documented(tiny_result):
    metrics = [c for c in tiny_result.replications.columns if c != "replication"]
    assert [m for m in metrics if not documented(m)] == []
    assert [c for c in tiny_result.timeseries.columns if not documented(c)] == []


def test_every_json_example_in_the_readme_is_a_valid_scenario():
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    assert blocks
    for block in blocks:
        dbpoolsim.resolve_scenario(json.loads(block))
