// The asyncpg 0.30 pool (spec section 6), event by event. Constant times make every number
// exact. Each test is one item of spec 6.8 "What a simulator must reproduce" (or of the issue's
// acceptance list); the comments give the timeline the numbers come from.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "models/pool/asyncpg.hpp"
#include "sim/error.hpp"
#include "support/scenarios.hpp"

using namespace dbpoolsim;

namespace {

constexpr test::timeline_with asyncpg_scenario{0.005};

using test::db;

using test::no_requests;

double at(const models::replication_result& r, const std::string& col, double t) {
    return test::at(r, col, t, 1e-6);  // sample times here accumulate rounding
}

const models::asyncpg_pool_params& params_of(const std::string& pool) {
    return test::pool_params<models::asyncpg_pool_params>(pool);
}

std::vector<std::string> problems_of(const std::string& pool) { return test::pool_problems(pool); }

}  // namespace

// ---- 6.8 item 1: slots; min_size at creation (1, then the rest in parallel); lazy by the acquirer

TEST_CASE("asyncpg create_pool connects the top holder alone, then min_size-1 concurrently", "[pool][asyncpg]") {
    // Defaults (min_size = max_size = 10), logins 100 ms: one login 0 -> 0.1, then nine in
    // parallel 0.1 -> 0.2.
    const auto r = models::run_replication(
        asyncpg_scenario(no_requests, R"({"kind": "asyncpg"})", db(0.1, 0), 0.01, 1.0), 0);
    CHECK(at(r, "creating_connections", 0.05) == 1);
    CHECK(at(r, "total_connections", 0.05) == 1);
    CHECK(at(r, "creating_connections", 0.15) == 9);
    CHECK(at(r, "idle_connections", 0.15) == 1);
    CHECK(at(r, "idle_connections", 0.25) == 10);
    CHECK(r.metric("connections_created") == 10);
}

TEST_CASE("asyncpg connects an empty holder inline: the acquirer pays the login", "[pool][asyncpg]") {
    SECTION("even when a connected holder comes back a moment later") {
        // min 1, max 2, logins 100 ms, queries 10 ms, rtt 0. Two requests at t = 1: R1 pops the
        // connected top holder; R2 pops the empty one below and logs in (1.0 -> 1.1), although
        // R1's holder is back (reset included) at 1.01.
        const auto r = models::run_replication(
            asyncpg_scenario(R"({"kind": "burst", "count": 2, "at_s": 1})",
                             R"({"kind": "asyncpg", "min_size": 1, "max_size": 2})", db(0.1, 0), 0.01, 2.0),
            0);
        CHECK(r.metric("connections_created") == 2);
        CHECK(r.metric("wait_time_max_ms") == Approx(100));
        CHECK(r.metric("wait_time_avg_ms") == Approx(50));
        CHECK(at(r, "idle_connections", 1.05) == 1);
        CHECK(at(r, "creating_connections", 1.05) == 1);
    }
    SECTION("several acquirers log in in parallel") {
        // min_size 0: nothing at creation; five requests at once connect five holders at once.
        const auto r = models::run_replication(
            asyncpg_scenario(R"({"kind": "burst", "count": 5, "at_s": 1})",
                             R"({"kind": "asyncpg", "min_size": 0})", db(0.1, 0), 0.01, 2.0),
            0);
        CHECK(at(r, "total_connections", 0.5) == 0);
        CHECK(at(r, "creating_connections", 1.05) == 5);
        CHECK(r.metric("wait_time_avg_ms") == Approx(100));
    }
}

// ---- 6.8 item 2: LIFO holders; FIFO getters with barging --------------------------------------

TEST_CASE("asyncpg reuses the most recently returned holder (LIFO); the others age out", "[pool][asyncpg]") {
    // min = max = 3, logins 100 ms (top holder 0 -> 0.1, the two others 0.1 -> 0.2), one
    // request every 100 s from t = 50. Each pops the top holder, returns it on top and re-arms
    // its 300 s timer; the two below are never touched and are terminated at 300.2.
    const auto r = models::run_replication(
        asyncpg_scenario(R"({"kind": "burst", "count": 1, "at_s": 50, "every_s": 100})",
                         R"({"kind": "asyncpg", "min_size": 3, "max_size": 3})", db(0.1, 0), 0.1, 500.0, 0.1),
        0);
    CHECK(at(r, "total_connections", 300.1) == 3);
    CHECK(at(r, "total_connections", 300.3) == 1);
    CHECK(at(r, "total_connections", 499.9) == 1);
    CHECK(r.metric("connections_closed_idle") == 2);
    CHECK(r.metric("connections_created") == 3);
    CHECK(r.metric("completed") == 5);
    CHECK(r.metric("wait_time_max_ms") == 0);  // never an empty holder on top
}

TEST_CASE("asyncpg getters can be overtaken: a new acquire takes a returned holder before the woken getter runs (#1247)", "[pool][asyncpg]") {
    // One holder (min = max = 1, login 0 s at t = 0), rtt 10 ms, queries 100 ms, two closed-loop
    // users thinking 10 ms. Both arrive at 0.01: U0 takes the holder, U1 waits (a getter).
    // U0 returns it at 0.12; the reset ends at 0.13 and put_nowait wakes U1, but U1 only runs
    // after what is already due at 0.13: U0's next request (0.12 + 10 ms think), which finds the
    // queue non-empty and takes the holder. U1 finds the queue empty again and re-queues at the
    // tail. Every 120 ms the same: U1 starves, U0 never waits.
    const auto r = models::run_replication(
        asyncpg_scenario(R"({"kind": "closed_loop", "users": 2, "think_time": {"kind": "constant", "value_s": 0.01}})",
                         R"({"kind": "asyncpg", "min_size": 1, "max_size": 1})", db(0, 0.01), 0.1, 2.95),
        0);
    // U0's grants at 0.01 + 0.12 k, completions 0.11 later: 24 by 2.88, the next at 3.0.
    CHECK(r.metric("completed") == 24);
    CHECK(r.metric("wait_time_max_ms") == 0);  // only U0 is ever served, without waiting
    CHECK(r.metric("in_flight") == 2);          // U0's current request and U1's first one
    CHECK(at(r, "waiters", 1.0) == 1);
    CHECK(at(r, "waiters", 2.5) == 1);
}

// ---- 6.8 item 3: no acquire timeout by default -------------------------------------------------

TEST_CASE("asyncpg waits forever by default: a 100 s holder blocks the next request 100 s", "[pool][asyncpg]") {
    // One holder (login 0 s), rtt 1 ms. R1 and R2 at t = 1; R1 holds the connection for its
    // 100 s query (+1 ms response), returns it at 101.001; the reset ends at 101.002 and R2,
    // woken, takes it: a wait of 100.002 s, no timeout.
    const auto r = models::run_replication(
        asyncpg_scenario(R"({"kind": "burst", "count": 2, "at_s": 1})",
                         R"({"kind": "asyncpg", "min_size": 1, "max_size": 1})", db(0, 0.001), 100.0, 250.0, 1.0),
        0);
    CHECK(r.metric("completed") == 2);
    CHECK(r.metric("failed") == 0);
    CHECK(r.metric("timeouts") == 0);
    CHECK(r.metric("wait_time_max_ms") == Approx(100002));
    CHECK(at(r, "waiters", 50) == 1);

    SECTION("with timeout given, the wait ends at the deadline") {
        const auto q = models::run_replication(
            asyncpg_scenario(R"({"kind": "burst", "count": 2, "at_s": 1})",
                             R"({"kind": "asyncpg", "min_size": 1, "max_size": 1, "timeout": 5})", db(0, 0.001), 100.0,
                             250.0, 1.0),
            0);
        CHECK(q.metric("failed_acquire_timeout") == 1);
        CHECK(q.metric("wait_time_all_avg_ms") == Approx((0 + 5000) / 2.0));
        CHECK(at(q, "waiters", 5) == 1);
        CHECK(at(q, "waiters", 7) == 0);
    }
    SECTION("the timeout also bounds the inline login; the holder goes back empty") {
        // min_size 0, a 2 s login, timeout 1: the request fails at 2.0 (arrival 1); the connect
        // is cancelled then (its socket closed: nothing left of it); the holder is back on
        // top, empty, at once. (The model used to let the login finish at 3 and close it.)
        const auto q = models::run_replication(
            asyncpg_scenario(R"({"kind": "burst", "count": 1, "at_s": 1})",
                             R"({"kind": "asyncpg", "min_size": 0, "max_size": 1, "timeout": 1})", db(2.0, 0), 0.01, 4.0,
                             0.5),
            0);
        CHECK(q.metric("failed_acquire_timeout") == 1);
        CHECK(at(q, "creating_connections", 1.5) == 1);
        CHECK(at(q, "creating_connections", 2.5) == 0);
        CHECK(at(q, "total_connections", 3.5) == 0);
        CHECK(q.metric("connections_closed_broken") == 0);
    }
}

// ---- 6.8 item 4: a reset round trip on every release, before the holder is reusable -----------

TEST_CASE("asyncpg resets on every release: one round trip before the holder is back", "[pool][asyncpg]") {
    // One holder (login 0 s), rtt 10 ms, queries 100 ms, R1 and R2 at t = 1. R1: granted 1.0,
    // query 1.0 -> 1.1, response 1.11: release; reset 1.11 -> 1.12; R2 is woken and granted at
    // 1.12 (wait 120 ms); R2 returns at 1.23, reset until 1.24. No ping on acquire.
    const auto r = models::run_replication(
        asyncpg_scenario(R"({"kind": "burst", "count": 2, "at_s": 1})",
                         R"({"kind": "asyncpg", "min_size": 1, "max_size": 1})", db(0, 0.01), 0.1, 2.0),
        0);
    CHECK(r.metric("completed") == 2);
    CHECK(r.metric("round_trips") == 2);
    CHECK(r.metric("wait_time_avg_ms") == Approx((0 + 120) / 2.0));
    CHECK(r.metric("latency_max_ms") == Approx(230));
    // During the reset the holder is out of the queue: R2 still waits.
    CHECK(at(r, "waiters", 1.115) == 1);
    CHECK(at(r, "idle_connections", 1.115) == 0);
    CHECK(at(r, "idle_connections", 1.5) == 1);
}

// ---- 6.8 item 5: inactivity termination ignoring min_size; max_queries --------------------------

TEST_CASE("asyncpg's pool decays to 0 after 300 s of inactivity, ignoring min_size", "[pool][asyncpg]") {
    // Defaults: 10 holders connected at creation (logins 100 ms: 0.1, then nine at 0.2), each
    // with a 300 s inactivity timer from its login; no requests. The top one is terminated at
    // 300.1, the nine others at 300.2, and nothing reconnects.
    const auto r = models::run_replication(
        asyncpg_scenario(no_requests, R"({"kind": "asyncpg"})", db(0.1, 0), 0.01, 400.0, 0.05), 0);
    CHECK(at(r, "total_connections", 300.05) == 10);
    CHECK(at(r, "total_connections", 300.15) == 9);
    CHECK(at(r, "total_connections", 300.25) == 0);
    CHECK(at(r, "total_connections", 399.95) == 0);
    CHECK(r.metric("connections_closed_idle") == 10);
    CHECK(r.metric("connections_created") == 10);

    SECTION("max_inactive_connection_lifetime 0 disables it") {
        const auto q = models::run_replication(
            asyncpg_scenario(no_requests, R"({"kind": "asyncpg", "max_inactive_connection_lifetime": 0})", db(0.1, 0),
                             0.01, 400.0, 1.0),
            0);
        CHECK(q.metric("connections_closed_idle") == 0);
        CHECK(at(q, "total_connections", 399) == 10);
    }
}

TEST_CASE("asyncpg 0.32 keeps min_size connections through the inactivity timer", "[pool][asyncpg]") {
    // min_size 2, max_size 4, 1 s inactivity, logins 100 ms: 2 connected at creation (0.1 s,
    // then 0.2 s). A burst of 4 at 1.0 s: 2 take the idle holders, 2 log in inline (ready at
    // 1.1 s); 0.5 s queries, released at 1.5 and 1.6 s, each with a timer 1 s later. 0.30
    // retires all four (2.5 s, 2.6 s); 0.32's _deactivate_inactive_connection keeps a
    // connection while get_size() <= min_size: the first two go, the last two stay.
    auto run = [](const std::string& version) {
        return models::run_replication(
            asyncpg_scenario(R"({"kind": "burst", "count": 4, "at_s": 1.0})",
                             R"({"kind": "asyncpg", "min_size": 2, "max_size": 4, "max_inactive_connection_lifetime": 1,
                                 "version": ")" + version + "\"}",
                             db(0.1, 0), 0.5, 5.0, 0.05),
            0);
    };
    const auto v30 = run("0.30");
    CHECK(at(v30, "total_connections", 1.45) == 4);
    CHECK(at(v30, "total_connections", 4.95) == 0);
    CHECK(v30.metric("connections_closed_idle") == 4);
    const auto v32 = run("0.32");
    CHECK(at(v32, "total_connections", 1.45) == 4);
    CHECK(at(v32, "total_connections", 4.95) == 2);
    CHECK(v32.metric("connections_closed_idle") == 2);
}

TEST_CASE("asyncpg closes a connection at release after max_queries and reconnects lazily", "[pool][asyncpg]") {
    // One holder, max_queries 5, login 50 ms (0 -> 0.05), rtt 0, one closed-loop user with
    // 100 ms queries and 0.5 s think. queries_count: each checkout counts the queries it sent
    // (one here) and each reset one more. Releases at 0.6 (count 1 -> reset -> 2),
    // 1.2 (3 -> 4), 1.8 (5 >= 5: closed, holder back empty, no reset). The request at 2.3 pops
    // the empty holder and logs in: a 50 ms wait.
    const auto r = models::run_replication(
        asyncpg_scenario(R"({"kind": "closed_loop", "users": 1, "think_time": {"kind": "constant", "value_s": 0.5}})",
                         R"({"kind": "asyncpg", "min_size": 1, "max_size": 1, "max_queries": 5})", db(0.05, 0), 0.1, 2.4,
                         0.05),
        0);
    CHECK(r.metric("completed") == 3);
    CHECK(r.metric("connections_closed_lifetime") == 1);
    CHECK(r.metric("round_trips") == 2);
    CHECK(r.metric("connections_created") == 2);
    CHECK(r.metric("wait_time_max_ms") == Approx(50));
    CHECK(at(r, "total_connections", 2.0) == 0);
}

TEST_CASE("asyncpg's max_queries counts every query of a transaction", "[pool][asyncpg]") {
    // As above, but transactions of 3 queries of 100 ms (checkouts 0.5-0.8, 1.3-1.6, 2.1-2.4,
    // 2.9-...) and max_queries 10. queries_count at each release: 3 (-> reset -> 4), 7 (-> 8),
    // 11 >= 10: the third release (2.4) closes the connection, and the request at 2.9 logs in
    // again. Counting one query per checkout, it would close only at the sixth release.
    auto s = asyncpg_scenario(R"({"kind": "closed_loop", "users": 1, "think_time": {"kind": "constant", "value_s": 0.5}})",
                              R"({"kind": "asyncpg", "min_size": 1, "max_size": 1, "max_queries": 10})", db(0.05, 0), 0.1,
                              3.0, 0.05);
    s.workload.transactions[0].queries = 3;
    const auto r = models::run_replication(s, 0);
    CHECK(r.metric("completed") == 3);
    CHECK(r.metric("connections_closed_lifetime") == 1);
    CHECK(r.metric("round_trips") == 2);  // two resets; the third release closes instead
    CHECK(r.metric("connections_created") == 2);
    CHECK(at(r, "total_connections", 2.35) == 1);
    CHECK(at(r, "total_connections", 2.45) == 0);
}

// ---- 6.8 item 6: connect errors go to the acquirer; the holder back on top; no retry -------------

TEST_CASE("asyncpg gives a refused login to the acquirer at once and puts the holder back on top", "[pool][asyncpg]") {
    // The database takes ONE connection; min 1, max 3 (the top holder connected at creation);
    // logins 50 ms, rtt 2 ms. Two requests at 1.0 and two at 1.5, queries of 1 s.
    // 1.0: R1 takes the connected holder; R2 pops an empty one, its login is refused (53300)
    //      after 2 ms: connect_error at 1.002, the holder goes back on top.
    // 1.5: R3 pops that same empty holder (top) and is refused at once, no backoff; R4 pops the
    //      last empty holder: refused too.
    const auto r = models::run_replication(
        asyncpg_scenario(R"({"kind": "burst", "count": 2, "at_s": 1, "every_s": 0.5})",
                         R"({"kind": "asyncpg", "min_size": 1, "max_size": 3})", db(0.05, 0.002, 1), 1.0, 1.9, 0.1),
        0);
    CHECK(r.metric("failed_connect_error") == 3);
    CHECK(r.metric("rejected_logins") == 3);  // one attempt per request: no retry
    CHECK(r.metric("connection_errors") == 3);
    CHECK(r.metric("sojourn_avg_ms") == Approx(2));
    CHECK(r.metric("completed") == 0);  // R1 still holds its connection at 1.9
}

// ---- parameters ---------------------------------------------------------------------------------

TEST_CASE("asyncpg parameters resolve to create_pool's defaults", "[pool][asyncpg]") {
    const auto& p = params_of(R"({"kind": "asyncpg"})");
    CHECK(p.min_size == 10);
    CHECK(p.max_size == 10);
    CHECK(p.max_queries == 50000);
    CHECK(p.max_inactive_connection_lifetime == 300.0);
    CHECK_FALSE(p.timeout.has_value());
    CHECK(params_of(R"({"kind": "asyncpg", "timeout": null})").timeout == std::nullopt);
    CHECK(params_of(R"({"kind": "asyncpg", "timeout": 2.5})").timeout == 2.5);

    const auto s = models::scenario_from_json(R"({"pool": {"kind": "asyncpg", "min_size": 2}})");
    const std::string text = models::scenario_to_json(s);
    for (const char* k : {"\"min_size\": 2", "\"max_size\": 10", "\"max_queries\": 50000",
                          "\"max_inactive_connection_lifetime\": 300", "\"timeout\": null"})
        CHECK(text.find(k) != std::string::npos);
    CHECK(models::scenario_to_json(models::scenario_from_json(text)) == text);
}

TEST_CASE("asyncpg parameters the library rejects are errors naming the path and the value", "[pool][asyncpg]") {
    using V = std::vector<std::string>;
    // Pool.__init__: max_size > 0, min_size >= 0, min_size <= max_size, max_queries > 0,
    // max_inactive_connection_lifetime >= 0.
    CHECK(problems_of(R"({"kind": "asyncpg", "max_size": 0})") == V{"/pool/max_size: must be >= 1, got 0"});
    CHECK(problems_of(R"({"kind": "asyncpg", "min_size": -1})") == V{"/pool/min_size: must be >= 0, got -1"});
    CHECK(problems_of(R"({"kind": "asyncpg", "min_size": 20})") ==
          V{"/pool/min_size: min_size is greater than max_size (10), got 20"});
    CHECK(problems_of(R"({"kind": "asyncpg", "max_queries": 0})") == V{"/pool/max_queries: must be >= 1, got 0"});
    CHECK(problems_of(R"({"kind": "asyncpg", "max_inactive_connection_lifetime": -1})") ==
          V{"/pool/max_inactive_connection_lifetime: must be >= 0, got -1"});
    CHECK(problems_of(R"({"kind": "asyncpg", "timeout": 0})") == V{"/pool/timeout: must be > 0, got 0"});
    CHECK(problems_of(R"({"kind": "asyncpg", "timeout": "forever"})") ==
          V{"/pool/timeout: must be a number, got a string \"forever\""});
    const auto unknown = problems_of(R"({"kind": "asyncpg", "max_sizes": 5})");
    REQUIRE(unknown.size() == 1);
    CHECK(unknown[0].find("/pool/max_sizes: unknown key") == 0);
    CHECK(unknown[0].find("max_size") != std::string::npos);
}

TEST_CASE("the asyncpg example scenario loads", "[pool][asyncpg]") {
    std::ifstream in(std::string(DBPOOLSIM_SOURCE_DIR) + "/experiments/scenarios/asyncpg.json");
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    const auto s = models::scenario_from_json(ss.str());
    CHECK(s.pool.kind == "asyncpg");
    const auto& p = dynamic_cast<const models::asyncpg_pool_params&>(*s.pool.params);
    CHECK(p.min_size == 10);
    CHECK_FALSE(p.timeout.has_value());
    const auto r = models::run_replication(s, 0);
    CHECK(r.metric("completed") > 0);
}

// ---- issue 11 item 7: connections the server closed while idle ---------------------------------

TEST_CASE("asyncpg reconnects inline a holder whose connection the server closed while idle", "[pool][asyncpg][faults]") {
    // docs/design/fidelity-review.md item 7: min_size = max_size = 4, one request per second
    // (1, 2, 3, ...), 5 ms queries, logins 50 ms, every backend killed at 40.5. asyncio reads
    // the idle sockets, so the holders' connections are known closed at 40.5; the request at
    // 41.0 pops the top holder, connects inline and is granted at 41.05 (its query ends at
    // 41.055). No request fails. (Before: the dead connection was handed out and its query
    // failed.) Only the popped holder reconnects (LIFO, one request at a time).
    auto s = models::scenario_from_json(R"({
        "run": {"horizon_s": 43, "warmup_s": 0, "replications": 1, "seed": 1, "sample_interval_s": 0.005},
        "workload": {"arrivals": {"kind": "burst", "count": 1, "at_s": 1, "every_s": 1},
                     "transactions": [{"query_time": {"kind": "constant", "value_s": 0.005}}]},
        "pool": {"kind": "asyncpg", "min_size": 4, "max_size": 4},
        "database": {"cores": 0, "connect_time": {"kind": "constant", "value_s": 0.05}, "network_rtt_s": 0},
        "faults": [{"kind": "kill_connections", "at_s": 40.5, "fraction": 1}]})");
    const auto r = models::run_replication(s, 0);
    CHECK(r.metric("failed") == 0);
    CHECK(r.metric("completed") == 42);
    CHECK(r.metric("connections_closed_broken") == 4);
    CHECK(r.metric("connections_created") == 5);
    CHECK(at(r, "total_connections", 40.6) == 0);
    CHECK(at(r, "creating_connections", 41.03) == 1);
    CHECK(r.metric("wait_time_max_ms") == Approx(50).epsilon(1e-6));
}

TEST_CASE("asyncpg abandons a login after connect()'s 60 s timeout", "[pool][asyncpg][faults]") {
    // docs/design/fidelity-review.md item 8a: min_size = max_size = 1, inactivity 5 s, a request
    // every 15 s from 30: the one at 30.0 uses the connection, which the inactivity timer
    // closes at 35.0; a failover from 40 lasting 100 s; the request at 45.0 connects inline to
    // an address that does not answer, and connect(timeout=60) ends it at 105.0: the request
    // fails (connect_error: no acquire timeout by default), not at 172.0 (45 + 127 s).
    auto run_until = [](double horizon) {
        return models::run_replication(
            models::scenario_from_json(R"({
                "run": {"horizon_s": )" + std::to_string(horizon) + R"(, "warmup_s": 0, "replications": 1, "seed": 1, "sample_interval_s": 1},
                "workload": {"arrivals": {"kind": "burst", "count": 1, "at_s": 30, "every_s": 15},
                             "transactions": [{"query_time": {"kind": "constant", "value_s": 0.005}}]},
                "pool": {"kind": "asyncpg", "min_size": 1, "max_size": 1, "max_inactive_connection_lifetime": 5},
                "database": {"cores": 0, "connect_time": {"kind": "constant", "value_s": 0.05}, "network_rtt_s": 0},
                "faults": [{"kind": "failover", "at_s": 40, "duration_s": 100}]})"),
            0);
    };
    CHECK(run_until(104.99).metric("failed") == 0);
    const auto r = run_until(105.01);
    CHECK(r.metric("failed") == 1);
    CHECK(r.metric("failed_connect_error") == 1);
    CHECK(r.metric("completed") == 1);
}

// ---- asyncpg 0.32: the connection floor is restored in the background; live holders first ------

TEST_CASE("asyncpg 0.32 restores min_size after a restart in the background, retrying after 1 s, 2 s", "[pool][asyncpg][faults]") {
    // min_size 2, max_size 4, logins 100 ms, no requests; PostgreSQL restarts at 1.0 for 1.5 s.
    // Both idle connections are lost at 1.0 (_release_on_close -> _schedule_min_size_maintenance).
    // 0.32's _maintain_min_size: its login at 1.0 is refused, sleep 1 s; at 2.0 refused again,
    // sleep 2 s; at 4.0 the database is up: one holder 4.0 -> 4.1, then the next 4.1 -> 4.2.
    // 0.30 reconnects nothing until a request comes.
    auto run = [](const std::string& version) {
        auto s = asyncpg_scenario(no_requests,
                                  R"({"kind": "asyncpg", "min_size": 2, "max_size": 4, "version": ")" + version + "\"}",
                                  db(0.1, 0), 0.1, 5.0, 0.05);
        s.faults = models::scenario_from_json(
                       R"({"run": {"horizon_s": 5, "warmup_s": 0}, "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 1},
                           "transactions": [{"query_time": {"kind": "constant", "value_s": 0.1}}]},
                           "pool": {"kind": "asyncpg"}, "database": {},
                           "faults": [{"kind": "restart", "at_s": 1.0, "duration_s": 1.5}]})")
                       .faults;
        return models::run_replication(s, 0);
    };
    const auto v30 = run("0.30");
    CHECK(at(v30, "total_connections", 0.95) == 2);
    CHECK(at(v30, "total_connections", 4.95) == 0);
    const auto v32 = run("0.32");
    CHECK(at(v32, "idle_connections", 1.95) == 0);
    CHECK(at(v32, "idle_connections", 3.95) == 0);  // the second retry waits 2 s, not 1
    CHECK(at(v32, "idle_connections", 4.15) == 1);  // one at a time
    CHECK(at(v32, "idle_connections", 4.25) == 2);
    CHECK(at(v32, "idle_connections", 4.95) == 2);
    CHECK(v32.metric("connection_errors") == 2);  // the logins at 1.0 and 2.0
    CHECK(v32.metric("connections_created") == 4);
}

TEST_CASE("asyncpg 0.32 hands out a connected holder before an empty one above it", "[pool][asyncpg]") {
    // min_size 1, max_size 3, max_queries 3, logins 100 ms, queries 100 ms, rtt 0. Holder H2
    // (top) connected at creation. 1.0: R1 takes H2, R2 pops the empty H1 and logs in (1.0 ->
    // 1.1). Releases: H2 at 1.1 (1 query + reset = 2), H1 at 1.2 (2), H1 on top. 1.5: R3 takes
    // H1; at 1.6 its count is 3 >= 3: closed, H1 back on top EMPTY above the connected H2 (one
    // connected: no maintenance). 2.0: R4. 0.30's LifoQueue pops H1 and logs in (100 ms, a third
    // login); 0.32's _PoolConnectionHolderQueue._get takes H2 at once (whose count reaches 3 at
    // its release at 2.1: closed, and then, none connected, the maintenance task logs one in).
    // Waits: 0, 100, 0, 100 (0.30) against 0, 100, 0, 0 (0.32).
    const std::string trace = test::temp_file("asyncpg_live_first.csv", "t_s\n1.0\n1.0\n1.5\n2.0\n");
    auto run = [&trace](const std::string& version) {
        return models::run_replication(
            asyncpg_scenario(R"({"kind": "trace", "file": ")" + trace + "\"}",
                             R"({"kind": "asyncpg", "min_size": 1, "max_size": 3, "max_queries": 3, "version": ")" +
                                 version + "\"}",
                             db(0.1, 0), 0.1, 3.0, 0.05),
            0);
    };
    const auto v30 = run("0.30");
    CHECK(v30.metric("wait_time_avg_ms") == Approx(50));
    CHECK(v30.metric("connections_closed_lifetime") == 1);
    const auto v32 = run("0.32");
    CHECK(v32.metric("wait_time_avg_ms") == Approx(25));
    CHECK(v32.metric("connections_closed_lifetime") == 2);
    CHECK(v32.metric("completed") == 4);
}

TEST_CASE("asyncpg: a getter whose timeout fires after its wake-up was scheduled, in the same instant, times out; the wake-up does nothing",
          "[pool][asyncpg]") {
    // One holder (min = max = 1, login 0 s), rtt 0.25 s, queries 0.125 s, timeout 0.125 s
    // (binary fractions: every sum below is exact). R0 at 0.5 takes the holder: query to 0.625,
    // response and release at 0.875, reset to 1.125. R1 at 1.0 waits, its deadline at 1.125.
    // At 1.125 the reset's end (scheduled at 0.875) comes first: put_nowait wakes R1 (a
    // zero-delay event, scheduled now). Then R1's deadline (scheduled at 1.0, before the
    // wake-up): wait_for cancels R1 after it was woken, so it fails with a timeout and passes
    // the wake-up on (nobody waits). The wake-up event, cancelled, must not hand R1 the holder.
    const std::string trace = test::temp_file("asyncpg_woken_timeout.csv", "t_s\n0.5\n1.0\n");
    const auto r = models::run_replication(
        asyncpg_scenario(R"({"kind": "trace", "file": ")" + trace + "\"}",
                         R"({"kind": "asyncpg", "min_size": 1, "max_size": 1, "timeout": 0.125})", db(0, 0.25),
                         0.125, 2.0, 0.25),
        0);
    CHECK(r.metric("completed") == 1);
    CHECK(r.metric("timeouts") == 1);
    CHECK(at(r, "idle_connections", 1.5) == 1);  // the holder is back, unused
    CHECK(at(r, "active_connections", 1.5) == 0);
}
