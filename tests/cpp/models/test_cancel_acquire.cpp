// pool_policy::cancel_acquire on every application pool kind, driven by a scripted host:
// a request that stops wanting a connection leaves the pool's wait queue (its acquire timeout
// with it), is never granted nor failed, and the pool serves the others as if it had never
// asked. sqlx and asyncpg also drop an acquire whose own login is in flight (a dropped
// future, a cancelled task), as their libraries do.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support/scripted_host.hpp"

using namespace dbpoolsim;

namespace {

/// Logins take connect_s, round trips 1 ms, a granted request holds its connection 1 s.
struct script_host : test::scripted_host {
    explicit script_host(const std::string& pool_json, double connect = 0.1) : scripted_host(pool_json) {
        connect_s = connect;
        start();
    }
};

}  // namespace

TEST_CASE("cancel_acquire: a waiting request leaves the queue and its timeout; the next one is served",
          "[pool][cancel]") {
    // One connection, warm at t = 1. Requests 0, 1, 2 at t = 1: 0 is served (held 1 s), 1 and
    // 2 wait. Request 1 gives up at 1.3; its 1.5 s acquire timeout (2.5) must not fire. At
    // about 2.0 the connection goes to request 2, not 1; request 3 at 4.0 is served too.
    const auto pool_json = GENERATE(
        std::string(R"({"kind": "generic", "min_connections": 1, "max_connections": 1, "acquisition_timeout": 1.5,
                        "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0})"),
        std::string(R"({"kind": "hikaricp", "maximumPoolSize": 1, "minimumIdle": 1, "connectionTimeout": 1500})"),
        std::string(R"({"kind": "sqlalchemy_queuepool", "pool_size": 1, "max_overflow": 0, "pool_timeout": 1.5})"),
        std::string(R"({"kind": "psycopg_pool", "min_size": 1, "max_size": 1, "timeout": 1.5})"),
        std::string(R"({"kind": "sqlx", "max_connections": 1, "min_connections": 1, "acquire_timeout": 1.5})"),
        std::string(R"({"kind": "asyncpg", "min_size": 1, "max_size": 1, "timeout": 1.5})"));
    INFO(pool_json);
    script_host h(pool_json);
    h.run_until(0.9);
    for (std::uint32_t r = 0; r < 3; ++r) h.arrive_at(1.0, r);
    h.cancel_at(1.3, 1);
    h.arrive_at(4.0, 3);
    h.run_until(1.29);
    CHECK(h.pool->counts().waiters == 2);
    h.run_until(1.31);
    REQUIRE(h.cancelled == std::vector<bool>{true});
    CHECK(h.pool->counts().waiters == 1);
    h.run_until(6.0);
    CHECK(h.granted() == std::vector<std::uint32_t>{0, 2, 3});
    CHECK(h.fails.empty());
    CHECK(h.grants[1].t >= 2.0);
    CHECK(h.grants[1].t < 2.5);
    CHECK(h.pool->counts().waiters == 0);
}

TEST_CASE("cancel_acquire: a request that is not acquiring is not cancelled", "[pool][cancel]") {
    script_host h(R"({"kind": "generic", "min_connections": 1, "max_connections": 1, "acquisition_timeout": 1.5,
                      "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0})");
    h.arrive_at(1.0, 0);
    h.cancel_at(1.5, 0);  // it holds the connection
    h.cancel_at(1.5, 7);  // it never asked
    h.run_until(3.0);
    CHECK(h.cancelled == std::vector<bool>{false, false});
    CHECK(h.granted() == std::vector<std::uint32_t>{0});
}

TEST_CASE("cancel_acquire: sqlx and asyncpg drop an acquire whose own login is in flight", "[pool][cancel]") {
    // Empty pool of 1, logins take 1 s. Request 0 at 0 starts a login (its own in asyncpg's
    // inline connect; under its permit in sqlx) and gives up at 0.3. Request 1 at 0.5 must
    // get a connection, and request 0 nothing.
    const auto pool_json = GENERATE(
        std::string(R"({"kind": "sqlx", "max_connections": 1, "min_connections": 0, "acquire_timeout": 5})"),
        std::string(R"({"kind": "asyncpg", "min_size": 0, "max_size": 1, "timeout": 5})"));
    INFO(pool_json);
    script_host h(pool_json, 1.0);
    h.arrive_at(0.0, 0);
    h.cancel_at(0.3, 0);
    h.arrive_at(0.5, 1);
    h.run_until(4.0);
    CHECK(h.cancelled == std::vector<bool>{true});
    CHECK(h.granted() == std::vector<std::uint32_t>{1});
    CHECK(h.fails.empty());
    CHECK(h.pool->counts().total <= 1);
}

TEST_CASE("cancel_acquire: Go's cancelled context leaves the waiter set; pg-pool cannot take a connect() back",
          "[pool][cancel]") {
    // One connection, opened by request 0 at 1.0 (logins 0.1 s: granted 1.1, held 1 s). Requests
    // 1 and 2 wait from 1.0; 1 gives up at 1.3. At 2.1 the connection goes to 2 (Go: the only
    // waiter left, however it is drawn). node-postgres has no cancellation: 1 is still served.
    SECTION("go_database_sql") {
        script_host h(R"({"kind": "go_database_sql", "max_open_conns": 1})");
        for (std::uint32_t r = 0; r < 3; ++r) h.arrive_at(1.0, r);
        h.cancel_at(1.3, 1);
        h.cancel_at(1.4, 0);  // holding its connection: not acquiring
        h.run_until(5);
        CHECK(h.cancelled == std::vector<bool>{true, false});
        CHECK(h.granted() == std::vector<std::uint32_t>{0, 2});
        CHECK(h.fails.empty());
        CHECK(h.pool->counts().waiters == 0);
    }
    SECTION("go_database_sql: during an inline login (abandoned)") {
        script_host h(R"({"kind": "go_database_sql"})");
        h.arrive_at(1.0, 0);
        h.cancel_at(1.05, 0);
        h.run_until(5);
        CHECK(h.cancelled == std::vector<bool>{true});
        CHECK(h.grants.empty());
        CHECK(h.pool->counts().total == 0);
    }
    SECTION("node_postgres") {
        script_host h(R"({"kind": "node_postgres", "max": 1})");
        for (std::uint32_t r = 0; r < 3; ++r) h.arrive_at(1.0, r);
        h.cancel_at(1.3, 1);
        h.run_until(5);
        CHECK(h.cancelled == std::vector<bool>{false});
        CHECK(h.granted() == std::vector<std::uint32_t>{0, 1, 2});
    }
}
