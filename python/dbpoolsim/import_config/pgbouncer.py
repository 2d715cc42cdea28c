"""PgBouncer: pgbouncer.ini's ``[pgbouncer]`` settings and a database's pool settings from
``[databases]``, as the scenario's ``pooler`` section (seconds, as PgBouncer)."""

from __future__ import annotations

import re
import shlex
from typing import Any, Optional

from .._errors import scenario_error
from ._common import ImportedConfig, boolean, number

INTEGERS = ("default_pool_size", "min_pool_size", "reserve_pool_size", "max_client_conn", "max_db_connections")
SECONDS = ("reserve_pool_timeout", "server_idle_timeout", "server_lifetime", "server_connect_timeout",
           "server_login_retry", "query_wait_timeout", "server_check_delay")
STRINGS = ("pool_mode", "server_check_query")
BOOLEANS = ("server_round_robin",)
MODELLED = INTEGERS + SECONDS + STRINGS + BOOLEANS
# [databases] connection-string keys that override a [pgbouncer] setting for that database.
DATABASE_OVERRIDES = {"pool_size": "default_pool_size", "min_pool_size": "min_pool_size",
                      "reserve_pool_size": "reserve_pool_size", "reserve_pool": "reserve_pool_size",
                      "pool_mode": "pool_mode", "max_db_connections": "max_db_connections",
                      "server_lifetime": "server_lifetime", "query_wait_timeout": "query_wait_timeout"}


def parse_ini(text: str, source: str) -> dict[str, list[tuple[str, str, int]]]:
    """{section: [(key, value, line)]}, as PgBouncer reads its file (; and # comments)."""
    sections: dict[str, list[tuple[str, str, int]]] = {}
    current: Optional[str] = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in ";#":
            continue
        m = re.fullmatch(r"\[\s*([^\]]+?)\s*\]", line)
        if m:
            current = m.group(1).lower()
            sections.setdefault(current, [])
            continue
        if line.startswith("%include"):
            raise scenario_error([f"{source} line {n}: %include is not followed; paste the included file's "
                                  "settings into this one"])
        if "=" not in line:
            raise scenario_error([f"{source} line {n}: expected key = value, got {line[:60]!r}"])
        if current is None:
            raise scenario_error([f"{source} line {n}: setting outside a [section]"])
        key, value = line.split("=", 1)
        sections[current].append((key.strip().strip('"'), value.strip(), n))
    return sections


def _conninfo(value: str, where: str) -> list[tuple[str, str]]:
    try:
        parts = shlex.split(value)
    except ValueError as exc:
        raise scenario_error([f"{where}: cannot read the connection string ({exc})"]) from None
    out = []
    for p in parts:
        if "=" not in p:
            raise scenario_error([f"{where}: expected key=value in the connection string, got {p!r}"])
        k, v = p.split("=", 1)
        out.append((k.strip(), v.strip()))
    return out


def _set(pooler: dict[str, Any], name: str, value: str, where: str) -> None:
    if name in INTEGERS:
        pooler[name] = number(where, value, integer=True)
    elif name in SECONDS:
        pooler[name] = number(where, value, unit=" (seconds)")
    elif name in BOOLEANS:
        pooler[name] = boolean(where, value)
    elif name == "pool_mode":
        if value != "transaction":
            raise scenario_error([f"{where}: pool_mode = {value}: only transaction pooling is modelled "
                                  "(dbpoolsim's pgbouncer pooler)"])
        pooler[name] = value
    else:
        pooler[name] = value


def from_ini(text: str, source: str = "pgbouncer.ini", database: Optional[str] = None) -> ImportedConfig:
    """The pooler section for a pgbouncer.ini. The scenario models one PgBouncer pool: the
    ``[databases]`` entry ``database`` (default: the only one) overrides ``[pgbouncer]``'s
    pool settings with its own (``pool_size`` becomes ``default_pool_size``); the other
    entries are listed. Every setting not in the pooler section is listed with why."""
    sections = parse_ini(text, source)
    if "pgbouncer" not in sections and "databases" not in sections:
        raise scenario_error([f"{source}: no [pgbouncer] or [databases] section: not a pgbouncer.ini"])
    out = ImportedConfig(library="pgbouncer", section={})
    pooler: dict[str, Any] = {"kind": "pgbouncer"}
    seen: dict[str, int] = {}
    for key, value, n in sections.get("pgbouncer", []):
        where = f"{source} line {n}: {key}"
        if key in MODELLED:
            if key in seen:
                out.notes.append(f"line {n}: {key} given again (first at line {seen[key]}); the last wins")
            seen[key] = n
            _set(pooler, key, value, where)
        else:
            out.skip(f"[pgbouncer] {key}", value, "PgBouncer setting not modelled by the pooler section")
    if "pool_mode" not in pooler:
        raise scenario_error([f"{source}: no pool_mode: PgBouncer's default is session pooling, and only "
                              "transaction pooling is modelled; set pool_mode = transaction"])
    entries = sections.get("databases", [])
    names = [k for k, _, _ in entries]
    if database is not None and database not in names:
        raise scenario_error([f"database: {database!r} is not in [databases] ({', '.join(names) or 'empty'})"])
    chosen = database if database is not None else (names[0] if len(names) == 1 else None)
    if chosen is None and len(names) > 1:
        out.notes.append(f"[databases] has {len(names)} entries ({', '.join(names)}); the scenario models one "
                         "pool: choose one with database= (--database) to apply its pool settings")
    for name, value, n in entries:
        for k, v in _conninfo(value, f"{source} line {n}"):
            label = f"[databases] {name} {k}"
            if k in DATABASE_OVERRIDES and name == chosen:
                target = DATABASE_OVERRIDES[k]
                if target in pooler and target != "pool_mode":
                    out.notes.append(f"line {n}: {name}'s {k}={v} overrides [pgbouncer] {target}={pooler[target]}")
                _set(pooler, target, v, f"{source} line {n}: {name} {k}")
            elif k in DATABASE_OVERRIDES:
                out.skip(label, v, "a pool setting of another database (the scenario models one pool)")
            else:
                out.skip(label, v, "connection parameter, not a pool setting")
    for section, items in sections.items():
        if section in ("pgbouncer", "databases"):
            continue
        for key, value, _ in items:
            out.skip(f"[{section}] {key}", value, f"the [{section}] section is not modelled")
    out.section = {"pooler": pooler}
    return out.check()
