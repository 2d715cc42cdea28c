// Scenario JSON: strict in, resolved out, every problem reported at once with its path.
#include <catch2/catch.hpp>

#include "models/scenario.hpp"
#include "sim/error.hpp"
#include "support/scenarios.hpp"

using namespace dbpoolsim;

namespace {
std::vector<std::string> problems_of(const std::string& text) { return test::scenario_problems(text); }
}  // namespace

TEST_CASE("an empty object is the default scenario", "[scenario]") {
    const auto s = models::scenario_from_json("{}");
    CHECK(models::scenario_to_json(s) == models::scenario_to_json(models::default_scenario()));
}

TEST_CASE("the resolved scenario round-trips exactly", "[scenario]") {
    const std::string text = R"({"name": "x", "workload": {"transactions": [
        {"name": "r", "weight": 3, "queries": 2, "query_time": {"kind": "lognormal", "median_s": 0.004, "p99_s": 0.04},
         "app_time": {"kind": "mixture", "components": [{"weight": 1, "dist": {"kind": "constant", "value_s": 0.001}},
                                                       {"weight": 2, "dist": {"kind": "empirical", "samples_s": [0.1, 0.2]}}]}}]},
        "pool": {"kind": "generic", "min_connections": 3, "idle_order": "fifo"}})";
    const auto once = models::scenario_to_json(models::scenario_from_json(text));
    const auto twice = models::scenario_to_json(models::scenario_from_json(once));
    CHECK(once == twice);
}

TEST_CASE("every problem is reported at once, each naming its JSON path and value", "[scenario]") {
    const auto p = problems_of(R"({
        "run": {"horizon_s": "abc", "replications": 0},
        "workload": {"arrivals": {"kind": "poisson", "rate_per_s": -5},
                     "transactions": [{"query_time": {"kind": "exponential", "mean_s": -1}}]},
        "pool": {"kind": "generic", "max_conections": 5, "min_connections": 60},
        "database": {"cores": 1.5},
        "extra": true})");
    CHECK(p == std::vector<std::string>{
                   "/run/horizon_s: must be a number, got a string \"abc\"",
                   "/run/replications: must be >= 1, got 0",
                   "/workload/arrivals/rate_per_s: must be > 0, got -5",
                   "/workload/transactions/0/query_time/mean_s: must be > 0 and finite, got -1",
                   "/pool/min_connections: must be <= max_connections (50), got 60",
                   "/pool/max_conections: unknown key (did you mean max_connections?)",
                   "/database/cores: must be an integer, got a number 1.5",
                   "/extra: unknown key",
               });
}

TEST_CASE("scenario errors name the offending value", "[scenario]") {
    CHECK(problems_of(R"({"pool": {"kind": "generic", "max_connections": 0}})") ==
          std::vector<std::string>{"/pool/max_connections: must be >= 1, got 0"});
    {
        // The list names every registered kind (it grows with each policy).
        const auto p = problems_of(R"({"pool": {"kind": "hikari"}})");
        REQUIRE(p.size() == 1);
        CHECK(p[0].rfind("/pool/kind: must be one of ", 0) == 0);
        CHECK(p[0].find("generic") != std::string::npos);
        CHECK(p[0].substr(p[0].size() - 12) == "got \"hikari\"");
    }
    CHECK(problems_of(R"({"run": {"horizon_s": 10, "warmup_s": 10}})") ==
          std::vector<std::string>{"/run/warmup_s: must be < horizon_s (10), got 10"});
    CHECK(problems_of(R"({"workload": {"transactions": []}})") ==
          std::vector<std::string>{"/workload/transactions: must be a non-empty array of transaction classes, got []"});
    CHECK(problems_of(R"({"database": {"connect_time": {"kind": "lognormal", "median_s": 0.04, "p99_s": 0.004}}})") ==
          std::vector<std::string>{"/database/connect_time/p99_s: must be > median_s (0.04), got 0.004"});
    CHECK(problems_of(R"({"database": {"connect_time": {"kind": "gaussian"}}})") ==
          std::vector<std::string>{"/database/connect_time/kind: must be one of constant, exponential, lognormal, gamma, weibull, pareto, uniform, empirical, mixture, sequence, got \"gaussian\""});
    CHECK(problems_of(R"({"database": {"connect_time": {"kind": "uniform", "low_s": 1}}})") ==
          std::vector<std::string>{"/database/connect_time/high_s: missing (required for uniform)"});
    CHECK(problems_of(R"([1, 2])") == std::vector<std::string>{"/: must be an object, got an array [1,2]"});
    CHECK(problems_of("{\"run\": ") .size() == 1);
    CHECK(problems_of("{\"run\": ").front().rfind("/: invalid JSON: parse error at line 1, column 9", 0) == 0);
}

TEST_CASE("a closed loop in which nothing takes time is rejected", "[scenario]") {
    CHECK(problems_of(R"({"workload": {"arrivals": {"kind": "closed_loop", "users": 2, "think_time": {"kind": "constant", "value_s": 0}},
                          "transactions": [{"query_time": {"kind": "constant", "value_s": 0}}]},
                          "database": {"network_rtt_s": 0}})") ==
          std::vector<std::string>{"/workload/arrivals/think_time: a closed loop needs think time or transactions "
                                   "that take time: with zero think time, zero query and app time and zero "
                                   "network_rtt_s the clock never advances"});
}

TEST_CASE("an integral number is accepted where an integer is expected", "[scenario]") {
    const auto s = models::scenario_from_json(R"({"run": {"replications": 3.0}})");
    CHECK(s.run.replications == 3);
    CHECK(problems_of(R"({"run": {"replications": 2.5}})") ==
          std::vector<std::string>{"/run/replications: must be an integer, got a number 2.5"});
}
