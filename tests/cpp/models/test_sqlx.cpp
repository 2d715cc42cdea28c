// The sqlx 0.8 pool (spec section 5), event by event. Constant times make every number exact.
// Each test is one item of spec 5.7 "What a simulator must reproduce" (or of the issue's
// acceptance list); the comments give the timeline the numbers come from.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "models/pool/sqlx.hpp"
#include "sim/error.hpp"
#include "support/scenarios.hpp"

using namespace dbpoolsim;

namespace {

constexpr test::timeline_with sqlx_scenario{0.005};

using test::db;

using test::no_requests;

double at(const models::replication_result& r, const std::string& col, double t) {
    return test::at(r, col, t, 1e-6);  // sample times here accumulate rounding
}

const models::sqlx_pool_params& params_of(const std::string& pool) {
    return test::pool_params<models::sqlx_pool_params>(pool);
}

std::vector<std::string> problems_of(const std::string& pool) { return test::pool_problems(pool); }

}  // namespace

// ---- 5.7 item 1: a FIFO semaphore of permits; idle connections hold none ---------------------

TEST_CASE("sqlx hands permits out in FIFO order: a new acquire never overtakes a waiter", "[pool][sqlx]") {
    // One connection (max 1, min 1, eager), two closed-loop users thinking 10 ms, queries of
    // 100 ms, rtt 10 ms. Startup: the login (0 s) at t = 0, then connect()'s test acquire pings
    // it until 0.01. Both users arrive at 0.01 and wait. U0 gets the permit when the startup
    // releases it: ping, granted at 0.02. U0 returns at 0.02 + 0.1 + 0.01 = 0.13; its release
    // ping ends at 0.14, and the permit goes to the waiting U1 (ping, granted at 0.15) even
    // though U0's next request arrives at 0.14 too (the tokio semaphore hands a released permit
    // to the queue head; contrast asyncpg's barging). From then on each user arrives while the
    // other holds the connection and waits 140 ms: the other's 100 + 10 ms, the release ping,
    // its own acquire ping... (arrival r + 10 ms, grant r + 10 + 130 ms).
    const auto r = models::run_replication(
        sqlx_scenario(R"({"kind": "closed_loop", "users": 2, "think_time": {"kind": "constant", "value_s": 0.01}})",
                      R"({"kind": "sqlx", "max_connections": 1, "min_connections": 1})", db(0, 0.01), 0.1, 3.0),
        0);
    // Grants every 0.13 s from 0.02, alternating: 23 done by 0.02 + 22 * 0.13 + 0.11 = 2.99.
    CHECK(r.metric("completed") == 23);
    CHECK(r.metric("wait_time_p50_ms") == Approx(140).epsilon(0.01));
    CHECK(r.metric("wait_time_max_ms") == Approx(140).epsilon(1e-6));
    CHECK(at(r, "waiters", 1.0) == 1);
    CHECK(r.metric("connections_created") == 1);
}

// ---- 5.7 item 2: inline, parallel creation by the acquirer; the whole acquire bounded ---------

TEST_CASE("sqlx: N simultaneous first requests on an empty pool open N connections in parallel", "[pool][sqlx]") {
    // connect_lazy: nothing at startup. Logins take 100 ms, queries 10 ms, rtt 0.
    SECTION("below max_connections every acquirer opens its own connection at once") {
        const auto r = models::run_replication(
            sqlx_scenario(R"({"kind": "burst", "count": 5, "at_s": 1})",
                          R"({"kind": "sqlx", "connect_lazy": true})", db(0.1, 0), 0.01, 2.0),
            0);
        CHECK(at(r, "total_connections", 0.5) == 0);
        CHECK(at(r, "creating_connections", 1.05) == 5);
        CHECK(r.metric("connections_created") == 5);
        CHECK(r.metric("wait_time_avg_ms") == Approx(100));  // each paid its own login
        CHECK(r.metric("wait_time_max_ms") == Approx(100));
        CHECK(at(r, "idle_connections", 1.5) == 5);
    }
    SECTION("beyond max_connections the others wait for a permit and take the oldest idle connection") {
        // 15 at once, max 10: 10 logins in parallel (granted at 1.1, returned at 1.11); the 5
        // others get the 5 first permits released at 1.11 and pop idle connections (ping 0 s).
        const auto r = models::run_replication(
            sqlx_scenario(R"({"kind": "burst", "count": 15, "at_s": 1})",
                          R"({"kind": "sqlx", "connect_lazy": true})", db(0.1, 0), 0.01, 2.0),
            0);
        CHECK(at(r, "creating_connections", 1.05) == 10);
        CHECK(at(r, "waiters", 1.05) == 5);
        CHECK(r.metric("connections_created") == 10);
        CHECK(r.metric("completed") == 15);
        CHECK(r.metric("wait_time_max_ms") == Approx(110));
        CHECK(r.metric("round_trips") == 15 + 5);  // 15 release pings, 5 acquire pings
    }
}

TEST_CASE("sqlx: acquire_timeout bounds the whole acquire, connecting included", "[pool][sqlx]") {
    SECTION("a login longer than the timeout: PoolTimedOut at the deadline, the login dropped then") {
        // Lazy pool, a 2 s login, acquire_timeout 1 s: the request has a permit at once but
        // fails at exactly t = 2 (arrival 1 + 1 s), and the connect future is dropped with it
        // (its socket closed). (The model used to let the login finish at 3 and close it.)
        const auto r = models::run_replication(
            sqlx_scenario(R"({"kind": "burst", "count": 1, "at_s": 1})",
                          R"({"kind": "sqlx", "connect_lazy": true, "acquire_timeout": 1})", db(2.0, 0), 0.01, 4.0, 0.1),
            0);
        CHECK(r.metric("failed_acquire_timeout") == 1);
        CHECK(r.metric("wait_time_all_avg_ms") == Approx(1000));
        CHECK(at(r, "creating_connections", 1.5) == 1);
        CHECK(at(r, "creating_connections", 2.5) == 0);  // abandoned at 2
        CHECK(at(r, "total_connections", 3.5) == 0);
        CHECK(r.metric("connections_closed_broken") == 0);
    }
    SECTION("a waiter for a permit gives up at the deadline") {
        // One connection held 5 s from t = 1 (eager startup, min 1); the second request waits
        // for the permit and gives up at 1 + acquire_timeout 2 = 3 s.
        const auto r = models::run_replication(
            sqlx_scenario(R"({"kind": "burst", "count": 2, "at_s": 1})",
                          R"({"kind": "sqlx", "max_connections": 1, "min_connections": 1, "acquire_timeout": 2})",
                          db(0, 0), 5.0, 7.0, 0.1),
            0);
        CHECK(r.metric("failed_acquire_timeout") == 1);
        CHECK(r.metric("completed") == 1);
        CHECK(r.metric("wait_time_all_avg_ms") == Approx((0 + 2000) / 2.0));
        CHECK(at(r, "waiters", 2.9) == 1);
        CHECK(at(r, "waiters", 3.1) == 0);
    }
}

// ---- 5.7 item 3: two round trips per checkout; the release ping delays the permit -------------

TEST_CASE("sqlx pings on every acquire and on every release: two round trips per checkout", "[pool][sqlx]") {
    // max 1, min 1, eager; login 50 ms, rtt 10 ms, queries 100 ms; two requests at t = 1.
    // Startup: login 0 -> 0.05, test acquire: ping 0.05 -> 0.06, back to idle (1 round trip).
    // R1: permit, oldest idle, ping -> granted 1.01 (wait 10 ms); query ends 1.11, its response
    //   1.12: release; the release ping ends 1.13, then the permit goes to R2.
    // R2 (waiting since 1.0): ping -> granted 1.14 (wait 140 ms); returns 1.25, ping until 1.26.
    const auto r = models::run_replication(
        sqlx_scenario(R"({"kind": "burst", "count": 2, "at_s": 1})",
                      R"({"kind": "sqlx", "max_connections": 1, "min_connections": 1})", db(0.05, 0.01), 0.1, 2.0),
        0);
    CHECK(r.metric("completed") == 2);
    CHECK(r.metric("round_trips") == 1 + 2 * 2);
    CHECK(r.metric("wait_time_avg_ms") == Approx((10 + 140) / 2.0));
    CHECK(r.metric("latency_max_ms") == Approx(250));
    // During R1's release ping (1.12 -> 1.13) the connection is neither idle nor usable, and R2
    // still waits: the permit is held for that round trip.
    CHECK(at(r, "idle_connections", 1.125) == 0);
    CHECK(at(r, "active_connections", 1.125) == 0);
    CHECK(at(r, "waiters", 1.125) == 1);
    CHECK(at(r, "idle_connections", 1.5) == 1);

    SECTION("test_before_acquire false drops the acquire ping, not the release ping") {
        const auto q = models::run_replication(
            sqlx_scenario(R"({"kind": "burst", "count": 2, "at_s": 1})",
                          R"({"kind": "sqlx", "max_connections": 1, "min_connections": 1, "test_before_acquire": false})",
                          db(0.05, 0.01), 0.1, 2.0),
            0);
        // R1 granted at 1.0, released 1.11, ping until 1.12; R2 granted 1.12.
        CHECK(q.metric("round_trips") == 2);
        CHECK(q.metric("wait_time_avg_ms") == Approx((0 + 120) / 2.0));
    }
}

TEST_CASE("sqlx: an acquire ping answered exactly at the acquire deadline loses to it", "[pool][sqlx]") {
    // Lazy pool, max 1, rtt 50 ms, logins instant, queries 10 ms; a request at t = 1 and one
    // at t = 2. R1 opens the connection itself (no ping) and is served; its release ping
    // leaves the connection idle at about 1.11. R2 pings it: the answer comes at
    // 2 + rtt. With acquire_timeout = rtt the deadline is at the same instant and, scheduled
    // first, fires first: PoolTimedOut, and the ping's late answer closes the connection
    // (a dropped check). With a slightly longer timeout R2 is served. (The deadline timer is
    // left out only when the ping is sure to answer strictly before it: sqlx.cpp
    // ends_before_deadline.)
    const std::string arrivals = R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 1})";
    const auto with_timeout = [&](const char* timeout) {
        const std::string pool = std::string(R"({"kind": "sqlx", "max_connections": 1, "connect_lazy": true, "acquire_timeout": )") + timeout + "}";
        return models::run_replication(sqlx_scenario(arrivals, pool, db(0, 0.05), 0.01, 2.5, 0.1), 0);
    };
    const auto tie = with_timeout("0.05");
    CHECK(tie.metric("completed") == 1);
    CHECK(tie.metric("failed_acquire_timeout") == 1);
    CHECK(tie.metric("connections_closed_broken") == 1);
    const auto longer = with_timeout("0.0501");
    CHECK(longer.metric("completed") == 2);
    CHECK(longer.metric("failed_acquire_timeout") == 0);
    CHECK(longer.metric("connections_closed_broken") == 0);
}

// ---- 5.7 item 4: connect retries only for 53300 with 10 ms x2 backoff capped at remaining/5 -----

TEST_CASE("sqlx retries too_many_connections logins with backoff until the acquire deadline", "[pool][sqlx]") {
    // The database takes ONE connection. Eager pool, min 1, max 2, acquire_timeout 1 s; rtt 1 ms,
    // login 50 ms. The startup connection is idle by 0.051. At t = 1, R1 takes it (ping, query
    // 300 ms); R2 gets the second permit, finds nothing idle and opens a connection itself: the
    // database answers 53300 after one rtt, which sqlx treats as transient. Backoff 10, 20, 40,
    // 80, 160 ms, then capped at (1 s left at the start)/5 = 200 ms: attempts at 1.000, 1.011,
    // 1.032, 1.073, 1.154, 1.315, 1.516, 1.717, 1.918; the next would be at 2.119, after the
    // deadline: PoolTimedOut at exactly 2.0. R2 stays committed to its connect: R1's connection
    // is idle again from 1.303 and R2 never takes it.
    const auto r = models::run_replication(
        sqlx_scenario(R"({"kind": "burst", "count": 2, "at_s": 1})",
                      R"({"kind": "sqlx", "max_connections": 2, "min_connections": 1, "acquire_timeout": 1})",
                      db(0.05, 0.001, 1), 0.3, 3.0),
        0);
    CHECK(r.metric("rejected_logins") == 9);
    CHECK(r.metric("connection_errors") == 9);
    CHECK(r.metric("failed_acquire_timeout") == 1);
    CHECK(r.metric("failed_connect_error") == 0);
    CHECK(r.metric("completed") == 1);
    CHECK(r.metric("wait_time_all_avg_ms") == Approx((1 + 1000) / 2.0));
    CHECK(at(r, "idle_connections", 1.5) == 1);  // idle, while R2 sleeps between attempts
    CHECK(at(r, "waiters", 1.5) == 0);           // R2 is not waiting for a permit: it connects
}

// ---- 5.7 item 5: the reaper -----------------------------------------------------------------

TEST_CASE("sqlx's reaper closes idle connections regardless of min_connections, then reopens up to min", "[pool][sqlx]") {
    // Eager, min 1, idle_timeout 10 s, no max_lifetime: one pass every 10 s. Login 0.1 s, rtt 0,
    // no requests. The startup connection is idle from 0.1. Pass at 10: idle 9.9 s, kept, and
    // the pass resets its idle_since to 10. Pass at 20: idle exactly 10 s -> closed although
    // min_connections is 1, and a replacement opens inline (20 -> 20.1). Same again at 40.
    const auto r = models::run_replication(
        sqlx_scenario(no_requests,
                      R"({"kind": "sqlx", "min_connections": 1, "idle_timeout": 10, "max_lifetime": null})",
                      db(0.1, 0), 0.01, 45.0, 0.05),
        0);
    CHECK(at(r, "idle_connections", 19.95) == 1);
    CHECK(at(r, "creating_connections", 20.05) == 1);
    CHECK(at(r, "idle_connections", 20.05) == 0);
    CHECK(at(r, "idle_connections", 25) == 1);
    CHECK(at(r, "creating_connections", 40.05) == 1);
    CHECK(r.metric("connections_closed_idle") == 2);
    CHECK(r.metric("connections_created") == 3);
    CHECK(r.metric("round_trips") == 1);  // the startup test acquire's ping
}

TEST_CASE("sqlx's reaper touch restarts the idle clock: with max_lifetime < idle_timeout idle never fires", "[pool][sqlx]") {
    // idle_timeout 20, max_lifetime 15: a pass every 15 s. Lazy pool; one request at t = 1
    // opens a connection (login 50 ms: created 1.05), query 100 ms, back idle at 1.15.
    // Pass at 15: idle 13.85 < 20, age 13.95 < 15: kept, idle_since := 15.
    // Pass at 30: idle only 15 s since the touch (28.85 s since its return!), age 28.95 >= 15:
    // closed for its lifetime, never for idleness.
    const auto r = models::run_replication(
        sqlx_scenario(R"({"kind": "burst", "count": 1, "at_s": 1})",
                      R"({"kind": "sqlx", "connect_lazy": true, "idle_timeout": 20, "max_lifetime": 15})",
                      db(0.05, 0), 0.1, 35.0, 0.5),
        0);
    CHECK(at(r, "total_connections", 29.5) == 1);
    CHECK(at(r, "total_connections", 30.5) == 0);
    CHECK(r.metric("connections_closed_lifetime") == 1);
    CHECK(r.metric("connections_closed_idle") == 0);
}

TEST_CASE("sqlx checks max_lifetime on release: close, then restore min_connections", "[pool][sqlx]") {
    // One connection (max 1, min 1, eager), max_lifetime 10 s (the reaper every 10 s finds it
    // in use), one closed-loop user running 3 s queries back to back, logins and rtt 0.
    // Returns at 3, 6, 9 are within the lifetime (no jitter); the return at 12 (age 12 > 10)
    // closes it, and min_connections_maintenance opens a replacement at once.
    const auto r = models::run_replication(
        sqlx_scenario(R"({"kind": "closed_loop", "users": 1, "think_time": {"kind": "constant", "value_s": 0}})",
                      R"({"kind": "sqlx", "max_connections": 1, "min_connections": 1, "max_lifetime": 10, "idle_timeout": 0})",
                      db(0, 0), 3.0, 13.0, 0.5),
        0);
    CHECK(r.metric("completed") == 4);
    CHECK(r.metric("connections_closed_lifetime") == 1);
    CHECK(r.metric("connections_created") == 2);
    CHECK(at(r, "total_connections", 12.5) == 1);
}

// ---- 5.7 item 6: the idle queue is FIFO ---------------------------------------------------------

TEST_CASE("sqlx hands out the oldest idle connection first (FIFO idle queue)", "[pool][sqlx]") {
    // Eager, min 2, max 2, logins 1 s, rtt 0, max_lifetime 1.5 s (no idle_timeout: passes at
    // 1.5, 3.0). connect() opens c1 (0 -> 1) then c2 (1 -> 2); its test acquire pops the oldest,
    // c1, and puts it back at the tail: queue [c2, c1]. R1 at 2.5 takes c2 and returns it at 2.6
    // (age 0.6): queue [c1, c2]. R2 at 2.7 takes c1, the one idle longest, and returns it at 2.8
    // aged 1.8 > 1.5: closed for its lifetime. (A LIFO queue would have given R2 c2 again.)
    const auto r = models::run_replication(
        sqlx_scenario(R"({"kind": "burst", "count": 1, "at_s": 2.5, "every_s": 0.2})",
                      R"({"kind": "sqlx", "max_connections": 2, "min_connections": 2, "max_lifetime": 1.5, "idle_timeout": null})",
                      db(1.0, 0), 0.1, 2.85, 0.05),
        0);
    CHECK(r.metric("completed") == 2);
    CHECK(r.metric("connections_closed_lifetime") == 1);
}

// ---- startup ------------------------------------------------------------------------------------

TEST_CASE("sqlx connect() opens min_connections one after another, then tests one", "[pool][sqlx]") {
    // min 3, logins 100 ms, rtt 10 ms: logins 0-0.1, 0.1-0.2, 0.2-0.3 (try_min_connections is a
    // sequential loop), then the test acquire pings the oldest (0.3 -> 0.31).
    const auto r = models::run_replication(
        sqlx_scenario(no_requests, R"({"kind": "sqlx", "min_connections": 3})", db(0.1, 0.01), 0.01, 1.0),
        0);
    CHECK(at(r, "creating_connections", 0.05) == 1);
    CHECK(at(r, "total_connections", 0.15) == 2);
    CHECK(at(r, "creating_connections", 0.15) == 1);
    CHECK(at(r, "total_connections", 0.25) == 3);
    CHECK(at(r, "idle_connections", 0.305) == 2);  // one is being pinged
    CHECK(at(r, "idle_connections", 0.5) == 3);
    CHECK(r.metric("round_trips") == 1);

    SECTION("with min_connections 0 the test acquire itself opens one connection") {
        const auto q = models::run_replication(
            sqlx_scenario(no_requests, R"({"kind": "sqlx"})", db(0.1, 0.01), 0.01, 1.0), 0);
        CHECK(q.metric("connections_created") == 1);
        CHECK(q.metric("round_trips") == 0);  // a fresh connection is not pinged
        CHECK(at(q, "idle_connections", 0.5) == 1);
    }
    SECTION("connect_lazy opens nothing; in 0.8 the reaper only refills after closing something") {
        // spawn_maintenance_tasks (0.8): each pass only reopens min_connections after it closed
        // a connection, so a lazy pool with idle_timeout/max_lifetime set starts empty.
        const auto q = models::run_replication(
            sqlx_scenario(no_requests, R"({"kind": "sqlx", "min_connections": 3, "connect_lazy": true})",
                          db(0.1, 0.01), 0.01, 1.0),
            0);
        CHECK(q.metric("connections_created") == 0);
        // With neither limit set, one min_connections_maintenance runs at once: sequential logins.
        const auto n = models::run_replication(
            sqlx_scenario(no_requests,
                          R"({"kind": "sqlx", "min_connections": 3, "connect_lazy": true, "idle_timeout": null, "max_lifetime": 0})",
                          db(0.1, 0.01), 0.01, 1.0),
            0);
        CHECK(at(n, "creating_connections", 0.15) == 1);
        CHECK(at(n, "total_connections", 0.15) == 2);
        CHECK(n.metric("connections_created") == 3);
        CHECK(n.metric("round_trips") == 0);
    }
}

// ---- parameters ---------------------------------------------------------------------------------

TEST_CASE("sqlx parameters resolve to PoolOptions::new() defaults", "[pool][sqlx]") {
    const auto& p = params_of(R"({"kind": "sqlx"})");
    CHECK(p.max_connections == 10);
    CHECK(p.min_connections == 0);
    CHECK(p.acquire_timeout == 30);
    CHECK(p.idle_timeout == 600);
    CHECK(p.max_lifetime == 1800);
    CHECK(p.test_before_acquire);
    CHECK_FALSE(p.connect_lazy);
    // None is null or 0, and is written null.
    CHECK(params_of(R"({"kind": "sqlx", "idle_timeout": null})").idle_timeout == 0);
    CHECK(params_of(R"({"kind": "sqlx", "max_lifetime": 0})").max_lifetime == 0);
    // min_connections above max_connections is accepted (clamped when used, options.rs).
    CHECK(params_of(R"({"kind": "sqlx", "max_connections": 2, "min_connections": 5})").min_connections == 5);

    const auto s = models::scenario_from_json(R"({"pool": {"kind": "sqlx", "max_lifetime": null, "acquire_timeout": 5}})");
    const std::string text = models::scenario_to_json(s);
    for (const char* k : {"\"max_connections\": 10", "\"min_connections\": 0", "\"acquire_timeout\": 5",
                          "\"idle_timeout\": 600", "\"max_lifetime\": null", "\"test_before_acquire\": true",
                          "\"connect_lazy\": false"})
        CHECK(text.find(k) != std::string::npos);
    CHECK(models::scenario_to_json(models::scenario_from_json(text)) == text);
}

TEST_CASE("sqlx: min_connections above max_connections is clamped", "[pool][sqlx]") {
    const auto r = models::run_replication(
        sqlx_scenario(no_requests, R"({"kind": "sqlx", "max_connections": 2, "min_connections": 5})", db(0.1, 0), 0.01, 1.0),
        0);
    CHECK(r.metric("connections_created") == 2);
}

TEST_CASE("sqlx parameter errors name the path and the value", "[pool][sqlx]") {
    using V = std::vector<std::string>;
    CHECK(problems_of(R"({"kind": "sqlx", "max_connections": 0})") == V{"/pool/max_connections: must be >= 1, got 0"});
    CHECK(problems_of(R"({"kind": "sqlx", "min_connections": -1})") == V{"/pool/min_connections: must be >= 0, got -1"});
    CHECK(problems_of(R"({"kind": "sqlx", "acquire_timeout": 0})") == V{"/pool/acquire_timeout: must be > 0, got 0"});
    CHECK(problems_of(R"({"kind": "sqlx", "idle_timeout": -1})") == V{"/pool/idle_timeout: must be >= 0, got -1"});
    CHECK(problems_of(R"({"kind": "sqlx", "max_lifetime": "30m"})") ==
          V{"/pool/max_lifetime: must be a number, got a string \"30m\""});
    CHECK(problems_of(R"({"kind": "sqlx", "test_before_acquire": 1})") ==
          V{"/pool/test_before_acquire: must be true or false, got a number 1"});
    const auto unknown = problems_of(R"({"kind": "sqlx", "max_connection": 5})");
    REQUIRE(unknown.size() == 1);
    CHECK(unknown[0].find("/pool/max_connection: unknown key") == 0);
    CHECK(unknown[0].find("max_connections") != std::string::npos);
    CHECK(problems_of(R"({"kind": "sqlx", "max_connections": 0, "acquire_timeout": -1})").size() == 2);
}

TEST_CASE("the sqlx example scenario loads", "[pool][sqlx]") {
    std::ifstream in(std::string(DBPOOLSIM_SOURCE_DIR) + "/experiments/scenarios/sqlx.json");
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    const auto s = models::scenario_from_json(ss.str());
    CHECK(s.pool.kind == "sqlx");
    const auto& p = dynamic_cast<const models::sqlx_pool_params&>(*s.pool.params);
    CHECK(p.max_connections == 10);
    CHECK(p.acquire_timeout == 30);
    const auto r = models::run_replication(s, 0);
    CHECK(r.metric("completed") > 0);
}

TEST_CASE("a login dropped by sqlx's acquire timeout frees its database slot at once", "[pool][sqlx][faults]") {
    // docs/design/fidelity-review.md item 8b: max_connections 1, lazy, acquire_timeout 1 s,
    // database.max_connections 1, logins 50 ms made 100x slower in [0, 2). Request A (1.0)
    // starts a 5 s login; its acquire times out at 2.0 and the connect future is dropped: the
    // socket closes and the database frees the slot then. Request B (2.5) logs in normally and
    // is granted at 2.55. (Were the slot held until 6.0, B's login would be refused (53300),
    // retried with backoff, and B would time out at 3.5.)
    const auto r = models::run_replication(
        models::scenario_from_json(R"({
            "run": {"horizon_s": 3, "warmup_s": 0, "replications": 1, "seed": 1, "sample_interval_s": 0.25},
            "workload": {"arrivals": {"kind": "burst", "count": 1, "at_s": 1, "every_s": 1.5},
                         "transactions": [{"query_time": {"kind": "constant", "value_s": 0.005}}]},
            "pool": {"kind": "sqlx", "max_connections": 1, "connect_lazy": true, "acquire_timeout": 1},
            "database": {"cores": 0, "max_connections": 1, "connect_time": {"kind": "constant", "value_s": 0.05},
                         "network_rtt_s": 0},
            "faults": [{"kind": "slow_connects", "at_s": 0, "duration_s": 2, "factor": 100}]})"),
        0);
    CHECK(r.metric("failed_acquire_timeout") == 1);
    CHECK(r.metric("completed") == 1);
    CHECK(r.metric("wait_time_max_ms") == Approx(50).epsilon(1e-6));
    CHECK(r.metric("rejected_logins") == 0);
    CHECK(at(r, "db_backends", 1.5) == 1);
    CHECK(at(r, "db_backends", 2.25) == 0);
}
