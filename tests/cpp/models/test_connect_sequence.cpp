// database.connect_time as a `sequence` (models/distribution.hpp): the k-th login that reaches
// the server takes the k-th value, so a replay can hand back a measured run's logins in their
// order (docs/scenario.md, "Distributions"). Constant query times and no round trip make every
// wait exact: a request that finds no idle connection waits for exactly its own login.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "models/distribution.hpp"
#include "models/run.hpp"
#include "models/scenario.hpp"
#include "sim/random.hpp"
#include "support/scenarios.hpp"

using namespace dbpoolsim;
using models::distribution;

namespace {

/// One request a second from 1 s, each holding its connection 10 s, behind a generic pool
/// that starts empty: request k (k = 0, 1, ...) opens login k and waits exactly for it.
models::scenario one_login_per_request(const std::string& connect_time, int replications = 1) {
    return models::scenario_from_json(
        R"({"run": {"horizon_s": 5.5, "warmup_s": 0, "replications": )" + std::to_string(replications) +
        R"(, "seed": 3, "sample_interval_s": 1, "record_requests": true},
            "workload": {"arrivals": {"kind": "burst", "count": 1, "at_s": 1, "every_s": 1},
                         "transactions": [{"query_time": {"kind": "constant", "value_s": 10}}]},
            "pool": {"kind": "generic", "min_connections": 0, "max_connections": 10, "acquisition_timeout": 30,
                     "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0},
            "database": {"cores": 0, "max_connections": 100, "network_rtt_s": 0, "connect_time": )" +
        connect_time + "}}");
}

/// The acquire waits by request number (records come in the order requests end).
std::vector<double> waits(const models::replication_result& r) {
    std::vector<double> w(r.requests.size(), -1);
    for (const auto& q : r.requests) w.at(q.request) = q.wait_s;
    return w;
}

}  // namespace

TEST_CASE("connect_time sequence: the k-th login takes the k-th value, then cycles", "[world][distribution][sequence]") {
    // Five requests (1 .. 5 s), five logins: 0.3, 0.1, 0.2, then 0.3, 0.1 again. A draw
    // independent of the order (an empirical of the same values) fails the first check.
    const auto r = models::run_replication(one_login_per_request(R"({"kind": "sequence", "values_s": [0.3, 0.1, 0.2]})"), 0);
    REQUIRE(r.requests.size() == 5);
    const auto w = waits(r);
    CHECK(w[0] == Approx(0.3));
    CHECK(w[1] == Approx(0.1));
    CHECK(w[2] == Approx(0.2));
    CHECK(w[3] == Approx(0.3));
    CHECK(w[4] == Approx(0.1));
}

TEST_CASE("connect_time sequence: past its values it draws from `then`", "[world][distribution][sequence]") {
    const auto r = models::run_replication(
        one_login_per_request(R"({"kind": "sequence", "values_s": [0.4, 0.2], "then": {"kind": "constant", "value_s": 0.05}})"), 0);
    const auto w = waits(r);
    REQUIRE(w.size() == 5);
    CHECK(w[0] == Approx(0.4));
    CHECK(w[1] == Approx(0.2));
    CHECK(w[2] == Approx(0.05));
    CHECK(w[3] == Approx(0.05));
    CHECK(w[4] == Approx(0.05));
}

TEST_CASE("connect_time sequence: every replication starts from the first value, on any thread count",
          "[world][distribution][sequence][determinism]") {
    // `then` random: its draws come from the connect_time stream, a function of the seed and
    // the replication, so 1 and 3 threads give the same numbers.
    const auto s = one_login_per_request(
        R"({"kind": "sequence", "values_s": [0.3, 0.1], "then": {"kind": "uniform", "low_s": 0.01, "high_s": 0.09}})", 4);
    const auto a = models::run(s, 1), b = models::run(s, 3);
    REQUIRE(a.replications.size() == 4);
    REQUIRE(b.replications.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
        const auto wa = waits(a.replications[i]), wb = waits(b.replications[i]);
        INFO("replication " << i);
        CHECK(wa == wb);
        CHECK(wa[0] == Approx(0.3));
        CHECK(wa[1] == Approx(0.1));
        CHECK(wa[2] >= 0.01);
        CHECK(wa[2] < 0.09);
    }
    // The fallback's draws differ between replications (they are random, not the values again).
    CHECK(waits(a.replications[0])[2] != waits(a.replications[1])[2]);
}

TEST_CASE("sequence: draws by number, JSON round trip, and clear errors", "[distribution][sequence]") {
    const auto cyc = distribution::sequence({0.3, 0.1, 0.2});
    sim::random_stream rs(1, 0, "x");
    CHECK(cyc.kind_name() == std::string("sequence"));
    CHECK(cyc.sample_nth(0, rs.engine()) == 0.3);
    CHECK(cyc.sample_nth(2, rs.engine()) == 0.2);
    CHECK(cyc.sample_nth(4, rs.engine()) == 0.1);
    // An uncounted draw would silently give the first value: it is an internal error instead.
    CHECK_THROWS_AS(cyc.sample(rs.engine()), dbpoolsim::internal_error);
    CHECK(cyc.mean() == Approx(0.2));
    CHECK(cyc.describe() == "sequence(3 values in order, then again)");
    const auto c = distribution::constant(0.5);
    const auto fb = distribution::sequence({0.3}, &c);
    CHECK(fb.sample_nth(0, rs.engine()) == 0.3);
    CHECK(fb.sample_nth(1, rs.engine()) == 0.5);
    CHECK(fb.describe() == "sequence(1 values in order, then constant(value_s=0.5))");

    const std::string text =
        R"({"database": {"connect_time": {"kind": "sequence", "values_s": [0.2, 0.1], "then": {"kind": "empirical", "samples_s": [0.1, 0.3]}}}})";
    const auto once = models::scenario_to_json(models::scenario_from_json(text));
    CHECK(once == models::scenario_to_json(models::scenario_from_json(once)));
    const auto ct = models::scenario_from_json(once).database.connect_time;
    REQUIRE(ct.is_sequence());
    CHECK(ct.samples() == std::vector<double>{0.2, 0.1});
    REQUIRE(ct.then());
    CHECK(ct.then()->samples() == std::vector<double>{0.1, 0.3});

    using V = std::vector<std::string>;
    CHECK(test::scenario_problems(R"({"database": {"connect_time": {"kind": "sequence"}}})") ==
          V{"/database/connect_time/values_s: missing (required for sequence)"});
    CHECK(test::scenario_problems(R"({"database": {"connect_time": {"kind": "sequence", "values_s": []}}})") ==
          V{"/database/connect_time/values_s: must hold at least one value, got none"});
    CHECK(test::scenario_problems(R"({"database": {"connect_time": {"kind": "sequence", "values_s": [0.1, -2]}}})") ==
          V{"/database/connect_time/values_s/1: must be >= 0 and finite, got -2"});
    CHECK(test::scenario_problems(R"({"database": {"connect_time": {"kind": "sequence", "values_s": [0.1, "x"]}}})") ==
          V{"/database/connect_time/values_s/1: must be a number, got \"x\""});
    CHECK(test::scenario_problems(R"({"database": {"connect_time": {"kind": "sequence", "values_s": [0.1], "then": {"kind": "exponential"}}}})") ==
          V{"/database/connect_time/then/mean_s: missing (required for exponential)"});
    // Only a field that numbers its draws takes one: query times are drawn by many requests at once.
    CHECK(test::scenario_problems(R"({"workload": {"transactions": [{"query_time": {"kind": "sequence", "values_s": [0.1]}}]}})") ==
          V{"/workload/transactions/0/query_time/kind: must not be sequence here: only database.connect_time counts "
            "its draws (docs/scenario.md, \"Distributions\"), got sequence"});
    CHECK(test::scenario_problems(R"({"database": {"connect_time": {"kind": "mixture", "components": [{"dist": {"kind": "sequence", "values_s": [0.1]}}]}}})") ==
          V{"/database/connect_time/components/0/dist: must not be a sequence (a mixture's draws are not counted), got sequence"});
}
