// HikariCP 6.x, event by event, continued (../shared/spec/pool-algorithms.md §1.9 items 7-9:
// creation failures, the default pool and start-up; issue 11 item 6: the login timeout).
// Items 1-6 and the kinds of test: test_hikaricp.cpp.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/pool/hikaricp.hpp"
#include "sim/error.hpp"
#include "support/hikaricp_fake.hpp"

using namespace dbpoolsim;
using namespace dbpoolsim::test::hikaricp;

// ---- §1.9 item 7: creation failures ----------------------------------------------------------

TEST_CASE("failed logins back off 10 ms doubling to 5 s while idle < minimumIdle, and waiters time out after 30 s",
          "[pool][hikaricp]") {
    // The database takes one connection (max_connections 1); refusals take one 1 ms round
    // trip. minimumIdle 1 / max 2. At 1.0 s request A takes the start-up connection for 100 s
    // and request B waits: its creator's logins are refused at 1.0, 1.011, 1.032, 1.073,
    // 1.154, 1.315, 1.636, 2.277, 3.558, 6.119, then every 5.001 s (11.12, 16.121, 21.122,
    // 26.123, 31.124, 36.125): 16 by 40 s. B gets the timeout at exactly 31.0 s (no fast fail).
    // The creator keeps going after that because idle 0 < minimumIdle 1.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 2, "at_s": 1.0})",
                 R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 2})",
                 db(0.1, 0.001, 1), 100.0, 40.0, 0.5),
        0);
    CHECK(r.metric("connection_errors") == 16);
    CHECK(r.metric("rejected_logins") == 16);
    CHECK(r.metric("failed_acquire_timeout") == 1);
    CHECK(r.metric("failed_connect_error") == 0);
    CHECK(r.metric("wait_time_all_avg_ms") == Approx((1 + 30000) / 2.0).margin(1e-6));  // A: 1 ms check
    CHECK(at(r, "waiters", 30.5) == 1);
    CHECK(at(r, "waiters", 31.5) == 0);
}

TEST_CASE("the creator stops retrying once no one waits and idle >= minimumIdle", "[pool][hikaricp]") {
    // minimumIdle 0 / max 2: the start-up connection is closed at once ("minimumIdle is
    // zero"). At 1.0 s request A's creator gets the database's only connection (1.1 s); after
    // the 30 ms pause request B's creator is refused at 1.13, 1.141, ..., 26.253 s (14 times).
    // B times out at 31.0 s; at the next wake-up (31.254 s) waiters 0 > idle 0 is false and
    // idle 0 < minimumIdle 0 is false: the task ends. No more attempts.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 2, "at_s": 1.0})",
                 R"({"kind": "hikaricp", "minimumIdle": 0, "maximumPoolSize": 2})",
                 db(0.1, 0.001, 1), 100.0, 60.0, 0.5),
        0);
    CHECK(r.metric("connection_errors") == 14);
    CHECK(r.metric("failed_acquire_timeout") == 1);
    CHECK(r.metric("wait_time_all_avg_ms") == Approx((100 + 30000) / 2.0).margin(1e-6));
    CHECK(r.metric("connections_closed_overflow") == 1);
    CHECK(r.metric("connections_created") == 2);
}

TEST_CASE("waiters time out after connectionTimeout, in arrival order", "[pool][hikaricp]") {
    // A fixed pool of 1 with connectionTimeout 250 ms (the floor): three requests at 1.0 s,
    // the first holds the connection 1 s; the other two fail at exactly 1.25 s.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 3, "at_s": 1.0})",
                 R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 1, "connectionTimeout": 250})",
                 db(0, 0), 1.0, 2.5, 0.05),
        0);
    CHECK(r.metric("completed") == 1);
    CHECK(r.metric("failed_acquire_timeout") == 2);
    CHECK(r.metric("wait_time_all_avg_ms") == Approx((0 + 250 + 250) / 3.0));
    CHECK(at(r, "waiters", 1.2) == 2);
    CHECK(at(r, "waiters", 1.3) == 0);
}

// ---- §1.9 items 8 and 9: default fixed-size pool, start-up -------------------------------------

TEST_CASE("the default pool starts with one connection, fills to 10 one by one, and never retires", "[pool][hikaricp]") {
    // Defaults: maximumPoolSize 10, minimumIdle 10, idleTimeout 600 s (inert: minIdle = max).
    // 100 ms logins. Start-up connection 0 - 0.1 s; the housekeeper (0.2 s) queues 9 creators:
    // connection k (2..10) is ready at 0.3 + (k - 2) * 0.13 s, the last at 1.34 s. A burst of
    // 20 at 5 s cannot grow it; after 5.5 s all 10 stay idle to 700 s, none is retired.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 20, "at_s": 5.0})", R"({"kind": "hikaricp"})",
                 db(0.1, 0), 0.5, 700.0, 0.05),
        0);
    CHECK(at(r, "creating_connections", 0.05) == 1);
    CHECK(at(r, "idle_connections", 0.15) == 1);
    CHECK(at(r, "creating_connections", 0.15) == 0);
    CHECK(at(r, "creating_connections", 0.25) == 1);
    CHECK(at(r, "idle_connections", 0.35) == 2);
    CHECK(at(r, "idle_connections", 1.30) == 9);
    CHECK(at(r, "idle_connections", 1.35) == 10);
    CHECK(r.metric("peak_connections") == 10);
    CHECK(r.metric("wait_time_max_ms") == Approx(500).margin(1e-6));
    CHECK(at(r, "idle_connections", 699.0) == 10);
    CHECK(r.metric("connections_closed") == 0);
    CHECK(r.metric("connections_created") == 10);
}

TEST_CASE("requests that arrive while the pool is being built wait for its constructor", "[pool][hikaricp]") {
    // 150 ms logins, minimumIdle 1 / max 3; three 1 s requests at t = 0. The constructor's
    // connection is ready at 0.15 s: the first request gets it, the second starts the adder
    // (0.15 - 0.30 s), the third queues a creator (0.33 - 0.48 s): waits 150, 300, 480 ms.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 3, "at_s": 0})",
                 R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 3})", db(0.15, 0),
                 1.0, 2.0),
        0);
    CHECK(r.metric("wait_time_max_ms") == Approx(480).margin(1e-6));
    CHECK(r.metric("wait_time_avg_ms") == Approx((150 + 300 + 480) / 3.0).margin(1e-6));
    CHECK(r.metric("connections_created") == 3);
}

TEST_CASE("initializationFailTimeout decides what a failed start-up login does", "[pool][hikaricp]") {
    // The database refuses every login (after a 1 ms round trip). checkFailFast sleeps 1 s
    // after each failure and tries again while elapsed < initializationFailTimeout.
    SECTION("default 1 ms: one attempt, then the pool fails and every request with it") {
        fake_world w(fixed(10));
        w.login_ok = [](int) { return false; };
        w.start();
        w.arrive_at(0.5, 0);
        w.arrive_at(2.0, 1);
        w.run_until(10.0);
        CHECK(w.logins == 1);
        REQUIRE(w.fails.size() == 2);
        CHECK(w.fails[0].t == Approx(1.001));
        CHECK(w.fails[0].why == connect_error);
        CHECK(w.fails[1].t == Approx(2.0));
        CHECK(w.fails[1].why == connect_error);
    }
    SECTION("2500 ms: attempts at 0, 1.001 and 2.002 s, failure at 3.003 s") {
        auto p = fixed(10);
        p.initializationFailTimeout = 2500;
        fake_world w(p);
        w.login_ok = [](int) { return false; };
        w.start();
        w.arrive_at(0.5, 0);
        w.run_until(10.0);
        CHECK(w.logins == 3);
        REQUIRE(w.opens.size() == 3);
        CHECK(w.opens[2].t == Approx(2.002));
        REQUIRE(w.fails.size() == 1);
        CHECK(w.fails[0].t == Approx(3.003));
    }
    SECTION("0: one attempt, then the pool starts anyway (empty) at 1.001 s") {
        auto p = fixed(10);
        p.initializationFailTimeout = 0;
        fake_world w(p);
        w.login_ok = [](int n) { return n != 0; };
        w.start();
        w.arrive_at(0.5, 0);
        w.run_until(1.2);
        REQUIRE(w.grants.size() == 1);
        CHECK(w.grants[0].t == Approx(1.101));  // the request's own creator, started at 1.001 s
        CHECK(w.fails.empty());
    }
    SECTION("negative: no start-up connection; the first housekeeper run (0.1 s) fills") {
        auto p = fixed(10);
        p.initializationFailTimeout = -1;
        fake_world w(p);
        w.start();
        w.run_until(0.5);
        REQUIRE(!w.opens.empty());
        CHECK(w.opens[0].t == Approx(0.1));
    }
    SECTION("minimumIdle 0: the start-up connection is closed at once and nothing refills") {
        auto p = fixed(10);
        p.minimumIdle = 0;
        fake_world w(p);
        w.start();
        w.run_until(40.0);
        CHECK(w.opens.size() == 1);
        REQUIRE(w.closes.size() == 1);
        CHECK(w.closes[0].t == Approx(0.1));
        CHECK(closed(w.metrics, models::close_reason::overflow) == 1);
        CHECK(w.counts().total == 0);
    }
}

// ---- issue 11 item 6: the login timeout (HikariCP + pgJDBC) -------------------------------------

TEST_CASE("HikariCP's logins are bounded by pgJDBC's connectTimeout, or by its login timeout with a data source class",
          "[pool][hikaricp][faults]") {
    // docs/design/fidelity-review.md item 6: maximumPoolSize 5, Poisson 20/s, 5 ms queries,
    // logins 50 ms, socket timeout 30 s, a 20 s failover at F = 40. Connections used within
    // 500 ms are not validated: their queries hang until F + 30; an idle one is validated and
    // isValid fails after validationTimeout (F + 5), which starts the adder's login then.
    auto run_with = [](const std::string& extra) {
        return models::run_replication(
            models::scenario_from_json(R"({
                "run": {"horizon_s": 90, "warmup_s": 0, "replications": 1, "seed": 2, "sample_interval_s": 0.1},
                "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 20},
                             "transactions": [{"query_time": {"kind": "constant", "value_s": 0.005}}]},
                "pool": {"kind": "hikaricp", "maximumPoolSize": 5)" + extra + R"(},
                "database": {"cores": 0, "connect_time": {"kind": "constant", "value_s": 0.05}, "network_rtt_s": 0.001},
                "network": {"socket_timeout_s": 30},
                "faults": [{"kind": "failover", "at_s": 40, "duration_s": 20}]})"),
            0);
    };
    auto first_completion_after = [](const models::replication_result& r, double from) {
        const std::size_t c = test::column(r, "completions"), t = test::column(r, "t_s");
        for (std::size_t i = 0; i < r.series.rows(); ++i)
            if (r.series.at(i, t) > from && r.series.at(i, c) > 0) return r.series.at(i, t);
        return -1.0;
    };
    SECTION("pgJDBC's defaults: the TCP connect gives up after 10 s") {
        // Logins at ~F+5 and F+15 each fail 10 s later (F+15, F+25: started while the address
        // does not answer); the one after (10 ms ... later) reaches the new primary: the first
        // request is served again at about F+25.1.
        const auto r = run_with("");
        const double t = first_completion_after(r, 41);
        CHECK(t > 65.0);
        CHECK(t < 65.5);
    }
    SECTION("a data source class: HikariCP's 30 s login timeout, TCP left to the OS") {
        // connectTimeout 0 (the OS's 127 s) and PGSimpleDataSource: the login started at ~F+5
        // is abandoned at ~F+35; the next one succeeds: served again at about F+35.1.
        const auto r = run_with(R"(, "connectTimeout": 0, "dataSourceClassName": "org.postgresql.ds.PGSimpleDataSource")");
        const double t = first_completion_after(r, 41);
        CHECK(t > 75.0);
        CHECK(t < 75.5);
    }
    SECTION("the bounds as the pool computes them") {
        models::hikaricp_params p;
        CHECK(models::hikaricp_login_bounds(p).connect_s == 10);
        CHECK(std::isinf(models::hikaricp_login_bounds(p).login_s));
        p.loginTimeout = 7;
        CHECK(models::hikaricp_login_bounds(p).login_s == 7);
        p.dataSourceClassName = "org.postgresql.ds.PGSimpleDataSource";
        CHECK(models::hikaricp_login_bounds(p).login_s == 30);  // (30000 + 500) ms in whole seconds
        p.connectionTimeout = 250;
        CHECK(models::hikaricp_login_bounds(p).login_s == 1);   // at least 1 s
        p.connectTimeout = 0;
        CHECK(std::isinf(models::hikaricp_login_bounds(p).connect_s));
    }
}

// ---- version "2.7.9": Debian's release, as the reality check drives it -----------------------

TEST_CASE("HikariCP 2.7.9's adder opens the next connection at once, with no 30 ms pause", "[pool][hikaricp]") {
    // The 6.0.0 timeline of "the single adder opens one connection at a time and pauses 30 ms
    // after each" (test_hikaricp.cpp) with version 2.7.9: PoolEntryCreator.call returns right
    // after connectionBag.add (HikariPool.java at tag HikariCP-2.7.9). Grants at 1.0, 1.1, 1.2,
    // 1.3, 1.4 s: waits 0, 100, 200, 300, 400 ms; still one login at a time.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 5, "at_s": 1.0})",
                 R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 5, "version": "2.7.9"})",
                 db(0.1, 0), 10.0, 2.0),
        0);
    CHECK(r.metric("wait_time_max_ms") == Approx(400).margin(1e-6));
    CHECK(r.metric("wait_time_avg_ms") == Approx((0 + 100 + 200 + 300 + 400) / 5.0).margin(1e-6));
    CHECK(r.metric("connections_created") == 5);
    CHECK(at(r, "total_connections", 1.12) == 3);  // connection 3 started at 1.1 s
    CHECK(at(r, "creating_connections", 1.12) == 1);
    double most = 0;
    for (int i = 1; i <= 199; ++i) most = std::max(most, at(r, "creating_connections", i * 0.01));
    CHECK(most == 1);
}

TEST_CASE("HikariCP 2.7.9's failed logins back off 250 ms, 1.5 times longer each, up to 10 s", "[pool][hikaricp]") {
    // The 6.0.0 backoff test's set-up (max_connections 1, refusals after one 1 ms round trip,
    // minimumIdle 1 / max 2, A holds the start-up connection from 1.0 s for 100 s, B waits)
    // with version 2.7.9: sleepBackoff 250, 375, 562, 843, 1264, 1896, 2844, 4266, 6399, 9598,
    // then 10000 ms. Refusals at 1.0, 1.251, 1.627, 2.19, 3.034, 4.299, 6.196, 9.041, 13.308,
    // 19.708, 29.307, 39.308 s: 12 by 40 s (16 with 6.0.0's 10 ms doubling to 5 s).
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 2, "at_s": 1.0})",
                 R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 2, "version": "2.7.9"})",
                 db(0.1, 0.001, 1), 100.0, 40.0, 0.5),
        0);
    CHECK(r.metric("connection_errors") == 12);
    CHECK(r.metric("failed_acquire_timeout") == 1);
    const auto r2 = models::run_replication(
        scenario(R"({"kind": "burst", "count": 2, "at_s": 1.0})",
                 R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 2, "version": "2.7.9"})",
                 db(0.1, 0.001, 1), 100.0, 39.3, 0.5),
        0);
    CHECK(r2.metric("connection_errors") == 11);  // the 12th starts at 39.307 s
}

TEST_CASE("HikariCP's setup_s delays each added connection and the adder's next login", "[pool][hikaricp]") {
    // The 2.7.9 adder timeline above with setup_s 10 ms (PoolBase.newConnection's
    // setupConnection and createPoolEntry run on the adder thread after the driver's connect;
    // PoolEntryCreator.call adds the entry to the bag after them). The start-up connection
    // serves the first request at 1.0 s; the adder's logins end at 1.1, 1.21, 1.32, 1.43 and
    // the connections reach the bag 10 ms later: grants at 1.11, 1.22, 1.33, 1.44 s, waits 0,
    // 110, 220, 330, 440 ms (400 without the field).
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 5, "at_s": 1.0})",
                 R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 5, "version": "2.7.9", "setup_s": 0.01})",
                 db(0.1, 0), 10.0, 2.0),
        0);
    CHECK(r.metric("wait_time_max_ms") == Approx(440).margin(1e-6));
    CHECK(r.metric("wait_time_avg_ms") == Approx((0 + 110 + 220 + 330 + 440) / 5.0).margin(1e-6));
    CHECK(r.metric("connections_created") == 5);
}

TEST_CASE("HikariCP's failed_attempt_s comes before each failure's backoff sleep", "[pool][hikaricp]") {
    // The 2.7.9 backoff set-up above with failed_attempt_s 100 ms (the driver's failed connect
    // and newConnection's catch path, before quietlySleep): refusals end at 1.001 s, then the
    // next login starts at 1.001 + 0.1 + 0.25 = 1.351 s (1.251 without the field) and is
    // refused at 1.352 s, the third at 1.352 + 0.1 + 0.375 = 1.827 s.
    auto errors_by = [](double horizon) {
        return models::run_replication(
                   scenario(R"({"kind": "burst", "count": 2, "at_s": 1.0})",
                            R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 2, "version": "2.7.9",
                                "failed_attempt_s": 0.1})",
                            db(0.1, 0.001, 1), 100.0, horizon, 0.5),
                   0)
            .metric("connection_errors");
    };
    CHECK(errors_by(1.34) == 1);
    CHECK(errors_by(1.36) == 2);
    CHECK(errors_by(1.82) == 2);
    CHECK(errors_by(1.84) == 3);
}
