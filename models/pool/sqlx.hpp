// dbpoolsim models: the sqlx 0.8 pool (launchbadge/sqlx, sqlx-core/src/pool), spec section 5.
//
// Parameters: the `PoolOptions` builder names, in seconds, with the defaults of
// `PoolOptions::new()` (options.rs): max_connections 10, min_connections 0, acquire_timeout 30,
// idle_timeout 600 (Some(10 min)), max_lifetime 1800 (Some(30 min)), test_before_acquire true.
// `connect_lazy` picks the constructor: false = `PoolOptions::connect()` (open min_connections,
// then one acquire/release test, before the pool is handed out), true = `connect_lazy()`.
//
// The algorithm (models/pool/sqlx.cpp cites the source function of every rule):
//   - a FIFO semaphore of max_connections permits (tokio Semaphore). A permit is held by every
//     checked-out, being-opened, being-pinged or being-released connection; idle connections
//     hold none (spec 5.2);
//   - acquire, under one acquire_timeout deadline: wait for a permit; then pop the OLDEST idle
//     connection and ping it (test_before_acquire; a failed ping closes it and this acquirer
//     opens a new one), or, with none idle, open a connection itself, inline (spec 5.3);
//   - connecting retries refused / 53300 too_many_connections logins (all the database's
//     refusals are 53300) with a backoff of 10 ms doubling, capped at (time left at the start of
//     the connect) / 5, until the deadline: PoolTimedOut (fail reason acquire_timeout);
//   - release, asynchronous, keeping the permit: past max_lifetime -> close and restore
//     min_connections; otherwise ALWAYS one ping round trip, then push to the idle queue
//     (idle_since = now) and release the permit, which the FIFO head waiter gets (spec 5.4);
//   - a reaper every min(idle_timeout, max_lifetime): each idle connection past idle_timeout or
//     max_lifetime is closed (ignoring min_connections) and min_connections is reopened one
//     connection after another; the others are put back with idle_since reset to now (spec 5.5).
// Deviations forced by the world are listed in sqlx.cpp's header comment.
#pragma once

#include <memory>

#include "models/pool/pool.hpp"

namespace dbpoolsim::models {

struct sqlx_pool_params : pool_params {
    int max_connections = 10;
    int min_connections = 0;       // clamped to max_connections (options.rs: "clamped internally")
    double acquire_timeout = 30;   // s; bounds the whole acquire, connecting included
    double idle_timeout = 600;     // s; 0 (or JSON null) = None
    double max_lifetime = 1800;    // s; 0 (or JSON null) = None
    bool test_before_acquire = true;
    bool connect_lazy = false;     // false: PoolOptions::connect(); true: connect_lazy()
};

std::unique_ptr<pool_policy> make_sqlx_pool(const sqlx_pool_params& p, pool_host& host,
                                            std::uint32_t index, pool_metrics& metrics,
                                            sim::random_stream rng);

}  // namespace dbpoolsim::models
