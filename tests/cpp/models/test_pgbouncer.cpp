// PgBouncer (transaction pooling) as the shared tier: spec/pool-algorithms.md section 3.
// Constant times make every number exact; the comments derive them.
#include <catch2/catch.hpp>

#include "support/scenarios.hpp"

using namespace dbpoolsim;

namespace {

// App pools: grow-on-demand generic pools with no minimum, so app logins (1 ms to PgBouncer)
// happen only when requests need them.
models::scenario with_pgbouncer(const std::string& arrivals, double query_s, const std::string& pgbouncer,
                                double horizon_s, double db_connect_s = 0.1, int db_max = 1000,
                                double rtt_s = 0, int instances = 1, const std::string& app_pool = "") {
    const std::string pool = app_pool.empty()
        ? R"({"kind": "generic", "min_connections": 0, "max_connections": 50, "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0})"
        : app_pool;
    return models::scenario_from_json(
        R"({"run": {"horizon_s": )" + std::to_string(horizon_s) +
        R"(, "warmup_s": 0, "replications": 1, "seed": 1, "sample_interval_s": 0.1},
            "workload": {"arrivals": )" + arrivals + R"(,
                         "transactions": [{"query_time": {"kind": "constant", "value_s": )" + std::to_string(query_s) + R"(}}]},
            "client": {"instances": )" + std::to_string(instances) + R"(},
            "pool": )" + pool + R"(,
            "pooler": )" + pgbouncer + R"(,
            "database": {"cores": 0, "max_connections": )" + std::to_string(db_max) +
        R"(, "connect_time": {"kind": "constant", "value_s": )" + std::to_string(db_connect_s) +
        R"(}, "network_rtt_s": )" + std::to_string(rtt_s) + "}}");
}

using test::at;

}  // namespace

TEST_CASE("PgBouncer ramps from 0 to N servers one login at a time", "[pool][pgbouncer]") {
    // 10 requests at t = 1 hold their transaction 5 s. Their app connections log in to
    // PgBouncer at 1.001; PgBouncer has one server login in flight at a time (100 ms each):
    // request k gets a server at 1.001 + 0.1 k, so PgBouncer waits are 0.1 ... 1.0 s.
    const auto r = models::run_replication(
        with_pgbouncer(R"({"kind": "burst", "count": 10, "at_s": 1})", 5.0,
                       R"({"kind": "pgbouncer", "default_pool_size": 10})", 8.0),
        0);
    CHECK(r.metric("completed") == 10);
    CHECK(r.metric("pooler_servers_created") == 10);
    CHECK(r.metric("pooler_wait_max_ms") == Approx(1000).epsilon(1e-6));
    CHECK(r.metric("pooler_wait_avg_ms") == Approx(550).epsilon(1e-6));
    // At 1.3: logins done at 1.101 and 1.201, the third (done 1.301) in flight; 8 wait.
    CHECK(at(r, "pooler_servers", 1.3) == 3);
    CHECK(at(r, "pooler_waiting", 1.3) == 8);
    CHECK(r.metric("peak_backend_connections") == 10);
    CHECK(r.metric("pooler_peak_clients") == 10);
}

TEST_CASE("PgBouncer opens the reserve only after the oldest client waited reserve_pool_timeout", "[pool][pgbouncer]") {
    // pool 2 + reserve 2, reserve_pool_timeout 1 s, logins 10 ms. Six 10 s transactions at
    // t = 0.5: two servers by 0.521, four clients wait from 0.501. The head client has waited
    // 1 s at 1.501; the next janitor tick (every 1/3 s) is at 5/3 = 1.667: one reserve login
    // then (done 1.677), the second right after it (done 1.687). Never a fifth server.
    const auto r = models::run_replication(
        with_pgbouncer(R"({"kind": "burst", "count": 6, "at_s": 0.5})", 10.0,
                       R"({"kind": "pgbouncer", "default_pool_size": 2, "reserve_pool_size": 2, "reserve_pool_timeout": 1.0})",
                       12.0, 0.01),
        0);
    CHECK(at(r, "pooler_servers", 1.6) == 2);
    CHECK(at(r, "pooler_servers", 1.7) == 4);
    CHECK(at(r, "pooler_waiting", 1.7) == 2);
    CHECK(r.metric("pooler_peak_servers") == 4);
    // The two reserve-served clients waited from 0.501 to 1.677 and 1.687.
    CHECK(r.metric("pooler_wait_max_ms") == Approx(10000 + 20 - 1).margin(1.5));  // the last: 0.501 -> 10.52
}

TEST_CASE("without a reserve PgBouncer never exceeds default_pool_size", "[pool][pgbouncer]") {
    const auto r = models::run_replication(
        with_pgbouncer(R"({"kind": "burst", "count": 6, "at_s": 0.5})", 10.0,
                       R"({"kind": "pgbouncer", "default_pool_size": 2})", 12.0, 0.01),
        0);
    CHECK(r.metric("pooler_peak_servers") == 2);
}

TEST_CASE("a client queued longer than query_wait_timeout is disconnected at a janitor tick", "[pool][pgbouncer]") {
    // One server, three 10 s transactions at t = 1: two clients queue from 1.001. Their age
    // exceeds 2 s after 3.001; the janitor ticks at 10/3 = 3.333 and disconnects both. The
    // application's connections to PgBouncer die with them (closed as broken on the app side).
    const auto r = models::run_replication(
        with_pgbouncer(R"({"kind": "burst", "count": 3, "at_s": 1})", 10.0,
                       R"({"kind": "pgbouncer", "default_pool_size": 1, "query_wait_timeout": 2})", 12.0, 0.01),
        0);
    CHECK(r.metric("failed_pooler_timeout") == 2);
    CHECK(r.metric("completed") == 1);
    CHECK(r.metric("connections_closed_broken") == 2);
    CHECK(at(r, "pooler_waiting", 3.3) == 2);
    CHECK(at(r, "pooler_waiting", 3.4) == 0);
}

TEST_CASE("a server idle longer than server_check_delay is checked before reuse", "[pool][pgbouncer]") {
    // One request every 40 s, RTT 10 ms: after the first, each reuses the (LIFO) idle server
    // after 40 s > server_check_delay 30 s, so it runs the check query first: every later
    // PgBouncer wait is exactly one round trip.
    const auto r = models::run_replication(
        with_pgbouncer(R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 40})", 0.005,
                       R"({"kind": "pgbouncer", "default_pool_size": 5, "server_idle_timeout": 0})", 160.0, 0.1, 1000, 0.01),
        0);
    CHECK(r.metric("completed") == 4);  // at 1, 41, 81, 121
    CHECK(r.metric("pooler_servers_created") == 1);
    CHECK(r.metric("pooler_server_checks") == 3);
    CHECK(r.metric("pooler_wait_max_ms") == Approx(100).epsilon(1e-6));  // the first: one login
    SECTION("and with an empty server_check_query nothing is checked") {
        const auto q = models::run_replication(
            with_pgbouncer(R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 40})", 0.005,
                           R"({"kind": "pgbouncer", "default_pool_size": 5, "server_idle_timeout": 0, "server_check_query": ""})",
                           160.0, 0.1, 1000, 0.01),
            0);
        CHECK(q.metric("pooler_server_checks") == 0);
    }
}

TEST_CASE("server_lifetime closes are throttled to one per lifetime / pool size", "[pool][pgbouncer]") {
    // Two closed-loop users with 1 s transactions keep two servers busy from ~0.1 s. Both
    // reach server_lifetime 10 s at ~10.1 s; the gap is 10 / 2 = 5 s, so the first closes at
    // its next release and the second only 5 s later.
    auto lifetime = [](double horizon) {
        return models::run_replication(
            with_pgbouncer(R"({"kind": "closed_loop", "users": 2, "think_time": {"kind": "constant", "value_s": 0}})", 1.0,
                           R"({"kind": "pgbouncer", "default_pool_size": 2, "server_lifetime": 10})", horizon, 0.1),
            0);
    };
    CHECK(lifetime(14.0).metric("pooler_servers_closed_lifetime") == 1);
    CHECK(lifetime(17.0).metric("pooler_servers_closed_lifetime") == 2);
}

TEST_CASE("application connections beyond max_client_conn are refused", "[pool][pgbouncer]") {
    // Three instances with fixed app pools of 5: 15 app logins at start, PgBouncer takes 10.
    // (No traffic: with requests, the short-handed pools would retry the refused logins.)
    const auto r = models::run_replication(
        with_pgbouncer(R"({"kind": "burst", "count": 1, "at_s": 100})", 0.001,
                       R"({"kind": "pgbouncer", "max_client_conn": 10})", 5.0, 0.01, 1000, 0, 3,
                       R"({"kind": "generic", "min_connections": 5, "max_connections": 5, "health_check_interval": 0})"),
        0);
    CHECK(r.metric("pooler_rejected_clients") == 5);
    CHECK(r.metric("connection_errors") == 5);
    CHECK(r.metric("pooler_peak_clients") == 10);
}

TEST_CASE("a refused server login is retried only server_login_retry after it started", "[pool][pgbouncer]") {
    // The database accepts one connection. Three 5 s transactions at t = 1: the first login
    // (1.001 -> 1.101) serves request 1; the second login is refused at once (RTT 0) and
    // PgBouncer waits server_login_retry = 15 s before trying again, so requests 2 and 3 are
    // served by the one server when it is released: at 6.101 and 11.101 (waits 5.1 and
    // 10.1 s, recorded when the server is linked); request 3 is still running at 14 s.
    const auto r = models::run_replication(
        with_pgbouncer(R"({"kind": "burst", "count": 3, "at_s": 1})", 5.0,
                       R"({"kind": "pgbouncer", "default_pool_size": 5})", 14.0, 0.1, 1),
        0);
    CHECK(r.metric("completed") == 2);
    CHECK(r.metric("in_flight") == 1);
    CHECK(r.metric("pooler_login_errors") == 1);
    CHECK(r.metric("pooler_wait_max_ms") == Approx(10100).epsilon(1e-6));
    CHECK(r.metric("pooler_wait_p50_ms") == Approx(5100).epsilon(0.004));  // histogram bound 0.39 %
}

TEST_CASE("pgbouncer parameters resolve with pgbouncer.ini's defaults", "[pool][pgbouncer][scenario]") {
    const auto s = models::scenario_from_json(R"({"pooler": {"kind": "pgbouncer"}})");
    const std::string j = models::scenario_to_json(s, -1);
    for (const char* kv : {"\"default_pool_size\":20", "\"min_pool_size\":0", "\"reserve_pool_size\":0",
                           "\"reserve_pool_timeout\":5.0", "\"max_client_conn\":100", "\"server_idle_timeout\":600.0",
                           "\"server_lifetime\":3600.0", "\"server_login_retry\":15.0", "\"query_wait_timeout\":120.0",
                           "\"server_check_delay\":30.0", "\"server_check_query\":\"<empty>\"", "\"pool_mode\":\"transaction\""}) {
        INFO(kv);
        CHECK(j.find(kv) != std::string::npos);
    }
    CHECK(models::scenario_to_json(models::scenario_from_json("{}"), -1).find("\"pooler\":null") != std::string::npos);
    try {
        models::scenario_from_json(R"({"pooler": {"kind": "pgbouncer", "pool_mode": "session", "default_pool_size": 0}})");
        FAIL("no error");
    } catch (const config_error& e) {
        CHECK(e.problems() == std::vector<std::string>{
                                  "/pooler/pool_mode: only transaction pooling is modelled, got \"session\"",
                                  "/pooler/default_pool_size: must be >= 1, got 0"});
    }
}

TEST_CASE("pgbouncer: its one thread (cpu_per_transaction_s) caps throughput at 1 / cost",
          "[pool][pgbouncer]") {
    // 50 closed-loop clients with no think time, 1 us queries, 1 ms of PgBouncer CPU per
    // transaction: the thread is the only bottleneck, so throughput is 1,000/s and every
    // transaction waits for the 49 ahead of it (response 50 ms, Little: 50 / 1,000 s).
    const auto s = models::scenario_from_json(R"({
        "run": {"horizon_s": 21, "warmup_s": 1, "replications": 1, "seed": 8, "sample_interval_s": 10},
        "workload": {"arrivals": {"kind": "closed_loop", "users": 50,
                                  "think_time": {"kind": "constant", "value_s": 0}},
                     "transactions": [{"query_time": {"kind": "constant", "value_s": 0.000001}}]},
        "pool": {"kind": "psycopg_pool", "min_size": 50},
        "pooler": {"kind": "pgbouncer", "default_pool_size": 40, "cpu_per_transaction_s": 0.001,
                   "client_connect_time": {"kind": "constant", "value_s": 0}},
        "database": {"cores": 0, "network_rtt_s": 0,
                     "connect_time": {"kind": "constant", "value_s": 0.001}}})");
    const auto r = models::run(s, 1).replications.at(0);
    // Throughput counts requests that arrived in the 20 s window and completed: the 50 that
    // arrive in its last 50 ms are still in flight at the horizon, 19,950 / 20 = 997.5.
    CHECK(r.metric("throughput_per_s") == Approx(997.5).epsilon(0.001));
    CHECK(r.metric("latency_avg_ms") == Approx(50).epsilon(0.002));
    CHECK(r.metric("pooler_wait_avg_ms") == Approx(50).epsilon(0.002));
}
