// dbpoolsim world: what one replication measures (docs/results in the README and
// docs/scenario.md's "results" section list the names).
//
// Counters and histograms of counted requests (those that arrived after warm-up), the
// per-interval counters of the time series, and the collection into the result. Metric
// names live in one table (`metric` and `metric_names`), the series' columns in one enum
// (`column` and `column_names`). The other components keep their own time averages (database backends, CPU,
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
    instances, pooler_wait_p99_ms, count_
};
inline constexpr const char* column_names[] = {
    "t_s",          "total_connections", "active_connections", "idle_connections",
    "creating_connections", "waiters",   "arrivals",           "completions",
    "timeouts",     "failures",          "wait_p50_ms",        "wait_p99_ms",
    "wait_max_ms",  "db_backends",       "db_active_queries",  "requests_in_system",
    "pooler_servers", "pooler_waiting",  "logins",             "instances",
    "pooler_wait_p99_ms"};
static_assert(std::size(column_names) == static_cast<std::size_t>(column::count_));

/// An enum of the names in an X-macro LIST (plus count_) and the table of their spellings,
/// in the same order: one list, so the two cannot drift apart.
#define DBPOOLSIM_NAME_ENUM_ITEM(name) name,
#define DBPOOLSIM_NAME_STRING_ITEM(name) #name,
#define DBPOOLSIM_NAME_TABLE(type, names, LIST)                                            \
    enum class type : std::uint8_t { LIST(DBPOOLSIM_NAME_ENUM_ITEM) count_ };               \
    inline constexpr const char* names[] = {LIST(DBPOOLSIM_NAME_STRING_ITEM)};              \
    static_assert(std::size(names) == static_cast<std::size_t>(type::count_))

/// The summary metrics with fixed names, in the order `collect` writes them (names in
/// `metric_names`, the one table; docs/scenario.md "Metrics" documents each, and
/// tests/python/test_docs.py checks it). Three families are named from other tables where
/// they are written: failed_<fail_reason_names>, connections_closed_<close_reason_names>, and
/// pool_<name>_<pool_metric_names> per named pool.
#define DBPOOLSIM_METRICS(X) \
    X(offered) X(completed) X(failed) X(in_flight) X(success_rate) X(throughput_per_s) \
    X(offered_per_s) X(timeouts) X(attempts) X(retries) X(retry_amplification) \
    X(attempt_failures) X(breaker_opens) X(breaker_open_fraction) \
    X(breaker_half_open_fraction) X(breaker_closed_fraction) X(timeout_rate) \
    X(wait_time_avg_ms) X(wait_time_p50_ms) X(wait_time_p95_ms) X(wait_time_p99_ms) \
    X(wait_time_max_ms) X(wait_time_all_avg_ms) X(wait_time_all_p50_ms) \
    X(wait_time_all_p95_ms) X(wait_time_all_p99_ms) X(wait_time_all_max_ms) X(p_wait) \
    X(p_wait_over_threshold) X(latency_avg_ms) X(latency_p50_ms) X(latency_p95_ms) \
    X(latency_p99_ms) X(latency_max_ms) X(total_connections) X(active_connections) \
    X(idle_connections) X(creating_connections) X(utilization_percent) \
    X(utilization_of_max_percent) X(instances) X(instances_max) X(peak_connections) \
    X(waiters_avg) X(waiters_max) X(connection_errors) X(connections_created) \
    X(connections_closed) X(churn_per_min) X(round_trips) X(db_cpu_utilization_percent) \
    X(db_active_queries_avg) X(db_backends_avg) X(peak_backend_connections) \
    X(rejected_logins) X(logins) X(logins_per_s_peak) X(connections_broken) X(nat_drops) \
    X(idle_session_closes) X(leaked_connections) X(goodput_ratio) X(time_to_recover_s) \
    X(pooler_servers_avg) X(pooler_active_avg) X(pooler_idle_avg) X(pooler_peak_servers) \
    X(pooler_waiting_avg) X(pooler_waiting_max) X(pooler_wait_avg_ms) \
    X(pooler_wait_p50_ms) X(pooler_wait_p95_ms) X(pooler_wait_p99_ms) \
    X(pooler_wait_max_ms) X(pooler_servers_created) X(pooler_login_errors) \
    X(pooler_servers_closed_idle) X(pooler_servers_closed_lifetime) \
    X(pooler_server_checks) X(pooler_peak_clients) X(pooler_rejected_clients) \
    X(requests_in_system_avg) X(sojourn_avg_ms) X(measured_s) X(events) X(wall_seconds)
DBPOOLSIM_NAME_TABLE(metric, metric_names, DBPOOLSIM_METRICS);

/// The metrics of each named pool (only with "pools"), written as pool_<name>_<metric> in this
/// order after the fleet totals; docs/scenario.md ("pools") lists them and
/// tests/python/test_docs.py checks it.
#define DBPOOLSIM_NAMED_POOL_METRICS(X) \
    X(total_connections) X(active_connections) X(idle_connections) X(utilization_percent) \
    X(peak_connections) X(waiters_avg) X(wait_time_avg_ms) X(wait_time_p99_ms) X(timeouts) \
    X(connections_created) X(connection_errors)
DBPOOLSIM_NAME_TABLE(pool_metric, pool_metric_names, DBPOOLSIM_NAMED_POOL_METRICS);

/// The prefixes of the two families named from reason tables: failed_<fail_reason_names>
/// and connections_closed_<close_reason_names>.
inline constexpr const char* failed_prefix = "failed_";
inline constexpr const char* closed_prefix = "connections_closed_";

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
        iv_wait.note(w);
        wait_over += w > wait_threshold_;
        if (j != npos32) wait_named[j].add(w);
    }
    /// An acquire wait w ended without a connection: the acquire timeout, or the caller's
    /// patience (the waits over all requests are `wait` and these together).
    void unserved_wait(double w) {
        wait_unserved.add(w);
        wait_over += w > wait_threshold_;
    }
    /// A transaction waited w in the pooler's queue for a server.
    void pooler_granted(double w) {
        pooler_wait.add(w);
        iv_pooler_wait.note(w);
    }
    /// With run.record_requests: one request ended (or is in flight at the end).
    bool recording = false;
    void record(const request_record& r) {
        if (records_.size() < record_cap_) records_.push_back(r);
        else ++not_recorded_;
    }
    /// Records kept so far (they count in run.max_memory_mb: world::run).
    std::size_t records_kept() const { return records_.size(); }
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
    sim::stats::log_histogram wait, latency, pooler_wait, wait_unserved;
    // The current sample interval's part of wait and pooler_wait (for the time series).
    sim::stats::log_histogram_window iv_wait{wait}, iv_pooler_wait{pooler_wait};
    std::uint64_t wait_over = 0;  // waits over run.wait_threshold_s (granted or not)
    sim::stats::running_mean sojourn;  // only its mean is reported
    sim::stats::time_average in_system;
    std::uint64_t iv_arrivals = 0, iv_completions = 0, iv_timeouts = 0, iv_failures = 0, iv_logins = 0;

private:
    double peak_series_rate(column c) const;
    double time_to_recover() const;

    const scenario& s_;
    sim::stats::time_series series_;
    double wait_threshold_;
    std::size_t record_cap_;
    std::vector<request_record> records_;
    std::uint64_t not_recorded_ = 0;
};

}  // namespace dbpoolsim::models::world_parts
