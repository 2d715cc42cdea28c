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

#include "models/interrupt.hpp"
#include "models/json_text.hpp"
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

namespace {

/// While a result is built on this thread: the run's cancel flag, read by cancel_check
/// (installed as the models/interrupt.hpp check, so the scenario dump polls it too).
thread_local const std::atomic<bool>* building_cancel = nullptr;

bool cancel_requested() { return building_cancel != nullptr && building_cancel->load(std::memory_order_relaxed); }

void cancel_check() {
    if (cancel_requested()) throw cancelled();
}

std::string pointer_token(const std::string& key) {  // RFC 6901: "~" -> "~0", "/" -> "~1"
    std::string out;
    for (char c : key) {
        if (c == '~' || c == '/') {
            out.push_back('~');
            out.push_back(c == '~' ? '0' : '1');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

/// Replaces each array of more than echo_array_limit values in `j` by a note ("(100000
/// values omitted)"), keeping it in `saved` so that restore puts it back; `found` gets its
/// JSON pointer (below `path`) and length.
void abridge(json& j, const std::string& path, std::vector<std::pair<json*, json>>& saved,
             std::vector<std::pair<std::string, std::size_t>>& found) {
    if (j.is_array() && j.size() > echo_array_limit) {
        found.emplace_back(path, j.size());
        std::string text = std::to_string(j.size());
        text.insert(0, 1, '(');
        text.append(" values omitted)");
        json note = std::move(text);
        saved.emplace_back(&j, std::move(j));
        j = std::move(note);
    } else if (j.is_array()) {
        for (std::size_t i = 0; i < j.size(); ++i) abridge(j[i], path + "/" + std::to_string(i), saved, found);
    } else if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) abridge(it.value(), path + "/" + pointer_token(it.key()), saved, found);
    }
}

void restore(std::vector<std::pair<json*, json>>& saved) {
    for (auto& [place, value] : saved) *place = std::move(value);
    saved.clear();
}

/// Every member but "scenario" and "series", in result_to_json's order.
json head_json(const run_result& r) {
    json j;
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
    return j;
}

/// Drops the rows after the first series_values_on_cancel values (whole rows: the row that
/// reaches the limit stays), adding the values dropped to `left_out`.
void keep_first_values(json& rows, std::size_t& left_out) {
    std::size_t keep = 0, values = 0;
    for (; keep < rows.size() && values < series_values_on_cancel; ++keep) values += rows[keep].size();
    for (std::size_t i = keep; i < rows.size(); ++i) left_out += rows[i].size();
    rows.erase(rows.begin() + static_cast<std::ptrdiff_t>(keep), rows.end());
}

/// The series; once cancelled, rows stop after series_values_on_cancel values (`left_out`
/// gets how many values were not written).
json series_json(const run_result& r, std::size_t& left_out) {
    json cols = json::array({"replication"});
    json rows = json::array();
    left_out = 0;
    if (!r.replications.empty()) {
        for (const auto& c : r.replications.front().series.columns()) cols.push_back(c);
        std::size_t values = 0;
        for (const auto& rep : r.replications) {
            const auto& ts = rep.series;
            for (std::size_t i = 0; i < ts.rows(); ++i) {
                if (values >= series_values_on_cancel && cancel_requested()) {
                    // The cancel may be seen well past the limit: keep the first values only.
                    left_out += (ts.rows() - i) * cols.size();
                    keep_first_values(rows, left_out);
                    break;
                }
                json row = json::array({rep.replication});
                for (std::size_t k = 0; k < ts.columns().size(); ++k) row.push_back(ts.at(i, k));
                values += row.size();
                rows.push_back(std::move(row));
            }
        }
    }
    return {{"columns", cols}, {"rows", rows}};
}

}  // namespace

result_json_parts result_to_json_parts(const run_result& r, const run_control* ctl, int scenario_indent) {
    // Ctrl-C while the result is built: ctl->cancel, polled by the dumps below (every 4,096
    // values written, models/interrupt.hpp) and per series row; building the trees is not
    // polled (no number formatting: the smaller part of the time).
    const std::atomic<bool>* saved_cancel = building_cancel;
    building_cancel = ctl != nullptr ? &ctl->cancel : nullptr;
    struct reset {
        const std::atomic<bool>* saved;
        ~reset() { building_cancel = saved; }
    } reset_cancel{saved_cancel};
    interrupt_scope scope(ctl != nullptr ? &cancel_check : nullptr);

    result_json_parts out;
    std::vector<std::pair<std::string, std::size_t>> omitted;
    std::size_t series_left_out = 0;
    json series = series_json(r, series_left_out);
    try {
        out.series = cancel_requested() ? series.dump() : detail::dump_json_text(series, -1);  // polls
    } catch (const cancelled&) {
        // Cancelled while writing: keep the rows up to series_values_on_cancel values.
        keep_first_values(series["rows"], series_left_out);
        out.series = series.dump();
    }
    if (series_left_out > 0) omitted.emplace_back("/series/rows", series_left_out);

    json scenario = detail::scenario_json_tree(r.resolved);
    std::vector<std::pair<json*, json>> saved;
    std::vector<std::pair<std::string, std::size_t>> big;
    abridge(scenario, "/scenario", saved, big);
    out.scenario_brief = scenario.dump(scenario_indent);  // small: no polling needed
    restore(saved);
    if (big.empty()) {
        out.scenario = out.scenario_brief;
    } else {
        try {
            cancel_check();
            out.scenario = detail::dump_json_text(scenario, scenario_indent);  // polls
        } catch (const cancelled&) {
            out.scenario = out.scenario_brief;
            omitted.insert(omitted.begin(), big.begin(), big.end());
        }
    }

    json head = head_json(r);
    if (cancel_requested()) {
        head["interrupted"] = true;
        if (!omitted.empty()) {
            json list = json::array();
            for (const auto& [path, values] : omitted) list.push_back({{"path", path}, {"values", values}});
            // After "interrupted": rebuild the head in order (a few keys).
            json ordered;
            for (auto it = head.begin(); it != head.end(); ++it) {
                ordered[it.key()] = std::move(it.value());
                if (it.key() == "interrupted") ordered["omitted"] = list;
            }
            head = std::move(ordered);
        }
    }
    out.head = head.dump();
    return out;
}

std::string result_to_json(const run_result& r, const run_control* ctl) {
    // The parts, joined: {"scenario":..., <head up to "pooled">, "series":..., "request_records":...}.
    // The scenario is dumped once from its tree (no dump-and-parse round trip).
    const auto parts = result_to_json_parts(r, ctl);
    std::string head = parts.head;
    std::string records;
    if (const auto at = head.rfind(",\"request_records\":"); r.resolved.run.record_requests && at != std::string::npos) {
        records = head.substr(at, head.size() - 1 - at);
        head.erase(at, head.size() - 1 - at);
    }
    std::string out;
    out.reserve(parts.scenario.size() + head.size() + parts.series.size() + records.size() + 32);
    out += "{\"scenario\":";
    out += parts.scenario;
    out += ',';
    out.append(head, 1, head.size() - 2);
    out += ",\"series\":";
    out += parts.series;
    out += records;
    out += '}';
    return out;
}

}  // namespace dbpoolsim::models
