// validate(const scenario&) and the field tables: a scenario built in C++ is checked exactly
// like one read from JSON (same problems, same words), and every field of every table
// round-trips through the resolved JSON.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "models/pool/generic_pool.hpp"
#include "models/pool/hikaricp.hpp"
#include "models/run.hpp"
#include "models/scenario_fields.hpp"
#include "sim/error.hpp"

using namespace dbpoolsim;

namespace {

std::vector<std::string> json_problems(const std::string& text) {
    try {
        models::scenario_from_json(text);
    } catch (const config_error& e) {
        return e.problems();
    }
    return {};
}

std::vector<std::string> run_problems(const models::scenario& s) {
    try {
        models::run(s, 1);
    } catch (const config_error& e) {
        return e.problems();
    }
    return {};
}

struct invalid_case {
    const char* json;                                // the scenario as JSON
    std::function<void(models::scenario&)> build;    // the same scenario built in C++
};

}  // namespace

TEST_CASE("a scenario built in C++ is rejected by run() with the problems JSON gets", "[scenario][validate]") {
    using namespace models;
    const std::vector<invalid_case> cases = {
        {R"({"run": {"replications": 0}})", [](scenario& s) { s.run.replications = 0; }},
        {R"({"run": {"horizon_s": 10, "warmup_s": 10}})",
         [](scenario& s) { s.run.horizon_s = 10, s.run.warmup_s = 10; }},
        {R"({"client": {"initial_retry_delay": 2, "max_retry_delay": 1}})",
         [](scenario& s) { s.client.initial_retry_delay = 2, s.client.max_retry_delay = 1; }},
        {R"({"client": {"retry_jitter_factor": 1.5}})", [](scenario& s) { s.client.retry_jitter_factor = 1.5; }},
        {R"({"database": {"connect_cpu_s": 0.01}})", [](scenario& s) { s.database.connect_cpu_s = 0.01; }},
        {R"({"network": {"socket_timeout_s": 0}})", [](scenario& s) { s.network.socket_timeout_s = 0; }},
        {R"({"workload": {"transactions": [{"leak_probability": 2}]}})",
         [](scenario& s) { s.workload.transactions[0].leak_probability = 2; }},
        {R"({"workload": {"transactions": [{"name": "default", "pool": "read"}]}})",
         [](scenario& s) { s.workload.transactions[0].pool = "read"; }},
        {R"({"workload": {"arrivals": {"kind": "mmpp", "states": [{"rate_per_s": 1, "mean_holding_s": 1}], "initial_state": 1}}})",
         [](scenario& s) {
             s.workload.arrivals.kind = arrival_kind::mmpp;
             s.workload.arrivals.mmpp.states = {{1, 1}};
             s.workload.arrivals.mmpp.initial_state = 1;
         }},
        {R"({"faults": [{"kind": "connect_errors", "at_s": 1, "duration_s": 1, "probability": 2}]})",
         [](scenario& s) { s.faults.push_back({fault_kind::connect_errors, 1, 1, 2, 1, 1}); }},
        {R"({"fleet": [{"kind": "scale", "at_s": 10, "instances": 2}, {"kind": "scale", "at_s": 5, "instances": 3}]})",
         [](scenario& s) {
             s.fleet.push_back({fleet_event_kind::scale, 10, 1, 30, 0, 2});
             s.fleet.push_back({fleet_event_kind::scale, 5, 1, 30, 0, 3});
         }},
        {R"({"pool": {"kind": "generic", "min_connections": 60}})",
         [](scenario& s) {
             auto p = std::make_shared<generic_pool_params>();
             p->min_connections = 60;
             s.pool.params = p;
         }},
        {R"({"pool": {"kind": "generic", "idle_order": "random"}})",
         [](scenario& s) {
             auto p = std::make_shared<generic_pool_params>();
             p->idle_order = "random";
             s.pool.params = p;
         }},
        {R"({"pool": {"kind": "hikaricp", "connectionTimeout": 100}})",
         [](scenario& s) {
             auto p = std::make_shared<hikaricp_params>();
             p->connectionTimeout = 100;
             s.pool = {"hikaricp", p};
         }},
    };
    for (const auto& c : cases) {
        INFO(c.json);
        const auto expected = json_problems(c.json);
        REQUIRE(!expected.empty());
        scenario s = default_scenario();
        c.build(s);
        CHECK(run_problems(s) == expected);
    }
}

TEST_CASE("validate accepts every scenario the JSON reader accepts", "[scenario][validate]") {
    CHECK_NOTHROW(models::validate(models::default_scenario()));
    CHECK_NOTHROW(models::validate(models::scenario_from_json(
        R"({"pools": {"read": {"kind": "sqlx"}, "write": {"kind": "hikaricp", "connectionTimeout": 0}},
            "workload": {"transactions": [{"pool": "read"}, {"pool": "write"}]},
            "pooler": {"kind": "pgbouncer"}})")));
}

TEST_CASE("a pool built in C++ with another kind's parameters is rejected", "[scenario][validate]") {
    auto s = models::default_scenario();
    s.pool.kind = "hikaricp";  // parameters still the generic pool's
    CHECK(run_problems(s) == std::vector<std::string>{"/pool: parameters of another pool kind than this one"});
}

namespace {

/// Every field of `table` holds the same value in a and b: the member itself where the table
/// maps one (so a field the writer forgets is caught), else what the field writes.
template <class S>
void same_fields(const models::detail::field_table<S>& table, const S& a, const S& b, const std::string& where) {
    for (const auto& f : table) {
        INFO(where << "/" << f.name);
        if (f.same) {
            CHECK(f.same(a, b));
        } else if (f.write) {
            models::detail::json ja = models::detail::json::object(), jb = models::detail::json::object();
            f.write(f, a, ja), f.write(f, b, jb);
            CHECK(ja.dump() == jb.dump());
        }
    }
}

void round_trips(const std::string& text, const std::string& dir) {
    using namespace models::detail;
    const auto s = models::scenario_from_json(text, dir);
    const std::string once = models::scenario_to_json(s);
    const auto r = models::scenario_from_json(once, dir);
    same_fields(scenario_fields(), s, r, "");
    same_fields(run_fields(), s.run, r.run, "/run");
    same_fields(arrival_fields(), s.workload.arrivals, r.workload.arrivals, "/workload/arrivals");
    REQUIRE(s.workload.transactions.size() == r.workload.transactions.size());
    for (std::size_t i = 0; i < s.workload.transactions.size(); ++i)
        same_fields(transaction_fields(), s.workload.transactions[i], r.workload.transactions[i],
                    "/workload/transactions/" + std::to_string(i));
    same_fields(client_fields(), s.client, r.client, "/client");
    same_fields(database_fields(), s.database, r.database, "/database");
    same_fields(network_fields(), s.network, r.network, "/network");
    REQUIRE(s.faults.size() == r.faults.size());
    for (std::size_t i = 0; i < s.faults.size(); ++i) same_fields(fault_fields(), s.faults[i], r.faults[i], "/faults");
    REQUIRE(s.fleet.size() == r.fleet.size());
    for (std::size_t i = 0; i < s.fleet.size(); ++i) same_fields(fleet_fields(), s.fleet[i], r.fleet[i], "/fleet");
    CHECK(models::scenario_to_json(r) == once);  // pools and pooler: their kinds' tables
}

}  // namespace

TEST_CASE("every field of every table round-trips for every built-in and example scenario", "[scenario]") {
    namespace fs = std::filesystem;
    const fs::path root = DBPOOLSIM_SOURCE_DIR;
    int n = 0;
    for (const auto& dir : {root / "python/dbpoolsim/scenarios", root / "experiments/scenarios"}) {
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            if (e.path().extension() != ".json") continue;
            std::ifstream in(e.path());
            std::stringstream text;
            text << in.rdbuf();
            INFO(e.path().string());
            round_trips(text.str(), e.path().parent_path().string());
            ++n;
        }
    }
    CHECK(n >= 30);
    // Every field away from its default, every arrival kind, fault kind and fleet kind.
    round_trips(R"({"name": "all", "description": "every field",
        "run": {"horizon_s": 50, "warmup_s": 5, "replications": 2, "seed": 99, "sample_interval_s": 0.5},
        "workload": {"arrivals": {"kind": "poisson", "profile": {"shape": "linear", "points": [
                         {"at_s": 0, "rate_per_s": 1}, {"at_s": 5, "rate_per_s": 3}]}},
                     "transactions": [{"name": "a", "weight": 2, "queries": 3, "query_time": {"kind": "constant", "value_s": 0.01},
                                       "app_time": {"kind": "constant", "value_s": 0.001}, "pool": "r", "read_only": true,
                                       "leak_probability": 0.1, "leak_hold_time": {"kind": "constant", "value_s": 1}}]},
        "client": {"instances": 2, "deadline_s": 3, "retry_attempts": 4, "initial_retry_delay": 0.3, "max_retry_delay": 5,
                   "retry_jitter_factor": 0.2, "retry_multiplier": 3, "circuit_breaker_threshold": 5,
                   "circuit_breaker_timeout": 7, "circuit_breaker_reset": 3, "statement_timeout_s": 2},
        "pools": {"r": {"kind": "generic", "min_connections": 1, "idle_order": "fifo"}},
        "pooler": {"kind": "pgbouncer", "default_pool_size": 7},
        "database": {"cores": 4, "max_connections": 50, "network_rtt_s": 0.001, "connect_cpu_s": 0.002,
                     "accept_rate_per_s": 100, "idle_session_timeout_s": 60, "tcp_keepalive_s": 100,
                     "usl": {"sigma": 0.1, "kappa": 0.01}},
        "network": {"nat_idle_timeout_s": 300, "nat_drop": "reset", "socket_timeout_s": 10, "connect_timeout_s": 5},
        "faults": [{"kind": "restart", "at_s": 1, "duration_s": 2}, {"kind": "connect_errors", "at_s": 1, "duration_s": 2, "probability": 0.5},
                   {"kind": "slow_queries", "at_s": 1, "duration_s": 2, "factor": 3}, {"kind": "kill_connections", "at_s": 4, "fraction": 0.5}],
        "fleet": [{"kind": "rolling_deploy", "at_s": 10, "batch": 2, "interval_s": 5, "ready_after_s": 1},
                  {"kind": "scale", "at_s": 30, "instances": 3}]})", "");
    round_trips(R"({"workload": {"arrivals": {"kind": "mmpp", "states": [{"rate_per_s": 5, "mean_holding_s": 2},
                    {"rate_per_s": 0, "mean_holding_s": 1}], "initial_state": 1}}})", "");
    round_trips(R"({"workload": {"arrivals": {"kind": "burst", "count": 3, "at_s": 2, "every_s": 4}}})", "");
    round_trips(R"({"workload": {"arrivals": {"kind": "closed_loop", "users": 3, "think_time": {"kind": "constant", "value_s": 0.5}}}})", "");
}
