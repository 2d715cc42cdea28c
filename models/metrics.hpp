// dbpoolsim models: what one replication measures. Names follow the seeds
// (seeds/000: total_connections, active_connections, idle_connections, utilization_percent,
// wait_time_avg_ms, connection_errors; seeds/004: connection_timeouts, total_connections_created).
#pragma once

#include <array>
#include <cstdint>
#include <iterator>

#include "sim/stats/accumulator.hpp"
#include "sim/stats/histogram.hpp"

namespace dbpoolsim::models {

/// Why a request ended without completing.
enum class fail_reason : std::uint8_t {
    acquire_timeout,  // waited for a connection longer than the pool's acquire timeout
    connect_error,    // the connection it needed could not be opened (login refused/failed)
    pool_rejected,    // the pool refused at once (e.g. a waiter limit)
    query_error,      // the connection broke under the query
    pooler_timeout,   // waited in PgBouncer's queue longer than query_wait_timeout (disconnected)
    deadline_exceeded,  // the client's request deadline passed (client.deadline_s)
    circuit_open,       // rejected at once by the client's open circuit breaker
    statement_timeout,  // the query ran longer than client.statement_timeout_s (cancelled)
    read_only,          // a write on a connection to a read-only (demoted) primary
    socket_timeout,     // the connection was silently dead: the read gave up after socket_timeout_s
    abandoned,          // the caller's patience (client.patience) ran out while it waited for a connection
    count_
};
inline constexpr const char* fail_reason_names[] = {"acquire_timeout", "connect_error",
                                                    "pool_rejected", "query_error",
                                                    "pooler_timeout", "deadline_exceeded",
                                                    "circuit_open", "statement_timeout",
                                                    "read_only", "socket_timeout", "abandoned"};
static_assert(std::size(fail_reason_names) == static_cast<std::size_t>(fail_reason::count_));

/// Why a connection was closed.
enum class close_reason : std::uint8_t {
    idle,        // idle longer than the idle timeout
    lifetime,    // reached its maximum lifetime
    broken,      // found broken (health check, failed query)
    overflow,    // surplus beyond the pool's keep size at return
    validation,  // failed validation on borrow
    count_
};
inline constexpr const char* close_reason_names[] = {"idle", "lifetime", "broken", "overflow",
                                                     "validation"};

/// Instantaneous connection and waiter counts of one pool.
struct pool_counts {
    std::uint32_t total = 0;     // creating + idle + in_use + checking
    std::uint32_t creating = 0;
    std::uint32_t idle = 0;
    std::uint32_t in_use = 0;
    std::uint32_t checking = 0;
    std::uint32_t waiters = 0;
};

/// Pool-side measurements, reset at the end of warm-up. Pools record changes as deltas, so
/// several pools (one per application instance) can share one pool_metrics: it then holds
/// fleet totals (e.g. total_connections = connections summed over instances).
struct pool_metrics {
    sim::stats::time_average total, active, idle, creating, waiters;
    std::uint64_t created = 0;
    std::uint64_t connection_errors = 0;
    std::uint64_t round_trips = 0;           // validation / ping / reset round trips
    std::uint64_t round_trip_failures = 0;
    std::array<std::uint64_t, static_cast<std::size_t>(close_reason::count_)> closed{};

    void reset(double t) {
        total.reset(t), active.reset(t), idle.reset(t), creating.reset(t), waiters.reset(t);
        created = connection_errors = round_trips = round_trip_failures = 0;
        closed.fill(0);
    }
};

}  // namespace dbpoolsim::models
