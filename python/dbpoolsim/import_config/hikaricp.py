"""HikariCP: a hikari.properties file (HikariConfig's property names), Spring Boot's
``spring.datasource.hikari.*`` in application.properties (camel, kebab or snake case: Spring's
relaxed binding) or application.yml. Values are HikariConfig's: integers, durations in ms.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from .._errors import scenario_error
from ._common import ImportedConfig, number

# HikariConfig setters that the hikaricp pool models (docs/pools.md#hikaricp), all integers.
MODELLED = ("maximumPoolSize", "minimumIdle", "connectionTimeout", "validationTimeout", "idleTimeout",
            "maxLifetime", "keepaliveTime", "initializationFailTimeout")
# The two JVM system properties the model takes as parameters.
SYSTEM_PROPERTIES = {"com.zaxxer.hikari.housekeeping.periodMs": "housekeepingPeriodMs",
                     "com.zaxxer.hikari.aliveBypassWindowMs": "aliveBypassWindowMs"}
# HikariConfig properties that exist but do not change the capacity model, with why.
NOT_MODELLED = {
    "jdbcUrl": "where to connect: the scenario's database section models the server",
    "username": "credentials", "password": "credentials",
    "dataSourceClassName": "driver choice", "driverClassName": "driver choice", "dataSourceJNDI": "driver choice",
    "poolName": "a label only",
    "autoCommit": "simulated transactions end committed; no rollback cost is modelled",
    "readOnly": "connection state, no capacity effect", "transactionIsolation": "connection state, no capacity effect",
    "catalog": "connection state", "schema": "connection state",
    "connectionTestQuery": "a validation costs one round trip whatever the query",
    "connectionInitSql": "not modelled: a login's cost is database.connect_time",
    "leakDetectionThreshold": "leak detection only logs",
    "registerMbeans": "JMX only", "allowPoolSuspension": "pool suspension is not modelled",
    "isolateInternalQueries": "not modelled", "metricRegistry": "metrics only", "metricsTrackerFactory": "metrics only",
    "healthCheckRegistry": "metrics only", "healthCheckProperties": "metrics only",
    "threadFactory": "threads are not modelled", "scheduledExecutor": "threads are not modelled",
    "exceptionOverrideClassName": "not modelled", "exceptionOverride": "not modelled",
    "credentialsProviderClassName": "credentials",
}
_SPRING = "spring.datasource.hikari."
_SPRING_DS = "spring.datasource."


def _relaxed(name: str) -> str:
    """Spring's relaxed binding: maximum-pool-size, maximumPoolSize, MAXIMUM_POOL_SIZE are one."""
    return re.sub(r"[-_]", "", name).lower()


_BY_RELAXED = {_relaxed(n): n for n in MODELLED + tuple(NOT_MODELLED)}


def parse_properties(text: str) -> list[tuple[str, str, int]]:
    """java.util.Properties' format: (key, value, line) in file order; comments (# !), the
    separators = : or whitespace, backslash continuations and escapes (\\t \\n \\uXXXX)."""
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        start = i + 1
        line = lines[i].lstrip()
        i += 1
        if not line or line[0] in "#!":
            continue
        while (len(line) - len(line.rstrip("\\"))) % 2 == 1 and i < len(lines):
            line = line[:-1] + lines[i].lstrip()
            i += 1
        m = re.match(r"((?:\\.|[^=:\s\\])*)\s*[=:]?\s*(.*)$", line)
        assert m is not None  # the pattern matches any line
        key, value = _unescape(m.group(1)), _unescape(m.group(2))
        out.append((key, value, start))
    return out


def _unescape(s: str) -> str:
    def repl(m: re.Match[str]) -> str:
        c = m.group(1)
        if c.startswith("u"):
            return chr(int(c[1:], 16))
        return {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(c, c)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", repl, s)


def _flatten(data: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _flatten(v, f"{prefix}{k}.")
    else:
        yield prefix[:-1], data


def from_settings(settings: list[tuple[str, Any, str]], source: str) -> ImportedConfig:
    """The pool section from (key, value, where) triples, keys as they appear in the file."""
    out = ImportedConfig(library="hikaricp", section={})
    pool: dict[str, Any] = {"kind": "hikaricp"}
    seen: dict[str, str] = {}
    spring = any(k.startswith(_SPRING) for k, _, _ in settings)
    for key, value, where in settings:
        if key in SYSTEM_PROPERTIES:
            name = SYSTEM_PROPERTIES[key]
        elif key.startswith(_SPRING):
            rest = key[len(_SPRING):]
            if _relaxed(rest).startswith("datasourceproperties"):
                out.skip(key, value, "a JDBC driver property, not a pool setting")
                continue
            name = _BY_RELAXED.get(_relaxed(rest), "")
            if not name:
                out.skip(key, value, "not a HikariCP property (HikariConfig has no such setter)")
                continue
        elif key.startswith(_SPRING_DS) or key.startswith("spring."):
            out.skip(key, value, "a Spring Boot setting outside spring.datasource.hikari.*, not a pool setting")
            continue
        elif key.startswith("dataSource."):
            out.skip(key, value, "a JDBC driver property (dataSource.*), not a pool setting")
            continue
        elif key in MODELLED or key in NOT_MODELLED:
            name = key
            if spring:
                out.notes.append(f"{where}: {key} has no spring.datasource.hikari. prefix; read as HikariConfig's own")
        elif spring:
            out.skip(key, value, "an application setting, not a pool setting")
            continue
        else:
            near = _BY_RELAXED.get(_relaxed(key))
            hint = f" (HikariConfig's name is {near})" if near else ""
            out.skip(key, value, f"not a HikariConfig property{hint}: HikariConfig would refuse it")
            continue
        if name in NOT_MODELLED:
            out.skip(key, value, f"HikariCP setting not modelled: {NOT_MODELLED[name]}")
            continue
        if name in seen:
            out.notes.append(f"{where}: {key} sets {name} again (first: {seen[name]}); the last one wins, "
                             "as in java.util.Properties and Spring")
        seen[name] = f"{key} ({where})"
        pool[name] = number(key, value, integer=True, unit=" (HikariCP takes whole milliseconds)"
                            if name not in ("maximumPoolSize", "minimumIdle") else "")
    if len(pool) == 1:  # nothing that sizes or times the pool: refuse rather than print defaults
        others = f"; {len(out.unsupported)} other setting(s) read" if out.unsupported else ""
        raise scenario_error([f"{source}: no HikariCP pool setting found (HikariConfig names such as "
                              f"maximumPoolSize, or spring.datasource.hikari.*){others}"])
    out.section = {"pool": pool}
    return out


def from_properties(text: str, source: str = "<properties>") -> ImportedConfig:
    """A hikari.properties or Spring Boot application.properties text."""
    return from_settings([(k, v, f"line {n}") for k, v, n in parse_properties(text)], source).check()


def from_spring_yaml(text: str, source: str = "<application.yml>") -> ImportedConfig:
    """A Spring Boot application.yml text. Profile-specific documents (``on-profile``) are
    listed, not applied."""
    import yaml

    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise scenario_error([f"{source}: not valid YAML: {exc}"]) from None
    settings: list[tuple[str, Any, str]] = []
    skipped: list[tuple[str, Any, str]] = []
    for i, doc in enumerate(docs, 1):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise scenario_error([f"{source}: document {i} is not a mapping"])
        flat = list(_flatten(doc))
        profile = dict(flat).get("spring.config.activate.on-profile") or dict(flat).get("spring.profiles")
        for k, v in flat:
            k = str(k)
            if profile is not None:
                skipped.append((k, v, f"in the profile-specific document {i} (on-profile: {profile}), not applied"))
            else:
                settings.append((k, v, f"document {i}"))
    out = from_settings(settings, source)
    for k, v, why in skipped:
        out.skip(k, v, why)
    return out.check()
