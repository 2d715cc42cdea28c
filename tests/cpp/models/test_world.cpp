// The world around the pool (issue 4): database contention (processor sharing, USL), faults,
// the network (NAT idle drop), the server's idle_session_timeout, statement timeouts, leaks,
// finite accept rate, login CPU, fleets. Constant times make most numbers exact; each test
// says where its numbers come from.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "models/usl.hpp"
#include "sim/random.hpp"
#include "support/scenarios.hpp"

using namespace dbpoolsim;
using test::at;

namespace {

struct world_spec {
    double horizon_s = 20;
    double sample_s = 1;
    std::string arrivals = R"({"kind": "burst", "count": 1, "at_s": 0, "every_s": 0.1})";
    double query_s = 0.05;
    std::string transactions;  // overrides the single constant class when set
    std::string pool = R"({"kind": "generic", "min_connections": 5, "max_connections": 5, "acquisition_timeout": 1,
                           "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0})";
    std::string database = R"({"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0.01},
                               "network_rtt_s": 0.001})";
    std::string extra;  // more top-level members, e.g. R"(, "faults": [...])"
    double warmup_s = 0;
};

models::scenario build(const world_spec& w) {
    const std::string tx = w.transactions.empty()
                               ? R"([{"query_time": {"kind": "constant", "value_s": )" + std::to_string(w.query_s) + "}}]"
                               : w.transactions;
    return models::scenario_from_json(
        R"({"run": {"horizon_s": )" + std::to_string(w.horizon_s) + R"(, "warmup_s": )" +
        std::to_string(w.warmup_s) + R"(, "replications": 1, "seed": 1, "sample_interval_s": )" +
        std::to_string(w.sample_s) + R"(},
            "workload": {"arrivals": )" + w.arrivals + R"(, "transactions": )" + tx + R"(},
            "pool": )" + w.pool + R"(, "database": )" + w.database + w.extra + "}");
}

models::replication_result run(const world_spec& w) { return models::run_replication(build(w), 0); }

}  // namespace

// ---- database contention --------------------------------------------------------------------

namespace {
/// Issue 4's exact case: 100 jobs of 1 s CPU arrive together at one core, behind a fixed
/// pool of `conns` connections (no login cost, no network).
models::replication_result hundred_jobs_on_one_core(int conns) {
    world_spec w;
    w.horizon_s = 150;
    w.arrivals = R"({"kind": "burst", "count": 100, "at_s": 0})";
    w.query_s = 1;
    const std::string n = std::to_string(conns);
    w.pool = R"({"kind": "generic", "min_connections": )" + n + R"(, "max_connections": )" + n +
             R"(, "acquisition_timeout": 0, "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0})";
    w.database = R"({"cores": 1, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0})";
    return run(w);
}
}  // namespace

TEST_CASE("processor sharing: 100 jobs of 1 s CPU on one core all finish at 100 s", "[world][cpu]") {
    // Egalitarian PS: every job gets 1/100 of the core, so all finish together at 100 s:
    // mean latency 100 s. The pool (100 connections) does not queue.
    const auto r = hundred_jobs_on_one_core(100);
    CHECK(r.metric("completed") == 100);
    CHECK(r.metric("latency_avg_ms") == Approx(100000).epsilon(1e-9));
    CHECK(r.metric("latency_max_ms") == Approx(100000).epsilon(1e-9));
    CHECK(r.metric("wait_time_max_ms") == 0);
}

TEST_CASE("processor sharing behind a pool of one: the same jobs finish at 1, 2, ..., 100 s (mean 50.5 s)", "[world][cpu]") {
    // The pool serialises them: job k waits k - 1 s and runs 1 s alone on the core.
    const auto r = hundred_jobs_on_one_core(1);
    CHECK(r.metric("completed") == 100);
    CHECK(r.metric("latency_avg_ms") == Approx(50500).epsilon(1e-9));
    CHECK(r.metric("latency_max_ms") == Approx(100000).epsilon(1e-9));
    CHECK(r.metric("wait_time_avg_ms") == Approx(49500).epsilon(1e-9));
}

TEST_CASE("USL contention: a saturated pool of N delivers X(N), and the smaller pool is faster past the knee", "[world][cpu][usl]") {
    // Closed loop, zero think time, 300 users: the pool is always full, so N = pool size
    // queries are always active and each runs at 1 / (1 + sigma (N - 1) + kappa N (N - 1)) of
    // its solo speed. With a constant 1 ms query (lambda = 1000/s) the throughput must be the
    // USL's X(N) (coefficients fitted to the issue's reference data). Nothing about the knee
    // is coded: it comes out of the per-query speed. Tolerance 0.5 %: the only error is the
    // partial last round inside the 20 s window (about 1 round in 20,000).
    const models::usl::usl_params p{1000, 0.02735, 7.70e-4};
    auto throughput = [&](int n) {
        world_spec w;
        w.horizon_s = 22;
        w.warmup_s = 2;
        w.arrivals = R"({"kind": "closed_loop", "users": 300, "think_time": {"kind": "constant", "value_s": 0}})";
        w.query_s = 0.001;
        const std::string k = std::to_string(n);
        w.pool = R"({"kind": "generic", "min_connections": )" + k + R"(, "max_connections": )" + k +
                 R"(, "acquisition_timeout": 0, "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0})";
        w.database = R"({"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0},
                         "network_rtt_s": 0, "usl": {"sigma": 0.02735, "kappa": 0.00077}})";
        return run(w).metric("throughput_per_s");
    };
    const double x10 = throughput(10), x35 = throughput(35), x100 = throughput(100), x200 = throughput(200);
    CHECK(x10 == Approx(p.throughput(10)).epsilon(0.005));
    CHECK(x35 == Approx(p.throughput(35)).epsilon(0.005));
    CHECK(x100 == Approx(p.throughput(100)).epsilon(0.005));
    CHECK(x200 == Approx(p.throughput(200)).epsilon(0.005));
    // The knee: N* = sqrt((1 - sigma) / kappa) = 35.5.
    CHECK(x35 > x10);
    CHECK(x35 > x100);
    CHECK(x100 > x200);
}

TEST_CASE("database.usl can be fitted from measured points", "[world][usl]") {
    auto s = models::scenario_from_json(R"({"database": {"usl": {"fit": {
        "n": [1, 5, 10, 15, 20, 25, 30],
        "x": [955.16, 4315.54, 7867.61, 9645.37, 10798.52, 12075.41, 12118.04]}}}})");
    REQUIRE(s.database.usl);
    CHECK(s.database.usl->sigma == Approx(0.02735).epsilon(0.01));
    CHECK(s.database.usl->kappa == Approx(7.70e-4).epsilon(0.02));
    CHECK_THROWS_WITH(models::scenario_from_json(R"({"database": {"usl": {"sigma": 1.5, "kappa": 0}}})"),
                      Catch::Contains("/database/usl/sigma: must be"));
    CHECK_THROWS_WITH(models::scenario_from_json(R"({"database": {"usl": {"fit": {"n": [1, 2], "x": [1, 2]}}}})"),
                      Catch::Contains("/database/usl/fit: fit_usl"));
}

TEST_CASE("login CPU competes with queries; a finite accept rate serialises logins", "[world][cpu]") {
    // 10 logins at t = 0 (min 10). connect_cpu_s 0.1 on one core: after the 10 ms network
    // part the ten CPU parts share the core and all finish at 0.01 + 10 x 0.1 = 1.01 s.
    world_spec w;
    w.horizon_s = 3;
    w.sample_s = 0.01;
    w.arrivals = R"({"kind": "burst", "count": 1, "at_s": 2.5})";
    w.pool = R"({"kind": "generic", "min_connections": 10, "max_connections": 10, "acquisition_timeout": 0,
                 "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0})";
    w.database = R"({"cores": 1, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0.01},
                     "network_rtt_s": 0, "connect_cpu_s": 0.1})";
    auto r = run(w);
    CHECK(at(r, "creating_connections", 1.0, 1e-6) == 10);
    CHECK(at(r, "idle_connections", 1.02, 1e-6) == 10);
    // Accept rate 5/s: login k (0-based) starts at k / 5 s and ends 10 ms later.
    w.database = R"({"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0.01},
                     "network_rtt_s": 0, "accept_rate_per_s": 5})";
    r = run(w);
    CHECK(at(r, "idle_connections", 0.5, 1e-6) == 3);  // logins ending at 0.01, 0.21, 0.41
    CHECK(at(r, "idle_connections", 1.8, 1e-6) == 9);
    CHECK(at(r, "idle_connections", 1.82, 1e-6) == 10);
}

// ---- faults ---------------------------------------------------------------------------------

TEST_CASE("restart: every connection is reset, logins are refused for duration_s, then the pool recovers", "[world][faults]") {
    // 10 requests/s of 50 ms against a generic pool of 5 (LIFO: one connection does all the
    // work). Restart at 5.02 s for 2 s: the 5 backends vanish (db_backends 0 at once). Each
    // borrow finds a dead connection and fails after the round trip (query_error), closing it;
    // the refills the pool starts are refused (connect_error) until 7.02 s. The generic pool
    // retries the minimum at its cleanup (every 1 s here): from 8 s it is whole again.
    world_spec w;
    w.pool = R"({"kind": "generic", "min_connections": 5, "max_connections": 5, "acquisition_timeout": 1,
                 "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0, "idle_cleanup_interval": 1})";
    w.extra = R"(, "faults": [{"kind": "restart", "at_s": 5.02, "duration_s": 2}])";
    const auto r = run(w);
    CHECK(at(r, "db_backends", 5) == 5);
    CHECK(at(r, "db_backends", 6) == 0);
    CHECK(at(r, "db_backends", 9) == 5);
    CHECK(r.metric("connections_broken") == 5);
    CHECK(r.metric("failed_query_error") >= 1);
    CHECK(r.metric("failed_connect_error") >= 1);
    CHECK(at(r, "failures", 5) == 0);
    CHECK(at(r, "failures", 9) == 0);
    CHECK(at(r, "failures", 19) == 0);
    // Healthy again at the first interval after the pool reopened its connections.
    CHECK(r.metric("time_to_recover_s") > 1.9);
    CHECK(r.metric("time_to_recover_s") < 3.0);
    CHECK(r.metric("offered") == r.metric("completed") + r.metric("failed") + r.metric("in_flight"));
}

TEST_CASE("a query running at a restart fails at once; at a failover it hangs until the socket timeout", "[world][faults]") {
    // One 10 s query starts at 0; the fault comes at 2 s.
    world_spec w;
    w.horizon_s = 30;
    w.arrivals = R"({"kind": "burst", "count": 1, "at_s": 0})";
    w.query_s = 10;
    w.pool = R"({"kind": "generic", "min_connections": 1, "max_connections": 1, "acquisition_timeout": 0,
                 "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0})";
    w.database = R"({"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0.001})";
    w.extra = R"(, "faults": [{"kind": "restart", "at_s": 2, "duration_s": 1}])";
    auto r = run(w);
    CHECK(r.metric("failed_query_error") == 1);
    CHECK(r.metric("sojourn_avg_ms") == Approx(2001));  // the reset arrives one round trip later
    // Failover: the host is gone without a reset. The read blocks until socket_timeout_s
    // (5 s, counted from the query's start): it fails at 5 s.
    w.extra = R"(, "faults": [{"kind": "failover", "at_s": 2, "duration_s": 1}], "network": {"socket_timeout_s": 5})";
    r = run(w);
    CHECK(r.metric("failed_socket_timeout") == 1);
    CHECK(r.metric("sojourn_avg_ms") == Approx(5000));
}

TEST_CASE("failover: logins hang until connect_timeout_s while the old primary is unreachable", "[world][faults]") {
    // Pool of 1, idle. Failover at 1 s lasting 10 s; connect_timeout_s 3. A request at 2 s
    // uses the silently dead connection: it hangs until the 5 s socket timeout and fails at
    // 7 s; the replacement login starts at 7 s and, the old address still unreachable (until
    // 11 s), times out at 10 s. The cleanup at 10 s saw a login in flight; the one at 15 s
    // reaches the new primary.
    world_spec w;
    w.horizon_s = 30;
    w.arrivals = R"({"kind": "burst", "count": 1, "at_s": 2, "every_s": 20})";
    w.sample_s = 0.5;
    w.pool = R"({"kind": "generic", "min_connections": 1, "max_connections": 1, "acquisition_timeout": 0,
                 "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0, "idle_cleanup_interval": 5})";
    w.database = R"({"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0})";
    w.extra = R"(, "faults": [{"kind": "failover", "at_s": 1, "duration_s": 10}],
                  "network": {"socket_timeout_s": 5, "connect_timeout_s": 3})";
    const auto r = run(w);
    CHECK(r.metric("failed_socket_timeout") == 1);
    CHECK(at(r, "creating_connections", 8) == 1);  // login started at 7 s, hanging
    CHECK(at(r, "total_connections", 10.5) == 0);  // ... timed out at 10 s
    CHECK(at(r, "db_backends", 16) == 1);          // cleanup at 15 s reaches the new primary
    CHECK(r.metric("completed") == 1);             // the request at 22 s
}

TEST_CASE("read_only: writes fail on connections to the demoted primary, reads go on, until the pool recycles them", "[world][faults]") {
    // Two classes alternate by weight; the primary is demoted at 5 s and DNS moves to the new
    // primary at 6 s. Connections opened before 6 s stay on the old node: writes keep failing
    // (read_only) until max_lifetime (10 s, checked at return and borrow) replaces them.
    world_spec w;
    w.horizon_s = 30;
    w.transactions = R"([{"name": "read", "weight": 1, "read_only": true, "query_time": {"kind": "constant", "value_s": 0.01}},
                         {"name": "write", "weight": 1, "query_time": {"kind": "constant", "value_s": 0.01}}])";
    w.pool = R"({"kind": "generic", "min_connections": 2, "max_connections": 2, "acquisition_timeout": 1,
                 "idle_timeout": 0, "max_lifetime": 10, "health_check_interval": 0, "idle_cleanup_interval": 1})";
    w.extra = R"(, "faults": [{"kind": "read_only", "at_s": 5, "duration_s": 1}])";
    const auto r = run(w);
    CHECK(at(r, "failures", 5) == 0);
    CHECK(at(r, "failures", 6) > 0);
    CHECK(at(r, "failures", 9) > 0);  // DNS moved at 6 s, but the pool still holds old connections
    CHECK(at(r, "failures", 15) == 0);  // recycled by max_lifetime at 10 s
    CHECK(r.metric("failed") == r.metric("failed_read_only"));
    CHECK(r.metric("connections_broken") == 0);
}

TEST_CASE("connect_errors, slow_connects and slow_queries act only inside their window", "[world][faults]") {
    world_spec w;
    w.horizon_s = 10;
    w.sample_s = 0.5;
    w.arrivals = R"({"kind": "burst", "count": 1, "at_s": 0.25, "every_s": 0.5})";
    w.pool = R"({"kind": "generic", "min_connections": 0, "max_connections": 1, "acquisition_timeout": 0,
                 "idle_timeout": 0.1, "max_lifetime": 0, "health_check_interval": 0, "idle_cleanup_interval": 0.05})";
    w.database = R"({"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0.01}, "network_rtt_s": 0})";
    // Every request logs in (idle connections close after 0.1 s). Logins in [2, 4) fail.
    w.extra = R"(, "faults": [{"kind": "connect_errors", "at_s": 2, "duration_s": 2, "probability": 1}])";
    auto r = run(w);
    CHECK(r.metric("failed_connect_error") == 4);  // arrivals at 2.25, 2.75, 3.25, 3.75
    CHECK(r.metric("connection_errors") == 4);
    // slow_connects x10: logins in [2, 4) take 0.1 s instead of 0.01 s.
    w.extra = R"(, "faults": [{"kind": "slow_connects", "at_s": 2, "duration_s": 2, "factor": 10}])";
    r = run(w);
    CHECK(r.metric("latency_max_ms") == Approx(150));     // 100 ms login + 50 ms query
    CHECK(r.metric("wait_time_max_ms") == Approx(100));
    // slow_queries x4 on queries started in [2, 4): 200 ms instead of 50 ms.
    w.extra = R"(, "faults": [{"kind": "slow_queries", "at_s": 2, "duration_s": 2, "factor": 4}])";
    r = run(w);
    CHECK(r.metric("latency_max_ms") == Approx(210));
    CHECK(r.metric("latency_p50_ms") == Approx(60).epsilon(0.01));
}

TEST_CASE("kill_connections terminates a fraction of the backends at an instant", "[world][faults]") {
    world_spec w;
    w.pool = R"({"kind": "generic", "min_connections": 40, "max_connections": 40, "acquisition_timeout": 1,
                 "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 1, "idle_cleanup_interval": 1})";
    w.arrivals = R"({"kind": "burst", "count": 1, "at_s": 0.5, "every_s": 1})";  // none in (5.6, 6)
    w.extra = R"(, "faults": [{"kind": "kill_connections", "at_s": 5.6, "fraction": 1}])";
    auto r = run(w);
    CHECK(r.metric("connections_broken") == 40);
    CHECK(at(r, "db_backends", 6) == 0);
    w.extra = R"(, "faults": [{"kind": "kill_connections", "at_s": 5.6, "fraction": 0.5}])";
    r = run(w);
    // Binomial(40, 0.5): the seed fixes the draw; any value in 5..35 is 5 sd inside.
    CHECK(r.metric("connections_broken") > 5);
    CHECK(r.metric("connections_broken") < 35);
    CHECK(at(r, "db_backends", 6) == 40 - r.metric("connections_broken"));
    // The health check (every 1 s) finds the dead ones and the cleanup reopens them.
    CHECK(at(r, "db_backends", 9) == 40);
}

// ---- network and server timeouts ------------------------------------------------------------

TEST_CASE("NAT idle drop: silent makes the next use hang until the socket timeout, reset fails it at once", "[world][network]") {
    // One connection; requests at 1 s and 31 s. The NAT forgets flows idle > 10 s.
    world_spec w;
    w.horizon_s = 60;
    w.arrivals = R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 30})";
    w.pool = R"({"kind": "generic", "min_connections": 1, "max_connections": 1, "acquisition_timeout": 0,
                 "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0, "idle_cleanup_interval": 100})";
    w.database = R"({"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0.01},
                     "network_rtt_s": 0.001, "tcp_keepalive_s": 15})";
    w.extra = R"(, "network": {"nat_idle_timeout_s": 10, "nat_drop": "silent", "socket_timeout_s": 5})";
    auto r = run(w);
    CHECK(r.metric("completed") == 1);
    CHECK(r.metric("failed_socket_timeout") == 1);
    CHECK(r.metric("latency_max_ms") == Approx(51));  // the first request: query + round trip
    CHECK(r.metric("sojourn_avg_ms") == Approx((51 + 5000) / 2.0));
    CHECK(r.metric("nat_drops") == 1);
    // The client closed the connection at 36 s (and opened a new one), but the close never
    // reached the server: the old backend lives on until TCP keepalive reaps it 15 s later.
    CHECK(at(r, "db_backends", 40) == 2);
    CHECK(at(r, "db_backends", 52) == 1);
    w.extra = R"(, "network": {"nat_idle_timeout_s": 10, "nat_drop": "reset", "socket_timeout_s": 5})";
    r = run(w);
    CHECK(r.metric("failed_query_error") == 1);
    CHECK(r.metric("sojourn_avg_ms") == Approx((51 + 1) / 2.0));
    CHECK(at(r, "db_backends", 40) == 1);
}

TEST_CASE("a pool that pings idle connections keeps the NAT flow alive", "[world][network]") {
    // Same as above, with a health check every 5 s (< 10 s NAT timeout): nothing is dropped.
    world_spec w;
    w.horizon_s = 60;
    w.arrivals = R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 30})";
    w.pool = R"({"kind": "generic", "min_connections": 1, "max_connections": 1, "acquisition_timeout": 0,
                 "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 5, "idle_cleanup_interval": 100})";
    w.extra = R"(, "network": {"nat_idle_timeout_s": 10, "nat_drop": "silent", "socket_timeout_s": 5})";
    const auto r = run(w);
    CHECK(r.metric("completed") == 2);
    CHECK(r.metric("nat_drops") == 0);
}

TEST_CASE("idle_session_timeout: the server closes an idle backend; the next use fails at once", "[world][network]") {
    // PostgreSQL 14+ idle_session_timeout 10 s; a request at 1 s and at 20 s. The backend is
    // closed at 11.051 s (10 s after the connection came back); the request at 20 s fails
    // after one round trip.
    world_spec w;
    w.horizon_s = 30;
    w.arrivals = R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 19})";
    w.pool = R"({"kind": "generic", "min_connections": 1, "max_connections": 1, "acquisition_timeout": 0,
                 "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0, "idle_cleanup_interval": 100})";
    w.database = R"({"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0.01},
                     "network_rtt_s": 0.001, "idle_session_timeout_s": 10})";
    const auto r = run(w);
    CHECK(at(r, "db_backends", 11) == 1);
    CHECK(at(r, "db_backends", 12) == 0);
    CHECK(r.metric("idle_session_closes") == 1);
    CHECK(r.metric("failed_query_error") == 1);
    CHECK(r.metric("completed") == 1);
}

TEST_CASE("idle_session_timeout restarts after a pool's round trip on an idle connection", "[world][network]") {
    // sqlx pings the connection after its return: the ping is the backend's last traffic, so
    // the server's 10 s idle_session_timeout runs from the ping's answer (about 5.05 s), and
    // the backend closes at about 15.05 s. (A round trip cancels the timer at its start and
    // re-arms it at its answer: without the re-arm the backend would never close.)
    world_spec w;
    w.horizon_s = 30;
    w.arrivals = R"({"kind": "burst", "count": 1, "at_s": 5, "every_s": 100})";
    w.pool = R"({"kind": "sqlx", "max_connections": 1, "min_connections": 1, "acquire_timeout": 5})";
    w.database = R"({"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0.01},
                     "network_rtt_s": 0.001, "idle_session_timeout_s": 10})";
    const auto r = run(w);
    CHECK(r.metric("completed") == 1);
    CHECK(at(r, "db_backends", 15) == 1);
    CHECK(at(r, "db_backends", 16) == 0);
    CHECK(r.metric("idle_session_closes") == 1);
}

// ---- client: statement timeout, leaks -------------------------------------------------------

TEST_CASE("statement_timeout cancels a long query; the connection stays in the pool", "[world][client]") {
    world_spec w;
    w.horizon_s = 10;
    w.arrivals = R"({"kind": "burst", "count": 1, "at_s": 0, "every_s": 3})";
    w.query_s = 2;
    w.pool = R"({"kind": "generic", "min_connections": 1, "max_connections": 1, "acquisition_timeout": 0,
                 "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0})";
    w.database = R"({"cores": 1, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0.001})";
    w.extra = R"(, "client": {"query_timeout": 0.5})";  // seeds/004's name
    const auto r = run(w);
    CHECK(r.metric("failed_statement_timeout") == 4);  // arrivals at 0, 3, 6, 9
    CHECK(r.metric("sojourn_avg_ms") == Approx(501));
    CHECK(r.metric("connections_created") == 1);
    CHECK(at(r, "db_active_queries", 1) == 0);  // the cancelled query left the CPU
}

TEST_CASE("connection leaks: never returned exhausts the pool, returned late holds it", "[world][client]") {
    world_spec w;
    w.horizon_s = 10;
    w.arrivals = R"({"kind": "burst", "count": 1, "at_s": 0, "every_s": 1})";
    w.pool = R"({"kind": "generic", "min_connections": 2, "max_connections": 2, "acquisition_timeout": 0.5,
                 "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0})";
    w.transactions = R"([{"leak_probability": 1, "query_time": {"kind": "constant", "value_s": 0.05}}])";
    auto r = run(w);
    CHECK(r.metric("completed") == 2);  // the two connections leak; every later request times out
    CHECK(r.metric("failed_acquire_timeout") == 8);
    CHECK(r.metric("leaked_connections") == 2);
    CHECK(at(r, "active_connections", 9) == 2);
    // Returned 1.5 s after the transaction: two connections cover one request a second.
    w.transactions = R"([{"leak_probability": 1, "leak_hold_time": {"kind": "constant", "value_s": 1.5},
                          "query_time": {"kind": "constant", "value_s": 0.05}}])";
    r = run(w);
    CHECK(r.metric("completed") == 10);
    CHECK(r.metric("leaked_connections") == 10);
}

// ---- retries and the breaker during an outage -----------------------------------------------

TEST_CASE("retry amplification during an outage: attempts per request approach 1 + retry_attempts", "[world][client][faults]") {
    // 10 requests/s; the database restarts at 10 s and refuses logins for 20 s. Each request
    // in the outage fails its attempt at once (connect_error or query_error) and retries 3
    // times 0.1, 0.2, 0.4 s later: 4 attempts per request in the outage, 1 outside.
    world_spec w;
    w.horizon_s = 40;
    w.pool = R"({"kind": "generic", "min_connections": 2, "max_connections": 2, "acquisition_timeout": 1,
                 "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0, "idle_cleanup_interval": 1})";
    w.extra = R"(, "faults": [{"kind": "restart", "at_s": 10, "duration_s": 20}],
                  "client": {"retry_attempts": 3, "initial_retry_delay": 0.1, "retry_jitter_factor": 0})";
    const auto r = run(w);
    const double offered = r.metric("offered");
    // About 200 of the 400 requests fall in the outage (~4 attempts each), the rest take 1:
    // amplification (200 x 4 + 200) / 400 = 2.5, give or take the requests at the edges.
    CHECK(r.metric("retry_amplification") == Approx(2.5).margin(0.05));
    CHECK(r.metric("attempts") > 2.4 * offered);
    // Requests arriving in [29.3, 30) retry after 0.1 + 0.2 + 0.4 s, past the outage: the
    // ~193 arriving in [10, 29.3) fail.
    CHECK(r.metric("failed") == Approx(193).margin(2));
    // Per interval inside the outage: 10 requests, 40 attempts.
    CHECK(at(r, "failures", 20) == 10);
}

TEST_CASE("the circuit breaker opens during an outage and sheds the retries", "[world][client][faults]") {
    world_spec w;
    w.horizon_s = 40;
    w.pool = R"({"kind": "generic", "min_connections": 2, "max_connections": 2, "acquisition_timeout": 1,
                 "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0, "idle_cleanup_interval": 1})";
    w.extra = R"(, "faults": [{"kind": "restart", "at_s": 10, "duration_s": 20}],
                  "client": {"retry_attempts": 3, "initial_retry_delay": 0.1, "retry_jitter_factor": 0,
                             "circuit_breaker_threshold": 5, "circuit_breaker_timeout": 5, "circuit_breaker_reset": 2})";
    const auto r = run(w);
    CHECK(r.metric("breaker_opens") >= 4);  // opens, half-opens after 5 s, fails, opens again...
    CHECK(r.metric("failed_circuit_open") > 100);
    CHECK(r.metric("retry_amplification") < 1.5);  // the open breaker fails fast without retries
    CHECK(r.metric("breaker_open_fraction") > 0.4);
    CHECK(r.metric("breaker_closed_fraction") + r.metric("breaker_open_fraction") +
              r.metric("breaker_half_open_fraction") == Approx(1));
    CHECK(at(r, "failures", 38) == 0);  // closed again after the database came back
}

// ---- fleets ---------------------------------------------------------------------------------

TEST_CASE("rolling deploy: surge instances start cold, old ones drain, backends peak above steady state", "[world][fleet]") {
    // 3 instances x 5 connections. Deploy at 10.5 s, one at a time every 5 s, each new
    // instance ready 2 s after it starts: during each step 4 instances (20 backends) are up.
    world_spec w;
    w.horizon_s = 40;
    w.extra = R"(, "client": {"instances": 3},
                  "fleet": [{"kind": "rolling_deploy", "at_s": 10.5, "batch": 1, "interval_s": 5, "ready_after_s": 2}])";
    const auto r = run(w);
    CHECK(at(r, "instances", 9) == 3);
    CHECK(at(r, "instances", 11) == 4);
    CHECK(at(r, "db_backends", 11) == 20);
    CHECK(at(r, "instances", 13) == 3);  // the first old one drained and exited at 12.5 s
    CHECK(at(r, "instances", 30) == 3);
    CHECK(r.metric("instances_max") == 4);
    CHECK(r.metric("peak_backend_connections") == 20);
    CHECK(r.metric("connections_created") == 30);  // 15 at start, 15 for the new fleet
    CHECK(r.metric("failed") == 0);
    CHECK(at(r, "logins", 10) == 0);
    CHECK(at(r, "logins", 11) == 5);
}

TEST_CASE("autoscaling step: more instances add their pools' backends, up to max_connections", "[world][fleet]") {
    world_spec w;
    w.horizon_s = 20;
    w.database = R"({"cores": 0, "max_connections": 22, "connect_time": {"kind": "constant", "value_s": 0.01}, "network_rtt_s": 0.001})";
    w.extra = R"(, "client": {"instances": 2},
                  "fleet": [{"kind": "scale", "at_s": 5, "instances": 5}, {"kind": "scale", "at_s": 15, "instances": 3}])";
    const auto r = run(w);
    CHECK(at(r, "instances", 4) == 2);
    CHECK(at(r, "instances", 6) == 5);
    CHECK(at(r, "db_backends", 6) == 22);  // 25 wanted, 22 allowed
    CHECK(r.metric("rejected_logins") >= 3);
    CHECK(at(r, "instances", 17) == 3);
    CHECK(at(r, "db_backends", 17) <= 15);
}

TEST_CASE("fault and fleet JSON errors name the field and the value", "[world][json]") {
    auto err = [](const std::string& j) {
        try {
            models::scenario_from_json(j);
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(err(R"({"faults": [{"kind": "meteor", "at_s": 1}]})"), Catch::Contains("/faults/0/kind: must be one of"));
    CHECK_THAT(err(R"({"faults": [{"kind": "restart", "at_s": 1}]})"), Catch::Contains("/faults/0/duration_s: missing"));
    CHECK_THAT(err(R"({"faults": [{"kind": "slow_queries", "at_s": 1, "duration_s": 1}]})"),
               Catch::Contains("/faults/0/factor: missing"));
    CHECK_THAT(err(R"({"faults": [{"kind": "connect_errors", "at_s": 1, "duration_s": 1, "probability": 2}]})"),
               Catch::Contains("/faults/0/probability: must be"));
    CHECK_THAT(err(R"({"faults": [{"kind": "kill_connections", "at_s": 1, "duration_s": 1}]})"),
               Catch::Contains("/faults/0/duration_s: unknown"));
    CHECK_THAT(err(R"({"network": {"nat_drop": "maybe"}})"), Catch::Contains("/network/nat_drop: must be one of"));
    CHECK_THAT(err(R"({"fleet": [{"kind": "scale", "at_s": 5}]})"), Catch::Contains("/fleet/0/instances: missing"));
    CHECK_THAT(err(R"({"client": {"instances": 100}, "fleet": [{"kind": "rolling_deploy", "at_s": 5}, {"kind": "rolling_deploy", "at_s": 5000}, {"kind": "rolling_deploy", "at_s": 9000}]})"),
               Catch::Contains("/fleet: the fleet events need 400 instances"));
    CHECK_THAT(err(R"({"client": {"instances": 4}, "fleet": [{"kind": "rolling_deploy", "at_s": 5, "interval_s": 30}, {"kind": "scale", "at_s": 60, "instances": 2}]})"),
               Catch::Contains("/fleet/1/at_s: starts before the rolling deploy /fleet/0 ends"));
    CHECK_THAT(err(R"({"database": {"connect_cpu_s": 0.1}})"), Catch::Contains("/database/connect_cpu_s: needs a CPU model"));
    CHECK_THAT(err(R"({"client": {"query_timeout": 1, "statement_timeout_s": 2}})"),
               Catch::Contains("query_timeout: is seeds/004's name for statement_timeout_s"));
}

TEST_CASE("HikariCP's validationTimeout bounds the check of a silently dropped connection", "[world][network]") {
    // NAT drops flows idle > 10 s silently; socket timeout 30 s. The request at 31 s borrows
    // the connection idle since 1.05 s: HikariCP validates it (idle > 500 ms), the check gets
    // no answer and fails after validationTimeout (1 s), the pool closes it and opens a new
    // one (10 ms), and the request runs: about 1.06 s instead of a 30 s hang.
    world_spec w;
    w.horizon_s = 60;
    w.arrivals = R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 30})";
    w.pool = R"({"kind": "hikaricp", "maximumPoolSize": 1, "minimumIdle": 1, "connectionTimeout": 30000,
                 "idleTimeout": 0, "maxLifetime": 0, "keepaliveTime": 0, "validationTimeout": 1000})";
    w.extra = R"(, "network": {"nat_idle_timeout_s": 10, "nat_drop": "silent", "socket_timeout_s": 30})";
    auto r = run(w);
    CHECK(r.metric("completed") == 2);
    CHECK(r.metric("nat_drops") == 1);
    CHECK(r.metric("latency_max_ms") > 1050);
    CHECK(r.metric("latency_max_ms") < 1100);
    // With keepaliveTime 30 s (its minimum) > the NAT's 10 s, the keepalive does not help;
    // the same request is saved by validation alone. A NAT timeout of 40 s would be beaten.
    w.pool = R"({"kind": "hikaricp", "maximumPoolSize": 1, "minimumIdle": 1, "connectionTimeout": 30000,
                 "idleTimeout": 0, "maxLifetime": 0, "keepaliveTime": 30000, "validationTimeout": 1000})";
    w.extra = R"(, "network": {"nat_idle_timeout_s": 40, "nat_drop": "silent", "socket_timeout_s": 30})";
    w.arrivals = R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 50})";
    r = run(w);
    CHECK(r.metric("nat_drops") == 0);
    CHECK(r.metric("completed") == 2);
}

// ---- arrival processes in the world ---------------------------------------------------------

TEST_CASE("a replayed trace sets each request's arrival, class and database time", "[world][arrivals]") {
    // Three requests: a 0.2 s "slow" one at 1 s, a default one (query_time 0.05) at 2 s, a
    // 0.4 s one split over two queries at 3 s. No contention, rtt 1 ms per query.
    const std::string dir = std::filesystem::temp_directory_path().string();
    const std::string file = dir + "/test_world_trace.csv";
    {
        std::FILE* f = std::fopen(file.c_str(), "w");
        REQUIRE(f);
        std::fputs("t_s,class,duration_s\n1,slow,0.2\n2,,\n3,two,0.4\n", f);
        std::fclose(f);
    }
    world_spec w;
    w.horizon_s = 10;
    w.arrivals = R"({"kind": "trace", "file": "test_world_trace.csv"})";
    w.transactions = R"([{"name": "default", "query_time": {"kind": "constant", "value_s": 0.05}},
                         {"name": "slow", "weight": 0.001, "query_time": {"kind": "constant", "value_s": 9}},
                         {"name": "two", "weight": 0.001, "queries": 2, "query_time": {"kind": "constant", "value_s": 9}}])";
    const auto s = models::scenario_from_json(
        R"({"run": {"horizon_s": 10, "warmup_s": 0, "replications": 1, "seed": 1, "sample_interval_s": 1},
            "workload": {"arrivals": )" + w.arrivals + R"(, "transactions": )" + w.transactions + R"(},
            "pool": )" + w.pool + R"(, "database": )" + w.database + "}",
        dir);
    const auto r = models::run_replication(s, 0);
    CHECK(r.metric("offered") == 3);
    CHECK(r.metric("completed") == 3);
    CHECK(r.metric("latency_max_ms") == Approx(402));               // 2 x (0.2 + 0.001)
    CHECK(r.metric("latency_avg_ms") == Approx((201 + 51 + 402) / 3.0));
    CHECK(at(r, "arrivals", 1) == 1);
    CHECK(at(r, "arrivals", 3) == 1);
    std::remove(file.c_str());
}

TEST_CASE("a step rate profile changes the arrival rate in the world", "[world][arrivals]") {
    // 20/s for 50 s then 200/s: arrivals per 10 s interval ~200 then ~2000 (Poisson: within
    // 5 sd, sd = sqrt(mean)).
    world_spec w;
    w.horizon_s = 100;
    w.sample_s = 10;
    w.arrivals = R"({"kind": "poisson", "profile": {"shape": "step", "points": [{"at_s": 0, "rate_per_s": 20}, {"at_s": 50, "rate_per_s": 200}]}})";
    w.query_s = 0.001;
    const auto r = run(w);
    CHECK(at(r, "arrivals", 30) == Approx(200).margin(5 * std::sqrt(200.0)));
    CHECK(at(r, "arrivals", 80) == Approx(2000).margin(5 * std::sqrt(2000.0)));
}

TEST_CASE("faults, NAT drops, retries and fleet events give the same numbers on any thread count", "[world][determinism]") {
    auto s = models::scenario_from_json(R"({
        "run": {"horizon_s": 60, "warmup_s": 5, "replications": 4, "seed": 11, "sample_interval_s": 1},
        "workload": {"arrivals": {"kind": "mmpp", "states": [{"rate_per_s": 50, "mean_holding_s": 5}, {"rate_per_s": 400, "mean_holding_s": 2}]}},
        "client": {"instances": 2, "retry_attempts": 2, "initial_retry_delay": 0.1, "circuit_breaker_threshold": 20,
                   "statement_timeout_s": 0.05},
        "pool": {"kind": "hikaricp", "maximumPoolSize": 8},
        "database": {"cores": 4, "max_connections": 30, "connect_cpu_s": 0.002, "idle_session_timeout_s": 20},
        "network": {"nat_idle_timeout_s": 15, "socket_timeout_s": 3},
        "faults": [{"kind": "kill_connections", "at_s": 20, "fraction": 0.5},
                   {"kind": "failover", "at_s": 30, "duration_s": 4},
                   {"kind": "connect_errors", "at_s": 40, "duration_s": 3, "probability": 0.5}],
        "fleet": [{"kind": "rolling_deploy", "at_s": 45, "interval_s": 3, "ready_after_s": 1}]})");
    const auto a = models::run(s, 1), b = models::run(s, 3);
    REQUIRE(a.replications.size() == b.replications.size());
    for (std::size_t i = 0; i < a.replications.size(); ++i) {
        const auto& x = a.replications[i].metrics;
        const auto& y = b.replications[i].metrics;
        REQUIRE(x.size() == y.size());
        for (std::size_t k = 0; k < x.size(); ++k) {
            if (x[k].first == "wall_seconds") continue;
            INFO(x[k].first);
            CHECK((x[k].second == y[k].second || (std::isnan(x[k].second) && std::isnan(y[k].second))));
        }
    }
    const auto& r = a.replications[0];
    CHECK(r.metric("connections_broken") > 0);
    CHECK(r.metric("offered") == r.metric("completed") + r.metric("failed") + r.metric("in_flight"));
}

TEST_CASE("time_to_recover_s counts a stall whose requests have not failed yet", "[world][faults]") {
    // slow_queries x10 for 30 s from 60 s at 400 req/s on 10 connections (capacity 2000/s
    // falls to 200/s): completions collapse at once, timeouts (10 s) start only at 71 s. The
    // system is healthy again in the interval after the window (91-92 s): about 31 s.
    world_spec w;
    w.horizon_s = 200;
    w.warmup_s = 30;
    w.arrivals = R"({"kind": "poisson", "rate_per_s": 400})";
    w.transactions = R"([{"query_time": {"kind": "exponential", "mean_s": 0.005}}])";
    w.pool = R"({"kind": "generic", "min_connections": 10, "max_connections": 10, "acquisition_timeout": 10})";
    w.database = R"({"cores": 4})";
    w.extra = R"(, "faults": [{"kind": "slow_queries", "at_s": 60, "duration_s": 30, "factor": 10}])";
    const auto r = run(w);
    CHECK(r.metric("time_to_recover_s") >= 30);
    CHECK(r.metric("time_to_recover_s") <= 33);
    CHECK(at(r, "failures", 65) == 0);  // stalled, not failing yet
}

TEST_CASE("generic pool: after refused logins no waiter is left without a login in flight", "[world][faults]") {
    // 50 requests at 10 s; the database restarted at 9.9 s and refuses logins until 10.9 s.
    // Every refused login fails one waiter and the pool logs in again for the others, so the
    // waiters either fail fast (connect_error) or are served once the database is back,
    // instead of sitting until the next cleanup (30 s later).
    world_spec w;
    w.horizon_s = 60;
    w.arrivals = R"({"kind": "burst", "count": 50, "at_s": 10})";
    w.pool = R"({"kind": "generic", "min_connections": 5, "max_connections": 5})";
    w.extra = R"(, "faults": [{"kind": "restart", "at_s": 9.9, "duration_s": 1}])";
    const auto r = run(w);
    CHECK(r.metric("completed") + r.metric("failed_connect_error") + r.metric("failed_query_error") == 50);
    CHECK(r.metric("in_flight") == 0);
    CHECK(r.metric("sojourn_avg_ms") < 100);  // all fail fast: the outage outlasts the burst
}

TEST_CASE("a rolling deploy behind PgBouncer gives back the exiting instances' client slots", "[world][fleet]") {
    // 3 instances x 5 connections to PgBouncer (max_client_conn 20): each deploy step briefly
    // has 4 instances (20 clients). If an exiting instance kept its client slots, the second
    // step's surge would be refused.
    const auto s = models::scenario_from_json(R"({"run": {"horizon_s": 120, "warmup_s": 0, "replications": 1},
        "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 100}},
        "client": {"instances": 3},
        "pool": {"kind": "generic", "min_connections": 5, "max_connections": 5},
        "pooler": {"kind": "pgbouncer", "default_pool_size": 10, "max_client_conn": 20},
        "fleet": [{"kind": "rolling_deploy", "at_s": 10, "interval_s": 20}]})");
    const auto r = models::run_replication(s, 0);
    CHECK(r.metric("instances_max") == 4);
    CHECK(r.metric("pooler_peak_clients") == 20);
    CHECK(r.metric("pooler_rejected_clients") == 0);
    CHECK(r.metric("failed") == 0);
}

TEST_CASE("query times are keyed draws: stream query_time, the query's index and the request's sequence number",
          "[world][random]") {
    // Common random numbers: query k of request n draws from keyed_engine(stream ^ mix64(k), n),
    // whatever else happens. world::start_query precomputes the key of query 0 (speed); this
    // pins both keys. One request at 0.5 s, two exponential queries, connections open before
    // traffic, no CPU contention and no round trip: its queries end at 0.5 + q0 and + q1.
    const auto s = models::scenario_from_json(
        R"({"run": {"horizon_s": 2, "warmup_s": 0, "replications": 1, "seed": 7, "sample_interval_s": 1, "pool_start_s": -1},
            "workload": {"arrivals": {"kind": "burst", "count": 1, "at_s": 0.5},
                         "transactions": [{"queries": 2, "query_time": {"kind": "exponential", "mean_s": 0.01}}]},
            "pool": {"kind": "generic", "min_connections": 1, "max_connections": 1, "acquisition_timeout": 1,
                     "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0},
            "database": {"cores": 0, "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0}})");
    std::vector<models::trace_entry> events;
    models::run_replication(s, 0, nullptr, &events);
    const std::uint64_t stream = sim::stream_seed(7, 0, "query_time");
    auto draw = [&](std::uint64_t k) {
        sim::keyed_engine eng(stream ^ sim::mix64(k), 0);  // request sequence number 0
        return boost::random::exponential_distribution<double>(1.0)(eng) * 0.01;
    };
    const double end0 = 0.5 + draw(0), end1 = end0 + draw(1);
    CHECK(test::timeline(events, {"db_done"}) == std::vector<test::step>{{end0, "db_done", 0}, {end1, "db_done", 0}});
}
