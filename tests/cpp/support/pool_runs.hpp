// Test support: timeline runs of one pool kind from a request trace, and replication
// estimates against exact values (the pool tests of issue 11: go_database_sql, node_postgres).
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "sim/stats/accumulator.hpp"
#include "support/scenarios.hpp"

namespace dbpoolsim::test {

/// One replication with its event trace.
struct traced_run {
    models::replication_result r;
    std::vector<models::trace_entry> events;
    std::vector<step> of(const std::vector<std::string>& kinds) const { return timeline(events, kinds); }
    double metric(const std::string& m) const { return r.metric(m); }
    double at(const std::string& col, double t) const { return test::at(r, col, t, 1e-6); }
};

/// The issue-11 chapters' common setup: one instance, no CPU contention, logins 50 ms, round
/// trip 1 ms, one 10 ms query per request unless the trace says otherwise. `trace`: lines
/// "t,duration"; `pool`: the fields after "kind"; `extra`: more top-level members (faults,
/// network), each starting with a comma.
inline models::scenario trace_scenario(const std::string& kind, const std::string& trace, const std::string& pool,
                                       double horizon_s, const std::string& extra = "", std::uint64_t seed = 1) {
    const std::string file = temp_file(kind + "_trace.csv", "t_s,duration_s\n" + trace);
    auto s = models::scenario_from_json(
        R"({"run": {"horizon_s": )" + std::to_string(horizon_s) +
        R"(, "warmup_s": 0, "replications": 1, "seed": )" + std::to_string(seed) +
        R"(, "sample_interval_s": 0.001},
         "workload": {"arrivals": {"kind": "trace", "file": ")" + file +
        R"("}, "transactions": [{"query_time": {"kind": "constant", "value_s": 0.01}}]},
         "pool": {"kind": ")" + kind + "\"" + (pool.empty() ? "" : ", " + pool) + R"(},
         "database": )" + constant_db(0.05, 0.001) + extra + "}");
    std::filesystem::remove(file);  // read when the scenario was validated
    return s;
}

inline traced_run traced(const models::scenario& s) {
    traced_run g;
    g.r = models::run_replication(s, 0, nullptr, &g.events);
    return g;
}

inline std::string repeat(const std::string& line, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += line;
    return out;
}

inline std::vector<double> times_of(const std::vector<step>& steps) {
    std::vector<double> out;
    for (const auto& s : steps) out.push_back(s.t);
    return out;
}

inline void check_times(const std::vector<double>& got, const std::vector<double>& want) {
    INFO("got " << Catch::Detail::stringify(got));
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).margin(1e-9));
}

/// Mean over replications and its standard error.
struct estimate {
    double mean, se;
};

inline estimate across(const models::run_result& r, const std::string& metric) {
    sim::stats::accumulator a;
    for (const auto& rep : r.replications) a.add(rep.metric(metric));
    return {a.mean(), a.stddev() / std::sqrt(static_cast<double>(a.count()))};
}

/// Within 4 standard errors (validation/test_against_theory.cpp states the false-failure rate).
inline void check_within(const estimate& e, double exact, const char* what) {
    INFO(what << ": simulated " << e.mean << " +/- " << e.se << " (1 s.e.), exact " << exact);
    CHECK(std::abs(e.mean - exact) <= 4 * e.se);
}

}  // namespace dbpoolsim::test
