// Test support: small scenario builders (JSON text, so tests read like scenario files).
#pragma once

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/run.hpp"

namespace dbpoolsim::test {

/// The M/M/c(+D) pool: Poisson arrivals, exponential holding, fixed pool of c, no set-up cost,
/// no network, no CPU contention. timeout_s = 0 means wait forever.
inline models::scenario mmc_pool(double lambda, double mean_s, int c, double timeout_s,
                                 double horizon_s, int reps, double warmup_s = 10) {
    const std::string n = std::to_string(c);
    return models::scenario_from_json(
        R"({"name": "mmc", "run": {"horizon_s": )" + std::to_string(horizon_s) +
        R"(, "warmup_s": )" + std::to_string(warmup_s) + R"(, "replications": )" +
        std::to_string(reps) + R"(, "seed": 2024, "sample_interval_s": 10},
         "workload": {"arrivals": {"kind": "poisson", "rate_per_s": )" + std::to_string(lambda) +
        R"(}, "transactions": [{"query_time": {"kind": "exponential", "mean_s": )" +
        std::to_string(mean_s) + R"(}}]},
         "pool": {"kind": "generic", "min_connections": )" + n + R"(, "max_connections": )" + n +
        R"(, "acquisition_timeout": )" + std::to_string(timeout_s) +
        R"(, "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0},
         "database": {"cores": 0, "max_connections": 100000,
                      "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0}})");
}

/// Index of a time-series column.
inline std::size_t column(const models::replication_result& r, const std::string& name) {
    const auto& cols = r.series.columns();
    for (std::size_t i = 0; i < cols.size(); ++i)
        if (cols[i] == name) return i;
    throw std::runtime_error("no column " + name);
}

/// A one-replication timeline scenario: no warm-up, seed 1, one transaction class whose
/// single query takes a constant `query_s`; `arrivals`, `pool` and `database` are JSON objects.
inline models::scenario timeline_scenario(const std::string& arrivals, const std::string& pool,
                                          const std::string& database, double query_s,
                                          double horizon_s, double sample_s) {
    return models::scenario_from_json(
        R"({"run": {"horizon_s": )" + std::to_string(horizon_s) +
        R"(, "warmup_s": 0, "replications": 1, "seed": 1, "sample_interval_s": )" +
        std::to_string(sample_s) + R"(},
         "workload": {"arrivals": )" + arrivals + R"(, "transactions": [{"query_time": {"kind": "constant", "value_s": )" +
        std::to_string(query_s) + R"(}}]},
         "pool": )" + pool + R"(, "database": )" + database + "}");
}

/// A database without CPU contention, with constant login time and the given round trip.
inline std::string constant_db(double connect_s, double rtt_s, int max_connections = 1000) {
    return R"({"cores": 0, "max_connections": )" + std::to_string(max_connections) +
           R"(, "connect_time": {"kind": "constant", "value_s": )" + std::to_string(connect_s) +
           R"(}, "network_rtt_s": )" + std::to_string(rtt_s) + "}";
}

/// A policy test file's `scenario(arrivals, pool, database, query_s, horizon_s[, sample_s])`:
/// timeline_scenario with the file's own default sample interval (a sample_s of 0 takes it),
/// declared once per file as `constexpr test::timeline_with scenario{0.01};`.
struct timeline_with {
    double default_sample_s;
    models::scenario operator()(const std::string& arrivals, const std::string& pool, const std::string& database,
                                double query_s, double horizon_s, double sample_s = 0) const {
        return timeline_scenario(arrivals, pool, database, query_s, horizon_s,
                                 sample_s > 0 ? sample_s : default_sample_s);
    }
};

/// The policy tests' database: constant login time, the given round trip, room for
/// `max_connections` backends (constant_db).
inline std::string db(double connect_s, double rtt_s = 0, int max_connections = 1000) {
    return constant_db(connect_s, rtt_s, max_connections);
}

/// Value of series column `col` at the sample taken at time t (|t_s - t| < tol).
inline double at(const models::replication_result& r, const std::string& col, double t,
                 double tol = 1e-9) {
    const std::size_t c = column(r, col), tc = column(r, "t_s");
    for (std::size_t i = 0; i < r.series.rows(); ++i)
        if (std::abs(r.series.at(i, tc) - t) < tol) return r.series.at(i, c);
    throw std::runtime_error("no sample at t");
}

/// Write `text` to a file named `name` (with the process id) in the temporary directory;
/// returns its absolute path (e.g. a trace for a "trace" arrival process).
inline std::string temp_file(const std::string& name, const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "_" + name);
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
}

/// One step of an event timeline: time (compared to 1e-9), event kind, target.
struct step {
    double t;
    std::string kind;
    std::uint32_t target;
    bool operator==(const step& o) const {
        return std::abs(t - o.t) < 1e-9 && kind == o.kind && target == o.target;
    }
};

inline std::ostream& operator<<(std::ostream& os, const step& s) {
    return os << "{" << s.t << ", " << s.kind << ", " << s.target << "}";
}

/// The events of a trace (run_replication's `trace`) whose kind is one of `kinds`, in order.
inline std::vector<step> timeline(const std::vector<models::trace_entry>& trace,
                                  const std::vector<std::string>& kinds) {
    std::vector<step> out;
    for (const auto& e : trace)
        for (const auto& k : kinds)
            if (k == e.kind) out.push_back({e.t, e.kind, e.target});
    return out;
}

/// An arrival process with no request inside any test's horizon (the pool on its own).
inline const std::string no_requests = R"({"kind": "burst", "count": 1, "at_s": 100000})";

/// The problems scenario_from_json reports for a whole scenario text (none: empty).
inline std::vector<std::string> scenario_problems(const std::string& text) {
    try {
        models::scenario_from_json(text);
    } catch (const config_error& e) {
        return e.problems();
    }
    return {};
}

/// The problems scenario_from_json reports for a scenario whose "pool" is `pool` (none: empty).
inline std::vector<std::string> pool_problems(const std::string& pool) {
    return scenario_problems(R"({"pool": )" + pool + "}");
}

/// The resolved parameter struct of a pool JSON object (valid until the next call for the same P).
template <class P>
const P& pool_params(const std::string& pool) {
    static models::scenario s;  // keeps the parameters alive
    s = models::scenario_from_json(R"({"pool": )" + pool + "}");
    return dynamic_cast<const P&>(*s.pool.params);
}

}  // namespace dbpoolsim::test
