"""dbpoolsim.fit: scenario distributions and workloads from what your systems already give you.

    >>> from dbpoolsim import fit
    >>> fit.from_percentiles(p50=4, p95=25, p99=60, unit="ms").distribution   # a dashboard
    >>> fit.from_samples(durations_s).distribution                            # measured values
    >>> fit.from_pg_stat_statements("pgss.csv", window_s=3600).workload()     # a transaction mix
    >>> fit.from_prometheus_histogram("metrics.txt", metric="db_query_seconds")
    >>> fit.from_pgbouncer("stats1.txt", "stats2.txt", interval_s=60, pools="pools.txt")

Every result is plain scenario JSON (dicts) plus a table of what was read and fitted. Bad input
raises ScenarioError naming the field or line. docs/inputs.md describes each import. Needs
scipy (``pip install dbpoolsim[inputs]``).
"""

from __future__ import annotations

from .families import FAMILIES, Fit, from_percentiles, from_samples
from .telemetry import (
    PgBouncerCapture,
    TransactionMix,
    from_pg_stat_statements,
    from_pgbouncer,
    from_prometheus_histogram,
    read_psql_table,
)

__all__ = [
    "FAMILIES",
    "Fit",
    "PgBouncerCapture",
    "TransactionMix",
    "from_percentiles",
    "from_pg_stat_statements",
    "from_pgbouncer",
    "from_prometheus_histogram",
    "from_samples",
    "read_psql_table",
]


def __dir__() -> list[str]:
    return sorted(__all__)
