// The client layer: retries with backoff (seeds/001, 004), request deadlines, the circuit
// breaker (seeds/001). Constant times make every number exact.
#include <catch2/catch.hpp>
#include <filesystem>

#include "models/world/client.hpp"
#include "support/scenarios.hpp"

using namespace dbpoolsim;

namespace {

models::scenario client_scenario(const std::string& arrivals, double query_s, const std::string& client,
                                 double horizon_s, double timeout_s = 0.1, int conns = 1) {
    const std::string n = std::to_string(conns);
    return models::scenario_from_json(
        R"({"run": {"horizon_s": )" + std::to_string(horizon_s) +
        R"(, "warmup_s": 0, "replications": 1, "seed": 1, "sample_interval_s": 0.1},
            "workload": {"arrivals": )" + arrivals + R"(,
                         "transactions": [{"query_time": {"kind": "constant", "value_s": )" + std::to_string(query_s) + R"(}}]},
            "client": )" + client + R"(,
            "pool": {"kind": "generic", "min_connections": )" + n + R"(, "max_connections": )" + n +
        R"(, "acquisition_timeout": )" + std::to_string(timeout_s) + R"(, "health_check_interval": 0},
            "database": {"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0}})");
}

using test::at;

}  // namespace

TEST_CASE("a failed attempt is retried with exponential backoff", "[client]") {
    // One connection held 1 s by request A (t = 0). Request B (t = 0) times out at 0.1 and
    // retries after 0.2 s (initial_retry_delay), 0.4 s, 0.8 s (x2 each, no jitter): attempts
    // at 0, 0.3, 0.8 and 1.7 s. The last finds the connection free (A returned it at 1.0)
    // and completes at 2.7 s.
    const auto r = models::run_replication(
        client_scenario(R"({"kind": "burst", "count": 2, "at_s": 0})", 1.0,
                        R"({"retry_attempts": 3, "initial_retry_delay": 0.2, "max_retry_delay": 10, "retry_jitter_factor": 0})", 3.0),
        0);
    CHECK(r.metric("completed") == 2);
    CHECK(r.metric("failed") == 0);
    CHECK(r.metric("attempts") == 5);
    CHECK(r.metric("retries") == 3);
    CHECK(r.metric("retry_amplification") == Approx(2.5));
    CHECK(r.metric("attempt_failures") == 3);
    CHECK(r.metric("latency_max_ms") == Approx(2700));
}

TEST_CASE("when the retries are used up the request fails with the last attempt's reason", "[client]") {
    const auto r = models::run_replication(
        client_scenario(R"({"kind": "burst", "count": 2, "at_s": 0})", 1.0,
                        R"({"retry_attempts": 1, "initial_retry_delay": 0.2, "retry_jitter_factor": 0})", 3.0),
        0);
    // B: attempts at 0 and 0.3, both time out (0.1, 0.4): failed at 0.4.
    CHECK(r.metric("failed_acquire_timeout") == 1);
    CHECK(r.metric("attempts") == 3);
    CHECK(r.metric("offered") == r.metric("completed") + r.metric("failed") + r.metric("in_flight"));
}

TEST_CASE("the backoff delay is capped at max_retry_delay and jittered by retry_jitter_factor", "[client]") {
    // Every attempt of the second request fails (the connection is held 100 s). Attempt k
    // starts at sum of (0.1 timeout + delay_j): delays 1, 2, 2, 2 (cap 2) with no jitter.
    const auto exact = models::run_replication(
        client_scenario(R"({"kind": "burst", "count": 2, "at_s": 0})", 100.0,
                        R"({"retry_attempts": 4, "initial_retry_delay": 1, "max_retry_delay": 2, "retry_jitter_factor": 0})", 10.0),
        0);
    // Failures at 0.1, 1.2, 3.3, 5.4, 7.5 (the fifth attempt starts at 7.4): final at 7.5.
    CHECK(exact.metric("failed_acquire_timeout") == 1);
    CHECK(exact.metric("attempts") == 6);
    CHECK(at(exact, "failures", 7.6) == 1);  // the interval (7.5, 7.6] holds the final failure
    SECTION("with jitter the delays vary within +-f but the count is the same") {
        const auto j = models::run_replication(
            client_scenario(R"({"kind": "burst", "count": 2, "at_s": 0})", 100.0,
                            R"({"retry_attempts": 4, "initial_retry_delay": 1, "max_retry_delay": 2, "retry_jitter_factor": 0.1})", 10.0),
            0);
        CHECK(j.metric("attempts") == 6);
        CHECK(j.metric("failed_acquire_timeout") == 1);
    }
}

TEST_CASE("retries amplify the load on a pool that cannot serve", "[client]") {
    // The only connection is held for the whole run; 100 req/s each make 1 + 3 attempts.
    const auto r = models::run_replication(
        client_scenario(R"({"kind": "poisson", "rate_per_s": 100})", 1000.0,
                        R"({"retry_attempts": 3, "initial_retry_delay": 0.05, "retry_jitter_factor": 0})", 20.0, 0.05),
        0);
    CHECK(r.metric("retry_amplification") == Approx(4.0).epsilon(0.02));
    // Nothing completes (the first request still holds the connection): every request has
    // either timed out four times or is still inside its ~0.55 s retry cycle at the horizon.
    CHECK(r.metric("completed") == 0);
    CHECK(r.metric("failed_acquire_timeout") + r.metric("in_flight") == r.metric("offered"));
}

TEST_CASE("at its deadline the caller gives up, and work already started runs on", "[client]") {
    // Deadline 1.5 s, queries 1 s, one connection. A (t = 0) completes at 1.0. B (t = 0)
    // waits, gets the connection at 1.0, and is given up at 1.5 (deadline_exceeded) while
    // its transaction keeps the connection until 2.0.
    const auto r = models::run_replication(
        client_scenario(R"({"kind": "burst", "count": 2, "at_s": 0})", 1.0, R"({"deadline_s": 1.5})", 3.0, 30),
        0);
    CHECK(r.metric("completed") == 1);
    CHECK(r.metric("failed_deadline_exceeded") == 1);
    CHECK(r.metric("in_flight") == 0);
    CHECK(at(r, "active_connections", 1.7) == 1);  // the abandoned work still holds it
    CHECK(at(r, "active_connections", 2.1) == 0);
    CHECK(at(r, "requests_in_system", 1.7) == 1);
}

TEST_CASE("a deadline during a backoff ends the request at once", "[client]") {
    const auto r = models::run_replication(
        client_scenario(R"({"kind": "burst", "count": 2, "at_s": 0})", 1.0,
                        R"({"deadline_s": 0.2, "retry_attempts": 5, "initial_retry_delay": 0.5, "retry_jitter_factor": 0})", 3.0),
        0);
    // A's own 1 s transaction outlives its 0.2 s deadline too.
    CHECK(r.metric("failed_deadline_exceeded") == 2);
    CHECK(r.metric("attempts") == 2);  // B's retry (due at 0.6) never starts
    CHECK(at(r, "requests_in_system", 0.3) == 1);  // only A's abandoned work
}

TEST_CASE("an attempt that fails after its request's deadline ends there: no retry, no second outcome", "[client]") {
    // One connection held 1 s by A (t = 0); B (t = 0) waits. Deadline 0.05 s: both are given
    // up at 0.05 (A's work runs on to 1.0). B's acquire timeout at 0.1 ends its attempt: its
    // request already has its outcome, so it is not retried (retry_attempts 2) and its slot
    // is freed then.
    const auto r = models::run_replication(
        client_scenario(R"({"kind": "burst", "count": 2, "at_s": 0})", 1.0,
                        R"({"deadline_s": 0.05, "retry_attempts": 2, "initial_retry_delay": 0.2, "retry_jitter_factor": 0})",
                        2.0, 0.1),
        0);
    CHECK(r.metric("failed_deadline_exceeded") == 2);
    CHECK(r.metric("failed") == 2);
    CHECK(r.metric("attempts") == 2);
    CHECK(r.metric("attempt_failures") == 1);
    CHECK(r.metric("in_flight") == 0);
    CHECK(at(r, "requests_in_system", 0.2) == 1);  // then only A's abandoned work
    CHECK(at(r, "requests_in_system", 1.1) == 0);
}

TEST_CASE("the circuit breaker opens, rejects, half-opens and opens again", "[client]") {
    // One connection, 0.5 s queries, one request every 0.1 s, acquisition timeout 0.05,
    // breaker threshold 3, timeout 1 s, 2 successes to close.
    //   A (0.0) holds the connection to 0.5; B, C, D (0.1, 0.2, 0.3) time out at 0.15,
    //   0.25, 0.35: three failures, the breaker opens at 0.35 until 1.35. Requests 0.4 ... 1.3
    //   (10) are rejected at once (circuit_open). Half-open at 1.35: 1.4 gets the connection
    //   (success at 1.9), 1.5 times out at 1.55 -> open again until 2.55: 1.6 ... 2.5 (10)
    //   rejected. Horizon 2.58.
    const auto r = models::run_replication(
        client_scenario(R"({"kind": "burst", "count": 1, "at_s": 0, "every_s": 0.1})", 0.5,
                        R"({"circuit_breaker_threshold": 3, "circuit_breaker_timeout": 1, "circuit_breaker_reset": 2})",
                        2.58, 0.05),
        0);
    CHECK(r.metric("offered") == 26);
    CHECK(r.metric("completed") == 2);
    CHECK(r.metric("failed_acquire_timeout") == 4);
    CHECK(r.metric("failed_circuit_open") == 20);
    CHECK(r.metric("breaker_opens") == 2);
    CHECK(r.metric("breaker_open_fraction") == Approx(2.0 / 2.58).epsilon(1e-6));
    CHECK(r.metric("breaker_half_open_fraction") == Approx((0.2 + 0.03) / 2.58).epsilon(1e-6));
}

TEST_CASE("a half-open breaker closes after circuit_breaker_reset successes", "[client]") {
    // A trace: 4 requests at 0, then one at 1.2 and 1.4, three at 1.6, two at 1.8. One
    // connection, 0.05 s queries, acquisition timeout 0.01 s; threshold 3, timeout 1 s,
    // reset 2.
    //   0     A gets the connection (to 0.05); B, C, D time out at 0.01: open until 1.01
    //         (A's success at 0.05 changes nothing while open).
    //   1.01  half-open. E (1.2) succeeds at 1.25, F (1.4) at 1.45: the second success
    //         closes it at 1.45.
    //   1.6   G gets the connection, H and K time out at 1.61: two failures in the closed
    //         state; G's success at 1.65 restarts the count, so J's timeout at 1.81 (I is
    //         served) is one failure, not the third: the breaker stays closed.
    // Horizon 2: closed [0, 0.01) and [1.45, 2), open [0.01, 1.01), half-open [1.01, 1.45).
    const std::string trace = test::temp_file("breaker_close.csv", "t_s\n0\n0\n0\n0\n1.2\n1.4\n1.6\n1.6\n1.6\n1.8\n1.8\n");
    std::vector<models::trace_entry> events;
    const auto r = models::run_replication(
        client_scenario(R"({"kind": "trace", "file": ")" + trace + R"("})", 0.05,
                        R"({"circuit_breaker_threshold": 3, "circuit_breaker_timeout": 1, "circuit_breaker_reset": 2})",
                        2.0, 0.01),
        0, nullptr, &events);
    std::filesystem::remove(trace);  // the scenario has read it
    // The exact timeline of acquire timeouts (pool timer 0, target = request slot: B, C, D
    // are 1, 2, 3; H, K reuse 3, 2 and J reuses 2) and half-open transitions (target =
    // instance).
    CHECK(test::timeline(events, {"pool_timer", "breaker"}) ==
          std::vector<test::step>{{0.01, "pool_timer", 1}, {0.01, "pool_timer", 2}, {0.01, "pool_timer", 3},
                                  {1.01, "breaker", 0}, {1.61, "pool_timer", 3}, {1.61, "pool_timer", 2},
                                  {1.81, "pool_timer", 2}});
    CHECK(r.metric("offered") == 11);
    CHECK(r.metric("completed") == 5);  // A, E, F, G, I
    CHECK(r.metric("failed_acquire_timeout") == 6);  // B, C, D, H, K, J
    CHECK(r.metric("failed_circuit_open") == 0);
    CHECK(r.metric("breaker_opens") == 1);
    CHECK(r.metric("breaker_closed_fraction") == Approx((0.01 + 0.55) / 2.0).epsilon(1e-9));
    CHECK(r.metric("breaker_open_fraction") == Approx(1.0 / 2.0).epsilon(1e-9));
    CHECK(r.metric("breaker_half_open_fraction") == Approx(0.44 / 2.0).epsilon(1e-9));
    // The timeline, interval by interval (sample interval 0.1 s).
    CHECK(at(r, "failures", 0.1) == 3);
    CHECK(at(r, "completions", 0.1) == 1);
    CHECK(at(r, "completions", 1.3) == 1);
    CHECK(at(r, "completions", 1.5) == 1);
    CHECK(at(r, "failures", 1.7) == 2);
    CHECK(at(r, "completions", 1.7) == 1);
    CHECK(at(r, "failures", 1.9) == 1);
    CHECK(at(r, "completions", 1.9) == 1);
}

TEST_CASE("circuit_breaker: each transition on its own", "[client]") {
    using cb = models::world_parts::circuit_breaker;
    cb b;
    auto fail = [&] { return b.record(false, 3, 2); };
    auto ok = [&] { return b.record(true, 3, 2); };
    CHECK(fail() == cb::closed);
    CHECK(ok() == cb::closed);  // a success restarts the count of consecutive failures
    CHECK(fail() == cb::closed);
    CHECK(fail() == cb::closed);
    CHECK(fail() == cb::open);  // the third consecutive failure opens it
    CHECK(ok() == cb::open);    // results of attempts started before it opened change nothing
    CHECK(fail() == cb::open);
    b.half_open_now();
    CHECK(b.state() == cb::half_open);
    CHECK(ok() == cb::half_open);
    CHECK(fail() == cb::open);  // one failure while half-open opens it again
    b.half_open_now();
    CHECK(ok() == cb::half_open);
    CHECK(ok() == cb::closed);  // the reset-th success closes it
    CHECK(fail() == cb::closed);  // ... with the failure count restarted
    CHECK(fail() == cb::closed);
    CHECK(fail() == cb::open);
}

TEST_CASE("client parameters take seeds/001 names and seeds/004 aliases", "[client][scenario]") {
    const auto a = models::scenario_from_json(R"({"client": {"max_retries": 3, "retry_base_delay": 0.1, "retry_max_delay": 2}})");
    CHECK(a.client.retry_attempts == 3);
    CHECK(a.client.initial_retry_delay == 0.1);
    CHECK(a.client.max_retry_delay == 2);
    try {
        models::scenario_from_json(R"({"client": {"max_retries": 3, "retry_attempts": 2, "initial_retry_delay": 5, "max_retry_delay": 1}})");
        FAIL("no error");
    } catch (const config_error& e) {
        CHECK(e.problems() == std::vector<std::string>{
                                  "/client/max_retries: is seeds/004's name for retry_attempts; give only one of them",
                                  "/client/max_retry_delay: must be >= initial_retry_delay (5), got 1"});
    }
}
