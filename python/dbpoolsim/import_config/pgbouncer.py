"""PgBouncer: pgbouncer.ini as the scenario's ``pooler`` section (seconds, as PgBouncer):
``[pgbouncer]``'s settings, ``[databases]`` and ``[users]`` as the pooler's ``databases`` and
``users`` entries (one pool per (database, user), as PgBouncer keeps them), and a ``clients``
route to the database the application uses."""

from __future__ import annotations

import re
import shlex
from typing import Any, Optional

from .._errors import scenario_error
from ._common import ImportedConfig, boolean, number

INTEGERS = ("default_pool_size", "min_pool_size", "reserve_pool_size", "max_client_conn", "max_db_connections",
            "max_user_connections")
SECONDS = ("reserve_pool_timeout", "server_idle_timeout", "server_lifetime", "server_connect_timeout",
           "server_login_retry", "query_wait_timeout", "server_check_delay")
STRINGS = ("pool_mode", "server_check_query", "server_reset_query")
BOOLEANS = ("server_round_robin", "server_reset_query_always")
MODELLED = INTEGERS + SECONDS + STRINGS + BOOLEANS
POOL_MODES = ("transaction", "session")
# A [databases] entry's own pool settings (objects.c, the "pool_size" ... keys of a database's
# connection string), as the pooler's `databases` entry; `reserve_pool` is the old spelling.
DATABASE_ENTRY = {"pool_size": "pool_size", "min_pool_size": "min_pool_size", "reserve_pool_size": "reserve_pool_size",
                  "reserve_pool": "reserve_pool_size", "max_db_connections": "max_db_connections"}
# Per-database settings dbpoolsim keeps only globally: for the database every application
# connection logs in to, they are the effective global setting; for another database, listed.
DATABASE_GLOBAL = ("pool_mode", "server_lifetime", "query_wait_timeout")
# A [users] entry's pool settings (pgbouncer's user options), as the pooler's `users` entry.
USER_ENTRY = ("pool_size", "reserve_pool_size", "max_user_connections")


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


def _value(name: str, value: str, where: str) -> Any:
    """A setting's value in the scenario's type; ScenarioError naming ``where`` if it cannot be."""
    if name in INTEGERS or name in DATABASE_ENTRY.values() or name in USER_ENTRY:
        return number(where, value, integer=True)
    if name in SECONDS:
        return number(where, value, unit=" (seconds)")
    if name in BOOLEANS:
        return boolean(where, value)
    if name == "pool_mode" and value not in POOL_MODES:
        raise scenario_error([f"{where}: pool_mode = {value}: only transaction and session pooling are modelled "
                              "(dbpoolsim's pgbouncer pooler)"])
    return value


def _databases(out: ImportedConfig, pooler: dict[str, Any], entries: list[tuple[str, str, int]],
               chosen: Optional[str], source: str) -> Optional[str]:
    """[databases] into ``pooler["databases"]``; returns the chosen database's forced user, if any."""
    databases: dict[str, dict[str, Any]] = {}
    forced_user = None
    for name, value, n in entries:
        label = f"[databases] {name}"
        if name == "*":
            out.skip(label, value, "the fallback database ('*') is not modelled: name the database")
            continue
        entry: dict[str, Any] = {}
        for k, v in _conninfo(value, f"{source} line {n}"):
            where = f"{source} line {n}: {name} {k}"
            if k in DATABASE_ENTRY:
                entry[DATABASE_ENTRY[k]] = _value(DATABASE_ENTRY[k], v, where)
            elif k in DATABASE_GLOBAL and name == chosen:
                if k in pooler and pooler[k] != _value(k, v, where):
                    out.notes.append(f"line {n}: {name}'s {k}={v} overrides [pgbouncer] {k}={pooler[k]} (every "
                                     f"application connection logs in to {name})")
                pooler[k] = _value(k, v, where)
            elif k in DATABASE_GLOBAL:
                out.skip(f"{label} {k}", v, f"a per-database {k} is not modelled (only the global one, and the "
                                            "routed database's)")
            elif k == "user" and name == chosen:
                forced_user = v
            else:
                out.skip(f"{label} {k}", v, "connection parameter, not a pool setting")
        databases[name] = entry
    if databases:
        pooler["databases"] = databases
    return forced_user


def _users(out: ImportedConfig, pooler: dict[str, Any], entries: list[tuple[str, str, int]], source: str) -> None:
    users: dict[str, dict[str, Any]] = {}
    for name, value, n in entries:
        entry: dict[str, Any] = {}
        for k, v in _conninfo(value, f"{source} line {n}"):
            if k in USER_ENTRY:
                entry[k] = _value(k, v, f"{source} line {n}: [users] {name} {k}")
            else:
                out.skip(f"[users] {name} {k}", v, "a per-user setting not modelled (pool_size, reserve_pool_size "
                                                  "and max_user_connections are)")
        users[name] = entry
    if users:
        pooler["users"] = users


def from_ini(text: str, source: str = "pgbouncer.ini", database: Optional[str] = None) -> ImportedConfig:
    """The pooler section for a pgbouncer.ini. Every ``[databases]`` and ``[users]`` entry
    keeps its own pool settings (PgBouncer keeps one pool per (database, user)); the
    application's connections log in to ``database`` (default: the only one), through a
    ``clients`` route. Every setting not in the section is listed with why."""
    sections = parse_ini(text, source)
    if "pgbouncer" not in sections and "databases" not in sections:
        raise scenario_error([f"{source}: no [pgbouncer] or [databases] section: not a pgbouncer.ini"])
    out = ImportedConfig(library="pgbouncer", section={})
    pooler: dict[str, Any] = {"kind": "pgbouncer"}
    seen: dict[str, int] = {}
    for key, value, n in sections.get("pgbouncer", []):
        if key in MODELLED:
            if key in seen:
                out.notes.append(f"line {n}: {key} given again (first at line {seen[key]}); the last wins")
            seen[key] = n
            pooler[key] = _value(key, value, f"{source} line {n}: {key}")
        else:
            out.skip(f"[pgbouncer] {key}", value, "PgBouncer setting not modelled by the pooler section")
    if "pool_mode" not in pooler:
        pooler["pool_mode"] = "session"
        out.notes.append("no pool_mode: PgBouncer's default, session pooling, is imported (dbpoolsim's own "
                         "default is transaction)")
    entries = sections.get("databases", [])
    names = [k for k, _, _ in entries if k != "*"]
    if database is not None and database not in names:
        raise scenario_error([f"database: {database!r} is not in [databases] ({', '.join(names) or 'empty'})"])
    chosen = database if database is not None else (names[0] if len(names) == 1 else None)
    if chosen is None and len(names) > 1:
        out.notes.append(f"[databases] has {len(names)} entries ({', '.join(names)}); with no route the "
                         "application logs in as (postgres, postgres) with the global pool settings: choose "
                         "its database with database= (--database), or write the pooler's clients routes")
    forced_user = _databases(out, pooler, entries, chosen, source)
    _users(out, pooler, sections.get("users", []), source)
    if chosen is not None:
        route: dict[str, Any] = {"database": chosen}
        if forced_user is not None:
            route["user"] = forced_user
            out.notes.append(f"{chosen} forces user={forced_user}: every application connection logs in as it")
        pooler["clients"] = [route]
    for section, items in sections.items():
        if section in ("pgbouncer", "databases", "users"):
            continue
        for key, value, _ in items:
            out.skip(f"[{section}] {key}", value, f"the [{section}] section is not modelled")
    out.section = {"pooler": pooler}
    return out.check()
