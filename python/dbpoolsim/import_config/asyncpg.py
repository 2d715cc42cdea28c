"""asyncpg: ``asyncpg.create_pool(...)`` keyword arguments."""

from __future__ import annotations

from typing import Any, Mapping

from ._common import ImportedConfig, keyword_section

MODELLED = ("min_size", "max_size", "max_queries", "max_inactive_connection_lifetime")
NOT_MODELLED = {
    "dsn": "where to connect: the scenario's database section models the server",
    "timeout": "create_pool passes it to connect(): the login timeout (60 s by default), not the acquire "
               "timeout; the scenario's timeout is Pool.acquire(timeout=...), which is not a create_pool "
               "argument: add it by hand if your code passes one",
    "setup": "a callback; not modelled", "init": "a callback; not modelled",
    "reset": "a callback; the model charges one reset round trip per return whatever it runs",
    "connect": "a callback; not modelled", "loop": "not a pool setting",
    "connection_class": "not a pool setting", "record_class": "not a pool setting",
    "command_timeout": "a statement timeout: see client.statement_timeout_s",
    "statement_cache_size": "not a pool setting", "max_cached_statement_lifetime": "not a pool setting",
    "max_cacheable_statement_size": "not a pool setting", "server_settings": "connection state",
    "ssl": "not modelled", "direct_tls": "not modelled", "host": "where to connect", "port": "where to connect",
    "user": "credentials", "password": "credentials", "passfile": "credentials", "database": "where to connect",
    "target_session_attrs": "not modelled", "krbsrvname": "credentials", "gsslib": "credentials",
}


def from_kwargs(kwargs: Mapping[str, Any], source: str = "asyncpg") -> ImportedConfig:
    """The pool section for ``asyncpg.create_pool(**kwargs)``."""
    out, _ = keyword_section("asyncpg", "asyncpg", kwargs, MODELLED, NOT_MODELLED,
                             "not an asyncpg create_pool argument (a connect() keyword?)")
    return out.check()
