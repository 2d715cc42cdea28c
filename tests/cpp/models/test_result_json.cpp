// The result as JSON (models/run.cpp): result_to_json dumps the scenario once (no dump and
// parse round trip) and gives the same text as that round trip; result_to_json_parts joins
// to it; a cancel (Ctrl-C) while the result is built leaves out the scenario echo's long
// arrays and the series beyond series_values_on_cancel values, and says so in "omitted".
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "models/run.hpp"

using namespace dbpoolsim;
using ojson = nlohmann::ordered_json;

namespace {

/// 2,000 empirical samples (over echo_array_limit), two named pools, request records.
models::scenario echo_scenario(double horizon_s, double rate_per_s, double sample_interval_s) {
    std::string samples;
    for (int i = 0; i < 2000; ++i) {
        if (i > 0) samples.push_back(',');
        samples.append(std::to_string(0.001 + (i % 97) * 1e-4));
    }
    return models::scenario_from_json(
        R"({"name": "echo", "run": {"horizon_s": )" + std::to_string(horizon_s) +
        R"(, "warmup_s": 0, "replications": 2, "seed": 3, "record_requests": true, "sample_interval_s": )" +
        std::to_string(sample_interval_s) + R"(},
            "workload": {"arrivals": {"kind": "poisson", "rate_per_s": )" + std::to_string(rate_per_s) + R"(},
                         "transactions": [{"name": "a", "pool": "p1", "query_time": {"kind": "empirical", "samples_s": [)" +
        samples + R"(]}}, {"name": "b", "pool": "q", "query_time": {"kind": "exponential", "mean_s": 0.002}}]},
            "pools": {"p1": {"kind": "generic", "min_connections": 2, "max_connections": 4}, "q": {"kind": "hikaricp"}}})");
}

std::string joined(const models::result_json_parts& p) {
    // As result_to_json joins them: scenario first, series before request_records.
    ojson head = ojson::parse(p.head);
    ojson j;
    j["scenario"] = ojson::parse(p.scenario);
    for (auto it = head.begin(); it != head.end(); ++it) {
        if (it.key() == "request_records") j["series"] = ojson::parse(p.series);
        j[it.key()] = it.value();
    }
    if (!j.contains("series")) j["series"] = ojson::parse(p.series);
    return j.dump();
}

}  // namespace

TEST_CASE("result_to_json gives the text of the scenario's dump-and-parse round trip", "[run][result_json]") {
    const auto r = models::run(echo_scenario(30, 50, 1), 1);
    const std::string text = models::result_to_json(r);
    // The former way: the scenario dumped, parsed back, and dumped again with the result.
    ojson old = ojson::parse(text);
    old["scenario"] = ojson::parse(models::scenario_to_json(r.resolved));
    CHECK(old.dump() == text);
    CHECK(text.rfind("{\"scenario\":{\"name\":\"echo\"", 0) == 0);
    // The parts join to it; without a cancel nothing is left out.
    const auto parts = models::result_to_json_parts(r);
    CHECK(joined(parts) == text);
    CHECK_FALSE(ojson::parse(parts.head).contains("omitted"));
    CHECK(ojson::parse(parts.head)["interrupted"] == false);
    // The brief scenario replaces the 2,000 samples by a note, and only them.
    const ojson brief = ojson::parse(parts.scenario_brief), full = ojson::parse(parts.scenario);
    CHECK(full["workload"]["transactions"][0]["query_time"]["samples_s"].size() == 2000);
    CHECK(brief["workload"]["transactions"][0]["query_time"]["samples_s"] == "(2000 values omitted)");
    ojson back = brief;
    back["workload"]["transactions"][0]["query_time"]["samples_s"] = full["workload"]["transactions"][0]["query_time"]["samples_s"];
    CHECK(back == full);
    // Indented for scenario.resolved.json, the same values.
    CHECK(ojson::parse(models::result_to_json_parts(r, nullptr, 2).scenario) == full);
}

TEST_CASE("a cancel while the result is built leaves out the long arrays and says so", "[run][result_json][interrupt]") {
    const auto r = models::run(echo_scenario(30, 50, 1), 1);
    models::run_control ctl;
    ctl.cancel = true;  // Ctrl-C after the simulation ended
    const auto parts = models::result_to_json_parts(r, &ctl);
    const ojson head = ojson::parse(parts.head);
    CHECK(head["interrupted"] == true);
    REQUIRE(head.contains("omitted"));
    CHECK(head["omitted"] == ojson::parse(
        R"([{"path": "/scenario/workload/transactions/0/query_time/samples_s", "values": 2000}])"));
    CHECK(parts.scenario == parts.scenario_brief);
    // The metrics are all there: both replications ran to the end.
    CHECK(head["replications"].size() == 2);
    for (const auto& p : head["progress"]) CHECK(p["stopped"] == "");
    // Keys in result_to_json's order, "omitted" after "interrupted".
    std::vector<std::string> keys;
    for (auto it = head.begin(); it != head.end(); ++it) keys.push_back(it.key());
    CHECK(keys == std::vector<std::string>{"wall_seconds", "threads", "interrupted", "omitted", "progress",
                                           "overload", "replications", "pooled", "request_records"});
    // result_to_json with the cancelled control: the same pieces, joined.
    CHECK(models::result_to_json(r, &ctl) == joined(parts));
}

TEST_CASE("a cancelled result keeps the series' first million values", "[run][result_json][interrupt]") {
    // 2 replications x 30,000 rows x (1 + columns) values: over series_values_on_cancel.
    const auto r = models::run(echo_scenario(30000, 0.5, 1), 1);
    const std::size_t cols = 1 + r.replications.front().series.columns().size();
    const std::size_t rows = r.replications[0].series.rows() + r.replications[1].series.rows();
    REQUIRE(rows * cols > models::series_values_on_cancel);
    models::run_control ctl;
    ctl.cancel = true;
    const auto parts = models::result_to_json_parts(r, &ctl);
    const ojson series = ojson::parse(parts.series);
    const std::size_t kept = (models::series_values_on_cancel + cols - 1) / cols;  // whole rows
    CHECK(series["rows"].size() == kept);
    const ojson head = ojson::parse(parts.head);
    CHECK(head["omitted"].back() == ojson{{"path", "/series/rows"}, {"values", (rows - kept) * cols}});
    // Without the cancel: every row.
    CHECK(ojson::parse(models::result_to_json_parts(r).series)["rows"].size() == rows);
}

TEST_CASE("a cancel that lands while the series is built or written keeps whole rows up to a million values",
          "[run][result_json][interrupt]") {
    // Where it lands (building the rows or writing them) depends on timing; either way the
    // series keeps whole rows, at most series_values_on_cancel values plus one row, and
    // "omitted" counts every value left out.
    const auto r = models::run(echo_scenario(60000, 0.5, 1), 1);
    const std::size_t cols = 1 + r.replications.front().series.columns().size();
    const std::size_t rows = r.replications[0].series.rows() + r.replications[1].series.rows();
    models::run_control ctl;
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ctl.cancel = true;
    });
    const auto parts = models::result_to_json_parts(r, &ctl);
    canceller.join();
    const ojson series = ojson::parse(parts.series), head = ojson::parse(parts.head);
    const std::size_t kept = series["rows"].size();
    CHECK(head["interrupted"] == true);
    if (kept < rows) {
        CHECK(kept * cols >= models::series_values_on_cancel);
        CHECK(kept * cols < models::series_values_on_cancel + cols);
        CHECK(head["omitted"].back() == ojson{{"path", "/series/rows"}, {"values", (rows - kept) * cols}});
    } else {
        WARN("the series was written before the cancel landed");
    }
}
