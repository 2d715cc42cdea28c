// The simulator against exact queueing theory (models/theory.hpp).
//
// Statistical method, for every check below: R independent replications (distinct random
// streams), each long enough for its mean to be close to normal; the estimate is the mean over
// replications and its standard error is s / sqrt(R). A check passes when
// |estimate - exact| <= 4 standard errors: for a correct simulator the false-failure rate of
// one check is 2 * (1 - Phi(4)) = 6.3e-5 (with R = 10 the t(9) tail makes it ~2e-3 at most).
// The seeds are fixed, so the outcome is reproducible; the bound says how unlucky a seed
// would have to be to fail a correct model.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/theory.hpp"
#include "sim/stats/accumulator.hpp"
#include "support/scenarios.hpp"

using namespace dbpoolsim;

namespace {

struct estimate {
    double mean, se;
};

estimate across(const models::run_result& r, const std::string& metric) {
    sim::stats::accumulator a;
    for (const auto& rep : r.replications) a.add(rep.metric(metric));
    return {a.mean(), a.stddev() / std::sqrt(static_cast<double>(a.count()))};
}

void check_within(const estimate& e, double exact, const char* what) {
    INFO(what << ": simulated " << e.mean << " +/- " << e.se << " (1 s.e.), exact " << exact);
    CHECK(std::abs(e.mean - exact) <= 4 * e.se);
}

}  // namespace

TEST_CASE("M/M/c with no acquire timeout matches Erlang C", "[validation]") {
    // lambda 900/s, 10 ms mean holding, c = 10: offered load 9 Erlang, rho = 0.9.
    const auto s = test::mmc_pool(900, 0.010, 10, 0, 1000, 10);
    const auto r = models::run(s, 0);
    const auto exact = models::theory::mmc(900, 100, 10);
    check_within(across(r, "p_wait"), exact.p_wait, "P(wait)");
    check_within(across(r, "wait_time_avg_ms"), exact.mean_wait * 1e3, "mean wait (ms)");
    check_within(across(r, "active_connections"), 9.0, "mean busy connections");
    for (const auto& rep : r.replications) CHECK(rep.metric("timeouts") == 0);
}

TEST_CASE("M/M/9 with a deterministic 50 ms acquire timeout matches M/M/c+D", "[validation]") {
    // The acceptance case: Poisson 900/s, exponential 10 ms, 9 connections, 50 ms.
    const auto exact = models::theory::mmc_deterministic_patience(900, 100, 9, 0.050);
    REQUIRE(exact.p_timeout == Approx(0.020219).margin(1e-6));
    REQUIRE(exact.mean_wait_all == Approx(0.023757).margin(1e-6));
    const auto s = test::mmc_pool(900, 0.010, 9, 0.050, 1000, 10);
    const auto r = models::run(s, 0);
    check_within(across(r, "timeout_rate"), exact.p_timeout, "P(timeout)");
    check_within(across(r, "wait_time_all_avg_ms"), exact.mean_wait_all * 1e3,
                 "mean wait over all requests (ms)");
    check_within(across(r, "p_wait"), exact.p_wait, "P(wait)");
    check_within(across(r, "throughput_per_s"), exact.throughput, "throughput (1/s)");
}

TEST_CASE("an overloaded pool with a timeout is stable and matches M/M/c+D", "[validation]") {
    // lambda = 1.2 c mu: without the timeout the queue would grow without bound.
    const auto exact = models::theory::mmc_deterministic_patience(1200, 100, 10, 0.020);
    const auto r = models::run(test::mmc_pool(1200, 0.010, 10, 0.020, 500, 10), 0);
    check_within(across(r, "timeout_rate"), exact.p_timeout, "P(timeout)");
    check_within(across(r, "wait_time_all_avg_ms"), exact.mean_wait_all * 1e3, "mean wait (ms)");
}

TEST_CASE("Little's law holds on every run", "[validation]") {
    // L (time-average requests in system) = lambda * W (arrival rate x mean time in system).
    // Both sides are estimated from the same run; their difference comes only from requests
    // straddling the window edges, O(W / window) relative: 2 % is generous at these sizes.
    for (auto [lambda, c, timeout] : {std::tuple{900.0, 10, 0.0}, {900.0, 9, 0.05}, {300.0, 4, 0.02}}) {
        const auto r = models::run(test::mmc_pool(lambda, 0.010, c, timeout, 200, 2), 0);
        for (const auto& rep : r.replications) {
            const double L = rep.metric("requests_in_system_avg");
            const double lw = rep.metric("offered_per_s") * rep.metric("sojourn_avg_ms") / 1e3;
            INFO("lambda " << lambda << " c " << c << ": L " << L << " lambda W " << lw);
            CHECK(L == Approx(lw).epsilon(0.02));
        }
    }
}

TEST_CASE("every arrival ends in exactly one outcome or is in flight at the horizon", "[validation]") {
    for (auto [lambda, c, timeout] : {std::tuple{900.0, 10, 0.0}, {2000.0, 9, 0.05}, {50.0, 2, 0.001}}) {
        const auto r = models::run(test::mmc_pool(lambda, 0.010, c, timeout, 50, 3, 5), 0);
        for (const auto& rep : r.replications) {
            CHECK(rep.metric("offered") ==
                  rep.metric("completed") + rep.metric("failed") + rep.metric("in_flight"));
            CHECK(rep.metric("failed") == rep.metric("failed_acquire_timeout") +
                                              rep.metric("failed_connect_error") +
                                              rep.metric("failed_pool_rejected") +
                                              rep.metric("failed_query_error"));
        }
    }
}
