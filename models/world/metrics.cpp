// dbpoolsim world: the metric table, sampling and collection of one replication.
#include "models/world/metrics.hpp"

#include <algorithm>
#include <cmath>

#include "models/world/client.hpp"
#include "models/world/database.hpp"
#include "models/world/fleet.hpp"

namespace dbpoolsim::models::world_parts {
namespace {

std::vector<std::string> series_columns() { return {std::begin(column_names), std::end(column_names)}; }

constexpr std::size_t col(column c) { return static_cast<std::size_t>(c); }

}  // namespace

world_metrics::world_metrics(const scenario& s)
    : s_(s),
      series_(series_columns()),
      wait_threshold_(s.run.wait_threshold_s),
      record_cap_(static_cast<std::size_t>(s.run.record_requests_max)) {
    recording = s.run.record_requests;
    pm_named.resize(s.pools.size());
    wait_named.resize(s.pools.size());
    timeouts_named.assign(s.pools.size(), 0);
    // With the pools started before time 0 (run.pool_start_s), the window opens at
    // max(0, warmup_s) by an end of warm-up there.
    counting = s.run.warmup_s <= 0 && s.run.pool_start_s >= 0;
}

void world_metrics::end_warmup(double t) {
    counting = true;
    pm.reset(t);
    pm_pooler.reset(t);
    attempts = attempt_failures = 0;
    for (auto& m : pm_named) m.reset(t);
    in_system.reset(t);
    rejected_logins = logins = nat_drops = leaked = connections_broken = idle_session_closes = 0;
}

void world_metrics::sample(double t, const world_view& w, const std::vector<std::uint8_t>& stopped,
                           std::uint32_t apps) {
    pool_counts c;
    for (std::uint32_t i = 0; i < apps; ++i) {
        if (stopped[i]) continue;
        const pool_counts k = w.pools[i]->counts();
        c.total += k.total, c.creating += k.creating, c.idle += k.idle, c.in_use += k.in_use,
            c.checking += k.checking, c.waiters += k.waiters;
    }
    std::vector<double> row(col(column::count_));
    row[col(column::t_s)] = t;
    row[col(column::total_connections)] = c.total;
    row[col(column::active_connections)] = c.in_use;
    row[col(column::idle_connections)] = c.idle;
    row[col(column::creating_connections)] = c.creating;
    row[col(column::waiters)] = c.waiters;
    row[col(column::arrivals)] = double(iv_arrivals);
    row[col(column::completions)] = double(iv_completions);
    row[col(column::timeouts)] = double(iv_timeouts);
    row[col(column::failures)] = double(iv_failures);
    const auto iv = iv_wait.quantiles<2>({0.5, 0.99});
    row[col(column::wait_p50_ms)] = iv[0] * 1e3;
    row[col(column::wait_p99_ms)] = iv[1] * 1e3;
    row[col(column::wait_max_ms)] = iv_wait.max() * 1e3;
    row[col(column::db_backends)] = w.db.backends();
    row[col(column::db_active_queries)] = w.db.cpu.active();
    row[col(column::requests_in_system)] = w.requests.live();
    row[col(column::pooler_servers)] = w.pooler ? double(w.pooler->counts().total) : 0.0;
    row[col(column::pooler_waiting)] = w.pooler ? double(w.pooler->counts().waiters) : 0.0;
    row[col(column::logins)] = double(iv_logins);
    row[col(column::instances)] = w.app_fleet.running().value();
    row[col(column::pooler_wait_p99_ms)] = iv_pooler_wait.quantiles<1>({0.99})[0] * 1e3;
    series_.append(row);
    iv_wait.restart();
    iv_pooler_wait.restart();
    iv_arrivals = iv_completions = iv_timeouts = iv_failures = iv_logins = 0;
}

double world_metrics::peak_series_rate(column c) const {
    double peak = 0;
    for (std::size_t i = 0; i < series_.rows(); ++i)
        if (series_.at(i, col(column::t_s)) > s_.run.warmup_s) peak = std::max(peak, series_.at(i, col(c)));
    return peak / s_.run.sample_interval_s;
}

// Time from the first fault (after warm-up) until the start of the first run of 5 healthy
// sample intervals (or every remaining one, if fewer), healthy meaning failures <= 1 % of
// the requests that ended in it and requests flowing (see below): a stall whose requests
// have not timed out yet is not healthy.
double world_metrics::time_to_recover() const {
    double at = NAN;
    for (const auto& f : s_.faults)
        if (f.at_s >= s_.run.warmup_s && !(f.at_s >= at)) at = f.at_s;
    if (std::isnan(at)) return NAN;
    const double dt = s_.run.sample_interval_s;
    std::vector<std::size_t> rows;  // intervals that end after the fault
    for (std::size_t i = 0; i < series_.rows(); ++i)
        if (series_.at(i, 0) > at) rows.push_back(i);
    auto healthy = [&](std::size_t i) {
        // Few failures, and requests flow: those that ended keep up with arrivals (80 %, less
        // three Poisson standard deviations of the arrival count for noise).
        const double c = series_.at(i, col(column::completions)), f = series_.at(i, col(column::failures)),
                     a = series_.at(i, col(column::arrivals));
        if (c == 0 && a > 0) return false;
        return f <= 0.01 * (c + f) && c + f >= 0.8 * a - 3 * std::sqrt(a);
    };
    constexpr std::size_t need = 5;
    for (std::size_t k = 0; k < rows.size(); ++k) {
        std::size_t run = 0;
        while (k + run < rows.size() && run < need && healthy(rows[k + run])) ++run;
        if (run == need || (run > 0 && k + run == rows.size()))
            return std::max(0.0, series_.at(rows[k], 0) - dt - at);
    }
    return NAN;
}

replication_result world_metrics::collect(double t, double wall, int rep, const world_view& w) {
    const double window = t - std::max(0.0, s_.run.warmup_s);  // t < horizon_s: stopped early
    replication_result out;
    out.replication = rep;
    auto& m = out.metrics;
    // Each metric of the table once, in the table's order (the families in between).
    std::size_t next = 0;
    auto put = [&](metric k, double v) {
        const auto i = static_cast<std::size_t>(k);
        DBPOOLSIM_ASSERT(i == next++, std::string("metric out of the table's order: ") + metric_names[i]);
        m.emplace_back(metric_names[i], v);
    };
    std::uint64_t nfailed = 0;
    for (auto f : failed) nfailed += f;
    const double timeouts = double(failed[0]);
    const double ms = 1e3;

    put(metric::offered, double(offered));
    put(metric::completed, double(completed));
    put(metric::failed, double(nfailed));
    for (std::size_t i = 0; i < failed.size(); ++i)
        m.emplace_back(std::string(failed_prefix) + fail_reason_names[i], double(failed[i]));
    const double in_flight = double(w.requests.counted_in_flight());
    put(metric::in_flight, in_flight);
    // Requests still in flight at the end are not successes (far above capacity, most are).
    const double ended = double(completed + nfailed);
    put(metric::success_rate, ended + in_flight > 0 ? completed / (ended + in_flight) : NAN);
    put(metric::throughput_per_s, completed / window);
    put(metric::offered_per_s, offered / window);
    put(metric::timeouts, timeouts);
    // Client layer: attempts (retries included), the breaker's opens and time in each state.
    put(metric::attempts, double(attempts));
    put(metric::retries, double(attempts) - double(offered) > 0 ? double(attempts) - double(offered) : 0);
    put(metric::retry_amplification, offered ? double(attempts) / double(offered) : NAN);
    put(metric::attempt_failures, double(attempt_failures));
    const double inst = double(s_.client.instances);
    const auto& b = w.breaker_set;
    const bool no_b = !b.enabled();
    put(metric::breaker_opens, no_b ? NAN : double(b.opens()));
    put(metric::breaker_open_fraction, no_b ? NAN : b.in_open().mean(t) / inst);
    put(metric::breaker_half_open_fraction, no_b ? NAN : b.in_half_open().mean(t) / inst);
    put(metric::breaker_closed_fraction, no_b ? NAN : 1 - (b.in_open().mean(t) + b.in_half_open().mean(t)) / inst);
    put(metric::timeout_rate, offered ? timeouts / offered : NAN);

    put(metric::wait_time_avg_ms, wait.mean() * ms);
    put(metric::wait_time_p50_ms, wait.quantile(0.50) * ms);
    put(metric::wait_time_p95_ms, wait.quantile(0.95) * ms);
    put(metric::wait_time_p99_ms, wait.quantile(0.99) * ms);
    put(metric::wait_time_max_ms, wait.max() * ms);
    // Over every request that asked: granted ones, and those that gave up waiting (timed out,
    // or abandoned at their patience) counted at the wait they gave up after.
    sim::stats::log_histogram all = wait;
    all.merge(wait_unserved);
    put(metric::wait_time_all_avg_ms, all.mean() * ms);
    put(metric::wait_time_all_p50_ms, all.quantile(0.50) * ms);
    put(metric::wait_time_all_p95_ms, all.quantile(0.95) * ms);
    put(metric::wait_time_all_p99_ms, all.quantile(0.99) * ms);
    put(metric::wait_time_all_max_ms, all.max() * ms);
    put(metric::p_wait, all.count() > 0 ? double(all.count() - all.zeros()) / double(all.count()) : NAN);
    put(metric::p_wait_over_threshold, all.count() > 0 ? double(wait_over) / double(all.count()) : NAN);
    put(metric::latency_avg_ms, latency.mean() * ms);
    put(metric::latency_p50_ms, latency.quantile(0.50) * ms);
    put(metric::latency_p95_ms, latency.quantile(0.95) * ms);
    put(metric::latency_p99_ms, latency.quantile(0.99) * ms);
    put(metric::latency_max_ms, latency.max() * ms);

    const double total = pm.total.mean(t), active = pm.active.mean(t);
    put(metric::total_connections, total);
    put(metric::active_connections, active);
    put(metric::idle_connections, pm.idle.mean(t));
    put(metric::creating_connections, pm.creating.mean(t));
    put(metric::utilization_percent, total > 0 ? 100 * active / total : 0);
    // The configured maximum of the running fleet (instances are alike).
    double max_per_instance = 0;
    for (std::uint32_t j = 0; j < w.per_instance; ++j) max_per_instance += w.pools[j]->max_size();
    const double running = w.app_fleet.running().mean(t);
    put(metric::utilization_of_max_percent, 100 * active / (max_per_instance * running));
    put(metric::instances, running);
    put(metric::instances_max, w.app_fleet.running().max());
    put(metric::peak_connections, pm.total.max());
    put(metric::waiters_avg, pm.waiters.mean(t));
    put(metric::waiters_max, pm.waiters.max());
    put(metric::connection_errors, double(pm.connection_errors));
    put(metric::connections_created, double(pm.created));
    std::uint64_t closed = 0;
    for (std::size_t i = 0; i < pm.closed.size(); ++i) {
        m.emplace_back(std::string(closed_prefix) + close_reason_names[i], double(pm.closed[i]));
        closed += pm.closed[i];
    }
    put(metric::connections_closed, double(closed));
    put(metric::churn_per_min, pm.created / window * 60);
    put(metric::round_trips, double(pm.round_trips));

    const auto& cpu = w.db.cpu;
    put(metric::db_cpu_utilization_percent, s_.database.cores > 0 ? 100 * cpu.busy_cores().mean(t) / s_.database.cores : NAN);
    put(metric::db_active_queries_avg, cpu.active_queries().mean(t));
    put(metric::db_backends_avg, w.db.backends_avg().mean(t));
    put(metric::peak_backend_connections, w.db.backends_avg().max());
    put(metric::rejected_logins, double(rejected_logins));
    // Faults, network, leaks; logins per second and recovery come from the time series.
    put(metric::logins, double(logins));
    put(metric::logins_per_s_peak, peak_series_rate(column::logins));
    put(metric::connections_broken, double(connections_broken));
    put(metric::nat_drops, double(nat_drops));
    put(metric::idle_session_closes, double(idle_session_closes));
    put(metric::leaked_connections, double(leaked));
    put(metric::goodput_ratio, offered ? double(completed) / double(offered) : NAN);
    put(metric::time_to_recover_s, time_to_recover());

    // Per named pool (only with "pools"): the seeds' metrics of each, e.g. pool_read_*.
    for (std::size_t j = 0; j < pm_named.size(); ++j) {
        const auto& pmj = pm_named[j];
        const std::string pre = "pool_" + s_.pools[j].name + "_";
        // Each metric of the per-pool table once, in the table's order.
        std::size_t next_p = 0;
        auto put_p = [&](pool_metric k, double v) {
            const auto i = static_cast<std::size_t>(k);
            DBPOOLSIM_ASSERT(i == next_p++, std::string("pool metric out of the table's order: ") + pool_metric_names[i]);
            m.emplace_back(pre + pool_metric_names[i], v);
        };
        const double tot = pmj.total.mean(t), act = pmj.active.mean(t);
        put_p(pool_metric::total_connections, tot);
        put_p(pool_metric::active_connections, act);
        put_p(pool_metric::idle_connections, pmj.idle.mean(t));
        put_p(pool_metric::utilization_percent, tot > 0 ? 100 * act / tot : 0);
        put_p(pool_metric::peak_connections, pmj.total.max());
        put_p(pool_metric::waiters_avg, pmj.waiters.mean(t));
        put_p(pool_metric::wait_time_avg_ms, wait_named[j].mean() * ms);
        put_p(pool_metric::wait_time_p99_ms, wait_named[j].quantile(0.99) * ms);
        put_p(pool_metric::timeouts, double(timeouts_named[j]));
        put_p(pool_metric::connections_created, double(pmj.created));
        put_p(pool_metric::connection_errors, double(pmj.connection_errors));
        DBPOOLSIM_ASSERT(next_p == static_cast<std::size_t>(pool_metric::count_), "a pool metric of the table was not written");
    }
    {
        // The pooler tier (NaN without one: not applicable).
        const bool on = w.pooler != nullptr;
        auto pv = [&](double v) { return on ? v : NAN; };
        put(metric::pooler_servers_avg, pv(pm_pooler.total.mean(t)));
        put(metric::pooler_active_avg, pv(pm_pooler.active.mean(t)));
        put(metric::pooler_idle_avg, pv(pm_pooler.idle.mean(t)));
        put(metric::pooler_peak_servers, pv(pm_pooler.total.max()));
        put(metric::pooler_waiting_avg, pv(pm_pooler.waiters.mean(t)));
        put(metric::pooler_waiting_max, pv(pm_pooler.waiters.max()));
        put(metric::pooler_wait_avg_ms, pv(pooler_wait.mean() * ms));
        put(metric::pooler_wait_p50_ms, pv(pooler_wait.quantile(0.5) * ms));
        put(metric::pooler_wait_p95_ms, pv(pooler_wait.quantile(0.95) * ms));
        put(metric::pooler_wait_p99_ms, pv(pooler_wait.quantile(0.99) * ms));
        put(metric::pooler_wait_max_ms, pv(pooler_wait.max() * ms));
        put(metric::pooler_servers_created, pv(double(pm_pooler.created)));
        put(metric::pooler_login_errors, pv(double(pm_pooler.connection_errors)));
        put(metric::pooler_servers_closed_idle, pv(double(pm_pooler.closed[0])));
        put(metric::pooler_servers_closed_lifetime, pv(double(pm_pooler.closed[1])));
        put(metric::pooler_server_checks, pv(double(pm_pooler.round_trips)));
        put(metric::pooler_peak_clients, pv(on ? double(w.pooler->peak_clients()) : 0));
        put(metric::pooler_rejected_clients, pv(on ? double(w.pooler->rejected_clients()) : 0));
    }
    put(metric::requests_in_system_avg, in_system.mean(t));
    put(metric::sojourn_avg_ms, sojourn.mean() * ms);
    put(metric::measured_s, window);
    put(metric::events, double(w.events));
    put(metric::wall_seconds, wall);

    DBPOOLSIM_ASSERT(next == static_cast<std::size_t>(metric::count_), "a metric of the table was not written");
    out.wait = wait;
    out.wait_all = std::move(all);
    out.latency = latency;
    out.requests = std::move(records_);
    out.requests_not_recorded = not_recorded_;
    out.series = std::move(series_);
    return out;
}

}  // namespace dbpoolsim::models::world_parts
