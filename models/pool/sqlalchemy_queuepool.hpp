// dbpoolsim models: SQLAlchemy 2.x QueuePool (and AsyncAdaptedQueuePool).
//
// The behaviour is ../shared/spec/pool-algorithms.md section 2, read from
// sqlalchemy/sqlalchemy lib/sqlalchemy/pool/impl.py (QueuePool), pool/base.py (Pool,
// _ConnectionRecord, _ConnectionFairy, _finalize_fairy) and util/queue.py (Queue,
// AsyncAdaptedQueue). In short:
//   - lazy: no connection until first use, no background timer of any kind (section 2.5);
//   - `_do_get`: an idle record is taken at once (FIFO popleft, or LIFO pop with
//     pool_use_lifo), even if others are waiting (barging); with none idle, a request creates a
//     connection INLINE (it pays the login and gets the login's error) unless the pool is at
//     pool_size + max_overflow live records; only then does it block, each waiter with its own
//     pool_timeout deadline (section 2.3 step 1);
//   - a failed login decrements the overflow and the error goes to that caller: no retry, no
//     backoff (section 2.3 step 1.3);
//   - a timed-out waiter re-checks the limit: below it (overflow dropped meanwhile) it creates
//     instead of raising TimeoutError (section 2.3 step 1.3);
//   - a `put` wakes one waiter (Condition.notify: the longest-waiting). The woken waiter runs
//     `wakeup_latency_s` later; whoever got to the queue first took the record, and a woken
//     waiter that finds the queue empty waits again at the TAIL with its original deadline
//     (section 2.7, sqlalchemy issue #7679);
//   - return (section 2.4): reset (rollback/commit; one round trip if reset_costs_round_trip),
//     then `put(block=False)`: if pool_size records are already idle the record is closed and
//     the overflow decremented ("overflow");
//   - checkout-time maintenance (section 2.3 steps 2-3): an invalidated record reconnects, a
//     record older than pool_recycle (since its login STARTED) or older than the pool's
//     invalidation time is closed and reconnected, inline, the caller paying the login; then
//     pre-ping (one round trip) unless the connection is fresh. A failed ping invalidates the
//     record and every connection older than it (pool generation) and reconnects inline. A
//     failed reconnect puts the empty record back into the queue (`_checkin_failed`) and the
//     error goes to the caller.
//
// Parameters use create_engine's names, units (seconds) and defaults (spec table 2.1).
// Two are the simulator's, not SQLAlchemy's:
//   - reset_costs_round_trip (default false, PostgreSQL's drivers; spec 7 counts 0 round
//     trips for SQLAlchemy by default): whether the reset-on-return call touches the
//     network. The spec (2.4) leaves it to the driver: with no transaction open, psycopg2 and
//     psycopg 3 skip a rollback/commit locally (0 round trips), PyMySQL and mysqlclient send it
//     (1 round trip). The world's transactions end committed, so this is the "no transaction
//     open" case. Ignored when pool_reset_on_return is "none".
//   - wakeup_latency_s (default 0): time between a `put` notifying a waiter and the waiter
//     re-checking the queue (a thread switch / GIL hand-off; an event-loop turn for asyncio).
//     Requests that reach the queue in between take the record first (barging). With 0,
//     only events at the same instant barge.
//
// AsyncAdaptedQueuePool (kind sqlalchemy_asyncadaptedqueuepool) is this policy with
// `asyncio` set: asyncio.Queue wakes the first getter (same FIFO) with the same barging, and
// asyncio.wait_for gives each getter its own deadline. The one difference the simulator can
// express: a getter that was woken but whose deadline passes before it runs (possible only
// with wakeup_latency_s > 0) is cancelled by wait_for: it raises (TimeoutError, or creates if
// the pool fell below its limit) and asyncio.Queue.get passes the wake-up on to the next
// getter; a threading waiter in that position takes the record (Condition.wait returned, and
// Queue.get tests emptiness before the deadline).
#pragma once

#include <memory>
#include <string>

#include "models/pool/pool.hpp"
#include "sim/time.hpp"

namespace dbpoolsim::models {

struct sqlalchemy_queuepool_params : pool_params {
    int pool_size = 5;                 // records kept; 0 = no limit (and then max_overflow = -1)
    int max_overflow = 10;             // extra records beyond pool_size; -1 = no limit
    double pool_timeout = 30.0;        // s a request blocks at the limit; infinity = None (forever)
    double pool_recycle = -1;          // s; -1 = off. Age counted from the login's start
    bool pool_pre_ping = false;        // one round trip at checkout (not for fresh connections)
    bool pool_use_lifo = false;        // idle order: FIFO (popleft) unless true (pop)
    std::string pool_reset_on_return = "rollback";  // "rollback" | "commit" | "none"
    bool reset_costs_round_trip = false;  // simulator: does the reset cost one round trip
    double wakeup_latency_s = 0;         // simulator: notify -> woken waiter runs
    bool asyncio = false;  // AsyncAdaptedQueuePool (set by the kind, not a JSON key)
};

std::unique_ptr<pool_policy> make_sqlalchemy_queuepool(const sqlalchemy_queuepool_params& p,
                                                       pool_host& host, std::uint32_t index,
                                                       pool_metrics& metrics,
                                                       sim::random_stream rng);

}  // namespace dbpoolsim::models
