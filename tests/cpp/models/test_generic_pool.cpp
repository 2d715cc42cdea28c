// The generic pool of the seeds, event by event. Constant times make every number exact.
#include <catch2/catch.hpp>

#include "support/scenarios.hpp"

using namespace dbpoolsim;

namespace {

constexpr test::timeline_with scenario{0.01};

const std::string db_150ms =
    R"({"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0.15}, "network_rtt_s": 0})";
const std::string db_instant =
    R"({"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0})";

using test::at;

}  // namespace

TEST_CASE("a grow-on-demand pool opens one connection per waiter in a spike", "[pool][generic]") {
    // The issue's spike: min 5 / max 50, 150 ms set-up, 2 ms queries, 50 requests at once.
    // The 5 warm connections serve all 50 in 10 rounds of 2 ms (the last ends 18 ms after the
    // burst), long before any of the 45 logins the waiters triggered complete: the pool ends
    // with 50 connections, 45 of them opened for nothing. (HikariCP's single serialized
    // creator would add about one; see issue 3.)
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 50, "at_s": 0.5})",
                 R"({"kind": "generic", "min_connections": 5, "max_connections": 50, "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0})",
                 db_150ms, 0.002, 1.0),
        0);
    CHECK(r.metric("completed") == 50);
    CHECK(r.metric("wait_time_max_ms") == Approx(18.0).margin(1e-6));
    CHECK(r.metric("latency_max_ms") == Approx(20.0).margin(1e-6));
    CHECK(r.metric("connections_created") == 50);  // 5 at start + 45 during the spike
    CHECK(at(r, "total_connections", 0.49) == 5);
    CHECK(at(r, "creating_connections", 0.51) == 45);
    CHECK(at(r, "total_connections", 0.9) == 50);
    CHECK(at(r, "idle_connections", 0.9) == 50);
}

TEST_CASE("waiters time out after acquisition_timeout, in arrival order", "[pool][generic]") {
    // One connection held 1 s; three requests at t = 0: the first is served, the other two
    // give up at exactly 0.1 s.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 3, "at_s": 0})",
                 R"({"kind": "generic", "min_connections": 1, "max_connections": 1, "acquisition_timeout": 0.1, "health_check_interval": 0})",
                 db_instant, 1.0, 2.0),
        0);
    CHECK(r.metric("completed") == 1);
    CHECK(r.metric("failed_acquire_timeout") == 2);
    CHECK(r.metric("timeouts") == 2);
    CHECK(r.metric("wait_time_all_avg_ms") == Approx((0 + 100 + 100) / 3.0));
    CHECK(r.metric("latency_max_ms") == Approx(1000));
    CHECK(at(r, "waiters", 0.05) == 2);
    CHECK(at(r, "waiters", 0.15) == 0);
}

TEST_CASE("idle connections beyond the minimum close after idle_timeout at a cleanup run", "[pool][generic]") {
    // 10 requests of 1 s at t = 1 grow the pool from 2 to 10 (logins take 50 ms). All are
    // returned by 2.05 s. Cleanup runs every 5 s: at 10 s they have been idle 7.95 s < 10 s,
    // at 15 s 12.95 s >= 10 s, so 8 close then, down to min_connections = 2.
    const std::string db =
        R"({"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0.05}, "network_rtt_s": 0})";
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 10, "at_s": 1})",
                 R"({"kind": "generic", "min_connections": 2, "max_connections": 10, "idle_timeout": 10, "idle_cleanup_interval": 5, "max_lifetime": 0, "health_check_interval": 0})",
                 db, 1.0, 20.0, 0.5),
        0);
    CHECK(at(r, "total_connections", 14.5) == 10);
    CHECK(at(r, "total_connections", 15.5) == 2);
    CHECK(r.metric("connections_closed_idle") == 8);
    CHECK(r.metric("connections_created") == 10);
}

TEST_CASE("a connection past max_lifetime is closed at return and replaced up to the minimum", "[pool][generic]") {
    // One connection, lifetime 10 s; a closed-loop user runs 3 s queries back to back (think
    // 0). The connection is created at 0; returns at 3, 6, 9 are within the lifetime, the
    // return at 12 s closes it ("lifetime") and a replacement opens at once.
    const auto r = models::run_replication(
        scenario(R"({"kind": "closed_loop", "users": 1, "think_time": {"kind": "constant", "value_s": 0}})",
                 R"({"kind": "generic", "min_connections": 1, "max_connections": 1, "max_lifetime": 10, "idle_timeout": 0, "health_check_interval": 0})",
                 db_instant, 3.0, 13.0, 1.0),
        0);
    CHECK(r.metric("connections_closed_lifetime") == 1);
    CHECK(r.metric("connections_created") == 2);
    CHECK(r.metric("completed") == 4);
}

TEST_CASE("validate_on_borrow costs one round trip on every borrow", "[pool][generic]") {
    // rtt 10 ms: each borrow of an idle connection waits exactly the validation round trip,
    // and the query itself pays one more round trip for its response.
    const std::string db =
        R"({"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0.01})";
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 1})",
                 R"({"kind": "generic", "min_connections": 1, "max_connections": 1, "validate_on_borrow": true, "health_check_interval": 0})",
                 db, 0.005, 10.5, 0.5),
        0);
    CHECK(r.metric("completed") == 10);
    CHECK(r.metric("wait_time_avg_ms") == Approx(10));
    CHECK(r.metric("wait_time_max_ms") == Approx(10));
    CHECK(r.metric("latency_avg_ms") == Approx(10 + 5 + 10));
    CHECK(r.metric("round_trips") == 10);
}

TEST_CASE("logins beyond the database's max_connections are refused and counted", "[pool][generic]") {
    const std::string db =
        R"({"cores": 0, "max_connections": 3, "connect_time": {"kind": "constant", "value_s": 0.05}, "network_rtt_s": 0.001})";
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 1, "at_s": 1})",
                 R"({"kind": "generic", "min_connections": 5, "max_connections": 10, "health_check_interval": 0})",
                 db, 0.005, 2.0, 0.5),
        0);
    CHECK(r.metric("connection_errors") == 2);
    CHECK(r.metric("rejected_logins") == 2);
    CHECK(r.metric("peak_backend_connections") == 3);
    CHECK(r.metric("completed") == 1);
}

TEST_CASE("a refused login fails the waiter that needed it at once", "[pool][generic]") {
    // The database accepts no connection at all: the one request gets connect_error after the
    // refusal's round trip, not after the 30 s acquisition timeout.
    const std::string db =
        R"({"cores": 0, "max_connections": 1, "connect_time": {"kind": "constant", "value_s": 0.05}, "network_rtt_s": 0.002})";
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 2, "at_s": 1})",
                 R"({"kind": "generic", "min_connections": 1, "max_connections": 2, "health_check_interval": 0})",
                 db, 2.0, 5.0, 0.5),
        0);
    // One connection (the minimum) serves the first request; the second triggers a login that
    // the database refuses (its max_connections is 1): connect_error 2 ms later.
    CHECK(r.metric("failed_connect_error") == 1);
    CHECK(r.metric("completed") == 1);
    CHECK(r.metric("offered") == 2);
}

TEST_CASE("the server arms idle_session_timeout at login: connections never used close 60 s after it",
          "[pool][generic][faults]") {
    // docs/design/fidelity-review.md item 5 (postgres.c PostgresMain: the first ReadyForQuery
    // after authentication starts the timer). A fixed pool of 10 (logins end in [0.05, 0.1],
    // the default uniform connect time), one request per 10 s on average: LIFO reuse keeps
    // one connection busy (its timer is re-armed at each return), the other 9 are never used
    // and the server closes them at login + 60 s, in [60.05, 60.1]. The pool learns of it only
    // when it touches them; the database's backends fall at once.
    const auto r = models::run_replication(
        test::timeline_scenario(R"({"kind": "poisson", "rate_per_s": 0.1})",
                                R"({"kind": "generic", "min_connections": 10, "max_connections": 10, "health_check_interval": 0})",
                                R"({"idle_session_timeout_s": 60, "network_rtt_s": 0.001})", 0.005, 100, 0.1),
        0);
    CHECK(test::at(r, "db_backends", 60.0, 1e-6) == 10);
    CHECK(test::at(r, "db_backends", 60.2, 1e-6) <= 1);
    CHECK(r.metric("idle_session_closes") >= 9);
}
