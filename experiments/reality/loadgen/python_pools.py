"""Load generator for the Python pools: psycopg_pool (threads), SQLAlchemy QueuePool
(threads, on psycopg 3) and asyncpg (one asyncio loop). See pyharness.py for the design.

    python python_pools.py --library psycopg_pool --trace trace.csv --dsn "host=..." \
        --config '{"min_size": 4, "max_size": 8, "timeout": 0.2}' --out DIR

--config is the pool's parameters in the library's own names (the same dict dbpoolsim's
policy takes). Each request uses the library the way its users normally do:
  psycopg_pool  with pool.connection(timeout=...) as conn: conn.execute(...)
  sqlalchemy    with engine.connect() as conn: conn.execute(text(...))
  asyncpg       async with pool.acquire(timeout=...) as conn: await conn.fetchval(...)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import queue
import sys
import threading
import time
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pyharness import QUERY, Harness, Record, read_trace  # noqa: E402

WORKERS = 256   # pre-started threads: more than requests in the system in every case


def run_threads(h: Harness, trace, handle, state, workers: int) -> None:
    """Dispatch each arrival at its time to an idle pre-started worker thread."""
    jobs: queue.Queue = queue.Queue()

    def worker() -> None:
        while (job := jobs.get()) is not None:
            rec, hold = job
            rec.start_s = h.now()
            handle(rec, hold)
            rec.ended_s = h.now()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    stop = threading.Event()
    sampler = threading.Thread(target=h.sample_loop, args=(state, stop), daemon=True)
    h.begin()
    sampler.start()
    for rid, t_s, hold in trace:
        delay = t_s - h.now()
        if delay > 0:
            time.sleep(delay)
        rec = Record(rid, t_s)
        h.records.append(rec)
        jobs.put((rec, hold))
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    stop.set()
    sampler.join()


def serve(h: Harness, rec: Record, acquire, query, timeout_error, db_error) -> None:
    """One request on a thread-based pool: acquire (a context manager that returns the
    connection at exit), the query, the release, each timestamped; failures classified."""
    rec.acquire_start_s = h.now()
    try:
        with acquire() as conn:
            rec.acquired_s = h.now()
            try:
                rec.backend_pid = query(conn)
                rec.query_done_s = h.now()
                rec.outcome = "ok"
            except db_error:
                rec.outcome = "query_error"
        rec.released_s = h.now()
    except timeout_error:
        rec.outcome = "acquire_timeout"
    except db_error:
        rec.outcome = "connect_error" if rec.acquired_s != rec.acquired_s else "query_error"


def psycopg_pool_main(h: Harness, trace, dsn: str, cfg: dict, workers: int) -> dict:
    import psycopg
    import psycopg_pool

    class Timed(psycopg.Connection):
        @classmethod
        def connect(cls, *a, **kw):
            t = time.monotonic()
            conn = super().connect(*a, **kw)
            h.connected(time.monotonic() - t)
            return conn

        def close(self) -> None:
            if not self.closed:
                h.closed()
            super().close()

    timeout = cfg.get("timeout", 30.0)
    kw = {k: cfg[k] for k in ("min_size", "max_size", "max_lifetime", "max_idle",
                              "reconnect_timeout", "num_workers", "max_waiting") if k in cfg}
    pool = psycopg_pool.ConnectionPool(dsn, connection_class=Timed, timeout=timeout,
                                       kwargs={"autocommit": True}, open=False, **kw)
    pool.open(wait=True, timeout=60)

    def handle(rec: Record, hold: float) -> None:
        serve(h, rec, pool.connection, lambda conn: conn.execute(QUERY.format(hold)).fetchone()[0],
              psycopg_pool.PoolTimeout, psycopg.Error)

    def state():
        s = pool.get_stats()
        size, avail = s.get("pool_size"), s.get("pool_available")
        return size, avail, size - avail, s.get("requests_waiting", 0)

    run_threads(h, trace, handle, state, workers)
    stats = pool.get_stats()
    pool.close()
    return {"library_stats": stats}


def sqlalchemy_main(h: Harness, trace, dsn: str, cfg: dict, workers: int) -> dict:
    import psycopg
    import sqlalchemy
    from sqlalchemy import event, exc, text

    def creator():
        t = time.monotonic()
        conn = psycopg.connect(dsn)
        h.connected(time.monotonic() - t)
        return conn

    kw = {k: cfg[k] for k in ("pool_size", "max_overflow", "pool_timeout", "pool_recycle",
                              "pool_pre_ping", "pool_use_lifo", "pool_reset_on_return")
          if k in cfg}
    engine = sqlalchemy.create_engine("postgresql+psycopg://", creator=creator, **kw)
    event.listen(engine.pool, "close", lambda *a: h.closed())
    event.listen(engine.pool, "detach", lambda *a: h.closed())
    with engine.connect() as conn:         # dialect initialisation, as an application's first use
        conn.execute(text("SELECT 1"))

    def handle(rec: Record, hold: float) -> None:
        serve(h, rec, engine.connect, lambda conn: conn.execute(text(QUERY.format(hold))).scalar(),
              exc.TimeoutError, exc.DBAPIError)

    p = engine.pool

    def state():
        out, idle = p.checkedout(), p.checkedin()
        return out + idle, idle, out, None

    run_threads(h, trace, handle, state, workers)
    engine.dispose()
    return {}


def asyncpg_main(h: Harness, trace, dsn: str, cfg: dict, workers: int) -> dict:
    import asyncpg

    timeout = cfg.get("timeout")
    kw = {k: cfg[k] for k in ("min_size", "max_size", "max_queries",
                              "max_inactive_connection_lifetime") if k in cfg}
    dsn_url = "postgresql://" + dsn_to_url(dsn)

    class Timed(asyncpg.Connection):
        def _cleanup(self):
            h.closed()
            super()._cleanup()

    async def connect(*a, **k):
        # Each connect times itself. (A shared list of start times, popped by each new
        # connection, paired a login with the start of an earlier one that had failed: after
        # the restart the logins read 176-346 ms where the acquires that waited for them
        # took 22-50 ms.)
        t = time.monotonic()
        con = await asyncpg.connect(*a, **k)
        h.connected(time.monotonic() - t)
        return con

    errors: dict[str, int] = {}

    async def main() -> None:
        pool = await asyncpg.create_pool(dsn_url, connection_class=Timed, connect=connect, **kw)
        loop = asyncio.get_running_loop()

        async def handle(rec: Record, hold: float) -> None:
            rec.start_s = rec.acquire_start_s = h.now()
            try:
                async with pool.acquire(timeout=timeout) as conn:
                    rec.acquired_s = h.now()
                    try:
                        rec.backend_pid = await conn.fetchval(QUERY.format(hold))
                        rec.query_done_s = h.now()
                        rec.outcome = "ok"
                    except Exception as e:   # noqa: BLE001 - asyncpg's InternalClientError is no PostgresError
                        rec.outcome = "query_error"
                        errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
                rec.released_s = h.now()
            except asyncio.TimeoutError:
                rec.outcome = "acquire_timeout"
            except Exception as e:   # noqa: BLE001 - every failure becomes an outcome, none ends the run
                rec.outcome = "connect_error" if rec.acquired_s != rec.acquired_s else "query_error"
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
            rec.ended_s = h.now()

        def state():
            size = pool.get_size()
            idle = pool.get_idle_size()
            return size, idle, size - idle, None

        stop = threading.Event()
        h.begin()
        sampler = threading.Thread(target=h.sample_loop, args=(state, stop), daemon=True)
        sampler.start()
        tasks = []
        for rid, t_s, hold in trace:
            delay = t_s - h.now()
            if delay > 0:
                await asyncio.sleep(delay)
            rec = Record(rid, t_s)
            h.records.append(rec)
            tasks.append(loop.create_task(handle(rec, hold)))
        await asyncio.gather(*tasks)
        stop.set()
        sampler.join()
        await pool.close()

    asyncio.run(main())
    return {"errors_by_type": errors}


def dsn_to_url(dsn: str) -> str:
    d = dict(part.split("=", 1) for part in dsn.split())
    return f"{d.get('user', 'postgres')}@{d['host']}:{d['port']}/{d.get('dbname', 'postgres')}"


LIBRARIES = {"psycopg_pool": (psycopg_pool_main, "psycopg_pool"),
             "sqlalchemy_queuepool": (sqlalchemy_main, "SQLAlchemy"),
             "asyncpg": (asyncpg_main, "asyncpg")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", required=True, choices=sorted(LIBRARIES))
    ap.add_argument("--trace", required=True)
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--config", default="{}")
    ap.add_argument("--workers", type=int, default=0, help=f"worker threads (0: {WORKERS})")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    cfg = json.loads(a.config)
    fn, dist = LIBRARIES[a.library]
    trace = read_trace(a.trace)
    workers = a.workers or WORKERS
    h = Harness(Path(a.out), a.library, version(dist))
    extra = fn(h, trace, a.dsn, cfg, workers)
    h.finish({"config": cfg, "workers": workers, **extra})
    return 0


if __name__ == "__main__":
    sys.exit(main())
