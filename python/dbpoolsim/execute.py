"""Running (scenario, replication) units for sweep, recommend and compare: on local threads
(one C++ batch, so both cores stay busy even when a point has fewer replications than
cores) or on a Dask cluster (batches of units as tasks). Either way a unit is
``run_replication(scenario, k)``, whose random streams depend only on (seed, k, stream
name): the numbers are the same bits wherever and with whatever else it runs."""

from __future__ import annotations

import math
from typing import Any, Callable, Optional, Sequence

from . import _core

#: The one metric that is not a function of (scenario, replication): the host's wall time.
NONDETERMINISTIC = ("wall_seconds",)

Unit = tuple[int, int]  # (scenario index, replication)
OnDone = Callable[[int, dict[str, float]], None]  # (unit index, metrics)


def run_units_here(texts: Sequence[str], units: Sequence[Unit], base_dir: str = "",
                   threads: int = 1) -> list[tuple[int, dict[str, float]]]:
    """Run the units to completion in this process (a Dask task calls this on a worker)."""
    batch = _core.Batch(list(texts), [tuple(u) for u in units], int(threads), base_dir)
    batch.start()
    batch.finish()
    return sorted(batch.take(), key=lambda item: item[0])


def _local(texts: Sequence[str], units: Sequence[Unit], base_dir: str, threads: Optional[int],
           on_done: OnDone) -> None:
    batch = _core.Batch(list(texts), [tuple(u) for u in units], int(threads or 0), base_dir)
    batch.start()
    try:
        while True:
            done = batch.wait(0.1)
            for i, metrics in batch.take():
                on_done(int(i), metrics)
            if done:
                break
    except KeyboardInterrupt:
        batch.cancel()
        try:
            batch.finish()
        except KeyboardInterrupt:
            pass
        for i, metrics in batch.take():  # units that finished while we were stopping
            on_done(int(i), metrics)
        raise
    batch.finish()
    for i, metrics in batch.take():
        on_done(int(i), metrics)


def _cluster_threads(client: Any) -> int:
    info = client.scheduler_info()
    return max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))


def _dask(texts: Sequence[str], units: Sequence[Unit], base_dir: str, client: Any,
          on_done: OnDone) -> None:
    from dask.distributed import as_completed

    # Batches of consecutive units (a point's replications stay together), about four per
    # worker thread so none idles at the end, and small enough that results stream back.
    slots = _cluster_threads(client)
    size = max(1, min(40, math.ceil(len(units) / (4 * slots))))
    futures = []
    for start in range(0, len(units), size):
        chunk = list(range(start, min(len(units), start + size)))
        used = sorted({units[i][0] for i in chunk})
        local_index = {p: j for j, p in enumerate(used)}
        sub_units = [(local_index[units[i][0]], units[i][1]) for i in chunk]
        fut = client.submit(run_units_here, [texts[p] for p in used], sub_units, base_dir, 1,
                            pure=False)
        fut.chunk = chunk  # type: ignore[attr-defined]
        futures.append(fut)
    try:
        for fut in as_completed(futures):
            for j, metrics in fut.result():
                on_done(fut.chunk[int(j)], metrics)  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        client.cancel(futures)
        raise


def run_units(texts: Sequence[str], units: Sequence[Unit], *, base_dir: str = "",
              threads: Optional[int] = None, client: Any = None, on_done: OnDone) -> None:
    """Run every unit (scenario ``texts[p]``, replication ``k``) and call
    ``on_done(unit index, metrics)`` in this thread as each finishes (in any order).

    Ctrl-C stops within a fraction of a second; units finished by then are still reported
    before KeyboardInterrupt propagates."""
    if not units:
        return
    if client is None:
        _local(texts, units, base_dir, threads, on_done)
    else:
        _dask(texts, units, base_dir, client, on_done)
