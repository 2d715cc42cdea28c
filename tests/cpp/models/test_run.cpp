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

TEST_CASE("application instances each run their own pool against the one database", "[run][instances]") {
    // seeds/003: "Each instance gets 35-connection pool", 5 instances, PostgreSQL
    // max_connections = 200 ("Supports 5 app instances + overhead"). Fixed pools of 35 open at
    // t = 0: 5 x 35 = 175 backends fit; with 6 instances (210) the last 10 logins are refused.
    auto fleet = [](int instances) {
        return models::scenario_from_json(
            R"({"run": {"horizon_s": 20, "warmup_s": 0, "replications": 1, "seed": 3, "sample_interval_s": 1},
                "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 2000},
                             "transactions": [{"query_time": {"kind": "exponential", "mean_s": 0.005}}]},
                "client": {"instances": )" + std::to_string(instances) + R"(},
                "pool": {"kind": "generic", "min_connections": 35, "max_connections": 35, "health_check_interval": 0},
                "database": {"cores": 0, "max_connections": 200,
                             "connect_time": {"kind": "constant", "value_s": 0.05}, "network_rtt_s": 0.0005}})");
    };
    const auto five = models::run_replication(fleet(5), 0);
    CHECK(five.metric("instances") == 5);
    CHECK(five.metric("peak_backend_connections") == 175);
    CHECK(five.metric("connection_errors") == 0);
    CHECK(five.metric("utilization_of_max_percent") ==
          Approx(100 * five.metric("active_connections") / 175));
    const std::size_t total = test::column(five, "total_connections");
    CHECK(five.series.at(five.series.rows() - 1, total) == 175);

    const auto six = models::run_replication(fleet(6), 0);
    CHECK(six.metric("peak_backend_connections") == 200);
    CHECK(six.metric("rejected_logins") >= 10);
    CHECK(six.metric("connection_errors") == six.metric("rejected_logins"));

    SECTION("requests are spread over the instances with common random numbers") {
        CHECK(five.metric("offered") == six.metric("offered"));
        // A connection is held for the query (5 ms mean) plus its response round trip (0.5 ms):
        // 2000/s x 5.5 ms = 11 busy connections, 2.2 per instance (Little's law).
        const double per_instance = five.metric("active_connections") / 5;
        CHECK(per_instance == Approx(2000 * 0.0055 / 5).epsilon(0.03));
    }
}
