// dbpoolsim models: psycopg_pool 3.3.x ConnectionPool (AsyncConnectionPool has the same
// algorithm: psycopg_pool/pool.py is generated from pool_async.py).
//
// The behaviour is ../shared/spec/pool-algorithms.md section 4, read from psycopg/psycopg
// psycopg_pool/psycopg_pool/pool_async.py and base.py. In short:
//   - open (`_start_initial_tasks`): min_size AddConnection tasks, then a Schedule task that
//     schedules the first ShrinkPool max_idle later, all on a FIFO task queue consumed by
//     num_workers workers: up to num_workers (3) logins run in parallel (4.4);
//   - getconn (`_get_ready_connection`): take the oldest returned idle connection (deque
//     popleft: FIFO); with none idle, TooManyRequests at once if max_waiting > 0 and
//     len(_waiting) >= max_waiting, else join the tail of `_waiting` and `_maybe_grow_pool`
//     (4.3). `_waiting` keeps a timed-out client until a giver pops and skips it, so it still
//     counts toward max_waiting and as "clients are waiting" (4.3 step 4);
//   - growth only when a client enters the wait queue and ONE connection at a time (the
//     `_growing` flag); each new growth connection queues the next while
//     _nconns < min_size or (_nconns < max_size and `_waiting` is non-empty) (4.4);
//   - `_add_to_pool`: a new or returned connection goes to the first waiter that is still
//     waiting (strict FIFO), else to the tail of the idle deque (4.5 step 5, 4.7);
//   - expiry drawn at creation: created + max_lifetime * (1 - U[0, 0.05]); checked ONLY on
//     return, then the connection is closed and a worker opens a replacement (4.5 step 4);
//   - ShrinkPool every max_idle: close at most ONE idle connection (the least recently
//     returned), only if _nconns > min_size and the minimum idle count seen since the last
//     shrink (`_nconns_min`, updated at each idle checkout) is > 0 (4.6);
//   - a failed login retries with backoff (AttemptWithBackoff): 1 s +-10 %, doubling, clamped
//     to the give-up time first-attempt-start + reconnect_timeout; an attempt that starts at or
//     after it and fails gives up: _nconns -= 1 and `_growing` is cleared (4.4);
//   - waiters get PoolTimeout (acquire_timeout) after `timeout` (4.3 step 6);
//   - wakeup_latency_s (dbpoolsim's own, default 0): `_add_to_pool` gives a connection to a
//     waiter with WaitingClient.set (notify_all), and the waiter's thread (or task) runs that
//     much later. The connection is the waiter's from the set (out of the pool: nobody else
//     can take it, no barging) and its acquire timeout no longer applies; it is granted (or
//     its check starts) at the set + wakeup_latency_s. 0: the hand-off is instant.
//
// Parameters use the library's keyword names, units (seconds) and defaults (spec table 4.1).
// `check` and `reset` are callbacks in the library; here they are booleans saying whether such
// a callback is set, and each costs one round trip:
//   - check (e.g. ConnectionPool.check_connection, an empty query): on every getconn, in the
//     client, before the connection is handed over. A failed check returns the connection
//     (`_putconn(from_getconn=True)`) and retries: at once the first time, then after
//     1 s +-10 %, 2 s, 4 s ... (AttemptWithBackoff) until the getconn deadline (4.3 step 5);
//   - reset: the return runs in a worker (ReturnConnection task); the connection is reusable
//     only after the worker has run the callback (4.5 step 1).
// Not modelled (nothing in the world triggers them): drain(), check(), resize(), wait(),
// reconnect_failed callbacks, and libpq's connect_timeout (psycopg's default 130 s): a login
// hangs only during a failover, for at most network.connect_timeout_s (127 s by default).
// Also not modelled: AsyncConnectionPool's asyncio.wait_for can still time out a client that
// set() woke but that has not run yet; with wakeup_latency_s > 0 this follows ConnectionPool.
#pragma once

#include <memory>
#include <optional>

#include "models/pool/pool.hpp"

namespace dbpoolsim::models {

struct psycopg_pool_params : pool_params {
    int min_size = 4;
    std::optional<int> max_size;     // None: = min_size (a fixed-size pool)
    double timeout = 30.0;           // s: getconn deadline (PoolTimeout)
    int max_waiting = 0;             // 0 = unlimited; else TooManyRequests (pool_rejected)
    double max_lifetime = 3600.0;    // s, minus up to 5 % jitter, checked on return
    double max_idle = 600.0;         // s: ShrinkPool period
    double reconnect_timeout = 300.0;  // s: give up a failing AddConnection after this
    int num_workers = 3;             // background workers running the task queue
    bool check = false;              // a check callback is set: 1 round trip per getconn
    bool reset = false;              // a reset callback is set: 1 round trip per return, in a worker
    double wakeup_latency_s = 0;     // dbpoolsim's: WaitingClient.set -> the woken client runs

    int resolved_max_size() const { return max_size ? *max_size : min_size; }
};

std::unique_ptr<pool_policy> make_psycopg_pool(const psycopg_pool_params& p, pool_host& host,
                                               std::uint32_t index, pool_metrics& metrics,
                                               sim::random_stream rng);

}  // namespace dbpoolsim::models
