// HikariCP 6.x, event by event (../shared/spec/pool-algorithms.md §1; "what a simulator must
// reproduce" is §1.9, items 1-9). Constant times make every number exact.
//
// Two kinds of test:
// - timelines in the real world (models::run_replication on a scenario), read through the
//   metrics and the time series;
// - a small fake world (`fake_world`, tests/cpp/support/hikaricp_fake.hpp) that drives the policy directly, for what today's
//   world cannot produce (failed checks, broken connections, a database that refuses the
//   start-up login) and for checks that need connection identities (which one was retired).
//
// Items 7-9 (creation failures, start-up) and the login timeout: test_hikaricp_startup.cpp.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/pool/hikaricp.hpp"
#include "sim/error.hpp"
#include "support/hikaricp_fake.hpp"

using namespace dbpoolsim;
using namespace dbpoolsim::test::hikaricp;

// ---- the acceptance timeline of the issue --------------------------------------------------

TEST_CASE("the issue's spike: a warm 5/50 pool serves 50 requests within 20 ms and adds one connection",
          "[pool][hikaricp]") {
    // minimumIdle 5 / maximumPoolSize 50, 150 ms set-up, 2 ms queries, no network delay.
    // Warm-up: the start-up connection is ready at 0.15 s; the housekeeper's first run (0.25 s)
    // queues 4 creators, which the single adder runs one by one (150 ms + 30 ms pause):
    // connections 2-5 are ready at 0.40, 0.58, 0.76 and 0.94 s.
    // Burst of 50 at 2.0 s. Requests 1-5 take the 5 idle connections (idle > 500 ms, so each
    // gets an isValid round trip, instantaneous here: 5 round trips). Request 6 finds nothing
    // idle: waiting = 1 > 0 queued, so a creator is submitted; the adder is free and starts
    // connection 6 at once (idle 0 < minimumIdle 5). Requests 7-50 see waiting = k > k-2
    // queued and each queue one more creator (44 queued). The 5 connections then serve the
    // 50 requests FIFO in 10 rounds of 2 ms: the last waits 18 ms and finishes at 20 ms.
    // Connection 6 arrives at 2.15 s when nobody waits: it stays idle. After its 30 ms pause
    // (2.18 s) each of the 44 queued creators finds shouldContinueCreating false (idle 6 >=
    // minimumIdle 5, waiters 0) and ends at once. So the pool ends with exactly 6 connections.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 50, "at_s": 2.0})",
                 R"({"kind": "hikaricp", "minimumIdle": 5, "maximumPoolSize": 50})",
                 db(0.15, 0), 0.002, 3.0),
        0);
    CHECK(at(r, "total_connections", 1.99) == 5);
    CHECK(at(r, "idle_connections", 1.99) == 5);
    CHECK(r.metric("completed") == 50);
    CHECK(r.metric("wait_time_max_ms") == Approx(18.0).margin(1e-6));
    CHECK(r.metric("latency_max_ms") == Approx(20.0).margin(1e-6));
    CHECK(r.metric("round_trips") == 5);
    CHECK(at(r, "creating_connections", 2.01) == 1);
    CHECK(at(r, "total_connections", 2.10) == 6);
    CHECK(at(r, "idle_connections", 2.10) == 5);  // all 50 served by 2.02 s
    CHECK(at(r, "idle_connections", 2.16) == 6);
    CHECK(at(r, "total_connections", 2.90) == 6);
    CHECK(at(r, "creating_connections", 2.90) == 0);
    CHECK(r.metric("connections_created") == 6);  // start-up 1 + fill 4 + spike 1
    CHECK(r.metric("peak_connections") == 6);
}

// ---- §1.9 item 1: the single serialized creator ----------------------------------------------

TEST_CASE("the single adder opens one connection at a time and pauses 30 ms after each", "[pool][hikaricp]") {
    // minimumIdle 1 / max 5, 100 ms set-up; 5 requests at 1.0 s hold their connection 10 s.
    // Request 1 takes the start-up connection. Request 2 starts the adder at once (2 at 1.0
    // - 1.1 s); requests 3-5 queue 3 more creators (waiting 2, 3, 4 > queued 0, 1, 2). Each
    // task: 100 ms login, hand-off to the head waiter, 30 ms pause. Grants at 1.0, 1.1, 1.23,
    // 1.36, 1.49 s: waits 0, 100, 230, 360, 490 ms. Never more than one login at a time.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 5, "at_s": 1.0})",
                 R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 5})", db(0.1, 0),
                 10.0, 2.0),
        0);
    CHECK(r.metric("wait_time_max_ms") == Approx(490).margin(1e-6));
    CHECK(r.metric("wait_time_avg_ms") == Approx((0 + 100 + 230 + 360 + 490) / 5.0).margin(1e-6));
    CHECK(r.metric("connections_created") == 5);
    CHECK(at(r, "total_connections", 1.12) == 2);  // connection 2 done, adder pausing
    CHECK(at(r, "creating_connections", 1.12) == 0);
    CHECK(at(r, "total_connections", 1.14) == 3);  // connection 3 started at 1.13 s
    CHECK(at(r, "creating_connections", 1.14) == 1);
    CHECK(at(r, "total_connections", 1.60) == 5);
    double most = 0;
    for (int i = 1; i <= 199; ++i) most = std::max(most, at(r, "creating_connections", i * 0.01));
    CHECK(most == 1);
}

// ---- §1.9 item 2: FIFO hand-off, a waiter is not tied to its connection ------------------------

TEST_CASE("a returned connection goes to the longest waiter; one created meanwhile stays idle", "[pool][hikaricp]") {
    // minimumIdle 1 / max 2, 150 ms set-up; 3 requests at 1.0 s hold 50 ms each. Request 0
    // takes connection 0; request 1 starts a login (connection 1) and request 2 queues one more
    // creator. Connection 0 comes back at 1.05 s and goes to request 1 (the longest waiter),
    // then at 1.10 s to request 2. Connection 1 arrives at 1.15 s with nobody waiting and
    // stays idle; the queued creator then ends (total 2 = max).
    auto p = fixed(2);
    p.minimumIdle = 1;
    fake_world w(p, 0.15, 0);
    w.hold = [](std::uint32_t) { return 0.05; };
    w.start();
    for (std::uint32_t i = 0; i < 3; ++i) w.arrive_at(1.0, i);
    w.run_until(2.0);
    REQUIRE(w.grants.size() == 3);
    CHECK(w.grants[0].t == Approx(1.0));
    CHECK(w.grants[0].req == 0);
    CHECK(w.grants[1].t == Approx(1.05));
    CHECK(w.grants[1].req == 1);
    CHECK(w.grants[1].conn == w.grants[0].conn);  // the returned connection, not the new one
    CHECK(w.grants[2].t == Approx(1.10));
    CHECK(w.grants[2].req == 2);
    CHECK(w.grants[2].conn == w.grants[0].conn);
    REQUIRE(w.opens.size() == 2);
    CHECK(w.opens[1].t == Approx(1.0));
    CHECK(w.counts().total == 2);
    CHECK(w.counts().idle == 2);
    CHECK(w.logins == 2);
}

TEST_CASE("a borrower takes the oldest-created idle connection (the shared-list scan)", "[pool][hikaricp]") {
    // Fixed pool of 3, instant logins: connection 0 at 0 s, 1 at 0.1 s, 2 at 0.13 s (the
    // first housekeeper run). Requests 0-2 at 1.0 s take them in that order and return them at
    // 2.5 (connection 0), 2.0 (1) and 3.0 s (2). Request 3 at 3.5 s finds all three idle and
    // takes connection 0: the first in creation order, neither the least recently returned (1,
    // FIFO) nor the most recently returned (2, LIFO). (HikariCP's per-thread list has no
    // equivalent here: requests carry no thread identity.)
    fake_world w(fixed(3), 0, 0);
    w.hold = [](std::uint32_t req) { return std::vector<double>{1.5, 1.0, 2.0, 1.0}[req]; };
    w.start();
    for (std::uint32_t i = 0; i < 3; ++i) w.arrive_at(1.0, i);
    w.arrive_at(3.5, 3);
    w.run_until(5.0);
    REQUIRE(w.grants.size() == 4);
    CHECK(w.grants[0].conn == 0);
    CHECK(w.grants[1].conn == 1);
    CHECK(w.grants[2].conn == 2);
    CHECK(w.grants[3].t == Approx(3.5));
    CHECK(w.grants[3].conn == 0);
}

TEST_CASE("with `threads` a borrower first takes what its own thread returned (ConcurrentBag threadList)",
          "[pool][hikaricp]") {
    // Fixed pool of 2, instant logins: connections 0 and 1 idle by 0.2 s. Application threads
    // T0, T1, each request on the longest-idle one. Request 0 (1.0 s, T0) takes connection 0
    // and request 1 (1.05 s, T1) connection 1 (shared-list scan); they return them at 1.1 and
    // 1.15 s with nobody waiting: T0's list holds 0, T1's holds 1, and the idle threads are
    // T0 then T1. Request 2 (2.0 s) runs on T0 and takes 0 from its list; then T1 is the
    // longest idle: request 3 (3.0 s) runs on it and takes 1. Without threads (0) every borrow
    // scans the shared list in creation order: request 3 takes connection 0; with the most
    // recently idle thread first (LIFO) it would run on T0 and take 0 too.
    auto run = [](int threads) {
        auto p = fixed(2);
        p.threads = threads;
        fake_world w(p, 0, 0);
        w.hold = [](std::uint32_t) { return 0.1; };
        w.start();
        w.arrive_at(1.0, 0);
        w.arrive_at(1.05, 1);
        w.arrive_at(2.0, 2);
        w.arrive_at(3.0, 3);
        w.run_until(4.0);
        REQUIRE(w.grants.size() == 4);
        return w.grants;
    };
    const auto with = run(2);
    CHECK(with[0].conn == 0);
    CHECK(with[1].conn == 1);
    CHECK(with[2].conn == 0);
    CHECK(with[3].conn == 1);
    const auto without = run(0);
    CHECK(without[3].conn == 0);
}

TEST_CASE("a connection handed to a waiter at its return stays out of the returning thread's list",
          "[pool][hikaricp]") {
    // Fixed pool of 2, threads 3. Request 0 (1.0 s, T0) holds connection 0 until 3.0 s;
    // request 1 (1.1 s, T1) holds connection 1 until 1.5 s; request 2 (1.2 s, T2) waits and
    // gets connection 1 from T1's return (requite's hand-off: T1 keeps nothing) and returns it
    // at 1.6 s (T2 keeps 1). At 3.0 s T0 keeps 0. Idle threads: T1, T2, T0. Request 3 (4.0 s)
    // runs on T1, whose list is empty: the shared scan gives connection 0 (had T1 kept 1, it
    // would take 1).
    auto p = fixed(2);
    p.threads = 3;
    fake_world w(p, 0, 0);
    w.hold = [](std::uint32_t req) { return std::vector<double>{2.0, 0.4, 0.1, 0.1}[req]; };
    w.start();
    w.arrive_at(1.0, 0);
    w.arrive_at(1.1, 1);
    w.arrive_at(1.2, 2);
    w.arrive_at(4.0, 3);
    w.run_until(5.0);
    REQUIRE(w.grants.size() == 4);
    CHECK(w.grants[2].t == Approx(1.5));
    CHECK(w.grants[2].conn == 1);
    CHECK(w.grants[3].conn == 0);
}

TEST_CASE("hikaricp threads: an integer from 0", "[pool][hikaricp][scenario]") {
    CHECK_THROWS_WITH(models::scenario_from_json(
                          R"({"pool": {"kind": "hikaricp", "threads": -1}, "database": {}, "workload": {}})"),
                      Catch::Contains("/pool/threads") && Catch::Contains("-1"));
}

// ---- §1.9 item 3: validation on borrow ---------------------------------------------------------

TEST_CASE("a borrow pays an isValid round trip only if the connection was idle more than 500 ms", "[pool][hikaricp]") {
    // One connection (made at t = 0), 10 ms round trips, 5 ms queries: a transaction holds the
    // connection 15 ms (query + response). One request per period from 1.0 s.
    auto run = [](double every_s) {
        return models::run_replication(
            scenario(R"({"kind": "burst", "count": 1, "at_s": 1.0, "every_s": )" + std::to_string(every_s) + "}",
                     R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 1})",
                     db(0, 0.01), 0.005, 3.05, 0.05),
            0);
    };
    SECTION("every 0.4 s: idle 385 ms, only the first borrow (idle since creation) is checked") {
        const auto r = run(0.4);  // arrivals 1.0, 1.4, ..., 3.0
        CHECK(r.metric("completed") == 6);
        CHECK(r.metric("round_trips") == 1);
        CHECK(r.metric("wait_time_max_ms") == Approx(10));
        CHECK(r.metric("wait_time_avg_ms") == Approx(10 / 6.0));
    }
    SECTION("every 0.515 s: idle exactly 500 ms is not more than 500 ms (whole milliseconds)") {
        const auto r = run(0.515);  // arrivals 1.0, 1.515, 2.03, 2.545
        CHECK(r.metric("completed") == 4);
        CHECK(r.metric("round_trips") == 1);
    }
    SECTION("every 0.6 s: idle 575 ms, every borrow waits one round trip") {
        const auto r = run(0.6);  // arrivals 1.0, 1.6, 2.2, 2.8
        CHECK(r.metric("completed") == 4);
        CHECK(r.metric("round_trips") == 4);
        CHECK(r.metric("wait_time_avg_ms") == Approx(10));
        CHECK(r.metric("latency_avg_ms") == Approx(10 + 5 + 10));
    }
}

TEST_CASE("HikariCP 2.7.9 counts the 500 ms from the borrow, 6.0.0 from the return", "[pool][hikaricp]") {
    // One connection (made at t = 0), 10 ms round trips, 300 ms queries; requests at 1.0 and
    // 1.6 s. The first borrow is checked (idle since creation): granted at 1.01 s, returned at
    // 1.32 s (query + response). At 1.6 s the connection has been idle 280 ms since its return
    // (6.0.0's PoolEntry.recycle: lastAccessed = now): no check. 2.7.9's recycle(lastAccess)
    // takes the proxy's lastAccess, getConnection's `now` (1.0 s): 600 ms ago, so checked.
    auto run = [](const std::string& version) {
        return models::run_replication(
            scenario(R"({"kind": "burst", "count": 1, "at_s": 1.0, "every_s": 0.6})",
                     R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 1, "version": ")" + version + "\"}",
                     db(0, 0.01), 0.3, 2.0, 0.05),
            0);
    };
    const auto v6 = run("6.0.0");
    CHECK(v6.metric("completed") == 2);
    CHECK(v6.metric("round_trips") == 1);
    CHECK(v6.metric("wait_time_avg_ms") == Approx(5));
    const auto v2 = run("2.7.9");
    CHECK(v2.metric("completed") == 2);
    CHECK(v2.metric("round_trips") == 2);
    CHECK(v2.metric("wait_time_avg_ms") == Approx(10));
}

TEST_CASE("validation_latency: a borrower gets a checked connection that much after isValid's answer", "[pool][hikaricp]") {
    // One connection, ready at 0.1 s; 1 ms round trips; holds 100 ms. Request 0 at 2.0 s is
    // checked (idle 1.9 s): the answer comes at 2.001 s, the thread returns 4 ms later (2.005
    // s). Request 1 at 2.3 s finds it returned at 2.105 s, within 500 ms: no check, no latency.
    auto p = fixed(1);
    p.validation_latency = models::distribution::constant(0.004);
    fake_world w(p);
    w.hold = [](std::uint32_t) { return 0.1; };
    w.start();
    w.arrive_at(2.0, 0);
    w.arrive_at(2.3, 1);
    w.run_until(3.0);
    REQUIRE(w.grants.size() == 2);
    CHECK(w.grants[0].t == Approx(2.005));
    CHECK(w.grants[1].t == Approx(2.3));
    CHECK(w.metrics.round_trips == 1);
    // A failed check closes at the answer and retries at once (no latency): as in the
    // section "the retry waits for a new connection" below, granted at 2.101 s.
    fake_world f(p);
    f.check_ok = [](std::uint32_t, int n) { return n != 0; };
    f.start();
    f.arrive_at(2.0, 0);
    f.run_until(3.0);
    REQUIRE(f.grants.size() == 1);
    CHECK(f.grants[0].t == Approx(2.101));
}

TEST_CASE("a connection that fails the check is closed and the borrow retried within the same timeout", "[pool][hikaricp]") {
    SECTION("the retry waits for a new connection") {
        // One connection, ready at 0.1 s. The request at 2.0 s checks it (idle 1.9 s): dead at
        // 2.001 s → closed ("validation"); the retry finds nothing idle, waits, and its
        // addBagItem starts a login at 2.001 s that is handed to it at 2.101 s.
        fake_world w(fixed(1));
        w.check_ok = [](std::uint32_t, int n) { return n != 0; };
        w.start();
        w.arrive_at(2.0, 0);
        w.run_until(3.0);
        REQUIRE(w.grants.size() == 1);
        CHECK(w.grants[0].t == Approx(2.101));
        CHECK(closed(w.metrics, models::close_reason::validation) == 1);
        CHECK(w.metrics.round_trip_failures == 1);
        CHECK(w.metrics.created == 2);
        CHECK(w.logins == 2);  // the closer's fillPool creator found the pool full and ended
    }
    SECTION("the deadline is the first borrow's: connectionTimeout 250 ms from 2.0 s") {
        // Logins take 300 ms. The retry at 2.001 s waits with 249 ms left and fails at
        // exactly 2.25 s, before the new connection (2.301 s), which then stays idle.
        auto p = fixed(1);
        p.connectionTimeout = 250;
        fake_world w(p, 0.3);
        w.check_ok = [](std::uint32_t, int n) { return n != 0; };
        w.start();
        w.arrive_at(2.0, 0);
        w.run_until(3.0);
        CHECK(w.grants.empty());
        REQUIRE(w.fails.size() == 1);
        CHECK(w.fails[0].t == Approx(2.25));
        CHECK(w.fails[0].why == acquire_timeout);
        CHECK(w.counts().idle == 1);
    }
}

// ---- §1.9 item 4: lifetime and keepalive timers -----------------------------------------------

TEST_CASE("an idle connection closes at maxLifetime minus up to 2.5 % and the pool refills", "[pool][hikaricp]") {
    SECTION("the jitter is maxLifetime - nextLong(maxLifetime / 40) ms, drawn at creation") {
        // Fixed pool of 2, maxLifetime 30 s, instant logins. Connection 0 is made at 0 and
        // connection 1 by the first housekeeper run at 0.1 s; the policy's stream draws their
        // variances in that order.
        auto p = fixed(2);
        p.maxLifetime = 30000;
        fake_world w(p, 0, 0);
        w.start();
        w.run_until(40.0);
        auto rs = pool_stream();
        const double v0 = static_cast<double>(rs.below(750)), v1 = static_cast<double>(rs.below(750));
        std::vector<double> expected{30.0 - v0 / 1000, 30.1 - v1 / 1000}, got;
        std::sort(expected.begin(), expected.end());
        for (const auto& c : w.closes) got.push_back(c.t);
        REQUIRE(got.size() == 2);  // the replacements live at least 29.25 s
        CHECK(got[0] == Approx(expected[0]).margin(1e-9));
        CHECK(got[1] == Approx(expected[1]).margin(1e-9));
        CHECK(v0 != v1);
        CHECK(closed(w.metrics, models::close_reason::lifetime) == 2);
        CHECK(w.counts().total == 2);  // each close's fillPool replaced it at once
        CHECK(w.metrics.created == 4);
    }
    SECTION("no jitter when maxLifetime <= 10 s (only reachable by bypassing HikariConfig)") {
        auto p = fixed(1);
        p.maxLifetime = 10000;
        fake_world w(p, 0, 0);
        w.start();
        w.run_until(15.0);
        REQUIRE(w.closes.size() == 1);
        CHECK(w.closes[0].t == Approx(10.0).margin(1e-12));
    }
    SECTION("in the world: three lifetimes in 100 s") {
        // Each lifetime is in (29.25, 30] s, so closes happen near 30, 60 and 90 s.
        const auto r = models::run_replication(
            scenario(R"({"kind": "burst", "count": 1, "at_s": 500})",
                     R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 1, "maxLifetime": 30000})",
                     db(0, 0), 0.005, 100.0, 1.0),
            0);
        CHECK(r.metric("connections_closed_lifetime") == 3);
        CHECK(r.metric("connections_created") == 4);
        CHECK(at(r, "total_connections", 99.0) == 1);
    }
}

TEST_CASE("a connection whose lifetime ends in use is closed when it is returned", "[pool][hikaricp]") {
    // One connection made at 0, maxLifetime 30 s: its timer fires in [29.251, 30] s while a
    // request holds it from 29.0 to 31.0 s. HikariCP 6.0 marks it evicted and closes it at
    // return (31.0 s); the closer's fillPool opens the replacement at once.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 1, "at_s": 29.0})",
                 R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 1, "maxLifetime": 30000})",
                 db(0, 0), 2.0, 32.0, 0.5),
        0);
    CHECK(r.metric("completed") == 1);
    CHECK(r.metric("latency_max_ms") == Approx(2000));  // never interrupted
    CHECK(at(r, "active_connections", 30.5) == 1);
    CHECK(at(r, "total_connections", 30.5) == 1);
    CHECK(r.metric("connections_closed_lifetime") == 1);
    CHECK(r.metric("connections_created") == 2);
    CHECK(at(r, "idle_connections", 31.5) == 1);
}

TEST_CASE("keepalive reserves an idle connection for one round trip, keepaliveTime minus up to 10 %", "[pool][hikaricp]") {
    // One connection made at 0, keepaliveTime 30 s (maxLifetime 0, so the only draw is the
    // keepalive variance): its KeepaliveTask runs at P = 30 s - nextLong(3000) ms. Round trips
    // take 200 ms. A request at P + 0.1 s finds the connection RESERVED and waits; at P + 0.2
    // the keepalive succeeds and unreserve hands it over. It was last returned at creation
    // (> 500 ms ago), so the borrower checks it too: granted at P + 0.4 s, a 300 ms wait.
    auto rs = pool_stream();
    const double P = (30000.0 - static_cast<double>(rs.below(3000))) / 1000;
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 1, "at_s": )" + std::to_string(P + 0.1) + "}",
                 R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 1, "maxLifetime": 0, "keepaliveTime": 30000})",
                 db(0, 0.2), 0.005, P + 1.0, 0.1),
        0);
    CHECK(P > 27.0);
    CHECK(P <= 30.0);
    CHECK(r.metric("completed") == 1);
    CHECK(r.metric("wait_time_max_ms") == Approx(300).margin(1e-6));
    CHECK(r.metric("latency_max_ms") == Approx(300 + 5 + 200).margin(1e-6));
    CHECK(r.metric("round_trips") == 2);  // keepalive + isValid
}

TEST_CASE("a keepalive that finds the connection dead closes it and the pool replaces it", "[pool][hikaricp]") {
    auto p = fixed(1);
    p.maxLifetime = 0;
    p.keepaliveTime = 30000;
    fake_world w(p, 0, 0.001);
    w.check_ok = [](std::uint32_t, int) { return false; };
    w.start();
    w.run_until(31.0);
    auto rs = pool_stream();
    const double P = (30000.0 - static_cast<double>(rs.below(3000))) / 1000;
    REQUIRE(w.closes.size() == 1);
    CHECK(w.closes[0].t == Approx(P + 0.001).margin(1e-9));
    CHECK(closed(w.metrics, models::close_reason::broken) == 1);
    REQUIRE(w.opens.size() == 2);
    CHECK(w.opens[1].t == Approx(P + 0.001).margin(1e-9));  // the closer's fillPool
    CHECK(w.counts().idle == 1);
}

// ---- §1.9 item 5: the housekeeper -------------------------------------------------------------

TEST_CASE("the housekeeper retires idle connections past idleTimeout down to minimumIdle", "[pool][hikaricp]") {
    // minimumIdle 2 / max 10, idleTimeout 10 s, housekeeper every 5 s (runs at 0.1, 5.1, 10.1,
    // 15.1 s), instant logins. Ten 1 s requests at 1.0 s: two take the idle connections, the
    // adder makes the other eight one every 30 ms (1.00 ... 1.21 s). All are back by 2.21 s.
    // At 10.1 s they have been idle < 8.1 s; at 15.1 s > 12.8 s: the housekeeper closes the
    // newest-created 8 (maxToRemove = 10 idle - 2), leaving 2.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 10, "at_s": 1.0})",
                 R"({"kind": "hikaricp", "minimumIdle": 2, "maximumPoolSize": 10, "idleTimeout": 10000, "housekeepingPeriodMs": 5000})",
                 db(0, 0), 1.0, 20.0, 0.5),
        0);
    CHECK(r.metric("wait_time_max_ms") == Approx(210).margin(1e-6));
    CHECK(at(r, "total_connections", 10.5) == 10);
    CHECK(at(r, "total_connections", 15.0) == 10);
    CHECK(at(r, "total_connections", 15.5) == 2);
    CHECK(r.metric("connections_closed_idle") == 8);
    CHECK(r.metric("connections_created") == 10);
}

TEST_CASE("the housekeeper checks the newest-created idle connections first", "[pool][hikaricp]") {
    // minimumIdle 1 / max 3, idleTimeout 10 s, housekeeper every 5 s. Connection 0 is the
    // start-up one; requests at 1.0 s create connections 1 (1.00 s) and 2 (1.03 s). The oldest
    // is returned first (2.0 s), the newest last (4.03 s), so at 15.1 s all three are past
    // idleTimeout and connection 0 has been idle longest. HikariCP walks them newest first and
    // closes 2 then 1 (maxToRemove = 2); a least-recently-used rule would close 0.
    models::hikaricp_params p;
    p.maximumPoolSize = 3;
    p.minimumIdle = 1;
    p.idleTimeout = 10000;
    p.housekeepingPeriodMs = 5000;
    p.maxLifetime = 0;
    fake_world w(p, 0, 0);
    w.hold = [](std::uint32_t req) { return 1.0 + req; };
    w.start();
    for (std::uint32_t i = 0; i < 3; ++i) w.arrive_at(1.0, i);
    w.run_until(16.0);
    REQUIRE(w.grants.size() == 3);
    CHECK(w.grants[0].conn == 0);
    CHECK(w.grants[1].conn == 1);
    CHECK(w.grants[2].conn == 2);
    REQUIRE(w.closes.size() == 2);
    CHECK(w.closes[0].t == Approx(15.1));
    CHECK(w.closes[0].conn == 2);
    CHECK(w.closes[1].conn == 1);
    CHECK(closed(w.metrics, models::close_reason::idle) == 2);
    CHECK(w.counts().total == 1);
}

// ---- §1.9 item 6: fillPool after every close, toward minimumIdle only ----------------------------

TEST_CASE("a close refills only toward minimumIdle; connections above it are not replaced", "[pool][hikaricp]") {
    // minimumIdle 1 / max 3, maxLifetime 30 s (idleTimeout is then reset to 0: 601 s > 30 s).
    // Three 1 s requests at 1.0 s grow the pool to 3 (connections made at 0, 1.00, 1.03 s).
    // Their lifetimes end in (29.25, 30], (30.25, 31] and (30.28, 31.03] s, all idle. After
    // the first two closes 2 and then 1 connection stay idle >= minimumIdle: no replacement;
    // after the last one idle is 0 < 1 and fillPool opens one.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 3, "at_s": 1.0})",
                 R"({"kind": "hikaricp", "minimumIdle": 1, "maximumPoolSize": 3, "maxLifetime": 30000})",
                 db(0, 0), 1.0, 35.0, 0.5),
        0);
    CHECK(at(r, "total_connections", 29.0) == 3);
    CHECK(at(r, "total_connections", 32.0) == 1);
    CHECK(r.metric("connections_closed_lifetime") == 3);
    CHECK(r.metric("connections_created") == 4);
}

TEST_CASE("a connection that breaks in use is closed at once and fillPool replaces it", "[pool][hikaricp]") {
    fake_world w(fixed(1));
    w.breaks = {0};
    w.start();
    w.arrive_at(2.0, 0);  // checked (idle 1.9 s): granted at 2.001 s, breaks at 3.001 s
    w.run_until(4.0);
    REQUIRE(w.closes.size() == 1);
    CHECK(w.closes[0].t == Approx(3.001));
    CHECK(closed(w.metrics, models::close_reason::broken) == 1);
    REQUIRE(w.opens.size() == 2);
    CHECK(w.opens[1].t == Approx(3.001));
    CHECK(w.counts().idle == 1);
}

TEST_CASE("with wakeup_latency_s a new borrower can take a connection offered to a waiter", "[pool][hikaricp]") {
    // One connection (fixed 1), 1 ms wake-up. A (request 0) holds it from 1.0 to 1.1 s; B waits
    // from 1.05 s. At 1.1 s it is offered to B, whose thread runs at 1.101 s; C arrives at
    // 1.1005 s, finds it NOT_IN_USE in the shared list and takes it (barging). B's
    // compareAndSet fails and it polls again: it gets the connection when C returns it
    // (1.2005 s), running at 1.2015 s. Without the window B would get it at 1.1 s and C wait.
    auto p = fixed(1);
    p.wakeup_latency_s = 0.001;
    fake_world w(p, 0.05, 0);
    w.hold = [](std::uint32_t) { return 0.1; };
    w.start();
    w.arrive_at(1.0, 0);
    w.arrive_at(1.05, 1);
    w.arrive_at(1.1005, 2);
    w.run_until(2.0);
    REQUIRE(w.grants.size() == 3);
    CHECK(w.grants[1].req == 2);  // C barged
    CHECK(w.grants[1].t == Approx(1.1005));
    CHECK(w.grants[2].req == 1);
    CHECK(w.grants[2].t == Approx(1.2015));
    CHECK(w.fails.empty());
    // A woken waiter whose timeout has run out by then fails instead of polling again.
    // connectionTimeout 250 ms: B waits from 1.05 s (deadline 1.3 s), D from 1.2 s (1.45 s).
    // A returns at 1.3 s, before B's timer: offered to B, whose thread runs at 1.301 s; C
    // barges at 1.3005 s, so B's compareAndSet fails with no time left: timeout at 1.301 s.
    // D was never offered anything and times out at 1.45 s.
    p.connectionTimeout = 250;
    fake_world t(p, 0.05, 0);
    t.hold = [](std::uint32_t r) { return r == 0 ? 0.3 : 0.5; };
    t.start();
    t.arrive_at(1.0, 0);
    t.arrive_at(1.05, 1);
    t.arrive_at(1.2, 3);
    t.arrive_at(1.3005, 2);
    t.run_until(2.0);
    REQUIRE(t.fails.size() == 2);
    CHECK(t.fails[0].req == 1);
    CHECK(t.fails[0].t == Approx(1.301));
    CHECK(t.fails[0].why == acquire_timeout);
    CHECK(t.fails[1].req == 3);
    CHECK(t.fails[1].t == Approx(1.45));
    REQUIRE(t.grants.size() == 2);
    CHECK(t.grants[1].req == 2);
}
