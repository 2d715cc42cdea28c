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
            if obj.get("kind") == "sequence":  # only database.connect_time takes one
                dbpoolsim.resolve_scenario({"database": {"connect_time": obj}})
            elif "kind" in obj and "arrivals" not in obj:  # a distribution
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


# ---- the field tables (models/scenario_fields.cpp) ------------------------------------------

# Fields of array elements documented as rows of their parent's table ("points[i].at_s").
ELEMENT_ROWS = {"workload.arrivals.profile.points": ("workload.arrivals", "points[i]."),
                "workload.arrivals.states": ("workload.arrivals", "states[i].")}


def doc_section(text: str, name: str) -> str:
    """The body under the heading that names `name` (e.g. "## `run`"), up to the next heading
    of the same or a higher level."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"(#+) ", line)
        if m and f"`{name}`" in line.split(":")[0]:
            level, body = len(m.group(1)), []
            for nxt in lines[i + 1:]:
                n = re.match(r"(#+) ", nxt)
                if n and len(n.group(1)) <= level:
                    break
                body.append(nxt)
            return "\n".join(body)
    raise AssertionError(f"docs/scenario.md has no heading naming `{name}`")


def undocumented_fields(text: str, fields) -> list[str]:
    missing = []
    for section, name, *_ in fields:
        heading, prefix = ELEMENT_ROWS.get(section, (section or "name", ""))
        if f"`{prefix}{name}`" not in doc_section(text, heading):
            missing.append(f"{section}.{name}".lstrip("."))
    return missing


def test_every_field_of_every_table_is_documented_in_its_section():
    fields = dbpoolsim._core.scenario_fields()
    assert len(fields) > 50
    assert undocumented_fields(DOC.read_text(), fields) == []


def test_the_field_check_fails_for_a_field_added_to_a_table_but_not_documented():
    fields = list(dbpoolsim._core.scenario_fields())
    text = DOC.read_text()
    assert undocumented_fields(text, fields + [("client", "retry_budget", "number", "0", "")]) == [
        "client.retry_budget"]
    # Documented elsewhere does not count: the row must be in the field's own section.
    assert undocumented_fields(text, fields + [("network", "horizon_s", "number", "600", "")]) == [
        "network.horizon_s"]
    assert undocumented_fields(text, fields + [("workload.arrivals.states", "weight", "number", "1", "")]) == [
        "workload.arrivals.states.weight"]


# The JSON reader names an unnamed transaction class after its index, not the struct's default.
DEFAULT_NOT_THE_STRUCTS = {("workload.transactions", "name")}


def documented_default(text: str, section: str, name: str) -> list:
    """JSON values in the default cell of the field's row (none when the table has no default
    column or the cell says "required")."""
    heading, prefix = ELEMENT_ROWS.get(section, (section or "name", ""))
    default_col = None
    for line in doc_section(text, heading).splitlines():
        if not line.startswith("|"):
            default_col = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("field", "column", "kind"):
            default_col = cells.index("default") if "default" in cells else None
        elif default_col is not None and cells[0] == f"`{prefix}{name}`":
            out = []
            for token in re.findall(r"`([^`]+)`", cells[default_col]):
                try:
                    out.append(json.loads(token))
                except json.JSONDecodeError:
                    continue
            return out
    return []


def test_documented_defaults_are_the_tables():
    text = DOC.read_text()
    wrong, compared = [], 0
    for section, name, _type, default, _summary in dbpoolsim._core.scenario_fields():
        values = documented_default(text, section, name)
        if (section, name) in DEFAULT_NOT_THE_STRUCTS or not values or default == "":
            continue  # required fields, and fields documented in prose (faults, fleet)
        compared += 1
        if values[0] != json.loads(default):
            wrong.append(f"{section}.{name}: documented {values[0]!r}, table {json.loads(default)!r}")
    assert wrong == []
    assert compared >= 45  # every field with a default column (47 today)


def test_every_named_pool_metric_is_documented():
    """The per-pool family (pool_<name>_<metric>, models/world/metrics.hpp) is listed in the
    `pools` section, each suffix written as `_<metric>`."""
    block = next(b for b in json_blocks() if '"pools"' in b)
    scenario = json.loads(block)
    scenario["run"] = {"horizon_s": 5, "warmup_s": 0, "replications": 1}
    result = dbpoolsim.run(scenario, threads=1, progress=False)
    suffixes = sorted({c[len(f"pool_{n}_"):] for c in result.replications.columns
                       for n in ("read", "write") if c.startswith(f"pool_{n}_")})
    assert len(suffixes) == 11
    assert [s for s in suffixes if f"`_{s}`" not in DOC.read_text()
            and f"`pool_<name>_{s}`" not in DOC.read_text()] == []
