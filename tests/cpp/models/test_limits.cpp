// Input limits (docs/limits.md): the JSON text reader (depth, duplicate keys, numbers beyond
// a double), distributions whose samples would overflow, arrival settings that would stall
// the clock, and trace files that are not UTF-8 or not files.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "models/arrivals.hpp"
#include "models/distribution.hpp"
#include "models/scenario.hpp"
#include "sim/error.hpp"

using namespace dbpoolsim;
namespace fs = std::filesystem;

namespace {
using v = std::vector<std::string>;

v problems_of(const std::string& text, const std::string& base_dir = "") {
    try {
        models::scenario_from_json(text, base_dir);
    } catch (const config_error& e) {
        return e.problems();
    }
    return {};
}

std::string nested(int depth) { return std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']'); }

std::string error_of(auto&& make) {
    try {
        make();
    } catch (const error& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("json text: nesting deeper than 64 is one problem at the path where it starts", "[limits]") {
    auto zeros = [](int n) {
        std::string p;
        for (int i = 0; i < n; ++i) p += "/0";
        return p;
    };
    // 64 levels (the root object and 63 arrays) are read, and then rejected as a name.
    CHECK(problems_of(R"({"name": )" + nested(63) + "}").at(0).rfind("/name: must be a string, got an array", 0) == 0);
    CHECK(problems_of(R"({"name": )" + nested(64) + "}") == v{"/name" + zeros(63) + ": nested deeper than 64 levels (the limit)"});
    CHECK(problems_of(nested(100000)) == v{zeros(64) + ": nested deeper than 64 levels (the limit)"});
}

TEST_CASE("json text: a key given twice, numbers beyond a double and bad syntax name where", "[limits]") {
    CHECK(problems_of(R"({"pool": {}, "pool": {}})") == v{"/pool: key given twice in the same object"});
    CHECK(problems_of(R"({"workload": {"transactions": [{}, {"name": "a", "name": "b"}]}})") ==
          v{"/workload/transactions/1/name: key given twice in the same object"});
    CHECK(problems_of(R"({"run": {"seed": 1, "horizon_s": 1e400}})") ==
          v{"/run/horizon_s: number 1e400 is beyond the range of a double (about 1.8e308)"});
    CHECK(problems_of(R"({"x": [1, 2, -1e999]})") == v{"/x/2: number -1e999 is beyond the range of a double (about 1.8e308)"});
    CHECK(problems_of(std::string("{}\0{\"x\": 1}", 12)) ==
          v{"/: invalid JSON: a NUL byte at line 1, column 3 (JSON text never holds one; in a string, write \\u0000)"});
    CHECK(problems_of("1e400") == v{"/: number 1e400 is beyond the range of a double (about 1.8e308)"});
    CHECK(problems_of(R"({"run": {"horizon_s": NaN}})").at(0).rfind("/: invalid JSON: parse error at line 1, column 23", 0) == 0);
    // Siblings after a closed array or object keep their own paths.
    CHECK(problems_of(R"({"a": [[1], {"b": 2}], "run": {"seed": 1, "seed": 2}})") == v{"/run/seed: key given twice in the same object"});
    // A non-zero literal that would be read as 0 (strtod underflows) is an error at its path;
    // zero written with any exponent, subnormals and numbers inside strings are not.
    const std::string below = " is below the smallest double (about 4.9e-324): it would be read as 0";
    CHECK(problems_of(R"({"run": {"horizon_s": 1e-400}})") == v{"/run/horizon_s: number 1e-400" + below});
    CHECK(problems_of(R"({"name": "2e-999 \" 3e-999", "x": [0.0e-999, 1e-320, -0.5E-400]})") ==
          v{"/x/2: number -0.5E-400" + below});
    CHECK(problems_of(R"({"a": {"b": [1, {"c": 7e-1000}]}})") == v{"/a/b/1/c: number 7e-1000" + below});
}

TEST_CASE("distributions: parameters whose samples would pass 1e300 s are errors", "[limits]") {
    using models::distribution;
    CHECK(error_of([] { distribution::lognormal_mean_sd(0.01, 1e300); }) ==
          "sd_s: must be small enough for mean_s 0.01 that samples stay below 1e+300 s (docs/limits.md), got 1e+300");
    CHECK(error_of([] { distribution::lognormal_median_p99(1e-300, 0.04); }) ==
          "p99_s: must be small enough for median_s 1e-300 that samples stay below 1e+300 s (docs/limits.md), got 0.04");
    CHECK(error_of([] { distribution::lognormal_mean_sd(0.01, 1e6); }).empty());
    CHECK(error_of([] { distribution::lognormal_median_p99(0.01, 1e300); }).rfind("p99_s: must be small enough", 0) == 0);
    CHECK(error_of([] { distribution::pareto(1e-300, 0.01); }).rfind("shape: must be small enough", 0) == 0);
    CHECK(error_of([] { distribution::pareto(1.5, 0.01); }).empty());
    CHECK(error_of([] { distribution::weibull(1e-300, 0.01); }).rfind("shape: must be small enough", 0) == 0);
    CHECK(error_of([] { distribution::weibull(0.5, 0.01); }).empty());
    CHECK(error_of([] { distribution::gamma(1e300, 1e10); }).rfind("scale_s: must be small enough", 0) == 0);
    CHECK(error_of([] { distribution::exponential(1e300); }).rfind("mean_s: must be small enough", 0) == 0);
    CHECK(error_of([] { distribution::exponential(1e290); }).empty());
    CHECK(error_of([] { distribution::empirical(std::vector<double>(100'000, 0.001)); }).empty());
    CHECK(error_of([] { distribution::empirical(std::vector<double>(100'001, 0.001)); }) ==
          "samples_s: must hold at most 100000 values (docs/limits.md; fit a distribution to a longer log), got 100001");
}

TEST_CASE("arrivals: periods below 1e-6 s that would stall the clock are errors", "[limits]") {
    CHECK(problems_of(R"({"workload": {"arrivals": {"kind": "mmpp", "states": [
        {"rate_per_s": 10, "mean_holding_s": 1}, {"rate_per_s": 0, "mean_holding_s": 1e-300}]}}})") ==
          v{"/workload/arrivals/states/1/mean_holding_s: must be >= 1e-06 s (the shortest step the clock takes, "
            "docs/limits.md), got 1e-300"});
    CHECK(problems_of(R"({"workload": {"arrivals": {"kind": "mmpp", "states": [{"rate_per_s": 10, "mean_holding_s": 1e-6}]}}})").empty());
    CHECK(problems_of(R"({"workload": {"arrivals": {"kind": "burst", "count": 5, "every_s": 1e-300}}})") ==
          v{"/workload/arrivals/every_s: must be 0 (one burst) or >= 1e-06 s (the shortest step the clock takes, "
            "docs/limits.md), got 1e-300"});
    CHECK(problems_of(R"({"workload": {"arrivals": {"kind": "burst", "count": 5, "every_s": 0}}})").empty());
    CHECK(problems_of(R"({"database": {"network_rtt_s": 0}, "workload": {"arrivals": {"kind": "closed_loop", "users": 2,
        "think_time": {"kind": "constant", "value_s": 1e-300}},
        "transactions": [{"name": "q", "query_time": {"kind": "constant", "value_s": 0}}]}})") ==
          v{"/workload/arrivals/think_time: a closed-loop cycle (think time + the quickest transaction + network_rtt_s) "
            "must average >= 1e-06 s (the shortest step the clock takes, docs/limits.md), got 1e-300 s"});
}

TEST_CASE("trace files: loop periods, scales, non-UTF-8 rows, folders and devices", "[limits]") {
    const fs::path dir = fs::temp_directory_path() / ("dbpoolsim_test_limits_" + std::to_string(::getpid()));
    fs::create_directories(dir / "folder");
    std::ofstream(dir / "t.csv") << "t_s\n0\n1\n";
    std::ofstream(dir / "t10.csv") << "t_s\n0\n10\n";
    std::ofstream(dir / "bad.csv", std::ios::binary) << "t_s,class\n1,default\n2,r\xc3(d\n3,\xffx\n";
    const std::string base = dir.string();
    auto trace = [&](const std::string& more) {
        return problems_of(R"({"workload": {"arrivals": {"kind": "trace", )" + more + "}}}", base);
    };
    CHECK(trace(R"("file": "t.csv", "loop": true, "time_scale": 1e-300)") ==
          v{"/workload/arrivals/time_scale: makes the loop period (last t_s 1 x time_scale) shorter than 1e-06 s "
            "(the shortest step the clock takes, docs/limits.md), got 1e-300"});
    CHECK(trace(R"("file": "t.csv", "loop": true, "time_scale": 1e-6)").empty());
    CHECK(trace(R"("file": "t.csv", "time_scale": 1e300)").empty());
    CHECK(trace(R"("file": "t10.csv", "time_scale": 1e300)") ==
          v{"/workload/arrivals/time_scale: makes the last arrival time 10 x 1e+300 larger than 1e+300 s, got 1e+300"});
    CHECK(trace(R"("file": "bad.csv")") ==
          v{"/workload/arrivals/file: bad.csv:3: not UTF-8 text (byte 0xc3 at column 4)",
            "/workload/arrivals/file: bad.csv:4: not UTF-8 text (byte 0xff at column 3)"});
    CHECK(trace(R"("file": "folder")") == v{"/workload/arrivals/file: folder: is a folder, not a CSV file (" + (dir / "folder").string() + ")"});
    CHECK(trace(R"("file": "/dev/zero")") == v{"/workload/arrivals/file: /dev/zero: is not a regular file (/dev/zero)"});
    fs::remove_all(dir);
}

TEST_CASE("pool and pooler durations shorter than the clock step are errors (0 stays off)", "[limits]") {
    const std::string step = " must be 0 or >= 1e-06 s (the shortest step the clock takes, docs/limits.md), got ";
    CHECK(problems_of(R"({"pool": {"kind": "generic", "idle_cleanup_interval": 1e-300}})") ==
          v{"/pool/idle_cleanup_interval:" + step + "1e-300"});
    CHECK(problems_of(R"({"pool": {"kind": "psycopg_pool", "max_idle": 5e-7}})") == v{"/pool/max_idle:" + step + "5e-07"});
    CHECK(problems_of(R"({"pooler": {"kind": "pgbouncer", "server_check_delay": 1e-9}})") ==
          v{"/pooler/server_check_delay:" + step + "1e-09"});
    CHECK(problems_of(R"({"pool": {"kind": "generic", "health_check_interval": 0, "idle_cleanup_interval": 1e-6}})").empty());
}
