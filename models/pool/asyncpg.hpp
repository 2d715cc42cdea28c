// dbpoolsim models: the asyncpg 0.30 pool (MagicStack/asyncpg, asyncpg/pool.py), spec section 6.
//
// Parameters: `create_pool` keyword names, in seconds, with its defaults: min_size 10,
// max_size 10, max_queries 50000, max_inactive_connection_lifetime 300.0 (0 disables), and
// `timeout`, the `Pool.acquire(timeout=...)` argument: null (the default) waits forever.
// Validation follows `Pool.__init__` (max_size > 0, min_size >= 0, min_size <= max_size,
// max_queries > 0, max_inactive_connection_lifetime >= 0). `connect_timeout` is connect()'s
// `timeout` keyword (60 s), which create_pool passes to every connect.
//
// The algorithm (models/pool/asyncpg.cpp cites the source function of every rule):
//   - max_size holders in an asyncio.LifoQueue; `create_pool` connects the top holder alone,
//     then min_size-1 more concurrently (Pool._initialize);
//   - acquire pops the most recently returned holder; an empty one is connected inline by the
//     acquirer; a connect error puts the holder back on top and goes straight to the caller
//     (fail connect_error), no retry (Pool._acquire, PoolConnectionHolder.acquire);
//   - getters wait FIFO, but a holder put back only wakes the first getter: an acquire that runs
//     before the woken getter takes the holder, and the woken getter re-queues at the tail
//     (asyncio.Queue.get, asyncpg #1247);
//   - release: after max_queries queries the connection is closed and the holder goes back
//     empty; otherwise one reset round trip, then the holder goes back on top and its
//     inactivity timer is armed (PoolConnectionHolder.release);
//   - a per-holder timer of max_inactive_connection_lifetime, armed on connect and on release,
//     cancelled on acquire, terminates the idle connection, ignoring min_size (with `version`
//     "0.32": not while at most min_size connections are open);
//   - `version` "0.32" only: acquire takes the topmost connected holder before an empty one
//     (_PoolConnectionHolderQueue._get), and a background task reconnects empty holders one at a
//     time while fewer than min_size are connected, retrying after 1 s, doubling to 60 s
//     (Pool._maintain_min_size).
// Deviations forced by the world are listed in asyncpg.cpp's header comment.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "models/pool/pool.hpp"

namespace dbpoolsim::models {

struct asyncpg_pool_params : pool_params {
    int min_size = 10;
    int max_size = 10;
    int max_queries = 50000;
    double max_inactive_connection_lifetime = 300.0;  // s; 0 disables
    std::optional<double> timeout;                    // s; Pool.acquire(timeout=None): forever
    /// s; connect()'s own `timeout` (default 60), passed through create_pool's connect
    /// arguments: each login, inline or at creation, is abandoned after it.
    double connect_timeout = 60.0;
    /// dbpoolsim's: "0.30", or "0.32" (min_size is a floor: the inactivity timer spares the
    /// connections while at most min_size are connected, _deactivate_inactive_connection, and
    /// Pool._maintain_min_size restores it in the background; connected holders are taken first).
    std::string version = "0.30";
};

std::unique_ptr<pool_policy> make_asyncpg_pool(const asyncpg_pool_params& p, pool_host& host,
                                               std::uint32_t index, pool_metrics& metrics,
                                               sim::random_stream rng);

}  // namespace dbpoolsim::models
