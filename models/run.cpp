// Running a scenario: one replication (the world of models/world/), every replication on a
// thread pool, and the result as JSON.
#include "models/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

#include "models/world/world.hpp"

namespace dbpoolsim::models {

double replication_result::metric(const std::string& name) const {
    for (const auto& [k, v] : metrics)
        if (k == name) return v;
    throw error("unknown metric \"" + name + "\"");
}

bool trace_entry::operator==(const trace_entry& o) const {
    return t == o.t && std::string_view(kind) == o.kind && target == o.target && timer == o.timer;
}

replication_result run_replication(const scenario& s, int replication, run_control* ctl,
                                   std::vector<trace_entry>* trace) {
    world_parts::world w(s, replication, ctl, trace);
    return w.run();
}

run_result run(const scenario& s, int threads, run_control* ctl) {
    validate(s);  // a scenario built in C++ is checked like one read from JSON
    const auto t0 = std::chrono::steady_clock::now();
    const int reps = s.run.replications;
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::min(threads, reps);
    run_result out;
    out.resolved = s;
    out.threads = threads;
    out.replications.resize(static_cast<std::size_t>(reps));
    std::atomic<int> next{0};
    std::exception_ptr first_error;
    std::mutex mu;
    run_control local;
    run_control* c = ctl ? ctl : &local;
    auto worker = [&] {
        for (;;) {
            const int i = next.fetch_add(1);
            if (i >= reps || c->cancel.load()) return;
            try {
                out.replications[static_cast<std::size_t>(i)] = run_replication(s, i, c);
            } catch (...) {
                std::lock_guard lock(mu);
                if (!first_error) first_error = std::current_exception();
                c->cancel = true;
                return;
            }
        }
    };
    if (threads == 1) {
        worker();
    } else {
        std::vector<std::thread> pool;
        for (int i = 0; i < threads; ++i) pool.emplace_back(worker);
        for (auto& th : pool) th.join();
    }
    if (first_error) std::rethrow_exception(first_error);
    if (c->cancel.load()) throw cancelled();
    out.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

std::string result_to_json(const run_result& r) {
    using json = nlohmann::ordered_json;
    json j;
    j["scenario"] = json::parse(scenario_to_json(r.resolved));
    j["wall_seconds"] = r.wall_seconds;
    j["threads"] = r.threads;
    json reps = json::array();
    sim::stats::log_histogram wait, latency;
    for (const auto& rep : r.replications) {
        json o;
        o["replication"] = rep.replication;
        for (const auto& [k, v] : rep.metrics) o[k] = v;  // NaN becomes null
        reps.push_back(o);
        wait.merge(rep.wait);
        latency.merge(rep.latency);
    }
    j["replications"] = reps;
    // Percentiles over all replications' values pooled (exact merge of the histograms).
    j["pooled"] = {{"wait_time_p50_ms", wait.quantile(0.5) * 1e3},
                   {"wait_time_p95_ms", wait.quantile(0.95) * 1e3},
                   {"wait_time_p99_ms", wait.quantile(0.99) * 1e3},
                   {"wait_time_max_ms", wait.max() * 1e3},
                   {"latency_p50_ms", latency.quantile(0.5) * 1e3},
                   {"latency_p95_ms", latency.quantile(0.95) * 1e3},
                   {"latency_p99_ms", latency.quantile(0.99) * 1e3},
                   {"latency_max_ms", latency.max() * 1e3},
                   {"histogram_relative_error", sim::stats::log_histogram::relative_error}};
    json cols = json::array({"replication"});
    json rows = json::array();
    if (!r.replications.empty()) {
        for (const auto& c : r.replications.front().series.columns()) cols.push_back(c);
        for (const auto& rep : r.replications) {
            const auto& ts = rep.series;
            for (std::size_t i = 0; i < ts.rows(); ++i) {
                json row = json::array({rep.replication});
                for (std::size_t k = 0; k < ts.columns().size(); ++k) row.push_back(ts.at(i, k));
                rows.push_back(std::move(row));
            }
        }
    }
    j["series"] = {{"columns", cols}, {"rows", rows}};
    return j.dump();
}

}  // namespace dbpoolsim::models
