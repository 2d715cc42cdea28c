"""dbpoolsim.import_config: paste your pool's configuration as it is.

    >>> from dbpoolsim import import_config
    >>> cfg = import_config.load("application.properties")     # HikariCP / Spring Boot
    >>> cfg.section            # {"pool": {"kind": "hikaricp", "maximumPoolSize": 20, ...}}
    >>> cfg.unsupported        # every setting not carried over, with why (secrets redacted)
    >>> import_config.from_create_engine("postgresql+psycopg://app@db/shop", pool_size=20, max_overflow=5)

One module per library (hikaricp, sqlalchemy, psycopg_pool, asyncpg, pgbouncer); the section
keeps the library's own names and units (docs/pools.md) and validates through dbpoolsim. Go's
database/sql and node-postgres are simulated (pool kinds go_database_sql and node_postgres) but
not imported: database/sql is configured by setter calls in code, not a file, and a pg.Pool
options object already uses the node_postgres kind's names, so it is pasted as the pool section.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional, Union

from .._errors import scenario_error
from . import asyncpg as _asyncpg
from . import hikaricp as _hikaricp
from . import pgbouncer as _pgbouncer
from . import psycopg_pool as _psycopg_pool
from . import sqlalchemy as _sqlalchemy
from ._common import ImportedConfig

__all__ = ["ImportedConfig", "LIBRARIES", "from_asyncpg", "from_create_engine", "from_hikaricp", "from_pgbouncer_ini",
           "from_psycopg_pool", "load"]

LIBRARIES = ("hikaricp", "sqlalchemy", "psycopg_pool", "asyncpg", "pgbouncer")
_NOT_YET = {"go": "Go database/sql", "database/sql": "Go database/sql", "database_sql": "Go database/sql",
            "node-postgres": "node-postgres", "pg": "node-postgres", "node_postgres": "node-postgres"}
_PSYCOPG_ONLY = {"max_waiting", "max_idle", "reconnect_timeout", "num_workers", "conninfo", "check"}
_ASYNCPG_ONLY = {"max_queries", "max_inactive_connection_lifetime", "dsn", "setup", "init", "command_timeout"}


def from_hikaricp(text: str, *, yaml: bool = False) -> ImportedConfig:
    """HikariCP from a .properties text (hikari.properties or Spring Boot's), or from Spring
    Boot's application.yml text with ``yaml=True``."""
    return _hikaricp.from_spring_yaml(text) if yaml else _hikaricp.from_properties(text)


def from_create_engine(url: Optional[str] = None, *, is_async: Optional[bool] = None, **kwargs: Any) -> ImportedConfig:
    """SQLAlchemy from ``create_engine(url, **kwargs)``'s arguments."""
    return _sqlalchemy.from_create_engine(url, kwargs, is_async=is_async)


def from_psycopg_pool(**kwargs: Any) -> ImportedConfig:
    """psycopg_pool from ``ConnectionPool(**kwargs)``'s arguments."""
    return _psycopg_pool.from_kwargs(kwargs)


def from_asyncpg(**kwargs: Any) -> ImportedConfig:
    """asyncpg from ``create_pool(**kwargs)``'s arguments."""
    return _asyncpg.from_kwargs(kwargs)


def from_pgbouncer_ini(text: str, *, database: Optional[str] = None) -> ImportedConfig:
    """PgBouncer from a pgbouncer.ini text."""
    return _pgbouncer.from_ini(text, database=database)


def _guess(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix == ".properties":
        return "hikaricp"
    if suffix in (".yml", ".yaml"):
        return "hikaricp"
    if suffix == ".ini" or "[pgbouncer]" in text or "[databases]" in text:
        return "pgbouncer"
    if suffix == ".json" or text.lstrip().startswith("{"):
        data = _json_object(text, str(path))
        keys = set(data)
        if "url" in keys or "poolclass" in keys or keys & set(_sqlalchemy.MODELLED):
            return "sqlalchemy"
        if keys & _PSYCOPG_ONLY and not keys & _ASYNCPG_ONLY:
            return "psycopg_pool"
        if keys & _ASYNCPG_ONLY and not keys & _PSYCOPG_ONLY:
            return "asyncpg"
        raise scenario_error([f"{path}: cannot tell which library these keyword arguments are for "
                              f"({', '.join(sorted(keys)) or 'none'}); give library= (--library) one of "
                              f"{', '.join(LIBRARIES)}"])
    raise scenario_error([f"{path}: cannot tell the library from the file; give library= (--library) one of "
                          f"{', '.join(LIBRARIES)}"])


def _json_object(text: str, source: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise scenario_error([f"{source}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"]) from None
    if not isinstance(data, dict):
        raise scenario_error([f"{source}: keyword arguments must be a JSON object, got {type(data).__name__}"])
    return data


def load(source: Union[str, "os.PathLike[str]"], library: Optional[str] = None, *,
         database: Optional[str] = None) -> ImportedConfig:
    """Import a configuration file: ``.properties`` and ``.yml`` (HikariCP, Spring Boot),
    ``.ini`` (PgBouncer), ``.json`` keyword arguments (SQLAlchemy with ``"url"``, psycopg_pool,
    asyncpg: told apart by their own argument names, else give ``library``).

    Raises ScenarioError for a file it cannot read, a value of the wrong type (naming the
    setting), or a section that does not validate."""
    if library is not None:
        lib = library.lower().replace("-", "_") if library not in _NOT_YET else library
        if library in _NOT_YET or lib in _NOT_YET:
            name = _NOT_YET.get(library, _NOT_YET.get(lib, library))
            kind = "go_database_sql" if name.startswith("Go") else "node_postgres"
            raise scenario_error([f"library: {name} settings cannot be imported; write the pool section "
                                  f"by hand (kind {kind!r}, docs/pools.md)"])
        if lib not in LIBRARIES:
            raise scenario_error([f"library: must be one of {', '.join(LIBRARIES)}, got {library!r}"])
    path = Path(source)
    try:
        text = path.read_text()
    except OSError as exc:
        raise scenario_error([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    lib = library.lower().replace("-", "_") if library else _guess(path, text)
    name = str(path)
    if lib == "hikaricp":
        is_yaml = path.suffix.lower() in (".yml", ".yaml")
        return _hikaricp.from_spring_yaml(text, name) if is_yaml else _hikaricp.from_properties(text, name)
    if lib == "pgbouncer":
        return _pgbouncer.from_ini(text, name, database=database)
    data = _json_object(text, name)
    if lib == "sqlalchemy":
        url = data.pop("url", None)
        is_async = data.pop("async", None)
        return _sqlalchemy.from_create_engine(url, data, is_async=is_async, source=name)
    if lib == "psycopg_pool":
        return _psycopg_pool.from_kwargs(data, name)
    return _asyncpg.from_kwargs(data, name)
