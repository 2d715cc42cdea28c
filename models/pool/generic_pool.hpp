// dbpoolsim models: the generic min/max pool described by the seed documents.
//
// Parameter names, units (seconds) and defaults come from the seeds:
//   seeds/000 "Connection Pool Parameters": min_connections 10, max_connections 50,
//     idle_timeout 300, max_lifetime 3600; "acquisition_timeout" 30; validate_on_borrow with
//     validation_query "SELECT 1" and validation_timeout 5; idle_cleanup_interval 30
//     ("check every 30 seconds").
//   seeds/001 parameter table: health_check_interval 60.
// The seeds describe the parameters, not an algorithm; where they are silent this pool does
// what a plain grow-on-demand pool does (see docs/design/pool-policy.md, "generic"):
//   - at start, min_connections logins are started in parallel;
//   - a borrower takes an idle connection (idle_order "lifo": most recently returned first,
//     so surplus connections age out; "fifo" spreads use over all of them);
//   - with none idle it waits (FIFO, acquisition_timeout), and each waiter beyond the logins
//     already in flight starts one more login while the pool is below max_connections;
//   - a new or returned connection goes to the head waiter;
//   - validate_on_borrow: one round trip before every hand-out; on failure the connection is
//     closed ("validation") and the borrower tries again within its deadline;
//   - max_lifetime: checked at return and at borrow (expired connections are closed);
//   - every idle_cleanup_interval: close connections idle longer than idle_timeout, down to
//     min_connections, close expired idle ones, then reopen up to min_connections;
//   - every health_check_interval: one round trip on each idle connection; broken ones close;
//   - a failed login fails the oldest waiter not covered by another login in flight
//     (connect_error, surfaced at once), then starts logins again for the waiters left (so
//     during an outage waiters fail fast, one per refused login, and none is stranded with
//     no login in flight); the minimum is retried at the next cleanup.
#pragma once

#include <memory>
#include <string>

#include "models/pool/pool.hpp"

namespace dbpoolsim::models {

struct generic_pool_params : pool_params {
    int min_connections = 10;
    int max_connections = 50;
    double acquisition_timeout = 30;   // s; 0 = wait forever
    double idle_timeout = 300;         // s; 0 = never
    double max_lifetime = 3600;        // s; 0 = never
    double idle_cleanup_interval = 30; // s
    bool validate_on_borrow = false;
    std::string validation_query = "SELECT 1";  // informational: costs one round trip
    double validation_timeout = 5;     // s: a check that gets no answer fails after this
    double health_check_interval = 60; // s; 0 = never
    std::string idle_order = "lifo";   // "lifo" | "fifo"
};

std::unique_ptr<pool_policy> make_generic_pool(const generic_pool_params& p, pool_host& host,
                                               std::uint32_t index, pool_metrics& metrics,
                                               sim::random_stream rng);

}  // namespace dbpoolsim::models
