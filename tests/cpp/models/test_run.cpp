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

TEST_CASE("named pools split transaction classes, e.g. seeds/000's read and write pools", "[run][pools]") {
    // Each instance runs a write pool of 2 and a read pool of 8 (fixed sizes). Writes are
    // 20 % of 300 req/s, each 30 ms: 1.8 busy on average against 2 connections, so the write
    // pool times out requests (0.1 s acquisition timeout) while the read pool, 240 req/s of
    // 5 ms (1.2 busy of 8), does not. Fleet totals are the sums.
    auto split = [](int instances) {
        return models::scenario_from_json(
            R"({"run": {"horizon_s": 60, "warmup_s": 5, "replications": 1, "seed": 5, "sample_interval_s": 1},
                "workload": {"arrivals": {"kind": "poisson", "rate_per_s": )" + std::to_string(300 * instances) + R"(},
                  "transactions": [
                    {"name": "read", "weight": 0.8, "pool": "read", "query_time": {"kind": "constant", "value_s": 0.005}},
                    {"name": "write", "weight": 0.2, "pool": "write", "query_time": {"kind": "constant", "value_s": 0.030}}]},
                "client": {"instances": )" + std::to_string(instances) + R"(},
                "pools": {
                  "write": {"kind": "generic", "min_connections": 2, "max_connections": 2, "acquisition_timeout": 0.1, "health_check_interval": 0},
                  "read": {"kind": "generic", "min_connections": 8, "max_connections": 8, "acquisition_timeout": 0.1, "health_check_interval": 0}},
                "database": {"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0}})");
    };
    const auto one = models::run_replication(split(1), 0);
    CHECK(one.metric("pool_write_total_connections") == 2);
    CHECK(one.metric("pool_read_total_connections") == 8);
    CHECK(one.metric("total_connections") == 10);
    CHECK(one.metric("pool_write_timeouts") > 0);
    CHECK(one.metric("pool_read_timeouts") == 0);
    CHECK(one.metric("timeouts") == one.metric("pool_write_timeouts"));
    CHECK(one.metric("pool_write_active_connections") == Approx(0.2 * 300 * 0.030).epsilon(0.1));
    CHECK(one.metric("pool_read_wait_time_avg_ms") < 0.01);
    CHECK(one.metric("utilization_of_max_percent") ==
          Approx(100 * one.metric("active_connections") / 10));

    const auto two = models::run_replication(split(2), 0);
    CHECK(two.metric("instances") == 2);
    CHECK(two.metric("pool_write_total_connections") == 4);
    CHECK(two.metric("pool_read_total_connections") == 16);
    CHECK(two.metric("peak_backend_connections") == 20);
}

TEST_CASE("named pools are checked against the transaction classes", "[scenario][pools]") {
    auto problems = [](const std::string& text) {
        try {
            models::scenario_from_json(text);
        } catch (const config_error& e) {
            return e.problems();
        }
        return std::vector<std::string>{};
    };
    const std::string pools = R"("pools": {"read": {"kind": "generic"}, "write": {"kind": "generic"}})";
    CHECK(problems(R"({"workload": {"transactions": [{"name": "r"}]}, )" + pools + "}") ==
          std::vector<std::string>{"/workload/transactions/0/pool: missing: with several pools (read, write) each transaction class names its pool"});
    CHECK(problems(R"({"workload": {"transactions": [{"pool": "reed"}]}, )" + pools + "}") ==
          std::vector<std::string>{"/workload/transactions/0/pool: must be one of read, write, got \"reed\""});
    CHECK(problems(R"({"workload": {"transactions": [{"pool": "read"}]}})") ==
          std::vector<std::string>{"/workload/transactions/0/pool: names pool \"read\" but the scenario has a single pool (use \"pools\" for several)"});
    CHECK(problems(R"({"pool": {"kind": "generic"}, )" + pools + "}") ==
          std::vector<std::string>{"/pools: give either pool (one pool per instance) or pools (several), not both"});
    CHECK(problems(R"({"pools": {"bad name": {"kind": "generic"}}})") ==
          std::vector<std::string>{"/pools/bad name: pool names are 1-40 letters, digits or _"});
    // Round trip: the resolved scenario keeps the names and each class's pool.
    const auto s = models::scenario_from_json(R"({"workload": {"transactions": [{"pool": "write"}]}, )" + pools + "}");
    CHECK(models::scenario_to_json(models::scenario_from_json(models::scenario_to_json(s))) == models::scenario_to_json(s));
}
