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

/// Memory a run needs, for the budget run.max_memory_mb (docs/limits.md): estimates from peak
/// RSS, not accounting. Per request in flight: 10,000 req/s against the default pool with no
/// acquire timeout, 179 bytes per request at 1000 s (908,615 in flight), 173 between 200 s and
/// 1000 s (issue 12 measured 190). Per time-series value, from the C++ rows through JSON to the
/// pandas DataFrame of dbpoolsim.run: 64 to 77 bytes (2.1 and 10.5 million values).
inline constexpr double bytes_per_live_request = 190;
inline constexpr double series_bytes_per_value = 70;
/// Per request record (run.record_requests), kept until the result is built: 48 bytes in the
/// core (sizeof(request_record)) plus about 70 in Result.requests, the pandas DataFrame
/// dbpoolsim.run builds while the core's copy still exists (docs/scenario.md).
inline constexpr double bytes_per_request_record = 48 + 70;
/// The request table's limit (world_parts::request_table); a replication stops before it.
inline constexpr std::uint32_t max_live_requests = (1u << 24) - (1u << 17);

/// Thrown when a run was cancelled through its run_control.
struct cancelled : error {
    cancelled() : error("run cancelled") {}
};

/// Shared between a running job and its observer (another thread).
struct run_control {
    std::atomic<bool> cancel{false};
    /// Simulated seconds done, summed over replications (progress = done / (reps * horizon)).
    std::atomic<double> simulated_s{0.0};
    /// On cancel, `run` returns what was simulated (run_result::interrupted) instead of
    /// throwing `cancelled`; each replication then ends where it was.
    bool keep_partial = false;
};

/// One counted request, recorded with run.record_requests (docs/scenario.md, "Request records").
struct request_record {
    static constexpr std::uint8_t completed = 0;     ///< outcome: it completed
    static constexpr std::uint8_t in_flight = 255;   ///< outcome: still in the system at horizon_s
    double arrival_s = 0;
    double wait_s = 0;          ///< acquire wait of its last attempt (NaN: it was still waiting)
    double latency_s = 0;       ///< arrival to its end, completed or failed (NaN: in flight)
    std::uint64_t request = 0;  ///< arrival order in the replication (0, 1, ...; warm-up ones included)
    std::uint32_t connection = 0;  ///< slot in its pool of the last connection granted (npos: none)
    std::uint16_t cls = 0;         ///< transaction class index
    std::uint16_t attempts = 0;    ///< attempts started (1 + retries)
    std::uint8_t instance = 0;     ///< application instance
    std::uint8_t pool = 0;         ///< named pool index within the instance (0 with one pool)
    std::uint8_t outcome = 0;      ///< completed, 1 + fail_reason, or in_flight
};

static_assert(sizeof(request_record) <= 48, "bytes_per_request_record counts 48 bytes in the core");

struct replication_result {
    int replication = 0;
    /// Metric name -> value, in a fixed order (listed in docs/scenario.md, "Outputs"; the table is models/world/metrics.cpp).
    std::vector<std::pair<std::string, double>> metrics;
    sim::stats::log_histogram wait;     // acquire waits of granted requests (s)
    sim::stats::log_histogram latency;  // end-to-end latency of completed requests (s)
    sim::stats::log_histogram wait_all; // acquire waits of every request that asked (timeouts, abandons included)
    sim::stats::time_series series;     // one row per sample_interval_s
    std::vector<request_record> requests;  // with run.record_requests, in the order they ended
    std::uint64_t requests_not_recorded = 0;  // beyond run.record_requests_max
    /// How far it got (horizon_s when it ran to the end) and why it stopped early: "" (it did
    /// not), "interrupted" (cancelled, with run_control::keep_partial) or "memory" (its
    /// requests in flight would need more than run.max_memory_mb).
    double simulated_s = 0;
    std::string stopped;

    double metric(const std::string& name) const;
};

struct run_result {
    scenario resolved;
    /// Replications that ran (all of them, unless interrupted: then those that started).
    std::vector<replication_result> replications;
    double wall_seconds = 0;  // whole run
    int threads = 1;
    bool interrupted = false;  // cancelled with run_control::keep_partial
};

/// One event as the world handled it (an event trace, for tests that assert exact timelines).
struct trace_entry {
    double t;
    const char* kind;       // the event kind's name: "arrival", "db_done", "breaker", "pool_timer"...
    std::uint32_t target;   // request, instance, fault index, or a connection (conn_ref::target(), models/world/conn_ref.hpp)
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
/// With `ctl`, its cancel flag (Ctrl-C) is honoured while the result is built, within a few
/// milliseconds: see result_json_parts.
std::string result_to_json(const run_result& r, const run_control* ctl = nullptr);

/// Arrays in the scenario echo longer than this (empirical samples) are left out of
/// result_json_parts::scenario_brief, and of `scenario` once the run is cancelled.
inline constexpr std::size_t echo_array_limit = 1000;
/// Time-series values a cancelled run still writes (the rows after them are left out).
inline constexpr std::size_t series_values_on_cancel = 1'000'000;

/// The result in the pieces result_to_json joins (each compact JSON), so that Python reads
/// the small part at once and the big ones (the scenario echo, the series) only when asked.
/// When `ctl` is cancelled before or while they are built (Ctrl-C; docs/limits.md):
/// `scenario` is the brief one, the series keeps its first series_values_on_cancel values,
/// and `head` has "interrupted": true and "omitted": [{"path", "values"}...] naming what was
/// left out (JSON pointers into the result). Without a cancel, joining them gives
/// result_to_json's text byte for byte.
struct result_json_parts {
    std::string head;            ///< every member but "scenario" and "series", in their order
    std::string series;          ///< {"columns": [...], "rows": [[...], ...]}
    std::string scenario;        ///< the resolved scenario, indented by `scenario_indent`
    std::string scenario_brief;  ///< the same with each array of more than echo_array_limit values replaced by a note
};
result_json_parts result_to_json_parts(const run_result& r, const run_control* ctl = nullptr,
                                       int scenario_indent = -1);

}  // namespace dbpoolsim::models
