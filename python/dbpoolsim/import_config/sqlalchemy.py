"""SQLAlchemy: ``create_engine(url, **kwargs)``'s URL and keyword arguments (QueuePool, or
AsyncAdaptedQueuePool for ``create_async_engine`` and async drivers). Seconds, as SQLAlchemy."""

from __future__ import annotations

from typing import Any, Mapping, Optional
from urllib.parse import parse_qsl, urlsplit

from .._errors import scenario_error
from ._common import ImportedConfig, keyword_section

MODELLED = ("pool_size", "max_overflow", "pool_timeout", "pool_recycle", "pool_pre_ping", "pool_use_lifo",
            "pool_reset_on_return")
# create_engine arguments that exist but do not change the capacity model.
NOT_MODELLED = {
    "echo": "logging only", "echo_pool": "logging only", "logging_name": "logging only",
    "pool_logging_name": "logging only", "hide_parameters": "logging only",
    "connect_args": "passed to the DBAPI connect(); a login's cost is database.connect_time",
    "execution_options": "statement options, not pool settings", "isolation_level": "connection state",
    "future": "API style", "json_serializer": "not a pool setting", "json_deserializer": "not a pool setting",
    "max_identifier_length": "not a pool setting", "paramstyle": "not a pool setting", "plugins": "not modelled",
    "query_cache_size": "not a pool setting", "use_insertmanyvalues": "not a pool setting",
    "insertmanyvalues_page_size": "not a pool setting", "label_length": "not a pool setting",
    "module": "driver choice", "creator": "driver choice", "enable_from_linting": "not a pool setting",
    "implicit_returning": "not a pool setting", "skip_autocommit_rollback": "not modelled",
    "pool_events": "event hooks are not modelled", "pool": "a ready-made pool object: give its class and arguments",
}
ASYNC_DRIVERS = ("asyncpg", "psycopg_async", "aiopg", "aiomysql", "asyncmy", "aiosqlite")
_POOLCLASSES = {"QueuePool": "sqlalchemy_queuepool", "AsyncAdaptedQueuePool": "sqlalchemy_asyncadaptedqueuepool"}


def from_create_engine(url: Optional[str] = None, kwargs: Optional[Mapping[str, Any]] = None, *,
                       is_async: Optional[bool] = None, source: str = "create_engine") -> ImportedConfig:
    """The pool section for ``create_engine(url, **kwargs)``.

    The URL's query parameters go to the DBAPI's ``connect()``, not to the pool, so they are
    listed as unsupported; so are the credentials. ``is_async``: the engine comes from
    ``create_async_engine`` (default: when the URL's driver is an asyncio one, or
    ``poolclass`` is ``AsyncAdaptedQueuePool``)."""
    out = ImportedConfig(library="sqlalchemy", section={})
    kw = dict(kwargs or {})
    driver = ""
    if url is not None:
        if not isinstance(url, str):
            raise scenario_error([f"url: must be a string, got {url!r}"])
        parts = urlsplit(url)
        if not parts.scheme:
            raise scenario_error([f"url: not a database URL (dialect+driver://user:password@host/database), got {url!r}"])
        driver = parts.scheme.split("+", 1)[1] if "+" in parts.scheme else ""
        if parts.password:
            out.skip("url password", parts.password, "credentials")
        for k, v in parse_qsl(parts.query, keep_blank_values=True):
            out.skip(f"url ?{k}", v, "a URL query parameter goes to the DBAPI connect(), not to the pool")
    poolclass = kw.pop("poolclass", None)
    if poolclass is not None:
        name = str(poolclass).rsplit(".", 1)[-1].strip("<>'\" ")
        if name not in _POOLCLASSES:
            raise scenario_error([f"poolclass: {name} is not modelled (dbpoolsim models QueuePool and "
                                  "AsyncAdaptedQueuePool)"])
        kind = _POOLCLASSES[name]
        out.notes.append(f"poolclass {name}")
    else:
        async_ = is_async if is_async is not None else driver in ASYNC_DRIVERS
        kind = "sqlalchemy_asyncadaptedqueuepool" if async_ else "sqlalchemy_queuepool"
        out.notes.append(f"{'create_async_engine' if async_ else 'create_engine'}'s default pool "
                         f"({'AsyncAdaptedQueuePool' if async_ else 'QueuePool'})"
                         + (f", from the driver {driver}" if driver and is_async is None else ""))
    section, _ = keyword_section("create_engine", kind, kw, MODELLED, NOT_MODELLED,
                                 "not a create_engine argument that dbpoolsim knows")
    out.section = section.section
    out.unsupported += section.unsupported
    return out.check()
