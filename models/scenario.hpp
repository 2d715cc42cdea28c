// dbpoolsim models: the scenario, a plain struct with defaults.
//
// JSON (models/scenario_json.cpp) is the one interchange format: strict in (unknown keys,
// wrong types and bad values are errors naming the JSON path and the value, all reported at
// once), fully resolved out (defaults filled in). See docs/scenario.md for every field.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/arrivals.hpp"
#include "models/distribution.hpp"
#include "models/pool/pool.hpp"
#include "models/usl.hpp"

namespace dbpoolsim::models {

struct run_settings {
    double horizon_s = 600;       // simulated seconds per replication
    double warmup_s = 60;         // statistics from [warmup_s, horizon_s) only
    int replications = 5;
    std::uint64_t seed = 1;
    double sample_interval_s = 1; // time-series resolution
    /// P(wait > wait_threshold_s) over every request that asked for a connection (s).
    double wait_threshold_s = 0.05;
    /// Keep one record per counted request (models/run.hpp request_record), at most
    /// record_requests_max per replication.
    bool record_requests = false;
    int record_requests_max = 1'000'000;
    /// The pools (and the pooler) start this long before time 0, where arrivals, faults and
    /// the measurement window are counted from (<= 0: a real application opens its pool
    /// before traffic comes).
    double pool_start_s = 0;
    /// Memory budget (MiB): each replication stops, with partial results, when its requests
    /// in flight would need more; a time series that would need more is refused before the
    /// run (docs/limits.md).
    double max_memory_mb = 2048;
};

// One name table per enum (JSON names in enumerator order), used both ways by the reader and
// the writer (models/field_table.hpp).
enum class arrival_kind : std::uint8_t { poisson, burst, closed_loop, mmpp, trace };
inline constexpr const char* arrival_kind_names[] = {"poisson", "burst", "closed_loop", "mmpp", "trace"};
inline constexpr const char* profile_shape_names[] = {"step", "linear"};

struct arrival_settings {
    arrival_kind kind = arrival_kind::poisson;
    double rate_per_s = 100;                // poisson
    int count = 50;                         // burst: requests at once
    double at_s = 0;                        // burst: first burst time
    double every_s = 0;                     // burst: repeat period (0 = once)
    int users = 50;                         // closed_loop
    distribution think_time = distribution::exponential(1.0);  // closed_loop
    /// poisson: a rate varying over time, instead of rate_per_s (models/arrivals.hpp).
    std::optional<rate_profile> profile;
    mmpp_settings mmpp;                     // mmpp
    trace_settings trace;                   // trace
};

struct transaction_class {
    std::string name = "default";
    double weight = 1;
    int queries = 1;
    distribution query_time = distribution::exponential(0.005);
    /// Application time after each query while holding the connection (none if unset).
    std::optional<distribution> app_time;
    /// With named pools ("pools"), the pool this class uses (e.g. "read"); empty otherwise.
    std::string pool;
    /// Reads only: unaffected by a read-only primary (fault "read_only"). Default: it writes.
    bool read_only = false;
    /// Connection leaks: the fraction of transactions that do not return their connection at
    /// the end (the request itself completes), and when they return it late (never if unset).
    double leak_probability = 0;
    std::optional<distribution> leak_hold_time;
};

struct workload_settings {
    arrival_settings arrivals;
    std::vector<transaction_class> transactions{transaction_class{}};
};

struct database_settings {
    int cores = 0;             // 0 = no CPU contention
    int max_connections = 100; // PostgreSQL's default; logins beyond it are refused
    // seeds/004: "Creating new database connections is expensive (~50-100ms)".
    distribution connect_time = distribution::uniform(0.05, 0.1);
    double network_rtt_s = 0.0005;
    /// Contention by the Universal Scalability Law (models/usl.hpp) on top of `cores`: with n
    /// active queries each runs 1 / (1 + sigma (n - 1) + kappa n (n - 1)) times as fast.
    std::optional<usl::usl_params> usl;  // lambda unused (informational, from a fit)
    double connect_cpu_s = 0;            // CPU work of each login (backend start-up)
    double accept_rate_per_s = 0;        // logins accepted per second, one at a time (0 = unlimited)
    double idle_session_timeout_s = 0;   // PostgreSQL idle_session_timeout (0 = off)
    /// How long the server keeps a backend whose client vanished silently (NAT drop) before
    /// TCP keepalive reaps it. Linux defaults: tcp_keepalive_time 7200 s + 9 probes x 75 s.
    double tcp_keepalive_s = 7875;
};

enum class nat_drop_mode : std::uint8_t { silent, reset };
inline constexpr const char* nat_drop_mode_names[] = {"silent", "reset"};

/// The network between the application and its database (or pooler).
struct network_settings {
    /// A NAT / firewall / load balancer forgets a flow idle this long (0 = never).
    double nat_idle_timeout_s = 0;
    /// silent: the next use hangs until socket_timeout_s; reset: it fails at once.
    nat_drop_mode nat_drop = nat_drop_mode::silent;
    /// How long a read on a silently dead connection blocks before the client gives up.
    /// Default: Linux's retransmission give-up with tcp_retries2 = 15 (about 924.6 s).
    double socket_timeout_s = 924.6;
    /// How long a login to an unreachable host blocks (Linux tcp_syn_retries = 6: 127 s).
    double connect_timeout_s = 127;
};

enum class fault_kind : std::uint8_t {
    restart,           // all connections reset, logins refused for duration_s
    failover,          // all connections silently dead, logins hang until a new primary
    read_only,         // the primary is demoted: writes fail on connections to it
    connect_errors,    // each login fails with `probability` during the window
    slow_connects,     // logins take `factor` times longer during the window
    slow_queries,      // queries need `factor` times the work during the window
    kill_connections,  // a `fraction` of the backends is terminated at at_s
};
inline constexpr const char* fault_kind_names[] = {"restart",       "failover",     "read_only",
                                                   "connect_errors", "slow_connects", "slow_queries",
                                                   "kill_connections"};

/// A fault scheduled in the scenario (see docs/scenario.md, "faults").
struct fault {
    fault_kind kind = fault_kind::restart;
    double at_s = 0;
    double duration_s = 0;
    double probability = 1;  // connect_errors
    double factor = 1;       // slow_connects, slow_queries
    double fraction = 1;     // kill_connections
};

enum class fleet_event_kind : std::uint8_t { rolling_deploy, scale };
inline constexpr const char* fleet_event_kind_names[] = {"rolling_deploy", "scale"};

/// A change of the application fleet (see docs/scenario.md, "fleet").
struct fleet_event {
    fleet_event_kind kind = fleet_event_kind::rolling_deploy;
    double at_s = 0;
    int batch = 1;           // rolling_deploy: instances replaced per step
    double interval_s = 30;  // rolling_deploy: time between steps
    double ready_after_s = 0;  // a new instance's pool starts at once, takes traffic after this
    int instances = 1;       // scale: the new instance count
};

/// The application side. `instances` application instances each run their own pool (the same
/// policy and parameters) against the one database; arrivals are spread uniformly at random
/// over instances (closed-loop user u belongs to instance u mod instances).
struct client_settings {
    int instances = 1;
    /// The caller gives up on a request this long after it arrived (0 = never). Work already
    /// started continues and holds its connection until it finishes.
    double deadline_s = 0;
    /// How long the caller waits for a connection before it gives up (a draw per attempt, from
    /// the attempt's acquire start; absent = forever): the request abandons (fail reason
    /// `abandoned`, not retried) and the pool drops it (pool_policy::cancel_acquire).
    std::optional<distribution> patience;
    // Retries of a failed attempt (seeds/001 names; seeds/004's max_retries, retry_base_delay,
    // retry_max_delay are accepted as aliases). 0 attempts = no retries (seeds/001's default
    // is 3: its scenario files set it).
    int retry_attempts = 0;
    double initial_retry_delay = 0.2;  // s
    double max_retry_delay = 10;       // s
    double retry_jitter_factor = 0.1;  // delay x (1 + U[-f, f])
    double retry_multiplier = 2;       // dbpoolsim's: exponential backoff factor
    // Circuit breaker per instance (seeds/001): opens after `threshold` consecutive failed
    // attempts, rejects everything for `timeout` seconds, then half-open: `reset` successes
    // close it, one failure opens it again. threshold 0 = no breaker.
    int circuit_breaker_threshold = 0;
    double circuit_breaker_timeout = 30;
    int circuit_breaker_reset = 2;
    /// PostgreSQL statement_timeout (seeds/004's query_timeout): a query running longer on the
    /// server is cancelled and fails (0 = none). The connection stays usable.
    double statement_timeout_s = 0;
};

struct pool_settings {
    std::string kind = "generic";
    std::shared_ptr<const pool_params> params;  // the kind's own parameter struct
};

/// An optional shared pooler tier between the application pools and the database
/// (kind "pgbouncer"); empty kind = none.
struct pooler_settings {
    std::string kind;
    std::shared_ptr<const pool_params> params;
};

/// One of several pools each application instance runs (e.g. seeds/000's read/write split).
struct named_pool {
    std::string name;
    pool_settings settings;
};

struct scenario {
    std::string name = "unnamed";
    std::string description;  // free text, for people
    run_settings run;
    workload_settings workload;
    client_settings client;
    pool_settings pool;             // the one pool per instance, unless `pools` is given
    std::vector<named_pool> pools;  // several pools per instance, chosen per transaction class
    pooler_settings pooler;
    database_settings database;
    network_settings network;
    std::vector<fault> faults;
    std::vector<fleet_event> fleet;
};

/// Application instances a replication needs: the initial ones plus every one a fleet event
/// starts (rolling deploys replace, scale-ups add).
int fleet_instances_needed(const scenario& s);

/// Build a fresh policy object for one replication (throws error for an unknown kind).
std::unique_ptr<pool_policy> make_pool(const pool_settings& s, pool_host& host, std::uint32_t index,
                                       pool_metrics& metrics, sim::random_stream rng);
/// Build the pooler tier (scenario "pooler" section) for one replication.
std::unique_ptr<pooler_policy> make_pooler(const pooler_settings& s, pool_host& host, std::uint32_t index,
                                           pool_metrics& metrics, sim::random_stream rng);
/// The registered pool kinds, with a one-line summary each.
std::vector<std::pair<std::string, std::string>> pool_kind_list();

/// Check every rule a scenario must keep, field rules and cross-field rules, however it was
/// built (JSON or C++); run() calls it on entry. Throws config_error listing every problem as
/// "/json/path: message", worded as the JSON reader words it (models/scenario_validate.cpp).
void validate(const scenario& s);

/// Parse and validate; throws config_error listing every problem ("/path: message").
scenario scenario_from_json(const std::string& text, const std::string& base_dir = "");
/// The fully resolved scenario (defaults filled in), pretty-printed.
std::string scenario_to_json(const scenario& s, int indent = 2);
/// A scenario with every default (pool "generic").
scenario default_scenario();

/// One JSON field of a scenario struct, from its field table (for the docs check).
struct field_info {
    std::string section;       // dotted JSON path of the object, e.g. "run", "workload.arrivals"
    std::string name;          // the field's JSON name
    std::string type;          // number, integer, boolean, string, one of, distribution, ...
    std::string default_json;  // the default as resolved JSON
    std::string summary;       // one line, where the table gives one
};
/// Every field of every scenario struct's table (pool parameters: see the resolved "pool").
std::vector<field_info> scenario_field_list();

}  // namespace dbpoolsim::models
