// run(): determinism, common random numbers, warm-up deletion.
#include <catch2/catch.hpp>

#include "support/scenarios.hpp"

using namespace dbpoolsim;

namespace {
void require_same_metrics(const models::replication_result& a, const models::replication_result& b) {
    REQUIRE(a.metrics.size() == b.metrics.size());
    for (std::size_t i = 0; i < a.metrics.size(); ++i) {
        if (a.metrics[i].first == "wall_seconds") continue;
        INFO(a.metrics[i].first);
        const double x = a.metrics[i].second, y = b.metrics[i].second;
        CHECK(((std::isnan(x) && std::isnan(y)) || x == y));  // bit-identical, not approximately
    }
    REQUIRE(a.series.data().size() == b.series.data().size());
    CHECK(std::equal(a.series.data().begin(), a.series.data().end(), b.series.data().begin(),
                     [](double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); }));
}
}  // namespace

TEST_CASE("the same scenario and seed give identical results whatever the thread count", "[run]") {
    const auto s = test::mmc_pool(900, 0.010, 9, 0.05, 60, 4, 5);
    const auto one = models::run(s, 1);
    const auto two = models::run(s, 2);
    const auto four = models::run(s, 4);
    for (int i = 0; i < 4; ++i) {
        require_same_metrics(one.replications[i], two.replications[i]);
        require_same_metrics(one.replications[i], four.replications[i]);
    }
    SECTION("and replications differ from each other") {
        CHECK(one.replications[0].metric("offered") != one.replications[1].metric("offered"));
    }
}

TEST_CASE("arrivals are common random numbers across pool configurations", "[run]") {
    // Same seed and replication, different pool: the same requests arrive, and each request
    // has the same query time (keyed by request number, not by the order queries start).
    const auto small = models::run_replication(test::mmc_pool(900, 0.010, 9, 0.05, 30, 1, 0), 0);
    const auto big = models::run_replication(test::mmc_pool(900, 0.010, 40, 0.05, 30, 1, 0), 0);
    CHECK(small.metric("offered") == big.metric("offered"));
    // With 40 or 80 connections for 9 Erlang nobody waits (P(N >= 40) ~ 1e-12), so latency =
    // query time: its mean is the mean of the keyed query times, independent of the pool.
    const auto bigger = models::run_replication(test::mmc_pool(900, 0.010, 80, 0.05, 30, 1, 0), 0);
    REQUIRE(big.metric("p_wait") == 0);
    CHECK(big.metric("latency_avg_ms") == bigger.metric("latency_avg_ms"));
}

TEST_CASE("warm-up deletion counts only arrivals after warmup_s", "[run]") {
    const auto all = models::run_replication(test::mmc_pool(100, 0.010, 5, 0, 100, 1, 0), 0);
    const auto later = models::run_replication(test::mmc_pool(100, 0.010, 5, 0, 100, 1, 50), 0);
    CHECK(later.metric("offered") < all.metric("offered"));
    CHECK(later.metric("offered") == Approx(all.metric("offered") / 2).epsilon(0.1));
    CHECK(later.metric("measured_s") == 50);
}

TEST_CASE("a cancelled run stops with the cancelled exception", "[run]") {
    models::run_control ctl;
    ctl.cancel = true;
    CHECK_THROWS_AS(models::run(test::mmc_pool(900, 0.010, 9, 0.05, 1000, 2), 1, &ctl), models::cancelled);
}
