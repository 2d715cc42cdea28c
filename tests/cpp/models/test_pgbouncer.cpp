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
                                double rtt_s = 0, int instances = 1, const std::string& app_pool = "",
                                const std::string& faults = "[]") {
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
        R"(}, "network_rtt_s": )" + std::to_string(rtt_s) + R"(}, "faults": )" + faults + "}");
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
                           "\"server_check_delay\":30.0", "\"server_check_query\":\"<empty>\"", "\"pool_mode\":\"transaction\"",
                           "\"server_reset_query\":\"DISCARD ALL\"", "\"server_reset_query_always\":false"}) {
        INFO(kv);
        CHECK(j.find(kv) != std::string::npos);
    }
    CHECK(models::scenario_to_json(models::scenario_from_json("{}"), -1).find("\"pooler\":null") != std::string::npos);
    try {
        models::scenario_from_json(R"({"pooler": {"kind": "pgbouncer", "pool_mode": "statement", "default_pool_size": 0}})");
        FAIL("no error");
    } catch (const config_error& e) {
        CHECK(e.problems() == std::vector<std::string>{
                                  "/pooler/pool_mode: only transaction and session pooling are modelled, got \"statement\"",
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

// ---- issue 11: failed logins (docs/design/fidelity-review.md items 1-3, 7) ---------------------

namespace {

/// docs/design/fidelity-review.md item 1's setup: generic pools (min 5, max 20) behind
/// PgBouncer (default_pool_size 5), Poisson 50/s, 20 ms queries, logins 50 ms, rtt 2 ms.
models::scenario review_setup(const std::string& fault, const std::string& pgbouncer_extra, double horizon_s,
                              const std::string& network = "{}") {
    return models::scenario_from_json(
        R"({"run": {"horizon_s": )" + std::to_string(horizon_s) +
        R"(, "warmup_s": 30, "replications": 1, "seed": 3, "sample_interval_s": 0.1},
            "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 50},
                         "transactions": [{"query_time": {"kind": "constant", "value_s": 0.02}}]},
            "pool": {"kind": "generic", "min_connections": 5, "max_connections": 20},
            "pooler": {"kind": "pgbouncer", "default_pool_size": 5)" + pgbouncer_extra + R"(},
            "database": {"connect_time": {"kind": "constant", "value_s": 0.05}, "network_rtt_s": 0.002},
            "network": )" + network + R"(,
            "faults": [)" + fault + "]}");
}

/// Failed requests per sample interval, summed over sample times in (from, to].
double failures_between(const models::replication_result& r, double from, double to) {
    const std::size_t f = test::column(r, "failures"), t = test::column(r, "t_s");
    double n = 0;
    for (std::size_t i = 0; i < r.series.rows(); ++i)
        if (r.series.at(i, t) > from + 1e-9 && r.series.at(i, t) <= to + 1e-9) n += r.series.at(i, f);
    return n;
}

}  // namespace

TEST_CASE("after a failed login PgBouncer relaunches from the fast-fail path, one login per server_login_retry",
          "[pool][pgbouncer][faults]") {
    // Item 1: a 5 s restart at 40 s. The first login after it is refused (57P03); from then on
    // queries fast-fail, and each fast-fail tries to launch (check_fast_fail), which the
    // server_login_retry gate (15 s since the failed login STARTED, ~40.0) lets through at the
    // first query after ~55.0; that login succeeds (the database is back since 45.0). So the
    // failures are the Poisson arrivals of [40.0, ~55.05]: 50/s x 15 s = 750, sd 27; the
    // tolerance 670..830 is +-3 sd. None after 55.2. (Without the relaunch: ~2,000 fail,
    // through the end of the run.)
    const auto r = models::run_replication(review_setup(R"({"kind": "restart", "at_s": 40, "duration_s": 5})", "", 80), 0);
    const double failed = r.metric("offered") - r.metric("completed") - r.metric("in_flight");
    CHECK(failed >= 670);
    CHECK(failed <= 830);
    CHECK(failures_between(r, 30, 40) == 0);
    CHECK(failures_between(r, 55.2, 80) == 0);
    CHECK(r.metric("failed_pooler_timeout") == 0);
}

TEST_CASE("only a login ErrorResponse other than 57P03 disconnects PgBouncer's waiting clients", "[pool][pgbouncer][faults]") {
    // docs/pools/pgbouncer-session.md section 5 item 7. No server yet; one query every 2 s from
    // t = 10 (its app connection logs in to PgBouncer in 1 ms), rtt 2 ms, server logins 50 ms.
    const std::string every_2s = R"({"kind": "burst", "count": 1, "at_s": 10, "every_s": 2})";
    SECTION("a restart's 57P03 only sets the flags: the first client stays queued") {
        // The login for C1 (10.001) is refused at 10.003 (57P03): C1 stays queued; the queries
        // of 12 ... 24 fast-fail (7); the janitor launches the next login at its first tick
        // 15 s after 10.001, 76/3 = 25.333, which succeeds: C1 is served at 25.383 (waited
        // 15.382 s), the queries of 26 and 28 at once.
        const auto r = models::run_replication(
            with_pgbouncer(every_2s, 0.02, R"({"kind": "pgbouncer", "default_pool_size": 5})", 30.0, 0.05, 1000, 0.002,
                           1, "", R"([{"kind": "restart", "at_s": 9.9, "duration_s": 10}])"),
            0);
        CHECK(r.metric("failed_connect_error") == 7);
        CHECK(r.metric("completed") == 3);
        CHECK(r.metric("pooler_wait_max_ms") == Approx(15382).epsilon(1e-4));
    }
    SECTION("any other ErrorResponse with no server disconnects them") {
        // connect_errors (an ErrorResponse after the startup packet): the login for C1 fails at
        // 10.051 and C1 is disconnected with it; 12 ... 24 fast-fail; the query of 26 fast-fails
        // too but launches a login (15 s since 10.001), which succeeds: the query of 28 is served.
        const auto r = models::run_replication(
            with_pgbouncer(every_2s, 0.02, R"({"kind": "pgbouncer", "default_pool_size": 5})", 30.0, 0.05, 1000, 0.002,
                           1, "", R"([{"kind": "connect_errors", "at_s": 9.9, "duration_s": 10, "probability": 1}])"),
            0);
        CHECK(r.metric("failed_connect_error") == 9);
        CHECK(r.metric("completed") == 1);
    }
}

TEST_CASE("a PgBouncer server login ends after server_connect_timeout, flags only", "[pool][pgbouncer][faults]") {
    // docs/pools/pgbouncer-session.md section 5 item 8: a failover from 9.9 lasting 30 s, one
    // query every 2 s from 10. The login for C1 (10.001) hangs and ends at 25.001
    // (server_connect_timeout 15 s): flags only, the 8 queued clients (10 ... 24) stay. The
    // next login starts at the janitor tick 25.333 and ends at 40.333 (still started during
    // the failover); the one after, at the tick 40.333 or 40.667, reaches the new primary:
    // the 8 queued clients are served by 40.8 (C1 waited 30.4 to 30.8 s). Queries arriving
    // between the two (26 ... 40) fast-fail; 42 ... 48 are served. (Without the timeout the
    // first login would hang until 137.)
    const auto r = models::run_replication(
        with_pgbouncer(R"({"kind": "burst", "count": 1, "at_s": 10, "every_s": 2})", 0.02,
                       R"({"kind": "pgbouncer", "default_pool_size": 5})", 50.0, 0.05, 1000, 0.002, 1, "",
                       R"([{"kind": "failover", "at_s": 9.9, "duration_s": 30}])"),
        0);
    CHECK(r.metric("failed_connect_error") == 8);
    CHECK(r.metric("failed_pooler_timeout") == 0);
    CHECK(r.metric("completed") == 12);
    CHECK(r.metric("pooler_wait_max_ms") >= 30380);
    CHECK(r.metric("pooler_wait_max_ms") <= 30720);
}

TEST_CASE("PgBouncer drops an idle server the database closed at once", "[pool][pgbouncer][faults]") {
    // docs/pools/pgbouncer-session.md section 5 item 9: five servers from a burst of five 0.5 s
    // transactions at 1 (logins one at a time, 1.001 -> 1.501), idle from ~2.0; every backend
    // killed at 40.0. PgBouncer reads its idle server sockets, so it closes the five at once;
    // the five queries at 40.5 wait for new logins, one at a time (0.1 s each: 40.501 ->
    // 41.001, the last waits 0.5 s). (Servers idle 38 s > server_check_delay would also be
    // caught by the check query before use; without the notification they stay counted until
    // then, and with a smaller server_check_delay idle they would be handed out dead.)
    const auto r = models::run_replication(
        with_pgbouncer(R"({"kind": "burst", "count": 5, "at_s": 1, "every_s": 39.5})", 0.5,
                       R"({"kind": "pgbouncer", "default_pool_size": 5})", 42.0, 0.1, 1000, 0, 1, "",
                       R"([{"kind": "kill_connections", "at_s": 40, "fraction": 1}])"),
        0);
    CHECK(r.metric("failed") == 0);
    CHECK(r.metric("completed") == 10);
    CHECK(r.metric("pooler_servers_created") == 10);
    CHECK(at(r, "pooler_servers", 40.1) == 0);
    CHECK(r.metric("pooler_wait_max_ms") == Approx(500).epsilon(1e-3));
}

// ---- session pooling (docs/pools/pgbouncer-session.md sections 1 and 5) -------------------------

TEST_CASE("session pooling links a server to each client connection for the connection's life", "[pool][pgbouncer][session]") {
    // Section 5 item 1, with a fixed application pool of 5 (connected to PgBouncer at start)
    // and bursts of 5 at 10, 30 and 50. The first burst's queries need servers: logins one at
    // a time, 10.0-10.05 ... 10.2-10.25. From then on each application connection keeps its
    // server, idle or not: no login after 10.25, and server_idle_timeout / server_lifetime
    // (5 s here) never close a linked server. In transaction mode the same settings close the
    // idle servers and the later bursts log in again.
    // The application pool (fixed at 5) is given through with_pgbouncer's app_pool argument.
    auto run_fixed = [](const std::string& mode) {
        return models::run_replication(
            with_pgbouncer(R"({"kind": "burst", "count": 5, "at_s": 10, "every_s": 20})", 0.02,
                           R"({"kind": "pgbouncer", "pool_mode": ")" + mode +
                               R"(", "default_pool_size": 5, "server_idle_timeout": 5, "server_lifetime": 5})",
                           59.0, 0.05, 1000, 0.002, 1,
                           R"({"kind": "generic", "min_connections": 5, "max_connections": 5, "health_check_interval": 0})"),
            0);
    };
    const auto s = run_fixed("session");
    CHECK(s.metric("completed") == 15);
    CHECK(s.metric("pooler_servers_created") == 5);
    CHECK(at(s, "pooler_servers", 10.2) == 4);  // the fifth login in flight
    CHECK(at(s, "pooler_servers", 58.0) == 5);
    CHECK(s.metric("pooler_wait_max_ms") == Approx(250 - 1).margin(2));  // the fifth client: 10.001 -> 10.25x
    const auto t = run_fixed("transaction");
    CHECK(t.metric("completed") == 15);
    CHECK(t.metric("pooler_servers_created") > 5);
}

TEST_CASE("session pooling caps client connections, not transactions", "[pool][pgbouncer][session]") {
    // Section 5 item 2: default_pool_size 5, a fixed application pool of 8, a burst of 8 one-
    // second transactions at 10. Five first queries get servers (logins 10.0 ... 10.25); when
    // their transactions end the servers stay linked to their (now idle) client connections,
    // so the other 3 stay queued until query_wait_timeout: 10.001 + 120 s, at the janitor tick
    // after it (130.333). In transaction mode all 8 complete by about 12.3.
    auto run_mode = [](const std::string& mode) {
        return models::run_replication(
            with_pgbouncer(R"({"kind": "burst", "count": 8, "at_s": 10})", 1.0,
                           R"({"kind": "pgbouncer", "pool_mode": ")" + mode + R"(", "default_pool_size": 5})", 131.0,
                           0.05, 1000, 0.002, 1,
                           R"({"kind": "generic", "min_connections": 8, "max_connections": 8, "health_check_interval": 0})"),
            0);
    };
    const auto s = run_mode("session");
    CHECK(s.metric("completed") == 5);
    CHECK(s.metric("failed_pooler_timeout") == 3);
    CHECK(at(s, "pooler_waiting", 130.3) == 3);
    CHECK(at(s, "pooler_waiting", 130.4) == 0);
    const auto t = run_mode("transaction");
    CHECK(t.metric("completed") == 8);
    CHECK(t.metric("failed") == 0);
}

TEST_CASE("session pooling runs server_reset_query before a released server serves anyone", "[pool][pgbouncer][session]") {
    // Section 5 item 3: one server, two requests at 10 (one-second queries) on two application
    // connections whose max_lifetime is 1 s. A's login and query: server 10.001-10.051, query
    // until 11.053 (rtt 2 ms); A's connection is then past its lifetime and closed, which
    // releases its server: DISCARD ALL takes one round trip (11.053-11.055) before B gets it.
    // B waited 11.055 - 10.001 = 1.054 s; with server_reset_query "" 1.052 s.
    auto run_reset = [](const std::string& reset) {
        return models::run_replication(
            with_pgbouncer(R"({"kind": "burst", "count": 2, "at_s": 10})", 1.0,
                           R"({"kind": "pgbouncer", "pool_mode": "session", "default_pool_size": 1, "server_reset_query": ")" +
                               reset + R"("})",
                           14.0, 0.05, 1000, 0.002, 1,
                           R"({"kind": "generic", "min_connections": 0, "max_connections": 2, "max_lifetime": 1, "health_check_interval": 0})"),
            0);
    };
    const auto with_reset = run_reset("DISCARD ALL");
    const auto without = run_reset("");
    CHECK(with_reset.metric("completed") == 2);
    CHECK(with_reset.metric("pooler_wait_max_ms") == Approx(1054).epsilon(1e-4));
    CHECK(without.metric("pooler_wait_max_ms") == Approx(1052).epsilon(1e-4));
    CHECK(with_reset.metric("pooler_servers_created") == 1);
}
