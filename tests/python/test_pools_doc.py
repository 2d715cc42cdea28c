"""docs/pools.md stays in step with the code.

Every pool kind (and the pgbouncer pooler) has a section, a parameter table whose names and
defaults are the resolved scenario's, and a JSON snippet; every snippet resolves as given (no
alias, no silent reset); the summary tables have a row per kind; and the silent resets and
aliases the page describes are what the parser does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import dbpoolsim

DOC = Path(__file__).resolve().parents[2] / "docs" / "pools.md"
POOLER_KINDS = ["pgbouncer"]


def text() -> str:
    return DOC.read_text()


def pool_kinds() -> list[str]:
    return list(dbpoolsim.pool_kinds())


def all_kinds() -> list[str]:
    return pool_kinds() + POOLER_KINDS


def resolved_defaults(kind: str) -> dict:
    if kind in POOLER_KINDS:
        return dbpoolsim.resolve_scenario({"pooler": {"kind": kind}})["pooler"]
    return dbpoolsim.resolve_scenario({"pool": {"kind": kind}})["pool"]


def sections() -> list[tuple[str, str]]:
    """(heading, body) of every level-2 section."""
    parts = re.split(r"^## ", text(), flags=re.M)[1:]
    return [(p.split("\n", 1)[0], p.split("\n", 1)[1] if "\n" in p else "") for p in parts]


def section_of(kind: str) -> str:
    found = [body for heading, body in sections() if f"`{kind}`" in heading]
    assert len(found) == 1, f"expected exactly one '## ...`{kind}`...' section, found {len(found)}"
    return found[0]


def json_blocks(body: str) -> list[str]:
    return re.findall(r"```json\n(.*?)```", body, flags=re.S)


def parameter_rows(body: str) -> dict[str, list[str]]:
    """Rows of the section's parameter tables: name -> default cell's backticked tokens."""
    rows: dict[str, list[str]] = {}
    default_col = None
    for line in body.splitlines():
        if not line.startswith("|"):
            default_col = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "field":
            default_col = cells.index("default")
            continue
        if default_col is None or set(cells[0]) <= {"-"}:
            continue
        name = re.fullmatch(r"`([^`]+)`", cells[0])
        assert name, f"parameter row without a `name` first cell: {line}"
        rows[name.group(1)] = re.findall(r"`([^`]+)`", cells[default_col])
    return rows


def json_values(tokens: list[str]) -> list:
    out = []
    for t in tokens:
        try:
            out.append(json.loads(t))
        except json.JSONDecodeError:
            continue
    return out


# ---- sections and parameters ---------------------------------------------------------------

@pytest.mark.parametrize("kind", all_kinds())
def test_every_kind_has_a_section(kind):
    assert section_of(kind).strip()


@pytest.mark.parametrize("kind", all_kinds())
def test_every_resolved_parameter_is_documented_in_backticks(kind):
    doc = text()
    missing = [name for name in resolved_defaults(kind) if f"`{name}`" not in doc]
    assert missing == []


@pytest.mark.parametrize("kind", all_kinds())
def test_parameter_table_lists_exactly_the_resolved_parameters(kind):
    documented = set(parameter_rows(section_of(kind))) - {"kind"}
    resolved = set(resolved_defaults(kind)) - {"kind"}
    assert sorted(resolved - documented) == [], "parameters missing from the table"
    assert sorted(documented - resolved) == [], "table rows the code does not have"


@pytest.mark.parametrize("kind", all_kinds())
def test_documented_defaults_match_the_code(kind):
    defaults = resolved_defaults(kind)
    rows = parameter_rows(section_of(kind))
    for name, value in defaults.items():
        if name == "kind":
            continue
        values = json_values(rows[name])
        assert len(values) == 1, f"{kind}.{name}: default cell needs exactly one JSON value, got {rows[name]}"
        assert values[0] == value, f"{kind}.{name}: documented {values[0]!r}, code {value!r}"


# ---- snippets --------------------------------------------------------------------------------

def all_snippets() -> list[dict]:
    out = []
    for block in json_blocks(text()):
        obj = json.loads(block)
        assert isinstance(obj, dict), f"snippet is not an object: {block}"
        assert "pool" in obj or "pooler" in obj, f"snippet without a pool or pooler section: {block}"
        out.append(obj)
    return out


def test_there_are_snippets():
    assert len(all_snippets()) >= len(all_kinds())


@pytest.mark.parametrize("index", range(len(json_blocks(DOC.read_text()))) if DOC.is_file() else [])
def test_every_snippet_resolves_as_given(index):
    snippet = all_snippets()[index]
    resolved = dbpoolsim.resolve_scenario(snippet)
    for section in ("pool", "pooler"):
        if section not in snippet:
            continue
        given = snippet[section]
        kind = given.get("kind", "generic")
        assert resolved[section]["kind"] == kind
        # Snippets show what the pool runs with: no alias, no silent reset.
        for key, value in given.items():
            assert resolved[section][key] == value, f"{section}.{key}: given {value!r}, resolved {resolved[section][key]!r}"


@pytest.mark.parametrize("kind", all_kinds())
def test_every_kind_has_a_snippet_in_its_section(kind):
    section = "pooler" if kind in POOLER_KINDS else "pool"
    kinds = [json.loads(b).get(section, {}).get("kind") for b in json_blocks(section_of(kind))]
    assert kind in kinds


# ---- summary tables ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", all_kinds())
def test_cross_library_tables_have_a_row_per_kind(kind):
    body = [b for h, b in sections() if h.startswith("Cross-library summary")]
    assert len(body) == 1
    tables = re.split(r"\n\s*\n", body[0])
    tables = [t for t in tables if t.lstrip().startswith("|")]
    assert len(tables) == 2
    family = kind.split("_")[0] + "_*"  # "sqlalchemy_*" covers both SQLAlchemy kinds
    for table in tables:
        first_cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("|")]
        assert any(f"`{kind}`" in c or f"`{family}`" in c for c in first_cells), table.splitlines()[0]


# ---- the resets and aliases the page describes -----------------------------------------------------

def resolve_pool(pool: dict) -> dict:
    return dbpoolsim.resolve_scenario({"pool": pool})["pool"]


def test_documented_hikaricp_silent_resets():
    assert resolve_pool({"kind": "hikaricp", "minimumIdle": 5, "idleTimeout": 1800000})["idleTimeout"] == 0
    assert resolve_pool({"kind": "hikaricp", "minimumIdle": 5, "idleTimeout": 5000})["idleTimeout"] == 600000
    assert resolve_pool({"kind": "hikaricp", "idleTimeout": 5000})["idleTimeout"] == 5000  # fixed pool: kept
    assert resolve_pool({"kind": "hikaricp", "connectionTimeout": 0})["connectionTimeout"] == 2147483647
    assert resolve_pool({"kind": "hikaricp", "maximumPoolSize": 20, "minimumIdle": 30})["minimumIdle"] == 20
    assert resolve_pool({"kind": "hikaricp", "maximumPoolSize": 20})["minimumIdle"] == 20
    assert resolve_pool({"kind": "hikaricp", "maxLifetime": 1000})["maxLifetime"] == 1800000
    assert resolve_pool({"kind": "hikaricp", "maxLifetime": -5})["maxLifetime"] == 1800000
    assert resolve_pool({"kind": "hikaricp", "keepaliveTime": 10000})["keepaliveTime"] == 0
    assert resolve_pool({"kind": "hikaricp", "keepaliveTime": 1800000})["keepaliveTime"] == 0
    with pytest.raises(dbpoolsim.ScenarioError):
        resolve_pool({"kind": "hikaricp", "connectionTimeout": 100})
    with pytest.raises(dbpoolsim.ScenarioError):
        resolve_pool({"kind": "hikaricp", "validationTimeout": 249})


def test_documented_aliases_and_null_forms():
    generic = resolve_pool({"kind": "generic", "connection_timeout": 5, "connection_lifetime": 100})
    assert (generic["acquisition_timeout"], generic["max_lifetime"]) == (5, 100)
    assert "connection_timeout" not in generic and "connection_lifetime" not in generic
    with pytest.raises(dbpoolsim.ScenarioError):
        resolve_pool({"kind": "generic", "connection_timeout": 5, "acquisition_timeout": 4})
    sa = "sqlalchemy_queuepool"
    assert resolve_pool({"kind": sa, "pool_reset_on_return": True})["pool_reset_on_return"] == "rollback"
    assert resolve_pool({"kind": sa, "pool_reset_on_return": False})["pool_reset_on_return"] == "none"
    assert resolve_pool({"kind": sa, "pool_reset_on_return": None})["pool_reset_on_return"] == "none"
    assert resolve_pool({"kind": sa, "pool_timeout": None})["pool_timeout"] is None
    assert resolve_pool({"kind": sa, "pool_size": 0})["max_overflow"] == 10  # kept as given
    sqlx = resolve_pool({"kind": "sqlx", "idle_timeout": 0, "max_lifetime": None, "min_connections": 50})
    assert (sqlx["idle_timeout"], sqlx["max_lifetime"], sqlx["min_connections"]) == (None, None, 50)
    assert resolve_pool({"kind": "psycopg_pool", "max_size": None})["max_size"] is None
    with pytest.raises(dbpoolsim.ScenarioError):
        resolve_pool({"kind": "psycopg_pool", "min_size": 0})  # max_size null needs min_size > 0
    with pytest.raises(dbpoolsim.ScenarioError):
        dbpoolsim.resolve_scenario({"pooler": {"kind": "pgbouncer", "pool_mode": "statement"}})  # session is modelled
    with pytest.raises(dbpoolsim.ScenarioError):
        dbpoolsim.resolve_scenario({"pooler": {"default_pool_size": 20}})  # kind is required
