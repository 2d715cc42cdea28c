// Ctrl-C during long work outside the simulation (models/interrupt.hpp): reading a scenario,
// writing it back and loading a trace poll the check that the caller installed for its thread.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "models/interrupt.hpp"
#include "models/scenario.hpp"

using namespace dbpoolsim;

namespace {

struct stop {};  // what the test's check throws
int checks = 0;
int stop_after = 0;  // throw on this check (0: never)
void counting_check() {
    if (++checks == stop_after) throw stop{};
}

/// A scenario with `n` empirical samples (about 10 bytes each).
std::string with_samples(int n) {
    std::string xs;
    for (int i = 0; i < n; ++i) xs += (i ? ",0.0" : "0.0") + std::to_string(10 + i % 80);
    return R"({"run": {"horizon_s": 10, "warmup_s": 0, "replications": 1},
               "workload": {"transactions": [{"query_time": {"kind": "empirical", "samples_s": [)" +
           xs + "]}}]}}";
}

}  // namespace

TEST_CASE("reading and writing a scenario poll the thread's interrupt check", "[interrupt]") {
    const std::string text = with_samples(100'000);
    checks = 0, stop_after = 0;
    {
        models::interrupt_scope scope(&counting_check);
        const auto s = models::scenario_from_json(text);
        // 100,000 samples: the JSON parser's events, the underflow scan (one poll per character) and
        // the samples' loop each poll once per item, one check per 4,096 polls.
        const int read = checks;
        CHECK(read > 3 * 100'000 / 4096);
        (void)models::scenario_to_json(s);
        CHECK(checks > read + 100'000 / 4096 - 1);  // writing: one poll per value written
    }
    SECTION("a check that throws abandons the reading") {
        checks = 0, stop_after = 5;
        models::interrupt_scope scope(&counting_check);
        CHECK_THROWS_AS(models::scenario_from_json(text), stop);
        CHECK(checks == 5);
    }
    SECTION("without a scope nothing is checked") {
        checks = 0, stop_after = 1;
        CHECK_NOTHROW(models::scenario_from_json(text));
        CHECK(checks == 0);
    }
}

TEST_CASE("loading a trace file polls once per row", "[interrupt]") {
    const auto dir = std::filesystem::temp_directory_path() / "dbpoolsim_test_interrupt";
    std::filesystem::create_directories(dir);
    {
        std::ofstream f(dir / "trace.csv");
        f << "t_s\n";
        for (int i = 0; i < 50'000; ++i) f << i * 0.001 << "\n";
    }
    const std::string text = R"({"run": {"horizon_s": 10, "warmup_s": 0, "replications": 1},
        "workload": {"arrivals": {"kind": "trace", "file": "trace.csv"}}})";
    checks = 0, stop_after = 0;
    {
        models::interrupt_scope scope(&counting_check);
        (void)models::scenario_from_json(text, dir.string());
    }
    const int with_rows = checks;
    checks = 0;
    {
        std::ofstream f(dir / "trace.csv");
        f << "t_s\n0\n";
    }
    {
        models::interrupt_scope scope(&counting_check);
        (void)models::scenario_from_json(text, dir.string());
    }
    CHECK(with_rows - checks >= 50'000 / 4096 - 1);  // the rows' polls
    std::filesystem::remove_all(dir);
}
