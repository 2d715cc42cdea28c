// node-postgres's pg.Pool, event by event: one test per item of docs/pools/node-postgres.md
// section 8 ("What a simulator must reproduce") that the world can express today, plus its
// queueing-theory check. Common setup (the chapter's): one instance, no CPU contention, round
// trip 1 ms, logins 50 ms, one 10 ms query per request, pool defaults. Requests come from a
// trace `t_s,duration_s`; a request's "db_done" event is at its grant + its query time.
#include <catch2/catch.hpp>


#include "models/pool/node_postgres.hpp"
#include "models/theory.hpp"
#include "support/pool_runs.hpp"

using namespace dbpoolsim;

namespace {

using test::check_times;
using test::repeat;
using test::times_of;
using node_run = test::traced_run;

node_run run(const std::string& trace, const std::string& pool, double horizon_s, const std::string& extra = "",
        std::uint64_t seed = 1) {
    return test::traced(test::trace_scenario("node_postgres", trace, pool, horizon_s, extra, seed));
}

const models::node_postgres_params& params_of(const std::string& pool) {
    return test::pool_params<models::node_postgres_params>(pool);
}

}  // namespace

// ---- parameters -----------------------------------------------------------------------------

TEST_CASE("node_postgres: the defaults are pg.Pool's", "[pool][node_postgres]") {
    const auto& d = params_of(R"({"kind": "node_postgres"})");
    CHECK(d.max == 10);
    CHECK(d.min == 0);
    CHECK(d.idleTimeoutMillis == 10000);
    CHECK(d.connectionTimeoutMillis == 0);
    CHECK(d.maxUses == 0);
    CHECK(d.maxLifetimeSeconds == 0);
    CHECK(d.release_with_error);  // pool.query, the usual way to run a query
    CHECK(test::pool_problems(R"({"kind": "node_postgres", "max": 0})") ==
          std::vector<std::string>{"/pool/max: must be >= 1, got 0"});
    CHECK(test::pool_problems(R"({"kind": "node_postgres", "max": 4, "min": 5})") ==
          std::vector<std::string>{"/pool/min: must be <= max (4), got 5"});
    CHECK(test::pool_problems(R"({"kind": "node_postgres", "idleTimeoutMillis": 1.5})").size() == 1);
}

// ---- item 1: lazy start, one login per request up to max, FIFO queue beyond ------------------

TEST_CASE("node_postgres: a burst opens max clients in parallel and queues the rest FIFO",
          "[pool][node_postgres]") {
    // 15 at 1.0: 10 logins 1.0-1.05, grants 1.05; 5 queue. Each release at 1.061 serves one
    // queued request with the client just released: 5 grants at 1.061, in arrival order.
    const auto g = run(repeat("1.0,0.01\n", 15), R"("min": 5)", 2.0);
    CHECK(g.at("total_connections", 0.999) == 0);  // min is not a pre-fill
    check_times(times_of(g.of({"connect_done"})), std::vector<double>(10, 1.05));
    std::vector<double> done(10, 1.06);
    done.insert(done.end(), 5, 1.071);
    check_times(times_of(g.of({"db_done"})), done);
    const auto d = g.of({"db_done"});
    for (std::size_t i = 10; i < 15; ++i) CHECK(d[i].target == i);  // requests 10..14 in order
    CHECK(g.metric("peak_backend_connections") == 10);
    CHECK(g.at("idle_connections", 1.5) == 10);
}

// ---- item 2: a request is bound to the login it started ----------------------------------------

TEST_CASE("node_postgres: a request waits for its own login even when another client frees up",
          "[pool][node_postgres]") {
    // A at 1.0 (granted 1.05, returned 1.061); B at 1.055 finds A's client busy and the pool not
    // full: its own login 1.055-1.105, granted 1.105 although A's client is idle from 1.061.
    const auto g = run("1.0,0.01\n1.055,0.01\n", "", 2.0);
    check_times(times_of(g.of({"connect_done"})), {1.05, 1.105});
    check_times(times_of(g.of({"db_done"})), {1.06, 1.115});
    CHECK(g.at("total_connections", 1.5) == 2);
}

// ---- item 3: LIFO reuse and a per-client idle timer --------------------------------------------

TEST_CASE("node_postgres: the last released client is reused, the others expire 10 s after their release",
          "[pool][node_postgres]") {
    std::string trace = "1.0,0.01\n1.001,0.01\n1.002,0.01\n";
    for (int k = 2; k <= 20; ++k) trace += std::to_string(k) + ".0,0.01\n";
    SECTION("min 0: removed at 11.061 and 11.062 (their end one round trip later)") {
        const auto g = run(trace, "", 21.0);
        CHECK(g.metric("connections_created") == 3);
        CHECK(g.metric("connections_closed_idle") == 2);
        CHECK(g.at("total_connections", 11.06) == 3);
        check_times(times_of(g.of({"round_trip_done"})), {11.062, 11.063});  // the two ends
        CHECK(g.at("total_connections", 11.064) == 1);
        CHECK(g.metric("round_trips") == 2);
        // Every request from 2.0 gets a client at once (the next-tick hand-off).
        CHECK(g.metric("wait_time_max_ms") == Approx(50).margin(1e-6));
    }
    SECTION("min 3: nobody is removed") {
        const auto g = run(trace, R"("min": 3)", 21.0);
        CHECK(g.metric("connections_closed") == 0);
        CHECK(g.at("total_connections", 20.5) == 3);
        // Not even armed: a release with 3 clients (not above min) sets no idle timer (kind 2).
        for (const auto& e : g.events) CHECK_FALSE((std::string(e.kind) == "pool_timer" && e.timer == 2));
    }
}

// ---- item 4: no acquire timeout by default ------------------------------------------------------

TEST_CASE("node_postgres: a queued request waits for ever unless connectionTimeoutMillis is set",
          "[pool][node_postgres]") {
    // max 1; A holds its client from 0.05 for 100 s; B arrives at 1.0.
    SECTION("default: B still waits at 9.9") {
        const auto g = run("0,100\n1.0,0.01\n", R"("max": 1)", 10.0);
        CHECK(g.metric("failed") == 0);
        CHECK(g.at("waiters", 9.9) == 1);
    }
    SECTION("connectionTimeoutMillis 2000: B fails at 3.0 and is not served later") {
        const auto g = run("0,100\n1.0,0.01\n", R"("max": 1, "connectionTimeoutMillis": 2000)", 10.0);
        CHECK(g.metric("failed_acquire_timeout") == 1);
        CHECK(g.of({"pool_timer"}) == std::vector<test::step>{{3.0, "pool_timer", 1}});
        CHECK(g.at("waiters", 3.001) == 0);
    }
}

// ---- item 5: connectionTimeoutMillis also bounds a login --------------------------------------

TEST_CASE("node_postgres: connectionTimeoutMillis destroys a login that takes longer", "[pool][node_postgres]") {
    // Logins take 5 s (slow_connects x100); a request at 1.0.
    const std::string slow = R"(, "faults": [{"kind": "slow_connects", "at_s": 0, "duration_s": 10, "factor": 100}])";
    SECTION("2000 ms: at 3.0 the request fails (connect_error) and the database frees the login's slot") {
        const auto g = run("1.0,0.01\n", R"("connectionTimeoutMillis": 2000)", 7.0, slow);
        CHECK(g.metric("failed_connect_error") == 1);
        CHECK(g.of({"login_timeout"}) == std::vector<test::step>{{3.0, "login_timeout", 0}});
        CHECK(g.at("db_backends", 2.9) == 1);
        CHECK(g.at("db_backends", 3.001) == 0);
        CHECK(g.at("total_connections", 3.001) == 0);
        CHECK(g.metric("completed") == 0);
    }
    SECTION("0 (default): granted at 6.0") {
        const auto g = run("1.0,0.01\n", "", 7.0, slow);
        check_times(times_of(g.of({"db_done"})), {6.01});
    }
}

// ---- item 6: connect errors with waiters: each waiter pays its own login ----------------------

TEST_CASE("node_postgres: after a failed login the queue's head logs in at once, no backoff",
          "[pool][node_postgres]") {
    // max 1, logins fail in [1, 2): A 1.0 fails at 1.05, B's login 1.05-1.10 fails, C's
    // 1.10-1.15 fails.
    const auto g = run("1.0,0.01\n1.01,0.01\n1.02,0.01\n", R"("max": 1)", 2.0,
                       R"(, "faults": [{"kind": "connect_errors", "at_s": 1, "duration_s": 1}])");
    check_times(times_of(g.of({"connect_done"})), {1.05, 1.10, 1.15});
    CHECK(g.metric("failed_connect_error") == 3);
    CHECK(g.metric("logins") == 3);
}

// ---- item 7: maxUses -----------------------------------------------------------------------------

TEST_CASE("node_postgres: a client is removed at the release that reaches maxUses", "[pool][node_postgres]") {
    const auto g = run("1,0.01\n2,0.01\n3,0.01\n4,0.01\n", R"("maxUses": 3)", 5.0);
    CHECK(g.metric("connections_created") == 2);
    CHECK(g.metric("connections_closed_lifetime") == 1);
    check_times(times_of(g.of({"db_done"})), {1.06, 2.01, 3.01, 4.06});
}

// ---- item 8: maxLifetimeSeconds, no jitter -------------------------------------------------------

TEST_CASE("node_postgres: clients that logged in together expire together", "[pool][node_postgres]") {
    // A burst of 5 at 1.0 (logins done 1.05), then one request per second: at 11.05 the five
    // (all idle) are removed together; the request at 12.0 logs in.
    std::string trace = repeat("1.0,0.01\n", 5);
    for (int k = 2; k <= 12; ++k) trace += std::to_string(k) + ".0,0.01\n";
    const auto g = run(trace, R"("maxLifetimeSeconds": 10)", 13.0);
    CHECK(g.at("total_connections", 11.049) == 5);
    CHECK(g.at("total_connections", 11.052) == 0);
    CHECK(g.metric("connections_closed_lifetime") == 5);
    CHECK(g.metric("connections_created") == 6);
    CHECK(g.of({"db_done"}).back().t == Approx(12.06).margin(1e-9));
}

// ---- item 9: dead idle clients: the idle listener ------------------------------------------------

TEST_CASE("node_postgres: idle clients the server closed are removed at once (the idle listener)",
          "[pool][node_postgres]") {
    SECTION("kill_connections at 5.0: three idle clients removed, the next request logs in") {
        // The reset reaches the pool half a round trip later (5.0005). No request fails.
        const auto g = run(repeat("1.0,0.01\n", 3) + "6.0,0.01\n", R"("idleTimeoutMillis": 0)", 7.0,
                           R"(, "faults": [{"kind": "kill_connections", "at_s": 5}])");
        CHECK(g.at("total_connections", 4.9) == 3);
        CHECK(g.at("total_connections", 5.001) == 0);
        CHECK(g.metric("connections_closed_broken") == 3);
        CHECK(g.metric("failed") == 0);
        check_times(times_of(g.of({"db_done"})), {1.06, 1.06, 1.06, 6.06});
    }
    SECTION("idle_session_timeout_s 60: the client released at 1.061 is removed at 61.0615") {
        auto sc = test::trace_scenario("node_postgres", "1.0,0.01\n62.0,0.01\n", R"("idleTimeoutMillis": 0)", 63.0);
        sc.database.idle_session_timeout_s = 60;
        const node_run g = test::traced(sc);
        CHECK(g.at("total_connections", 61.061) == 1);
        CHECK(g.at("total_connections", 61.062) == 0);
        CHECK(g.metric("failed") == 0);
        check_times(times_of(g.of({"db_done"})), {1.06, 62.06});
    }
}

TEST_CASE("node_postgres: a client whose flow a NAT dropped silently fails its next query, then is removed",
          "[pool][node_postgres]") {
    // idleTimeoutMillis 0 (kept), NAT forgets after 5 s, socket timeout 3 s. The request at 10
    // gets the idle client, its query hangs until 13.0 (failed_socket_timeout), and the client is
    // removed at its release; the request at 14 logs in.
    const auto g = run("1.0,0.01\n10.0,0.01\n14.0,0.01\n", R"("idleTimeoutMillis": 0)", 15.0,
                       R"(, "network": {"nat_idle_timeout_s": 5, "nat_drop": "silent", "socket_timeout_s": 3})");
    CHECK(g.metric("failed_socket_timeout") == 1);
    CHECK(g.metric("connections_closed_broken") == 1);
    CHECK(g.metric("connections_created") == 2);
    check_times(times_of(g.of({"db_done"})), {1.06, 14.06});
}

// ---- item 11: a removal frees the slot before it serves the queue ----------------------------------

TEST_CASE("node_postgres: an arrival while a removed client is ending overtakes the queue",
          "[pool][node_postgres]") {
    // max 1, maxUses 1. A at 1.0 (granted 1.05, released and removed at 1.061, ended 1.062);
    // B queued since 1.02. C at 1.0615 finds the pool below max: its own login, granted
    // 1.1115; the pulse at 1.062 finds the pool full. C's removal ends at 1.1235: B's login,
    // granted 1.1735.
    const auto g = run("1.0,0.01\n1.02,0.01\n1.0615,0.01\n", R"("max": 1, "maxUses": 1)", 2.0);
    check_times(times_of(g.of({"connect_done"})), {1.05, 1.1115, 1.1735});
    check_times(times_of(g.of({"db_done"})), {1.06, 1.1215, 1.1835});
    CHECK(g.metric("completed") == 3);
}

// ---- queueing theory ----------------------------------------------------------------------------

namespace {
models::scenario node_mmc(double lambda, int c, const std::string& extra, int reps) {
    return models::scenario_from_json(
        R"({"run": {"horizon_s": 600, "warmup_s": 20, "replications": )" + std::to_string(reps) +
        R"(, "seed": 12, "sample_interval_s": 10},
         "workload": {"arrivals": {"kind": "poisson", "rate_per_s": )" + std::to_string(lambda) +
        R"(}, "transactions": [{"query_time": {"kind": "exponential", "mean_s": 0.01}}]},
         "pool": {"kind": "node_postgres", "max": )" + std::to_string(c) + R"(, "idleTimeoutMillis": 0)" + extra + R"(},
         "database": {"cores": 0, "max_connections": 100000,
                      "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0}})");
}

using test::across;
using test::check_within;
}  // namespace

TEST_CASE("node_postgres with max c and no idle timeout is M/M/c, and M/M/c+D with connectionTimeoutMillis",
          "[pool][node_postgres][validation]") {
    // 10 replications of 600 s, within 4 standard errors of the exact value (false-failure rate
    // of one check about 2e-3 with t(9) tails; see validation/test_against_theory.cpp).
    SECTION("no timeout: Erlang C (900/s, 10 ms, c = 10)") {
        const auto r = models::run(node_mmc(900, 10, "", 10), 0);
        const auto exact = models::theory::mmc(900, 100, 10);
        check_within(across(r, "p_wait"), exact.p_wait, "P(wait)");
        check_within(across(r, "wait_time_avg_ms"), exact.mean_wait * 1e3, "mean wait (ms)");
        for (const auto& rep : r.replications) CHECK(rep.metric("connections_closed") == 0);
    }
    SECTION("connectionTimeoutMillis 50: M/M/9+D") {
        const auto r = models::run(node_mmc(900, 9, R"(, "connectionTimeoutMillis": 50)", 10), 0);
        const auto exact = models::theory::mmc_deterministic_patience(900, 100, 9, 0.050);
        check_within(across(r, "timeout_rate"), exact.p_timeout, "P(timeout)");
        check_within(across(r, "wait_time_all_avg_ms"), exact.mean_wait_all * 1e3, "mean wait, all (ms)");
    }
}

// ---- item 10: a failed query destroys the client (pool.query) ------------------------------------

TEST_CASE("node_postgres: after an SQL error pool.query removes the client; release() without the error keeps it",
          "[pool][node_postgres]") {
    // statement_timeout 50 ms: the request at 1.0 (granted 1.05 after its login) holds a 0.2 s
    // query and gets 57014 at 1.1. pool.query (the default, release_with_error) releases the
    // client with that error and pg-pool's _release removes it, so the request at 2.0 logs in
    // again (db_done 2.06); released plainly the client stays and is reused (db_done 2.01).
    const std::string trace = "1.0,0.2\n2.0,0.01\n";
    const std::string timeout = R"(, "client": {"statement_timeout_s": 0.05})";
    const auto removed = run(trace, "", 3.0, timeout);
    CHECK(removed.metric("failed_statement_timeout") == 1);
    CHECK(removed.metric("connections_closed_broken") == 1);
    CHECK(removed.metric("connections_created") == 2);
    CHECK(removed.at("total_connections", 1.5) == 0);
    check_times(times_of(removed.of({"db_done"})), {2.06});
    const auto kept = run(trace, R"("release_with_error": false)", 3.0, timeout);
    CHECK(kept.metric("failed_statement_timeout") == 1);
    CHECK(kept.metric("connections_closed_broken") == 0);
    CHECK(kept.metric("connections_created") == 1);
    CHECK(kept.at("total_connections", 1.5) == 1);
    check_times(times_of(kept.of({"db_done"})), {2.01});
    // The chapter's case: every query fails (statement_timeout 5 ms, 10 ms queries), so every
    // release removes its client and every request logs in.
    const auto all = run(repeat("1.0,0.01\n", 3) + "2.0,0.01\n3.0,0.01\n", "", 4.0,
                         R"(, "client": {"statement_timeout_s": 0.005})");
    CHECK(all.metric("failed_statement_timeout") == 5);
    CHECK(all.metric("connections_created") == 5);
    CHECK(all.metric("connections_closed_broken") == 5);
}
