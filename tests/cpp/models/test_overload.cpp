// Overload (docs/limits.md): the memory budget stops a replication whose waiting requests
// grow without bound, deterministically; the result says the offered load exceeds capacity,
// by how much and which resource saturates; success rate counts requests still in flight;
// a cancelled run with keep_partial returns what was simulated.
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/scenarios.hpp"

using namespace dbpoolsim;

namespace {

/// M/M/10 with no acquire timeout at twice its capacity: 2,000 req/s against 10 / 10 ms =
/// 1,000 req/s, so about 1,000 more requests wait every second.
models::scenario twice_capacity(double horizon_s, int reps, double budget_mb) {
    auto s = test::mmc_pool(2000, 0.010, 10, 0, horizon_s, reps, 0);
    s.run.max_memory_mb = budget_mb;
    return s;
}

nlohmann::json result_json(const models::run_result& r) { return nlohmann::json::parse(models::result_to_json(r)); }

}  // namespace

TEST_CASE("the memory budget stops a replication far above capacity, at the same point on any thread count",
          "[run][overload]") {
    // 1 MiB / 190 bytes per request in flight = 5,518 requests: reached after about 5.5 s.
    const auto s = twice_capacity(1000, 2, 1);
    const auto one = models::run(s, 1), two = models::run(s, 2);
    REQUIRE(one.replications.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
        const auto& r = one.replications[i];
        INFO("replication " << i);
        CHECK(r.stopped == "memory");
        CHECK(r.simulated_s > 5);
        CHECK(r.simulated_s < 8);
        // Where it stopped, the requests in flight were over the budget (checked every 4,096 events).
        CHECK(r.metric("in_flight") * models::bytes_per_live_request > 1048576.0);
        CHECK(r.metric("measured_s") == r.simulated_s);
        CHECK(two.replications[i].simulated_s == r.simulated_s);
        CHECK(two.replications[i].metric("completed") == r.metric("completed"));
    }
    const auto j = result_json(one);
    CHECK(j["progress"][0]["stopped"] == "memory");
    CHECK(j["progress"][1]["simulated_s"] == one.replications[1].simulated_s);
    CHECK(j["interrupted"] == false);
}

TEST_CASE("an overloaded run says by how much the offered load exceeds capacity, and that the pool saturates",
          "[run][overload]") {
    const auto r = models::run(twice_capacity(20, 1, 2048), 1);
    const auto& rep = r.replications.front();
    CHECK(rep.stopped.empty());
    // Served: the 10 connections always busy, 1,000 req/s (about 20,000 over 20 s: +-1 % is 1.4
    // standard deviations of a Poisson count; 10 % is far outside noise). Offered: 2,000 req/s.
    const auto o = result_json(r)["overload"];
    REQUIRE(o["overloaded"] == true);
    CHECK(o["replications"] == 1);
    CHECK(o["offered_per_s"].get<double>() == Approx(2000).epsilon(0.05));
    CHECK(o["served_per_s"].get<double>() == Approx(1000).epsilon(0.05));
    CHECK(o["ratio"].get<double>() == Approx(2).epsilon(0.1));
    CHECK(o["saturated"] == "application pool");
    CHECK(o["busy_percent"]["application pool"].get<double>() > 99);
    // Success rate: the requests still waiting are not successes (about half of those offered).
    const double offered = rep.metric("offered"), completed = rep.metric("completed");
    CHECK(rep.metric("failed") == 0);
    CHECK(rep.metric("in_flight") > 0.4 * offered);
    CHECK(rep.metric("success_rate") == Approx(completed / offered));
    CHECK(rep.metric("success_rate") < 0.6);
}

TEST_CASE("a stable run near capacity is not overloaded", "[run][overload]") {
    // rho = 0.9: the queue is long but stays bounded (a few dozen waiting, of 180,000 offered).
    const auto r = models::run(test::mmc_pool(900, 0.010, 10, 0, 200, 1, 10), 1);
    const auto o = result_json(r)["overload"];
    CHECK(o["overloaded"] == false);
    CHECK(r.replications.front().metric("success_rate") > 0.999);
}

TEST_CASE("when the database cores saturate, the overload names them rather than the pool", "[run][overload]") {
    // 2 cores, 10 ms of CPU per query: 200 queries/s at most, offered 400/s; the pool of 50 is
    // full too, because queries slow down, but the cores are the cause.
    const auto s = models::scenario_from_json(R"({"run": {"horizon_s": 20, "warmup_s": 0, "replications": 1},
        "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 400},
                     "transactions": [{"query_time": {"kind": "exponential", "mean_s": 0.01}}]},
        "pool": {"kind": "generic", "min_connections": 50, "max_connections": 50, "acquisition_timeout": 0},
        "database": {"cores": 2, "max_connections": 1000, "network_rtt_s": 0}})");
    const auto o = result_json(models::run(s, 1))["overload"];
    REQUIRE(o["overloaded"] == true);
    CHECK(o["saturated"] == "database cores");
    CHECK(o["served_per_s"].get<double>() == Approx(200).epsilon(0.1));
}

TEST_CASE("a cancelled run with keep_partial returns each started replication up to where it stopped",
          "[run][overload]") {
    const auto s = test::mmc_pool(900, 0.010, 10, 0.05, 1e6, 3);
    models::run_control ctl;
    ctl.keep_partial = true;
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        ctl.cancel = true;
    });
    const auto r = models::run(s, 1, &ctl);
    stopper.join();
    CHECK(r.interrupted);
    REQUIRE(r.replications.size() == 1);  // one thread: replications 1 and 2 never started
    const auto& rep = r.replications.front();
    CHECK(rep.stopped == "interrupted");
    CHECK(rep.simulated_s > 0);
    CHECK(rep.simulated_s < 1e6);
    CHECK(rep.metric("offered") > 0);
    const auto j = result_json(r);
    CHECK(j["interrupted"] == true);
    CHECK(j["progress"].size() == 1);
}

TEST_CASE("request records count in the memory budget: a stable run that records stops at the budget",
          "[run][overload][records]") {
    // rho = 0.9, a bounded queue: only the records grow, about 900 per simulated second.
    // 1 MiB / 118 bytes per record = 8,886 records, reached after about 10 s (the budget is
    // checked every 4,096 events, a few per request: a few hundred records of overshoot).
    auto s = test::mmc_pool(900, 0.010, 10, 0, 1000, 1, 0);
    s.run.max_memory_mb = 1;
    s.run.record_requests = true;
    s.run.record_requests_max = 100'000'000;
    const auto r = models::run(s, 1);
    const auto& rep = r.replications.front();
    CHECK(rep.stopped == "memory");
    CHECK(rep.simulated_s > 7);
    CHECK(rep.simulated_s < 14);
    CHECK(rep.requests.size() * models::bytes_per_request_record > 1048576.0);
    CHECK(rep.requests.size() < 12'000);
    // The same run without records runs to its horizon: the records were what the budget counted.
    s.run.record_requests = false;
    const auto plain = models::run(s, 1);
    CHECK(plain.replications.front().stopped.empty());
    CHECK(plain.replications.front().simulated_s == 1000);
}
