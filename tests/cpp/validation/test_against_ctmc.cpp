// The simulator against the exact CTMC oracles (models/ctmc.hpp) on the finite models that
// have no closed form in models/theory: a finite-source (closed-loop) pool, an M/M/c/K pool
// (psycopg_pool's max_waiting), creation-limited growth (PgBouncer's one login at a time) and
// Erlang A (callers with exponential patience, client.patience).
//
// Statistical method (as test_against_theory.cpp): R independent replications; estimate =
// mean over replications, standard error s / sqrt(R); a check passes when
// |estimate - exact| <= 4 standard errors, a false-failure rate of about 6e-5 per check for a
// correct simulator (about 2e-3 with R = 10 and the t(9) tail). Fixed seeds: reproducible.
// The CTMC's Erlang A is itself checked against the closed form in tests/cpp/models/test_ctmc.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "models/ctmc.hpp"
#include "sim/stats/accumulator.hpp"
#include "support/scenarios.hpp"

using namespace dbpoolsim;

namespace {

struct estimate {
    double mean, se;
};

estimate across(const models::run_result& r,
                const std::function<double(const models::replication_result&)>& f) {
    sim::stats::accumulator a;
    for (const auto& rep : r.replications) a.add(f(rep));
    return {a.mean(), a.stddev() / std::sqrt(static_cast<double>(a.count()))};
}

estimate across(const models::run_result& r, const std::string& metric) {
    return across(r, [&](const models::replication_result& rep) { return rep.metric(metric); });
}

void check_within(const estimate& e, double exact, const std::string& what) {
    INFO(what << ": simulated " << e.mean << " +/- " << e.se << " (1 s.e.), exact " << exact);
    // The 1e-6 floor only matters when every replication gives the same value (s.e. 0, e.g.
    // a pool that is certainly full): then the estimate must equal the oracle.
    CHECK(std::abs(e.mean - exact) <= std::max(4 * e.se, 1e-6));
}

const std::string no_cost_db =
    R"({"cores": 0, "max_connections": 100000, "connect_time": {"kind": "constant", "value_s": 0},
        "network_rtt_s": 0})";

}  // namespace

TEST_CASE("a closed-loop pool matches the finite-source CTMC (M/M/c//N)", "[validation]") {
    // 40 users thinking Exp(mean 0.5 s), holding Exp(mean 50 ms), 4 connections: the pool is
    // busy about 90 % and a third of the requests wait.
    const auto s = models::scenario_from_json(R"({
        "run": {"horizon_s": 1000, "warmup_s": 20, "replications": 10, "seed": 11,
                "sample_interval_s": 10},
        "workload": {"arrivals": {"kind": "closed_loop", "users": 40,
                                  "think_time": {"kind": "exponential", "mean_s": 0.5}},
                     "transactions": [{"query_time": {"kind": "exponential", "mean_s": 0.05}}]},
        "pool": {"kind": "generic", "min_connections": 4, "max_connections": 4,
                 "acquisition_timeout": 0, "idle_timeout": 0, "max_lifetime": 0,
                 "health_check_interval": 0},
        "database": )" + no_cost_db + "}");
    const auto exact = models::ctmc::finite_source(40, 2.0, 20.0, 4, true);
    const auto r = models::run(s, 0);
    check_within(across(r, "throughput_per_s"), exact.throughput, "throughput (1/s)");
    check_within(across(r, "p_wait"), exact.p_wait, "P(wait) seen by a request");
    check_within(across(r, "wait_time_avg_ms"), exact.mean_wait * 1e3, "mean wait (ms)");
    check_within(across(r, "active_connections"), exact.utilization * 4, "busy connections");
}

TEST_CASE("a pool with a bounded wait queue matches M/M/c/K", "[validation]") {
    // psycopg_pool: 9 connections, max_waiting 5 (K = 14), Poisson 900/s, Exp(10 ms) holds;
    // a request finding 5 waiters fails at once (failed_pool_rejected): about 9 % are lost.
    const auto s = models::scenario_from_json(R"({
        "run": {"horizon_s": 300, "warmup_s": 10, "replications": 10, "seed": 12,
                "sample_interval_s": 10},
        "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 900},
                     "transactions": [{"query_time": {"kind": "exponential", "mean_s": 0.01}}]},
        "pool": {"kind": "psycopg_pool", "min_size": 9, "max_size": 9, "max_waiting": 5,
                 "timeout": 1000000, "max_lifetime": 1000000000},
        "database": )" + no_cost_db + "}");
    const auto exact = models::ctmc::mmck(900.0, 100.0, 9, 14);
    const auto r = models::run(s, 0);
    check_within(across(r,
                        [](const models::replication_result& rep) {
                            return rep.metric("failed_pool_rejected") / rep.metric("offered");
                        }),
                 exact.p_block, "P(rejected)");
    check_within(across(r, "wait_time_avg_ms"), exact.mean_wait * 1e3,
                 "mean wait of accepted requests (ms)");
    check_within(across(r, "throughput_per_s"), exact.throughput, "throughput (1/s)");
}

TEST_CASE("PgBouncer's one-login-at-a-time growth matches the creation-limited CTMC",
          "[validation]") {
    // Cold start: Poisson 150/s, Exp(50 ms) transactions (7.5 Erlangs), PgBouncer
    // default_pool_size 10, server logins Exp(mean 50 ms) one at a time. The application
    // pool (generic, 300 connections, logins to PgBouncer take no time) never makes requests
    // wait, so requests queue only in PgBouncer: exactly the CTMC's state (servers, requests).
    // pooler_servers counts a login in progress, so it is compared with E[K] + P(creating).
    const auto s = models::scenario_from_json(R"({
        "run": {"horizon_s": 2.05, "warmup_s": 0, "replications": 400, "seed": 13,
                "sample_interval_s": 0.1},
        "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 150},
                     "transactions": [{"query_time": {"kind": "exponential", "mean_s": 0.05}}]},
        "pool": {"kind": "generic", "min_connections": 300, "max_connections": 300,
                 "acquisition_timeout": 0, "idle_timeout": 0, "max_lifetime": 0,
                 "health_check_interval": 0},
        "pooler": {"kind": "pgbouncer", "default_pool_size": 10, "max_client_conn": 1000,
                   "client_connect_time": {"kind": "constant", "value_s": 0}},
        "database": {"cores": 0, "max_connections": 100000, "network_rtt_s": 0,
                     "connect_time": {"kind": "exponential", "mean_s": 0.05}}})");
    const models::ctmc::creation_limited_model m{150.0, 20.0, 20.0, 10, 300, 0.0};
    const std::vector<double> times{0.1, 0.2, 0.3, 0.5, 1.0, 2.0};
    const auto exact = models::ctmc::creation_limited_transient(m, times);
    REQUIRE(exact.back().p_block < 1e-12);  // capacity 300 is never reached: no truncation
    const auto r = models::run(s, 0);
    for (std::size_t i = 0; i < times.size(); ++i) {
        const double t = times[i];
        const auto at = [t](const std::string& col) {
            return [t, col](const models::replication_result& rep) { return test::at(rep, col, t, 1e-6); };
        };
        check_within(across(r, at("pooler_servers")),
                     exact[i].mean_connections + exact[i].p_creating,
                     "servers incl. a login at t = " + std::to_string(t));
        check_within(across(r, at("pooler_waiting")), exact[i].mean_waiting,
                     "clients waiting at t = " + std::to_string(t));
    }
}

TEST_CASE("callers with exponential patience match Erlang A (M/M/c+M)", "[validation]") {
    // Poisson 900/s, Exp(10 ms) holds, 9 connections (offered load 9 Erlangs: without
    // abandonment the queue would grow for ever), patience Exp(mean 50 ms), no acquire timeout.
    // About 7 % abandon and most requests wait; waits are counted over every request (served
    // ones until the grant, abandoned ones until they give up), as the chain's E[queue] / lambda.
    auto s = test::mmc_pool(900, 0.01, 9, 0, 300, 10);
    s.client.patience = models::distribution::exponential(0.05);
    const auto exact = models::ctmc::erlang_a(900.0, 100.0, 9, 20.0);
    const auto r = models::run(s, 0);
    check_within(across(r,
                        [](const models::replication_result& rep) {
                            return rep.metric("failed_abandoned") /
                                   (rep.metric("offered") - rep.metric("in_flight"));
                        }),
                 exact.p_abandon, "P(abandon)");
    check_within(across(r, "p_wait"), exact.p_wait, "P(wait)");
    check_within(across(r, "wait_time_all_avg_ms"), exact.mean_wait_all * 1e3,
                 "mean wait over all requests (ms)");
    check_within(across(r, "throughput_per_s"), 900.0 * (1 - exact.p_abandon), "throughput (1/s)");
    // Abandonment is not the acquire timeout.
    CHECK(across(r, "timeouts").mean == 0);
}
