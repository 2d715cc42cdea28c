// HikariCP 6.x's parameters: defaults, the silent resets HikariConfig.validate() applies, the
// values it rejects, and the example scenario (../shared/spec/pool-algorithms.md §1). The
// pool's behaviour, event by event, is in test_hikaricp.cpp.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "models/pool/hikaricp.hpp"
#include "sim/error.hpp"
#include "support/scenarios.hpp"

using namespace dbpoolsim;

namespace {

std::vector<std::string> problems_of(const std::string& pool) { return test::pool_problems(pool); }

const models::hikaricp_params& params_of(const std::string& pool) {
    return test::pool_params<models::hikaricp_params>(pool);
}

}  // namespace

TEST_CASE("HikariCP parameters resolve to the library's defaults", "[pool][hikaricp]") {
    const auto& p = params_of(R"({"kind": "hikaricp"})");
    CHECK(p.maximumPoolSize == 10);
    CHECK(p.minimumIdle == 10);
    CHECK(p.connectionTimeout == 30000);
    CHECK(p.validationTimeout == 5000);
    CHECK(p.idleTimeout == 600000);
    CHECK(p.maxLifetime == 1800000);
    CHECK(p.keepaliveTime == 0);
    CHECK(p.initializationFailTimeout == 1);
    CHECK(p.housekeepingPeriodMs == 30000);
    CHECK(p.aliveBypassWindowMs == 500);

    // The resolved scenario spells every parameter out and resolves to itself.
    const auto s = models::scenario_from_json(R"({"pool": {"kind": "hikaricp", "maximumPoolSize": 20}})");
    const std::string text = models::scenario_to_json(s);
    for (const char* k : {"\"maximumPoolSize\": 20", "\"minimumIdle\": 20", "\"connectionTimeout\": 30000",
                          "\"validationTimeout\": 5000", "\"idleTimeout\": 600000",
                          "\"maxLifetime\": 1800000", "\"keepaliveTime\": 0",
                          "\"initializationFailTimeout\": 1", "\"housekeepingPeriodMs\": 30000",
                          "\"aliveBypassWindowMs\": 500"})
        CHECK(text.find(k) != std::string::npos);
    CHECK(models::scenario_to_json(models::scenario_from_json(text)) == text);
}

TEST_CASE("HikariCP's silent resets are reproduced", "[pool][hikaricp]") {
    // minimumIdle: unset or > maximumPoolSize → maximumPoolSize (validateNumerics).
    CHECK(params_of(R"({"kind": "hikaricp", "maximumPoolSize": 20})").minimumIdle == 20);
    CHECK(params_of(R"({"kind": "hikaricp", "minimumIdle": 30})").minimumIdle == 10);
    CHECK(params_of(R"({"kind": "hikaricp", "minimumIdle": 0})").minimumIdle == 0);
    // connectionTimeout 0 → Integer.MAX_VALUE (setConnectionTimeout).
    CHECK(params_of(R"({"kind": "hikaricp", "connectionTimeout": 0})").connectionTimeout == 2147483647);
    // maxLifetime in (-inf, 30 s) other than 0 → 30 min.
    CHECK(params_of(R"({"kind": "hikaricp", "maxLifetime": 20000})").maxLifetime == 1800000);
    CHECK(params_of(R"({"kind": "hikaricp", "maxLifetime": -5})").maxLifetime == 1800000);
    CHECK(params_of(R"({"kind": "hikaricp", "maxLifetime": 0})").maxLifetime == 0);
    // keepaliveTime < 30 s, or >= maxLifetime → disabled; the later-release default is fine.
    CHECK(params_of(R"({"kind": "hikaricp", "keepaliveTime": 20000})").keepaliveTime == 0);
    CHECK(params_of(R"({"kind": "hikaricp", "keepaliveTime": 1800000})").keepaliveTime == 0);
    CHECK(params_of(R"({"kind": "hikaricp", "keepaliveTime": 120000})").keepaliveTime == 120000);
    CHECK(params_of(R"({"kind": "hikaricp", "keepaliveTime": 120000, "maxLifetime": 0})").keepaliveTime == 120000);
    // idleTimeout: + 1 s > maxLifetime → 0; in (0, 10 s) → 10 min; both only if minIdle < max.
    CHECK(params_of(R"({"kind": "hikaricp", "minimumIdle": 2, "maxLifetime": 600000})").idleTimeout == 0);
    CHECK(params_of(R"({"kind": "hikaricp", "maxLifetime": 600000})").idleTimeout == 600000);  // fixed pool
    CHECK(params_of(R"({"kind": "hikaricp", "minimumIdle": 2, "idleTimeout": 5000})").idleTimeout == 600000);
    CHECK(params_of(R"({"kind": "hikaricp", "idleTimeout": 5000})").idleTimeout == 5000);  // fixed: inert
    CHECK(params_of(R"({"kind": "hikaricp", "minimumIdle": 2, "idleTimeout": 0})").idleTimeout == 0);
    // Integral floats are integers; the system properties take any value the JVM would.
    CHECK(params_of(R"({"kind": "hikaricp", "connectionTimeout": 1000.0})").connectionTimeout == 1000);
    CHECK(params_of(R"({"kind": "hikaricp", "aliveBypassWindowMs": -1})").aliveBypassWindowMs == -1);
}

TEST_CASE("HikariCP parameters the library rejects are errors naming the path and the value", "[pool][hikaricp]") {
    using V = std::vector<std::string>;
    CHECK(problems_of(R"({"kind": "hikaricp", "connectionTimeout": 100})") ==
          V{"/pool/connectionTimeout: must be 0 (no timeout) or >= 250: HikariCP rejects it "
            "(\"connectionTimeout cannot be less than 250ms\"), got 100"});
    CHECK(problems_of(R"({"kind": "hikaricp", "validationTimeout": 249})") ==
          V{"/pool/validationTimeout: must be >= 250: HikariCP rejects it (\"validationTimeout "
            "cannot be less than 250ms\"), got 249"});
    CHECK(problems_of(R"({"kind": "hikaricp", "idleTimeout": -1})") ==
          V{"/pool/idleTimeout: must be >= 0: HikariCP rejects it (\"idleTimeout cannot be "
            "negative\"), got -1"});
    CHECK(problems_of(R"({"kind": "hikaricp", "maximumPoolSize": 0})") ==
          V{"/pool/maximumPoolSize: must be >= 1, got 0"});
    CHECK(problems_of(R"({"kind": "hikaricp", "minimumIdle": -1})") ==
          V{"/pool/minimumIdle: must be >= 0, got -1"});
    CHECK(problems_of(R"({"kind": "hikaricp", "housekeepingPeriodMs": 0})") ==
          V{"/pool/housekeepingPeriodMs: must be > 0 (the housekeeper's fixed delay), got 0"});
    CHECK(problems_of(R"({"kind": "hikaricp", "maxLifetime": "30m"})") ==
          V{"/pool/maxLifetime: must be an integer number of milliseconds, got a string \"30m\""});
    CHECK(problems_of(R"({"kind": "hikaricp", "idleTimeout": 0.5})") ==
          V{"/pool/idleTimeout: must be an integer number of milliseconds, got a number 0.5"});
    CHECK(problems_of(R"({"kind": "hikaricp", "version": "5.1"})") ==
          V{"/pool/version: must be one of 6.0.0, 2.7.9, got \"5.1\""});
    CHECK(problems_of(R"({"kind": "hikaricp", "wakeup_latency_s": -1})") ==
          V{"/pool/wakeup_latency_s: must be >= 0, got -1"});
    CHECK(problems_of(R"({"kind": "hikaricp", "setup_s": -0.001})") ==
          V{"/pool/setup_s: must be >= 0, got -0.001"});
    CHECK(problems_of(R"({"kind": "hikaricp", "failed_attempt_s": "x"})").size() == 1);
    const auto unknown = problems_of(R"({"kind": "hikaricp", "maximumPoolsize": 5})");
    REQUIRE(unknown.size() == 1);
    CHECK(unknown[0].find("/pool/maximumPoolsize: unknown key") == 0);
    CHECK(unknown[0].find("maximumPoolSize") != std::string::npos);
    // Every problem at once.
    CHECK(problems_of(R"({"kind": "hikaricp", "connectionTimeout": 1, "validationTimeout": 1})").size() == 2);
}

TEST_CASE("the HikariCP example scenario loads", "[pool][hikaricp]") {
    std::ifstream in(std::string(DBPOOLSIM_SOURCE_DIR) + "/experiments/scenarios/hikaricp.json");
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    const auto s = models::scenario_from_json(ss.str());
    CHECK(s.pool.kind == "hikaricp");
    const auto& p = dynamic_cast<const models::hikaricp_params&>(*s.pool.params);
    CHECK(p.maximumPoolSize == 10);
    CHECK(p.minimumIdle == 10);
}
