// Go's database/sql pool, event by event: one test per item of docs/pools/go-database-sql.md
// section 10 ("What a simulator must reproduce"), plus its queueing-theory check. Constant times
// make every number exact. Common setup (the chapter's): one instance, no CPU contention, round
// trip 1 ms, logins 50 ms, one 10 ms query per request (a connection is held 11 ms), pool
// defaults (unlimited, 2 idle kept, driver pgx). Requests come from a trace `t_s,duration_s`;
// a request's "db_done" event is at its grant + its query time.
#include <catch2/catch.hpp>

#include <map>

#include "models/pool/go_database_sql.hpp"
#include "models/pool/go_map.hpp"
#include "models/theory.hpp"
#include "support/pool_runs.hpp"

using namespace dbpoolsim;

namespace {

using test::check_times;
using test::repeat;
using test::times_of;
using go_run = test::traced_run;

go_run run(const std::string& trace, const std::string& pool, double horizon_s, const std::string& extra = "",
        std::uint64_t seed = 1) {
    return test::traced(test::trace_scenario("go_database_sql", trace, pool, horizon_s, extra, seed));
}

const models::go_database_sql_params& params_of(const std::string& pool) {
    return test::pool_params<models::go_database_sql_params>(pool);
}

}  // namespace

// ---- parameters -----------------------------------------------------------------------------

TEST_CASE("go_database_sql: the defaults are database/sql's, and max_idle_conns follows a set max_open_conns",
          "[pool][go_database_sql]") {
    const auto& d = params_of(R"({"kind": "go_database_sql"})");
    CHECK(d.max_open_conns == 0);
    CHECK(d.max_idle_conns == 2);
    CHECK(d.conn_max_lifetime == 0);
    CHECK(d.conn_max_idle_time == 0);
    CHECK(d.context_timeout == 0);
    CHECK(d.waiter_order == "random");
    CHECK(d.driver == "pgx");
    // SetMaxOpenConns(1) lowers the default maxIdle 2 to 1.
    CHECK(params_of(R"({"kind": "go_database_sql", "max_open_conns": 1})").max_idle_conns == 1);
    CHECK(params_of(R"({"kind": "go_database_sql", "max_open_conns": 5, "max_idle_conns": 9})").max_idle_conns == 5);
    CHECK(params_of(R"({"kind": "go_database_sql", "max_idle_conns": 9})").max_idle_conns == 9);
    CHECK(test::pool_problems(R"({"kind": "go_database_sql", "max_open_conns": -1})") ==
          std::vector<std::string>{"/pool/max_open_conns: must be >= 0, got -1"});
    CHECK(test::pool_problems(R"({"kind": "go_database_sql", "waiter_order": "lifo"})") ==
          std::vector<std::string>{R"(/pool/waiter_order: must be one of random, fifo, map, got "lifo")"});
    CHECK(test::pool_problems(R"({"kind": "go_database_sql", "context_timeout": -2})") ==
          std::vector<std::string>{"/pool/context_timeout: must be >= 0, got -2"});
}

// ---- item 1: lazy start, inline parallel logins, no cap -------------------------------------

TEST_CASE("go_database_sql: every request that finds nothing idle logs in itself, in parallel, unlimited",
          "[pool][go_database_sql]") {
    // Burst of 20 at 1.0: 20 logins 1.0-1.05, 20 grants at 1.05 (waits 50 ms), returns 1.061.
    const auto g = run(repeat("1.0,0.01\n", 20), "", 2.0);
    check_times(times_of(g.of({"connect_done"})), std::vector<double>(20, 1.05));
    CHECK(g.at("total_connections", 0.999) == 0);  // nothing opened at start
    CHECK(g.metric("peak_backend_connections") == 20);
    CHECK(g.metric("wait_time_max_ms") == Approx(50).margin(1e-6));
    CHECK(g.metric("wait_time_avg_ms") == Approx(50).margin(1e-6));
    CHECK(g.metric("waiters_max") == 0);
    CHECK(g.metric("completed") == 20);
}

// ---- item 2: MaxIdleConns churn ---------------------------------------------------------------

TEST_CASE("go_database_sql: returned connections beyond max_idle_conns (2) are closed: churn",
          "[pool][go_database_sql]") {
    // The burst's returns at 1.061 keep 2 and close 18. Then bursts of 3 at 2.0, 2.1, ... 2.9:
    // each reuses the 2 idle ones and opens 1, and closes 1 at its returns.
    std::string trace = repeat("1.0,0.01\n", 20);
    for (int k = 0; k < 10; ++k) trace += repeat(std::to_string(2.0 + 0.1 * k) + ",0.01\n", 3);
    const auto g = run(trace, "", 3.5);
    CHECK(g.at("total_connections", 1.5) == 2);
    CHECK(g.metric("connections_created") == 30);
    CHECK(g.metric("connections_closed_overflow") == 28);
    CHECK(g.at("total_connections", 3.4) == 2);
    CHECK(g.metric("completed") == 50);
}

// ---- item 3: SetMaxIdleConns(0) --------------------------------------------------------------

TEST_CASE("go_database_sql: max_idle_conns 0 keeps none: every request logs in", "[pool][go_database_sql]") {
    const auto g = run("1,0.01\n2,0.01\n3,0.01\n4,0.01\n", R"("max_idle_conns": 0)", 5.0);
    CHECK(g.metric("connections_created") == 4);
    CHECK(g.metric("connections_closed_overflow") == 4);
    CHECK(g.metric("wait_time_avg_ms") == Approx(50).margin(1e-6));
    CHECK(g.at("total_connections", 1.5) == 0);
    CHECK(g.metric("round_trips") == 0);
}

// ---- item 4: the cap counts logins in progress; waiters are served by returns -----------------

TEST_CASE("go_database_sql: with max_open_conns a third request waits for a return, then pings",
          "[pool][go_database_sql]") {
    // max 2, three at 1.0: two log in (grants 1.05), the third waits; the return at 1.061 goes
    // to it, and its first ResetSession pings (pgx): grant 1.062, wait 62 ms. Two logins.
    const auto g = run(repeat("1.0,0.01\n", 3), R"("max_open_conns": 2)", 2.0);
    CHECK(g.metric("connections_created") == 2);
    CHECK(g.metric("wait_time_max_ms") == Approx(62).margin(1e-6));
    CHECK(g.metric("round_trips") == 1);
    check_times(times_of(g.of({"db_done"})), {1.06, 1.06, 1.072});
}

// ---- item 5: random waiter order --------------------------------------------------------------

namespace {
/// max 1: A at 0 holds the connection 1 s; B, C, D wait from 0.1, 0.2, 0.3 (requests 1, 2, 3).
/// Returns which of them is served first.
std::uint32_t first_served(std::uint64_t seed, const std::string& order) {
    const auto g = run("0,1\n0.1,0.01\n0.2,0.01\n0.3,0.01\n",
                       R"("max_open_conns": 1, "waiter_order": ")" + order + R"(")", 1.2, "", seed);
    const auto done = g.of({"db_done"});
    REQUIRE(done.size() >= 2);
    CHECK(done[1].t == Approx(1.05 + 0.001 + 0.001 + 0.01).margin(1e-9));  // A's return, a ping
    return done[1].target;
}
}  // namespace

TEST_CASE("go_database_sql: a returned connection goes to a waiter chosen uniformly at random",
          "[pool][go_database_sql]") {
    // 3,000 seeds: each of B, C, D first in 1/3 +- 0.03 of runs (binomial sd 0.0086: 3.5 sd,
    // a false failure about once in 2,000 seed sets; the seeds are fixed, so it is reproducible).
    std::map<std::uint32_t, int> count;
    const int n = 3000;
    for (int s = 1; s <= n; ++s) ++count[first_served(static_cast<std::uint64_t>(s), "random")];
    CHECK(count.size() == 3);
    for (std::uint32_t req : {1u, 2u, 3u}) {
        INFO("request " << req << " first in " << count[req] << " of " << n);
        CHECK(std::abs(count[req] / double(n) - 1.0 / 3) < 0.03);
    }
    // The same seed makes the same choice; Go 1.6's FIFO always serves B.
    CHECK(first_served(7, "random") == first_served(7, "random"));
    for (int s = 1; s <= 20; ++s) CHECK(first_served(static_cast<std::uint64_t>(s), "fifo") == 1);
}

TEST_CASE("go_database_sql: Go 1.7-1.22's map hands a return to the first key of a range, not uniformly",
          "[pool][go_database_sql]") {
    // waiter_order "map" (models/pool/go_map.hpp): B, C, D take slots 0, 1, 2 of the map's one
    // bucket; a range starts at slot (r >> 0) & 7 and walks cyclically, so B is first for
    // offsets 0 and 3-7 (6/8), C for 1, D for 2 (1/8 each). 3,000 seeds, +- 0.03 (binomial sd
    // 0.008 and 0.006: 3.8 and 5 sd); uniform (1/3 each) fails by 0.4.
    std::map<std::uint32_t, int> count;
    const int n = 3000;
    for (int s = 1; s <= n; ++s) ++count[first_served(static_cast<std::uint64_t>(s), "map")];
    const double expect[] = {0, 6.0 / 8, 1.0 / 8, 1.0 / 8};
    for (std::uint32_t req : {1u, 2u, 3u}) {
        INFO("request " << req << " first in " << count[req] << " of " << n);
        CHECK(std::abs(count[req] / double(n) - expect[req]) < 0.03);
    }
    CHECK(first_served(7, "map") == first_served(7, "map"));
}

TEST_CASE("go_map grows as Go's map does (load factor 6.5, never shrinks) and ranges over live keys",
          "[pool][go_database_sql]") {
    // overLoadFactor(count, B): count > 8 && count > 13 * (2^B / 2). One bucket up to 8 keys,
    // two from the 9th, four from the 14th; B stays when the map empties.
    sim::random_stream rng(1, 0, "pool/0");
    models::go_map m(rng);
    std::vector<std::size_t> buckets;
    for (std::uint32_t k = 0; k < 14; ++k) {
        m.insert(100 + k, k);
        buckets.push_back(m.buckets());
    }
    CHECK(buckets == std::vector<std::size_t>{1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 4});
    for (std::uint32_t k = 0; k < 13; ++k) {
        const std::uint32_t v = m.first(rng);
        REQUIRE(v < 14);
        m.erase(100 + v, rng);
        for (int i = 0; i < 20 && m.size() > 0; ++i) CHECK(m.first(rng) != v);  // gone
    }
    CHECK(m.size() == 1);
    m.erase(100 + m.first(rng), rng);
    CHECK(m.size() == 0);
    CHECK(m.buckets() == 4);
}

// ---- item 6: no acquire timeout; only the context ---------------------------------------------

TEST_CASE("go_database_sql: nothing times out a wait but the caller's context", "[pool][go_database_sql]") {
    // max 1: A holds the only connection from 0.05 to 10.061. B arrives at 1.
    SECTION("without a context deadline B waits 9 s and is served after a reuse ping") {
        const auto g = run("0,10\n1,0.01\n", R"("max_open_conns": 1)", 12.0);
        CHECK(g.metric("failed") == 0);
        CHECK(g.metric("completed") == 2);
        check_times(times_of(g.of({"db_done"})), {10.05, 10.062});
    }
    SECTION("context_timeout 2: B leaves the waiter set at 3.0 and is not served later") {
        const auto g = run("0,10\n1,0.01\n", R"("max_open_conns": 1, "context_timeout": 2)", 12.0);
        CHECK(g.metric("failed_acquire_timeout") == 1);
        CHECK(g.metric("completed") == 1);
        CHECK(g.of({"pool_timer"}) == std::vector<test::step>{{3.0, "pool_timer", 1}});
        check_times(times_of(g.of({"db_done"})), {10.05});
        CHECK(g.at("waiters", 2.99) == 1);
        CHECK(g.at("waiters", 3.01) == 0);
    }
    SECTION("client.deadline_s 2 is the caller's context deadline: B leaves the waiter set at 3.0") {
        // docs/pools/go-database-sql.md item 6. A passes its deadline at 2.0 while its query
        // runs: that goes on (only a wait is ended). B's wait ends at 3.0 (sql.go DB.conn:
        // ctx.Done(), connRequests.Delete); A's return at 10.061 finds no waiter.
        const auto g = run("0,10\n1,0.01\n", R"("max_open_conns": 1)", 12.0, R"(, "client": {"deadline_s": 2})");
        CHECK(g.metric("failed_deadline_exceeded") == 2);
        CHECK(g.metric("failed_acquire_timeout") == 0);
        check_times(times_of(g.of({"db_done"})), {10.05});  // waiting on: B's query at 10.062
        CHECK(g.at("waiters", 2.99) == 1);
        CHECK(g.at("waiters", 3.01) == 0);
    }
}

TEST_CASE("go_database_sql: a context that ends during an inline login closes its socket at once",
          "[pool][go_database_sql]") {
    // Logins take 5 s (slow_connects x100); context_timeout 1: the request at 1.0 fails at 2.0
    // and the database frees the login's slot then (Connect(ctx) cancels the dial).
    const auto g = run("1.0,0.01\n", R"("context_timeout": 1)", 7.0,
                       R"(, "faults": [{"kind": "slow_connects", "at_s": 0, "duration_s": 10, "factor": 100}])");
    CHECK(g.metric("failed_acquire_timeout") == 1);
    CHECK(g.at("db_backends", 1.9) == 1);
    CHECK(g.at("db_backends", 2.001) == 0);
    CHECK(g.at("total_connections", 2.001) == 0);
    CHECK(g.of({"connect_done"}).empty());
}

// ---- item 7: a failed inline login fails the caller at once ----------------------------------

TEST_CASE("go_database_sql: a failed inline login fails its request at once and frees the slot",
          "[pool][go_database_sql]") {
    // max 1 (so a leaked numOpen would make the second request wait for ever).
    const auto g = run("1.5,0.01\n2.5,0.01\n", R"("max_open_conns": 1)", 3.0,
                       R"(, "faults": [{"kind": "connect_errors", "at_s": 1, "duration_s": 1}])");
    CHECK(g.metric("failed_connect_error") == 1);
    CHECK(g.metric("completed") == 1);
    check_times(times_of(g.of({"connect_done"})), {1.55, 2.55});
    check_times(times_of(g.of({"db_done"})), {2.56});
}

// ---- item 8: background logins for waiters are serialized -----------------------------------

TEST_CASE("go_database_sql: replacement logins for waiters run one at a time, each failure fails one waiter",
          "[pool][go_database_sql]") {
    // max 3, lifetime 4 s: three at 1.0 log in and hold 4.5 s (returns at 5.551, age 4.501:
    // closed, each close queues one opener login). W1..W3 wait from 2.0 and hold 1 s (with the
    // chapter's 10 ms, W1's return at 5.612 would serve W2 before the second login ends).
    const std::string trace = repeat("1.0,4.5\n", 3) + repeat("2.0,1\n", 3);
    const std::string pool = R"("max_open_conns": 3, "conn_max_lifetime": 4)";
    SECTION("the opener's logins 5.551, 5.601, 5.651; fresh connections, no ping") {
        const auto g = run(trace, pool, 7.0);
        check_times(times_of(g.of({"connect_done"})), {1.05, 1.05, 1.05, 5.601, 5.651, 5.701});
        check_times(times_of(g.of({"db_done"})), {5.55, 5.55, 5.55, 6.601, 6.651, 6.701});
        CHECK(g.metric("connections_closed_lifetime") == 3);
        CHECK(g.metric("round_trips") == 0);
    }
    SECTION("with connect errors each failed login fails one waiter, and two extra logins run") {
        const auto g = run(trace, pool, 7.0, R"(, "faults": [{"kind": "connect_errors", "at_s": 5, "duration_s": 1}])");
        check_times(times_of(g.of({"connect_done"})), {1.05, 1.05, 1.05, 5.601, 5.651, 5.701, 5.751, 5.801});
        CHECK(g.metric("failed_connect_error") == 3);
        CHECK(g.metric("completed") == 3);
        CHECK(g.metric("connection_errors") == 5);
    }
}

// ---- item 9: the transparent ErrBadConn retry -------------------------------------------------

TEST_CASE("go_database_sql: two dead idle connections are retried past, the third try logs in",
          "[pool][go_database_sql]") {
    // max_idle 3: three idle since 1.061; every backend killed at 5.0. The request at 10.0: the
    // newest idle one's ping fails at 10.001, the next one's at 10.002, then a new login
    // 10.002-10.052: granted 10.052, no failure. The third dead one stays idle.
    const auto g = run(repeat("1.0,0.01\n", 3) + "10.0,0.01\n", R"("max_idle_conns": 3)", 11.0,
                       R"(, "faults": [{"kind": "kill_connections", "at_s": 5}])");
    CHECK(g.metric("failed") == 0);
    CHECK(g.metric("completed") == 4);
    CHECK(g.metric("connections_closed_broken") == 2);
    CHECK(g.metric("round_trips") == 2);
    check_times(times_of(g.of({"round_trip_failed"})), {10.001, 10.002});
    check_times(times_of(g.of({"db_done"})), {1.06, 1.06, 1.06, 10.062});
    CHECK(g.at("total_connections", 10.9) == 2);  // the dead one and the new one
}

// ---- item 10: pgx's ResetSession ping rule ---------------------------------------------------

TEST_CASE("go_database_sql: pgx pings at a reuse when its previous reset is more than 1 s old",
          "[pool][go_database_sql]") {
    // 1.0 new (no ping); 1.5 first reuse: ping; 2.0: 0.5 s after the previous reset: none;
    // 3.5: 1.5 s after: ping.
    const std::string trace = "1.0,0.01\n1.5,0.01\n2.0,0.01\n3.5,0.01\n";
    const auto g = run(trace, "", 4.0);
    CHECK(g.metric("round_trips") == 2);
    check_times(times_of(g.of({"db_done"})), {1.06, 1.511, 2.01, 3.511});
    // lib/pq's ResetSession never pings.
    const auto q = run(trace, R"("driver": "lib_pq")", 4.0);
    CHECK(q.metric("round_trips") == 0);
    check_times(times_of(q.of({"db_done"})), {1.06, 1.51, 2.01, 3.51});
}

// ---- item 11: ConnMaxLifetime at checkout, at return and by the cleaner ----------------------

TEST_CASE("go_database_sql: conn_max_lifetime is enforced by the cleaner, at checkout and at return",
          "[pool][go_database_sql]") {
    const std::string pool = R"("conn_max_lifetime": 10)";
    SECTION("a: the cleaner, started at the first return (1.061), closes it at 11.061 and exits") {
        const auto g = run("1.0,0.01\n", pool, 40.0);
        CHECK(g.at("total_connections", 11.06) == 1);
        CHECK(g.at("total_connections", 11.062) == 0);
        CHECK(g.metric("connections_closed_lifetime") == 1);
        check_times(times_of(g.of({"pool_timer"})), {11.061, 21.061});  // the second run exits
    }
    SECTION("b: at checkout (age 10.005) it is closed and the retry logs in") {
        const auto g = run("1.0,0.01\n11.055,0.01\n", pool, 12.0);
        CHECK(g.metric("connections_closed_lifetime") == 1);
        CHECK(g.metric("connections_created") == 2);
        check_times(times_of(g.of({"db_done"})), {1.06, 11.115});
        CHECK(g.metric("failed") == 0);
    }
    SECTION("c: in use at the cleaner's run, it is closed at its return (11.3)") {
        const auto g = run("1.0,0.01\n10.9,0.398\n", pool, 12.0);
        CHECK(g.at("total_connections", 11.2) == 1);
        CHECK(g.at("total_connections", 11.301) == 0);
        CHECK(g.metric("connections_closed_lifetime") == 1);
    }
}

// ---- item 12: ConnMaxIdleTime and the cleaner's schedule --------------------------------------

TEST_CASE("go_database_sql: the cleaner closes idle connections at their exact idle expiry, no floor",
          "[pool][go_database_sql]") {
    // Two connections returned at 1.061; the one appended last is reused at 3.0 (ping: granted
    // 3.001, returned 3.012). Cleaner from 1.061 (d = 5): 6.061 closes the other, then runs at
    // 8.012 and closes this one.
    const auto g = run("1.0,0.01\n1.0,0.01\n3.0,0.01\n", R"("conn_max_idle_time": 5)", 10.0);
    check_times(times_of(g.of({"pool_timer"})), {6.061, 8.012});
    CHECK(g.at("total_connections", 6.06) == 2);
    CHECK(g.at("total_connections", 6.062) == 1);
    CHECK(g.at("total_connections", 8.013) == 0);
    CHECK(g.metric("connections_closed_idle") == 2);
}

// ---- item 13: a connection broken in use goes back and its next user discards it -------------

TEST_CASE("go_database_sql: a connection that broke under a query is discarded by its next user (pgx)",
          "[pool][go_database_sql]") {
    // max 1: A holds it from 4.05 (query 2 s); B waits from 4.9; the backend is killed at 5.0:
    // A's query fails at 5.001. pgx: the connection goes to B, whose ResetSession finds it
    // closed (no round trip): closed, B's second try logs in 5.001-5.051, granted 5.051.
    // lib/pq: IsValid discards it at A's return and the opener logs in for B: the same times.
    for (const char* driver : {"pgx", "lib_pq"}) {
        INFO(driver);
        const auto g = run("4.0,2\n4.9,0.01\n", R"("max_open_conns": 1, "driver": ")" + std::string(driver) + R"(")",
                           6.0, R"(, "faults": [{"kind": "kill_connections", "at_s": 5}])");
        CHECK(g.metric("failed_query_error") == 1);
        CHECK(g.metric("completed") == 1);
        CHECK(g.metric("round_trips") == 0);
        CHECK(g.metric("connections_closed_broken") == 1);
        check_times(times_of(g.of({"connect_done"})), {4.05, 5.051});
        CHECK(g.metric("wait_time_max_ms") == Approx(151).margin(1e-6));
    }
    // With nobody waiting, pgx keeps the dead connection idle (its next user discards it);
    // lib/pq's IsValid closes it at the return.
    for (const auto& [driver, left] : {std::pair{"pgx", 1.0}, {"lib_pq", 0.0}}) {
        INFO(driver);
        const auto g = run("4.0,2\n", R"("driver": ")" + std::string(driver) + R"(")", 6.0,
                           R"(, "faults": [{"kind": "kill_connections", "at_s": 5}])");
        CHECK(g.at("total_connections", 5.5) == left);
    }
}

// ---- queueing theory ----------------------------------------------------------------------------

namespace {
models::scenario go_mmc(double lambda, int c, const std::string& extra, int reps) {
    const std::string n = std::to_string(c);
    return models::scenario_from_json(
        R"({"run": {"horizon_s": 600, "warmup_s": 20, "replications": )" + std::to_string(reps) +
        R"(, "seed": 11, "sample_interval_s": 10},
         "workload": {"arrivals": {"kind": "poisson", "rate_per_s": )" + std::to_string(lambda) +
        R"(}, "transactions": [{"query_time": {"kind": "exponential", "mean_s": 0.01}}]},
         "pool": {"kind": "go_database_sql", "max_open_conns": )" + n + R"(, "max_idle_conns": )" + n + extra + R"(},
         "database": {"cores": 0, "max_connections": 100000,
                      "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0}})");
}

using test::across;
using test::check_within;
}  // namespace

TEST_CASE("go_database_sql capped, without churn, is M/M/c: Erlang C in random order, M/M/c+D in FIFO",
          "[pool][go_database_sql][validation]") {
    // max_open = max_idle = c (no churn), no login or round-trip cost, 10 replications of 600 s:
    // the estimate is within 4 standard errors of the exact value (false-failure rate of one
    // check about 2e-3 with t(9) tails; see validation/test_against_theory.cpp). The random
    // order serves waiters in an order independent of service times, so P(wait) and the mean
    // wait are Erlang C's; with a deterministic patience the FIFO order (Go 1.6) is M/M/c+D.
    SECTION("random order, no context deadline: Erlang C (900/s, 10 ms, c = 10)") {
        const auto r = models::run(go_mmc(900, 10, "", 10), 0);
        const auto exact = models::theory::mmc(900, 100, 10);
        check_within(across(r, "p_wait"), exact.p_wait, "P(wait)");
        check_within(across(r, "wait_time_avg_ms"), exact.mean_wait * 1e3, "mean wait (ms)");
        for (const auto& rep : r.replications) CHECK(rep.metric("connections_closed") == 0);
    }
    SECTION("FIFO order, context_timeout 50 ms: M/M/9+D") {
        const auto r = models::run(go_mmc(900, 9, R"(, "waiter_order": "fifo", "context_timeout": 0.05)", 10), 0);
        const auto exact = models::theory::mmc_deterministic_patience(900, 100, 9, 0.050);
        check_within(across(r, "timeout_rate"), exact.p_timeout, "P(timeout)");
        check_within(across(r, "wait_time_all_avg_ms"), exact.mean_wait_all * 1e3, "mean wait, all (ms)");
    }
}
