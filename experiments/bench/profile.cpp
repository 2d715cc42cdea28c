// One replication of the standard case (bench.py's scenario) from C++, for profilers:
//   cmake --build build/cpp --target dbpoolsim_profile
//   perf record -g build/cpp/tests/dbpoolsim_profile 1000            # the generic pool
//   valgrind --tool=callgrind build/cpp/tests/dbpoolsim_profile 100 '{"kind": "asyncpg", ...}'
// Arguments: horizon in simulated seconds (default 1000), then the "pool" object as JSON
// (default: the generic pool of bench.py). Prints requests, wall time, events.
//   dbpoolsim_profile --json SCENARIO_FILE [BASE_DIR]
// runs a whole scenario on one thread and prints result_to_json with every wall time set to
// 0, so that two builds' outputs compare byte for byte (experiments/bench/result_hashes.py).
//   dbpoolsim_profile --train experiments/bench/pgo_training.json
// is the training run of the profile-guided build (cmake/pgo.cmake): the standard case with
// each pool the list names, then replication 0 of every scenario in the directories it names.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/run.hpp"

namespace {

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) throw std::runtime_error("cannot read " + path.string());
    return text.str();
}

/// One replication of bench.py's standard case with the given "pool" object (JSON text).
dbpoolsim::models::replication_result standard_case(const std::string& horizon, const std::string& pool) {
    using namespace dbpoolsim::models;
    return run_replication(scenario_from_json(
        R"({"name": "standard-case", "run": {"horizon_s": )" + horizon +
        R"(, "warmup_s": 0, "replications": 1, "seed": 1, "sample_interval_s": 1},
            "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 900},
                         "transactions": [{"name": "q", "weight": 1, "queries": 1,
                                           "query_time": {"kind": "exponential", "mean_s": 0.01}}]},
            "pool": )" + pool + R"(,
            "database": {"cores": 0, "max_connections": 1000,
                         "connect_time": {"kind": "constant", "value_s": 0}, "network_rtt_s": 0}})"), 0);
}

/// The training run: every case of the list, printing one line per case (a failed case is an
/// error: a training set that no longer runs would silently train on less).
int train(const std::string& list_path) {
    namespace fs = std::filesystem;
    const auto list = nlohmann::json::parse(read_text(list_path));
    const auto& standard = list.at("standard_case");
    const std::string horizon = standard.at("horizon_s").dump();
    int cases = 0;
    for (const auto& pool : standard.at("pools")) {
        const auto r = standard_case(horizon, pool.dump());
        std::printf("standard case %-34s %8.0f requests\n", pool.at("kind").get<std::string>().c_str(),
                    r.metric("offered"));
        ++cases;
    }
    const fs::path base = fs::path(list_path).parent_path();
    for (const auto& dir : list.at("scenario_dirs")) {
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(base / dir.get<std::string>()))
            if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            using namespace dbpoolsim::models;
            const auto r = run_replication(scenario_from_json(read_text(file), file.parent_path().string()), 0);
            std::printf("scenario %-43s %8.0f requests\n", file.filename().string().c_str(), r.metric("offered"));
            ++cases;
        }
    }
    std::printf("trained on %d cases\n", cases);
    return 0;
}

int print_result_json(const std::string& path, const std::string& base_dir) {
    using namespace dbpoolsim::models;
    run_result r = run(scenario_from_json(read_text(path), base_dir), 1);
    r.wall_seconds = 0;
    for (auto& rep : r.replications)
        for (auto& [name, v] : rep.metrics)
            if (name == "wall_seconds") v = 0;
    std::printf("%s\n", result_to_json(r).c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace dbpoolsim::models;
    try {
        if (argc > 2 && std::string(argv[1]) == "--json") return print_result_json(argv[2], argc > 3 ? argv[3] : "");
        if (argc > 2 && std::string(argv[1]) == "--train") return train(argv[2]);
        const std::string horizon = argc > 1 ? argv[1] : "1000";
        const std::string pool = argc > 2 ? argv[2]
                                          : R"({"kind": "generic", "min_connections": 10, "max_connections": 10,
                                               "acquisition_timeout": 0.05, "idle_timeout": 0, "max_lifetime": 0,
                                               "validate_on_borrow": false, "health_check_interval": 0})";
        const auto r = standard_case(horizon, pool);
        const double n = r.metric("offered"), wall = r.metric("wall_seconds");
        std::printf("requests %.0f  wall %.4f s  %.0f req/s  events %.0f\n", n, wall, n / wall, r.metric("events"));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    }
    return 0;
}
