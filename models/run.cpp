// Running a scenario: one replication (the world of models/world/), every replication on a
// thread pool, and the result as JSON.
#include "models/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <string_view>
#include <system_error>
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
        try {
            for (int i = 0; i < threads; ++i) pool.emplace_back(worker);
        } catch (const std::system_error&) {
            // The system gives no more threads (EAGAIN): those started share the work, or
            // this thread does it; the numbers do not depend on the thread count.
            out.threads = std::max(1, static_cast<int>(pool.size()));
            if (pool.empty()) worker();
        }
        for (auto& th : pool) th.join();
    }
    if (first_error) std::rethrow_exception(first_error);
    if (c->cancel.load()) {
        if (!c->keep_partial) throw cancelled();
        // Keep the replications that started, each where it stopped.
        std::erase_if(out.replications, [](const replication_result& r) { return r.metrics.empty(); });
        out.interrupted = true;
    }
    out.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

namespace {

using json = nlohmann::ordered_json;

/// Whether requests piled up without bound, and why (docs/limits.md, "Overload"). A
/// replication is overloaded when its memory budget stopped it or the requests still in
/// flight at its end are more than 5 % of those offered (and at least 100): a stable system
/// holds about offered rate x sojourn time, a small share of a window that is long against the
/// sojourn. Then: offered against served (completed + failed) per second, as means over the
/// overloaded replications, and the resource that saturates, the one furthest from the client
/// at >= 95 % busy: database cores, then PgBouncer's servers, then the application pool.
json overload_json(const run_result& r) {
    int n = 0;
    double offered = 0, served = 0, db = 0, pooler = 0, pool = 0;
    auto util = [](double busy, double of) { return of > 0 ? 100 * busy / of : NAN; };
    for (const auto& rep : r.replications) {
        const double in_flight = rep.metric("in_flight"), measured = rep.metric("measured_s");
        if (!(rep.stopped == "memory" || (in_flight >= 100 && in_flight > 0.05 * rep.metric("offered"))) ||
            !(measured > 0))
            continue;
        ++n;
        offered += rep.metric("offered_per_s");
        served += (rep.metric("completed") + rep.metric("failed")) / measured;
        db += rep.metric("db_cpu_utilization_percent");
        pooler += rep.metric("pooler_waiting_avg") >= 1
                      ? util(rep.metric("pooler_active_avg"), rep.metric("pooler_servers_avg")) : 0;
        pool += rep.metric("waiters_avg") >= 1 ? rep.metric("utilization_of_max_percent") : 0;
    }
    json o = {{"overloaded", n > 0}, {"replications", n}};
    if (n == 0) return o;
    offered /= n, served /= n, db /= n, pooler /= n, pool /= n;
    const char* saturated = db >= 95 ? "database cores" : pooler >= 95 ? "PgBouncer servers"
                          : pool >= 95 ? "application pool" : "none of pool, PgBouncer, database cores at 95 %";
    auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
    o["offered_per_s"] = num(offered);
    o["served_per_s"] = num(served);
    o["ratio"] = num(served > 0 ? offered / served : NAN);
    o["saturated"] = saturated;
    o["busy_percent"] = {{"database cores", num(db)}, {"PgBouncer servers", num(pooler)}, {"application pool", num(pool)}};
    return o;
}

}  // namespace

std::string result_to_json(const run_result& r) {
    json j;
    j["scenario"] = json::parse(scenario_to_json(r.resolved));
    j["wall_seconds"] = r.wall_seconds;
    j["threads"] = r.threads;
    // How far each replication got: "stopped" is "" (it ran to horizon_s), "interrupted" or
    // "memory" (run.max_memory_mb); replications that never started are not listed.
    j["interrupted"] = r.interrupted;
    json progress = json::array();
    for (const auto& rep : r.replications)
        progress.push_back({{"replication", rep.replication}, {"simulated_s", rep.simulated_s}, {"stopped", rep.stopped}});
    j["progress"] = progress;
    j["overload"] = overload_json(r);
    json reps = json::array();
    sim::stats::log_histogram wait, wait_all, latency;
    for (const auto& rep : r.replications) {
        json o;
        o["replication"] = rep.replication;
        for (const auto& [k, v] : rep.metrics) o[k] = v;  // NaN becomes null
        reps.push_back(o);
        wait.merge(rep.wait);
        wait_all.merge(rep.wait_all);
        latency.merge(rep.latency);
    }
    j["replications"] = reps;
    // Percentiles over all replications' values pooled (exact merge of the histograms).
    j["pooled"] = {{"wait_time_p50_ms", wait.quantile(0.5) * 1e3},
                   {"wait_time_p95_ms", wait.quantile(0.95) * 1e3},
                   {"wait_time_p99_ms", wait.quantile(0.99) * 1e3},
                   {"wait_time_max_ms", wait.max() * 1e3},
                   {"wait_time_all_p50_ms", wait_all.quantile(0.5) * 1e3},
                   {"wait_time_all_p95_ms", wait_all.quantile(0.95) * 1e3},
                   {"wait_time_all_p99_ms", wait_all.quantile(0.99) * 1e3},
                   {"wait_time_all_max_ms", wait_all.max() * 1e3},
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
    if (r.resolved.run.record_requests) {
        // The records themselves cross to Python as arrays (python/src/request_columns.hpp).
        json recorded = json::array(), dropped = json::array();
        for (const auto& rep : r.replications) {
            recorded.push_back(rep.requests.size());
            dropped.push_back(rep.requests_not_recorded);
        }
        j["request_records"] = {{"max_per_replication", r.resolved.run.record_requests_max},
                                {"recorded", recorded}, {"not_recorded", dropped}};
    }
    return j.dump();
}

}  // namespace dbpoolsim::models
