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

#include "models/distribution.hpp"
#include "models/pool/pool.hpp"

namespace dbpoolsim::models {

struct run_settings {
    double horizon_s = 600;       // simulated seconds per replication
    double warmup_s = 60;         // statistics from [warmup_s, horizon_s) only
    int replications = 5;
    std::uint64_t seed = 1;
    double sample_interval_s = 1; // time-series resolution
};

enum class arrival_kind : std::uint8_t { poisson, burst, closed_loop };

struct arrival_settings {
    arrival_kind kind = arrival_kind::poisson;
    double rate_per_s = 100;                // poisson
    int count = 50;                         // burst: requests at once
    double at_s = 0;                        // burst: first burst time
    double every_s = 0;                     // burst: repeat period (0 = once)
    int users = 50;                         // closed_loop
    distribution think_time = distribution::exponential(1.0);  // closed_loop
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
};

/// The application side. `instances` application instances each run their own pool (the same
/// policy and parameters) against the one database; arrivals are spread uniformly at random
/// over instances (closed-loop user u belongs to instance u mod instances).
struct client_settings {
    int instances = 1;
    /// The caller gives up on a request this long after it arrived (0 = never). Work already
    /// started continues and holds its connection until it finishes.
    double deadline_s = 0;
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
};

/// Build a fresh policy object for one replication (throws error for an unknown kind).
std::unique_ptr<pool_policy> make_pool(const pool_settings& s, pool_host& host, std::uint32_t index,
                                       pool_metrics& metrics, sim::random_stream rng);
/// Build the pooler tier (scenario "pooler" section) for one replication.
std::unique_ptr<pooler_policy> make_pooler(const pooler_settings& s, pool_host& host, std::uint32_t index,
                                           pool_metrics& metrics, sim::random_stream rng);
/// The registered pool kinds, with a one-line summary each.
std::vector<std::pair<std::string, std::string>> pool_kind_list();

/// Parse and validate; throws config_error listing every problem ("/path: message").
scenario scenario_from_json(const std::string& text);
/// The fully resolved scenario (defaults filled in), pretty-printed.
std::string scenario_to_json(const scenario& s, int indent = 2);
/// A scenario with every default (pool "generic").
scenario default_scenario();

}  // namespace dbpoolsim::models
