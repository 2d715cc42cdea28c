// SQLAlchemy QueuePool's parameters: create_engine's names and defaults, the values it rejects,
// and the example scenario (../shared/spec/pool-algorithms.md §2). The pool's behaviour, event
// by event, is in test_sqlalchemy_queuepool.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "models/pool/sqlalchemy_queuepool.hpp"
#include "models/run.hpp"
#include "sim/error.hpp"
#include "support/scenarios.hpp"

using namespace dbpoolsim;

namespace {

std::vector<std::string> problems_of(const std::string& text) { return test::scenario_problems(text); }

}  // namespace

TEST_CASE("the JSON parameters take create_engine's names and defaults and resolve idempotently",
          "[pool][sqlalchemy_queuepool]") {
    const auto resolved = models::scenario_to_json(models::scenario_from_json(R"({"pool": {"kind": "sqlalchemy_queuepool"}})"));
    CHECK(resolved.find(R"("kind": "sqlalchemy_queuepool",
    "pool_size": 5,
    "max_overflow": 10,
    "pool_timeout": 30.0,
    "pool_recycle": -1.0,
    "pool_pre_ping": false,
    "pool_use_lifo": false,
    "pool_reset_on_return": "rollback",
    "reset_costs_round_trip": false,
    "wakeup_latency_s": 0.0)") != std::string::npos);
    CHECK(models::scenario_to_json(models::scenario_from_json(resolved)) == resolved);

    // pool_timeout None waits forever; reset_on_return accepts SQLAlchemy's aliases.
    const auto s = models::scenario_from_json(
        R"({"pool": {"kind": "sqlalchemy_asyncadaptedqueuepool", "pool_timeout": null, "pool_reset_on_return": false}})");
    const auto& p = static_cast<const models::sqlalchemy_queuepool_params&>(*s.pool.params);
    CHECK(std::isinf(p.pool_timeout));
    CHECK(p.pool_reset_on_return == "none");
    CHECK(p.asyncio);
    const auto again = models::scenario_to_json(s);
    CHECK(again.find(R"("pool_timeout": null)") != std::string::npos);
    CHECK(models::scenario_to_json(models::scenario_from_json(again)) == again);
    for (const auto& [given, name] : std::vector<std::pair<std::string, std::string>>{
             {"true", "rollback"}, {"null", "none"}, {R"("commit")", "commit"}, {R"("none")", "none"}}) {
        const auto t = models::scenario_from_json(R"({"pool": {"kind": "sqlalchemy_queuepool", "pool_reset_on_return": )" + given + "}}");
        CHECK(static_cast<const models::sqlalchemy_queuepool_params&>(*t.pool.params).pool_reset_on_return == name);
    }
}

TEST_CASE("bad QueuePool parameters are rejected with their path and value",
          "[pool][sqlalchemy_queuepool]") {
    CHECK(problems_of(R"({"pool": {"kind": "sqlalchemy_queuepool", "pool_size": -1, "max_overflow": -2,
                                   "pool_timeout": -1, "pool_recycle": -5, "pool_pre_ping": "yes",
                                   "pool_use_lifo": 1, "pool_reset_on_return": "sometimes",
                                   "reset_costs_round_trip": 0, "wakeup_latency_s": -0.1, "pool_sise": 3}})") ==
          std::vector<std::string>{
              "/pool/pool_size: must be >= 0, got -1",
              "/pool/max_overflow: must be >= -1, got -2",
              "/pool/pool_timeout: must be >= 0, got -1",
              "/pool/pool_recycle: must be >= -1, got -5",
              "/pool/pool_pre_ping: must be true or false, got a string \"yes\"",
              "/pool/pool_use_lifo: must be true or false, got a number 1",
              "/pool/pool_reset_on_return: must be one of rollback, commit, none (or true = rollback, "
              "false or null = none), got \"sometimes\"",
              "/pool/reset_costs_round_trip: must be true or false, got a number 0",
              "/pool/wakeup_latency_s: must be >= 0, got -0.1",
              "/pool/pool_sise: unknown key (did you mean pool_size?)",
          });
    CHECK(problems_of(R"({"pool": {"kind": "sqlalchemy_queuepool", "pool_timeout": "30"}})") ==
          std::vector<std::string>{"/pool/pool_timeout: must be a number, got a string \"30\""});
    CHECK(problems_of(R"({"pool": {"kind": "sqlalchemy_queuepool", "pool_size": 2.5}})") ==
          std::vector<std::string>{"/pool/pool_size: must be an integer, got a number 2.5"});
}

TEST_CASE("the example scenario for SQLAlchemy QueuePool validates and runs", "[pool][sqlalchemy_queuepool]") {
    std::ifstream in(std::string(DBPOOLSIM_SOURCE_DIR) + "/experiments/scenarios/sqlalchemy_queuepool.json");
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    auto s = models::scenario_from_json(text.str());
    CHECK(s.pool.kind == "sqlalchemy_queuepool");
    const auto& p = static_cast<const models::sqlalchemy_queuepool_params&>(*s.pool.params);
    CHECK(p.pool_size == 5);
    CHECK(p.max_overflow == 10);
    CHECK(p.pool_timeout == 30);
    s.run.horizon_s = 30;
    s.run.warmup_s = 5;
    const auto r = models::run_replication(s, 0);
    CHECK(r.metric("completed") > 0);
    CHECK(r.metric("failed") == 0);
    CHECK(r.metric("peak_connections") <= 4 * 15);
}
