"""psycopg_pool: ``ConnectionPool(...)`` / ``AsyncConnectionPool(...)`` keyword arguments."""

from __future__ import annotations

from typing import Any, Mapping

from ._common import ImportedConfig, keyword_section

MODELLED = ("min_size", "max_size", "timeout", "max_waiting", "max_lifetime", "max_idle", "reconnect_timeout",
            "num_workers")
CALLBACKS = ("check", "reset")  # callables: the model needs only whether one is set
NOT_MODELLED = {
    "conninfo": "where to connect: the scenario's database section models the server",
    "kwargs": "passed to connect(); a login's cost is database.connect_time",
    "connection_class": "not a pool setting", "configure": "a callback run once per new connection; not modelled",
    "name": "a label only", "open": "the simulated pool opens at start",
    "reconnect_failed": "a callback; not modelled", "close_returns": "not modelled",
}


def from_kwargs(kwargs: Mapping[str, Any], source: str = "psycopg_pool") -> ImportedConfig:
    """The pool section for ``psycopg_pool.ConnectionPool(**kwargs)``. ``check`` and ``reset``
    are callables in Python: any value that names one (e.g. ``"ConnectionPool.check_connection"``
    or ``true``) turns the round trip on; ``null``/``false`` leaves it off."""
    plain = {k: v for k, v in kwargs.items() if k not in CALLBACKS}
    out, pool = keyword_section("psycopg_pool", "psycopg_pool", plain, MODELLED, NOT_MODELLED,
                                "not a psycopg_pool ConnectionPool argument")
    for k in CALLBACKS:
        if k in kwargs:
            v = kwargs[k]
            pool[k] = v not in (None, False, "", "None", "null")
            if pool[k] and v is not True:
                out.notes.append(f"{k}={v!r}: a callback is set (one round trip each time it runs)")
    return out.check()
