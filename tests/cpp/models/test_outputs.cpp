// Client patience (issue 10) and the outputs of issue 11: waits over all requests, P(wait > t),
// per-request records, PgBouncer wait percentiles, pools started before traffic, zero-time
// transactions in a trace. Constant times make every number exact; each test says why.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "support/scenarios.hpp"

using namespace dbpoolsim;
using test::at;

namespace {

const std::string db_instant = test::constant_db(0, 0);

std::string generic_pool(int n, double timeout_s, const std::string& more = "") {
    return R"({"kind": "generic", "min_connections": )" + std::to_string(n) + R"(, "max_connections": )" +
           std::to_string(n) + R"(, "acquisition_timeout": )" + std::to_string(timeout_s) +
           R"(, "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0)" + more + "}";
}

/// timeline_scenario plus members merged into "run" and "client".
models::scenario with(const std::string& arrivals, const std::string& pool, const std::string& db, double query_s,
                      double horizon_s, double sample_s, const std::string& run_extra,
                      const std::string& client = "{}") {
    return models::scenario_from_json(
        R"({"run": {"horizon_s": )" + std::to_string(horizon_s) +
        R"(, "warmup_s": 0, "replications": 1, "seed": 1, "sample_interval_s": )" + std::to_string(sample_s) +
        run_extra + R"(}, "client": )" + client + R"(,
         "workload": {"arrivals": )" + arrivals +
        R"(, "transactions": [{"query_time": {"kind": "constant", "value_s": )" + std::to_string(query_s) + R"(}}]},
         "pool": )" + pool + R"(, "database": )" + db + "}");
}

const std::string burst3 = R"({"kind": "burst", "count": 3, "at_s": 0})";

}  // namespace

TEST_CASE("patience: waiters give up at their patience, leave the pool's queue and are not retried",
          "[world][patience]") {
    // One connection held 1 s; three requests at 0 with a constant patience of 0.3 s (the
    // pool's own timeout is 10 s): two abandon at 0.3, and retries do not bring them back.
    const auto r = models::run_replication(
        with(burst3, generic_pool(1, 10), db_instant, 1.0, 2.0, 0.1, "",
             R"({"patience": {"kind": "constant", "value_s": 0.3}, "retry_attempts": 3})"),
        0);
    CHECK(r.metric("completed") == 1);
    CHECK(r.metric("failed_abandoned") == 2);
    CHECK(r.metric("timeouts") == 0);
    CHECK(r.metric("attempts") == 3);
    CHECK(at(r, "waiters", 0.2) == 2);
    CHECK(at(r, "waiters", 0.4) == 0);
    CHECK(r.metric("wait_time_all_avg_ms") == Approx((0 + 300 + 300) / 3.0));
    CHECK(r.metric("wait_time_all_max_ms") == Approx(300));
    CHECK(r.metric("wait_time_max_ms") == 0);  // the served one never waited
    CHECK(r.metric("p_wait") == Approx(2.0 / 3));
    CHECK(r.metric("offered") == r.metric("completed") + r.metric("failed") + r.metric("in_flight"));
}

TEST_CASE("patience: a request the pool cannot drop still abandons, and its connection comes back at once",
          "[world][patience]") {
    // Validation on borrow takes a 0.5 s round trip; the request gives up at 0.2 while its
    // check is in flight (cancel_acquire answers false). At 0.5 the pool grants it the
    // connection, which goes straight back: idle at 0.6, no query ran.
    const auto r = models::run_replication(
        with(R"({"kind": "burst", "count": 1, "at_s": 0})",
             generic_pool(1, 10, R"(, "validate_on_borrow": true, "validation_timeout": 5)"), test::constant_db(0, 0.5),
             1.0, 2.0, 0.1, "", R"({"patience": {"kind": "constant", "value_s": 0.2}})"),
        0);
    CHECK(r.metric("failed_abandoned") == 1);
    CHECK(r.metric("completed") == 0);
    CHECK(at(r, "active_connections", 0.4) == 0);  // checking, not in use
    CHECK(at(r, "idle_connections", 0.6) == 1);
    CHECK(at(r, "active_connections", 0.6) == 0);
    CHECK(r.metric("requests_in_system_avg") == Approx(0.5 / 2.0));  // it left at 0.5, when the grant came
}

TEST_CASE("outputs: waits over all requests count a timeout at the acquire timeout", "[world][outputs]") {
    // One connection, 0.1 s queries, acquire timeout 0.15 s: waits 0 and 0.1 (served), and
    // 0.15 (timed out).
    const auto r = models::run_replication(with(burst3, generic_pool(1, 0.15), db_instant, 0.1, 1.0, 0.1, ""), 0);
    CHECK(r.metric("wait_time_max_ms") == Approx(100));
    CHECK(r.metric("wait_time_all_max_ms") == Approx(150));
    CHECK(r.metric("wait_time_all_p50_ms") == Approx(100).epsilon(1.0 / 256));
    CHECK(r.metric("wait_time_all_avg_ms") == Approx(250 / 3.0));
    CHECK(r.metric("p_wait") == Approx(2.0 / 3));
    CHECK(r.metric("p_wait_over_threshold") == Approx(2.0 / 3));  // default 50 ms
}

TEST_CASE("outputs: P(wait > t) is an exact count at run.wait_threshold_s", "[world][outputs]") {
    // No timeout: waits 0, 0.1, 0.2. Over 0.15: one of three; over 0.1 (strictly): one; over 0: two.
    for (const auto& [t, p] : {std::pair{0.15, 1.0 / 3}, std::pair{0.1, 1.0 / 3}, std::pair{0.0, 2.0 / 3},
                               std::pair{0.25, 0.0}}) {
        const auto r = models::run_replication(
            with(burst3, generic_pool(1, 0), db_instant, 0.1, 1.0, 0.1, R"(, "wait_threshold_s": )" + std::to_string(t)), 0);
        INFO("threshold " << t);
        CHECK(r.metric("p_wait_over_threshold") == Approx(p));
    }
}

TEST_CASE("outputs: per-request records say what happened to each request", "[world][outputs]") {
    const auto s = with(burst3, generic_pool(1, 0.15), db_instant, 0.1, 1.0, 0.1, R"(, "record_requests": true)");
    const auto r = models::run_replication(s, 0);
    REQUIRE(r.requests.size() == 3);
    // In the order they ended: request 0 completes at 0.1, request 2 times out at 0.15,
    // request 1 (granted at 0.1) completes at 0.2.
    const auto& a = r.requests[0];
    const auto& b = r.requests[1];
    const auto& c = r.requests[2];
    CHECK(a.request == 0);
    CHECK(a.outcome == models::request_record::completed);
    CHECK(a.wait_s == 0);
    CHECK(a.latency_s == Approx(0.1));
    CHECK(a.connection == 0);
    CHECK(b.request == 2);
    CHECK(b.outcome == 1 + static_cast<int>(models::fail_reason::acquire_timeout));
    CHECK(b.wait_s == Approx(0.15));
    CHECK(b.latency_s == Approx(0.15));
    CHECK(b.connection == models::npos32);
    CHECK(c.request == 1);
    CHECK(c.wait_s == Approx(0.1));
    CHECK(c.latency_s == Approx(0.2));
    CHECK(c.attempts == 1);
    CHECK(r.requests_not_recorded == 0);

    SECTION("off, nothing is kept") {
        const auto off = models::run_replication(with(burst3, generic_pool(1, 0.15), db_instant, 0.1, 1.0, 0.1, ""), 0);
        CHECK(off.requests.empty());
    }
    SECTION("the cap keeps the first ones and counts the rest") {
        const auto capped = models::run_replication(
            with(burst3, generic_pool(1, 0.15), db_instant, 0.1, 1.0, 0.1,
                 R"(, "record_requests": true, "record_requests_max": 2)"),
            0);
        CHECK(capped.requests.size() == 2);
        CHECK(capped.requests_not_recorded == 1);
    }
    SECTION("requests still in the system at the horizon are recorded in flight") {
        // Horizon 0.12: request 1 holds the connection, request 2 still waits.
        const auto cut = models::run_replication(
            with(burst3, generic_pool(1, 0.15), db_instant, 0.1, 0.12, 0.1, R"(, "record_requests": true)"), 0);
        REQUIRE(cut.requests.size() == 3);
        CHECK(cut.requests[1].outcome == models::request_record::in_flight);
        CHECK(cut.requests[2].outcome == models::request_record::in_flight);
        CHECK(std::isnan(cut.requests[1].latency_s));
        // Request 1 got the connection after 0.1 s; request 2 is still waiting (NaN).
        const auto& held = cut.requests[1].request == 1 ? cut.requests[1] : cut.requests[2];
        const auto& waiting = cut.requests[1].request == 1 ? cut.requests[2] : cut.requests[1];
        CHECK(held.wait_s == Approx(0.1));
        CHECK(std::isnan(waiting.wait_s));
        CHECK(held.connection == 0);
    }
}

TEST_CASE("outputs: the pool can start before the first arrival (run.pool_start_s)", "[world][outputs]") {
    // Five logins of 1 s each. Started at -2 s the pool is full when five requests arrive at
    // 0: nobody waits. Started at 0 they wait the whole login.
    const std::string pool = R"({"kind": "generic", "min_connections": 5, "max_connections": 5, "idle_timeout": 0,
                                 "max_lifetime": 0, "health_check_interval": 0})";
    const std::string five = R"({"kind": "burst", "count": 5, "at_s": 0})";
    const auto early =
        models::run_replication(with(five, pool, test::constant_db(1.0, 0), 0.1, 2.0, 0.5, R"(, "pool_start_s": -2)"), 0);
    CHECK(early.metric("offered") == 5);
    CHECK(early.metric("completed") == 5);
    CHECK(early.metric("wait_time_max_ms") == 0);
    CHECK(early.metric("total_connections") == Approx(5));  // time average over [0, 2)
    CHECK(early.metric("connections_created") == 0);      // the counters restart at 0, as after warm-up
    const auto cold = models::run_replication(with(five, pool, test::constant_db(1.0, 0), 0.1, 2.0, 0.5, ""), 0);
    CHECK(cold.metric("wait_time_max_ms") == Approx(1000));
}

TEST_CASE("outputs: a trace may hold zero-time transactions", "[world][outputs]") {
    // Durations 0, 0.2, 0 on a one-core database: the zero ones finish at their arrival (plus
    // no round trip), the 0.2 s one after 0.2 s.
    const std::string file = test::temp_file("zero_durations.csv", "t_s,duration_s\n0.1,0\n0.2,0.2\n0.3,0\n");
    for (const int cores : {0, 1}) {
        const auto r = models::run_replication(
            with(R"({"kind": "trace", "file": ")" + file + R"("})", generic_pool(2, 1),
                 R"({"cores": )" + std::to_string(cores) +
                     R"(, "max_connections": 100, "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0})",
                 0.05, 1.0, 0.1, ""),
            0);
        INFO("cores " << cores);
        CHECK(r.metric("completed") == 3);
        CHECK(r.metric("latency_max_ms") == Approx(200));
        CHECK(r.metric("latency_p50_ms") == 0);
    }
    std::filesystem::remove(file);
}

TEST_CASE("outputs: PgBouncer wait percentiles and the per-interval column", "[world][outputs]") {
    // PgBouncer with one server (its login instant), three transactions of 0.1 s at 0: they
    // wait 0, 0.1 and 0.2 s in its queue.
    const auto s = models::scenario_from_json(R"({
        "run": {"horizon_s": 1, "warmup_s": 0, "replications": 1, "seed": 1, "sample_interval_s": 0.15},
        "workload": {"arrivals": {"kind": "burst", "count": 3, "at_s": 0},
                     "transactions": [{"query_time": {"kind": "constant", "value_s": 0.1}}]},
        "pool": {"kind": "generic", "min_connections": 3, "max_connections": 3, "idle_timeout": 0,
                 "max_lifetime": 0, "health_check_interval": 0},
        "pooler": {"kind": "pgbouncer", "default_pool_size": 1,
                   "client_connect_time": {"kind": "constant", "value_s": 0}},
        "database": {"cores": 0, "max_connections": 100, "network_rtt_s": 0,
                     "connect_time": {"kind": "constant", "value_s": 0}}})");
    const auto r = models::run_replication(s, 0);
    CHECK(r.metric("pooler_wait_max_ms") == Approx(200));
    CHECK(r.metric("pooler_wait_p50_ms") == Approx(100).epsilon(1.0 / 256));
    CHECK(r.metric("pooler_wait_p95_ms") == Approx(200).epsilon(1.0 / 256));
    CHECK(at(r, "pooler_wait_p99_ms", 0.15) == Approx(100).epsilon(1.0 / 256));  // waits 0 and 0.1
    CHECK(at(r, "pooler_wait_p99_ms", 0.30) == Approx(200).epsilon(1.0 / 256));  // the 0.2 one
    CHECK(std::isnan(at(r, "pooler_wait_p99_ms", 0.45)));
}
