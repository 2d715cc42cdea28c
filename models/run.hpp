// dbpoolsim models: running a scenario.
//
// `run_replication` is pure and re-entrant: (scenario, replication index) -> result, bit for
// bit. `run` runs every replication, in parallel on `threads` threads, and returns them in
// replication order, so the result does not depend on the thread count.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/scenario.hpp"
#include "sim/stats/histogram.hpp"
#include "sim/stats/time_series.hpp"

namespace dbpoolsim::models {

/// Thrown when a run was cancelled through its run_control.
struct cancelled : error {
    cancelled() : error("run cancelled") {}
};

/// Shared between a running job and its observer (another thread).
struct run_control {
    std::atomic<bool> cancel{false};
    /// Simulated seconds done, summed over replications (progress = done / (reps * horizon)).
    std::atomic<double> simulated_s{0.0};
};

struct replication_result {
    int replication = 0;
    /// Metric name -> value, in a fixed order (listed in docs/scenario.md, "Outputs"; the table is models/world/metrics.cpp).
    std::vector<std::pair<std::string, double>> metrics;
    sim::stats::log_histogram wait;     // acquire waits of granted requests (s)
    sim::stats::log_histogram latency;  // end-to-end latency of completed requests (s)
    sim::stats::time_series series;     // one row per sample_interval_s

    double metric(const std::string& name) const;
};

struct run_result {
    scenario resolved;
    std::vector<replication_result> replications;
    double wall_seconds = 0;  // whole run
    int threads = 1;
};

/// One event as the world handled it (an event trace, for tests that assert exact timelines).
struct trace_entry {
    double t;
    const char* kind;       // the event kind's name: "arrival", "db_done", "breaker", "pool_timer"...
    std::uint32_t target;   // request, instance, fault index, or pool << 24 | connection (as scheduled)
    std::uint32_t timer;    // for "pool_timer": the policy's timer kind (0 = acquire timeout)

    bool operator==(const trace_entry& o) const;
};

/// With `trace`, every event handled is appended to it (off by default: a null pointer, one
/// predictable branch per event).
replication_result run_replication(const scenario& s, int replication, run_control* ctl = nullptr,
                                   std::vector<trace_entry>* trace = nullptr);
/// threads <= 0: one per hardware thread (at most one per replication).
run_result run(const scenario& s, int threads = 0, run_control* ctl = nullptr);
/// Result as JSON: resolved scenario, per-replication metrics, pooled percentiles, series.
std::string result_to_json(const run_result& r);

}  // namespace dbpoolsim::models
