// dbpoolsim world: what one replication measures (docs/results in the README and
// docs/scenario.md's "results" section list the names).
//
// Counters and histograms of counted requests (those that arrived after warm-up), the
// per-interval counters of the time series, and the collection into the result. Metric
// names live in one table (`metric_table` in metrics.cpp), the series' columns in one enum
// (`column`). The other components keep their own time averages (database backends, CPU,
// fleet, breakers); `collect` reads them through `world_view`.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "models/metrics.hpp"
#include "models/pool/pool.hpp"
#include "models/run.hpp"
#include "sim/stats/accumulator.hpp"
#include "sim/stats/histogram.hpp"
#include "sim/stats/time_series.hpp"

namespace dbpoolsim::models::world_parts {

class breakers;
class database;
class fleet;
class request_table;

/// The time series' columns, in order (names in `column_names`).
enum class column : std::uint8_t {
    t_s, total_connections, active_connections, idle_connections, creating_connections,
    waiters, arrivals, completions, timeouts, failures, wait_p50_ms, wait_p99_ms, wait_max_ms,
    db_backends, db_active_queries, requests_in_system, pooler_servers, pooler_waiting, logins,
    instances, count_
};
inline constexpr const char* column_names[] = {
    "t_s",          "total_connections", "active_connections", "idle_connections",
    "creating_connections", "waiters",   "arrivals",           "completions",
    "timeouts",     "failures",          "wait_p50_ms",        "wait_p99_ms",
    "wait_max_ms",  "db_backends",       "db_active_queries",  "requests_in_system",
    "pooler_servers", "pooler_waiting",  "logins",             "instances"};
static_assert(std::size(column_names) == static_cast<std::size_t>(column::count_));

/// What collection reads from the rest of the world at the end of a run.
struct world_view {
    const scenario& s;
    const request_table& requests;
    const breakers& breaker_set;
    const database& db;
    const fleet& app_fleet;
    const std::vector<std::unique_ptr<pool_policy>>& pools;
    std::uint32_t per_instance;
    const pooler_policy* pooler;
    std::uint64_t events;
};

class world_metrics {
public:
    explicit world_metrics(const scenario& s);

    /// Counted requests: those that arrive once counting is on. Counting starts at once without warm-up, else at end_warmup.
    bool counting = false;
    /// Warm-up ends: reset what this class measures (the world resets the components).
    void end_warmup(double t);

    // ---- per request (counted ones only: the caller checks request::counted) ----------
    void arrival() { ++offered, ++iv_arrivals; }
    /// An acquire wait w ended with a connection, in named pool j (npos32: none).
    void granted(double w, std::uint32_t j) {
        wait.add(w);
        wait_all.add(w);
        iv_wait.add(w);
        if (j != npos32) wait_named[j].add(w);
    }
    void completed_request(double latency) {
        ++completed, ++iv_completions;
        this->latency.add(latency);
        sojourn.add(latency);
    }
    void failed_request(fail_reason why, double sojourn_s) {
        ++failed[static_cast<std::size_t>(why)];
        ++iv_failures;
        if (why == fail_reason::acquire_timeout) ++iv_timeouts;
        sojourn.add(sojourn_s);
    }

    /// One row of the time series at t; resets the interval counters.
    void sample(double t, const world_view& w, const std::vector<std::uint8_t>& stopped, std::uint32_t apps);
    replication_result collect(double t, double wall, int rep, const world_view& w);

    // pool measurements: app pools (fleet totals), the pooler tier, per named pool
    pool_metrics pm, pm_pooler;
    std::vector<pool_metrics> pm_named;
    std::vector<sim::stats::log_histogram> wait_named;
    std::vector<std::uint64_t> timeouts_named;

    std::uint64_t offered = 0, completed = 0, attempts = 0, attempt_failures = 0;
    std::array<std::uint64_t, static_cast<std::size_t>(fail_reason::count_)> failed{};
    std::uint64_t rejected_logins = 0, logins = 0, nat_drops = 0, leaked = 0, connections_broken = 0,
                  idle_session_closes = 0, faults_seen = 0;
    sim::stats::log_histogram wait, latency, iv_wait, pooler_wait;
    sim::stats::accumulator wait_all, sojourn;
    sim::stats::time_average in_system;
    std::uint64_t iv_arrivals = 0, iv_completions = 0, iv_timeouts = 0, iv_failures = 0, iv_logins = 0;

private:
    double peak_series_rate(column c) const;
    double time_to_recover() const;

    const scenario& s_;
    sim::stats::time_series series_;
};

}  // namespace dbpoolsim::models::world_parts
