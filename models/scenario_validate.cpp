// validate(const scenario&): every rule a scenario keeps, whoever built it. The field rules
// come from the field tables (models/scenario_fields.cpp); the cross-field rules are here, and
// the JSON reader (models/scenario_json.cpp) calls the same functions while it reads, so the
// messages are the same either way: "/json/path: must be ..., got <value>".
#include <cmath>
#include <string>
#include <typeinfo>

#include "models/arrivals.hpp"
#include "models/run.hpp"
#include "models/world/metrics.hpp"
#include "models/pool/pgbouncer.hpp"
#include "models/pool/registry.hpp"
#include "models/scenario_fields.hpp"
#include "sim/error.hpp"
#include "sim/format.hpp"

namespace dbpoolsim::models {
namespace detail {

constexpr int series_columns = static_cast<int>(world_parts::column::count_);

void check_run(const run_settings& r, const std::string& path, problems& out) {
    if (r.warmup_s >= r.horizon_s)
        out.add(path + "/warmup_s", "must be < horizon_s (" + sim::format_number(r.horizon_s) +
                                        "), got " + sim::format_number(r.warmup_s));
    if (r.horizon_s / r.sample_interval_s > 10'000'000) {
        out.add(path + "/sample_interval_s", "gives more than 10,000,000 samples over horizon_s, got " +
                                                 sim::format_number(r.sample_interval_s));
    } else if (r.horizon_s > 0 && r.sample_interval_s > 0 && r.replications > 0 && r.max_memory_mb > 0) {
        // Every replication's rows are kept until the result is written: refused before the
        // run, with the memory it would need (models/run.hpp: series_bytes_per_value).
        const double values = std::floor(r.horizon_s / r.sample_interval_s) * series_columns * r.replications;
        const double need_mb = values * series_bytes_per_value / 1048576.0;
        if (need_mb > r.max_memory_mb) {
            const double fit = r.horizon_s * series_columns * r.replications * series_bytes_per_value /
                               (r.max_memory_mb * 1048576.0);
            out.add(path + "/sample_interval_s",
                    "the time series (" + sim::format_number(std::floor(r.horizon_s / r.sample_interval_s)) +
                        " samples x " + std::to_string(series_columns) + " columns x " +
                        std::to_string(r.replications) + " replications) would need about " +
                        sim::format_number(std::ceil(need_mb)) + " MiB, more than run.max_memory_mb (" +
                        sim::format_number(r.max_memory_mb) + "); use sample_interval_s >= " +
                        sim::format_number(fit) + " or raise max_memory_mb, got " +
                        sim::format_number(r.sample_interval_s));
        }
    }
}

bool valid_pool_name(const std::string& name) {
    return !name.empty() && name.size() <= 40 &&
           name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
               std::string::npos;
}

void check_profile(const rate_profile& p, const std::string& path, problems& out, bool fields_ok) {
    const std::size_t before = out.list.size();
    double prev = -1;
    bool positive = false;
    for (std::size_t i = 0; i < p.points.size(); ++i) {
        const auto& pt = p.points[i];
        if (pt.at_s == pt.at_s) {  // NaN: missing or invalid, already reported
            if (!(pt.at_s > prev) && prev >= 0)
                out.add(path + "/points/" + std::to_string(i) + "/at_s",
                        "must be > the previous point's at_s (" + sim::format_number(prev) + "), got " +
                            sim::format_number(pt.at_s));
            prev = pt.at_s;
        }
        positive = positive || pt.rate_per_s > 0;
    }
    if (fields_ok && out.list.size() == before && !p.points.empty() && !positive)
        out.add(path + "/points", "needs a rate_per_s > 0 somewhere, got all 0");
}

void check_mmpp(const mmpp_settings& m, const std::string& path, problems& out, bool fields_ok) {
    const std::size_t n = m.states.size();
    bool positive = false;
    for (const auto& st : m.states) positive = positive || st.rate_per_s > 0;
    if (n > 64) out.add(path + "/states", "must have at most 64 states, got " + std::to_string(n));
    else if (fields_ok && n > 0 && !positive)
        out.add(path + "/states", "needs a state with rate_per_s > 0, got all 0");
    if (n > 0 && m.initial_state >= 0 && static_cast<std::size_t>(m.initial_state) >= n)
        out.add(path + "/initial_state", "must be < the number of states (" + std::to_string(n) +
                                             "), got " + std::to_string(m.initial_state));
}

void check_client(const client_settings& c, const std::string& path, problems& out) {
    if (c.max_retry_delay < c.initial_retry_delay)
        out.add(path + "/max_retry_delay", "must be >= initial_retry_delay (" +
                                               sim::format_number(c.initial_retry_delay) + "), got " +
                                               sim::format_number(c.max_retry_delay));
}

void check_database(const database_settings& d, const std::string& path, problems& out) {
    if (d.connect_cpu_s > 0 && d.cores == 0 && !d.usl)
        out.add(path + "/connect_cpu_s", "needs a CPU model (cores > 0 or usl), got " +
                                             sim::format_number(d.connect_cpu_s) + " with cores 0");
}

void check_fleet_order(const std::vector<fleet_event>& fleet, std::size_t i, problems& out) {
    if (i > 0 && i < fleet.size() && fleet[i].at_s < fleet[i - 1].at_s)
        out.add("/fleet/" + std::to_string(i) + "/at_s",
                "fleet events must be in time order, got " + sim::format_number(fleet[i].at_s) + " after " +
                    sim::format_number(fleet[i - 1].at_s));
}

/// A pool's (or pooler's) parameters that are numbers (not whole milliseconds) are durations
/// in seconds, and 0 means off where it means anything: a positive one shorter than the clock
/// step would make a housekeeping period, health check or retirement timer fire forever at
/// one instant (idle_cleanup_interval 1e-300).
void check_pool_clock(const pool_settings& p, const pool_kind* kind, const std::string& path, problems& out) {
    if (!kind || !p.params) return;
    json params = json::object();
    try {
        kind->write(*p.params, params);
    } catch (const std::bad_cast&) {
        return;  // another kind's parameters: the kind's own check reports it
    }
    for (const auto& [key, v] : params.items()) {
        if (!v.is_number_float()) continue;
        const double x = v.get<double>();
        if (x > 0 && x < min_clock_step_s)
            out.add(path + "/" + key, "must be 0 or >= " + sim::format_number(min_clock_step_s) +
                                          " s (the shortest step the clock takes, docs/limits.md), got " +
                                          sim::format_number(x));
    }
}

/// PgBouncer's `clients` routes name application pools and instances that exist.
static void check_pgbouncer_routes(const scenario& s, problems& out) {
    const auto* p = dynamic_cast<const pgbouncer_params*>(s.pooler.params.get());
    if (!p) return;
    const int instances = fleet_instances_needed(s);
    for (std::size_t i = 0; i < p->clients.size(); ++i) {
        const auto& c = p->clients[i];
        const std::string at = "/pooler/clients/" + std::to_string(i);
        if (!c.pool.empty()) {
            bool found = false;
            std::string names;
            for (const auto& np : s.pools) {
                found = found || np.name == c.pool;
                names += (names.empty() ? "" : ", ") + np.name;
            }
            if (!found)
                out.add(at + "/pool", s.pools.empty()
                    ? "names a named pool but the scenario has none (no \"pools\" section), got \"" + c.pool + "\""
                    : "must name one of the scenario's pools (" + names + "), got \"" + c.pool + "\"");
        }
        for (std::size_t k = 0; k < c.instances.size(); ++k)
            if (c.instances[k] >= instances)
                out.add(at + "/instances/" + std::to_string(k),
                        "must be an application instance index below " + std::to_string(instances) +
                            " (client.instances and fleet events), got " + std::to_string(c.instances[k]));
    }
}

void check_across_sections(const scenario& s, problems& out) {
    check_pgbouncer_routes(s, out);
    for (std::size_t i = 0; i < s.workload.transactions.size(); ++i) {
        const auto& c = s.workload.transactions[i];
        if (c.leak_hold_time && c.leak_probability == 0)
            out.add("/workload/transactions/" + std::to_string(i) + "/leak_hold_time",
                    "has no effect with leak_probability 0");
    }
    // A rolling deploy must end before the next fleet event starts.
    int active = s.client.instances;
    for (std::size_t i = 0; i < s.fleet.size(); ++i) {
        const auto& e = s.fleet[i];
        if (e.kind == fleet_event_kind::rolling_deploy) {
            const int steps = (active + e.batch - 1) / e.batch;
            const double end = e.at_s + (steps - 1) * e.interval_s + e.ready_after_s;
            if (i + 1 < s.fleet.size() && s.fleet[i + 1].at_s <= end)
                out.add("/fleet/" + std::to_string(i + 1) + "/at_s",
                        "starts before the rolling deploy /fleet/" + std::to_string(i) + " ends (" +
                            std::to_string(steps) + " steps, last at " + sim::format_number(end) +
                            " s), got " + sim::format_number(s.fleet[i + 1].at_s));
        } else {
            active = e.instances;
        }
    }
    // Each transaction class names one of the pools when there are several.
    std::string names;
    for (const auto& np : s.pools) names += (names.empty() ? "" : ", ") + np.name;
    for (std::size_t i = 0; i < s.workload.transactions.size(); ++i) {
        const auto& c = s.workload.transactions[i];
        const std::string at = "/workload/transactions/" + std::to_string(i) + "/pool";
        if (s.pools.empty()) {
            if (!c.pool.empty())
                out.add(at, "names pool \"" + c.pool + "\" but the scenario has a single pool (use \"pools\" for several)");
        } else if (c.pool.empty()) {
            out.add(at, "missing: with several pools (" + names + ") each transaction class names its pool");
        } else {
            bool found = false;
            for (const auto& np : s.pools) found = found || np.name == c.pool;
            if (!found) out.add(at, "must be one of " + names + ", got \"" + c.pool + "\"");
        }
    }
    const std::size_t per_instance = s.pools.empty() ? 1 : s.pools.size();
    if (s.client.instances * per_instance > 254)
        out.add("/client/instances", "instances x pools must be <= 254, got " +
                                         std::to_string(s.client.instances) + " x " + std::to_string(per_instance));
    else if (fleet_instances_needed(s) * per_instance > 254)
        out.add("/fleet", "the fleet events need " + std::to_string(fleet_instances_needed(s)) +
                              " instances over the run (each replacement and added instance is a new one); "
                              "instances x pools must be <= 254, got " +
                              std::to_string(fleet_instances_needed(s)) + " x " + std::to_string(per_instance));
    // A closed loop in which nothing takes time would never advance the clock.
    const auto& a = s.workload.arrivals;
    if (out.list.empty() && a.kind == arrival_kind::closed_loop && a.think_time.mean() == 0 &&
        s.database.network_rtt_s == 0) {
        bool instant = true;
        for (const auto& c : s.workload.transactions)
            instant = instant && c.query_time.mean() == 0 && (!c.app_time || c.app_time->mean() == 0);
        if (instant)
            out.add("/workload/arrivals/think_time",
                    "a closed loop needs think time or transactions that take time: with zero "
                    "think time, zero query and app time and zero network_rtt_s the clock "
                    "never advances");
    }
    // Periods too short to advance the clock (models/arrivals.hpp: min_clock_step_s).
    for (const auto& [path, msg] : clock_limit_problems(s)) out.add(path, msg);
    if (s.pools.empty()) check_pool_clock(s.pool, find_pool_kind(s.pool.kind), "/pool", out);
    for (const auto& np : s.pools) check_pool_clock(np.settings, find_pool_kind(np.settings.kind), "/pools/" + np.name, out);
    if (!s.pooler.kind.empty()) check_pool_clock({s.pooler.kind, s.pooler.params}, find_pooler_kind(s.pooler.kind), "/pooler", out);
}

namespace {

void check_pool(const pool_settings& p, const pool_kind* kind, const std::string& path, problems& out) {
    if (!kind) {
        out.add(path + "/kind", "unknown pool kind \"" + p.kind + "\"");
    } else if (!p.params) {
        out.add(path, "has no parameters (pool_settings.params is null)");
    } else {
        kind->check(*p.params, path, out);
    }
}

}  // namespace
}  // namespace detail

void validate(const scenario& s) {
    using namespace detail;
    problems out;
    check_fields(scenario_fields(), s, "", out);
    check_fields(run_fields(), s.run, "/run", out);
    check_run(s.run, "/run", out);

    const std::string ap = "/workload/arrivals";
    const auto& a = s.workload.arrivals;
    check_fields(arrival_fields(), a, ap, out);
    if (a.kind == arrival_kind::poisson && a.profile) {
        if (a.profile->points.empty()) out.add(ap + "/profile/points", "must be a non-empty array of points, got []");
        const std::size_t before = out.list.size();
        for (std::size_t i = 0; i < a.profile->points.size(); ++i)
            check_fields(rate_point_fields(), a.profile->points[i], ap + "/profile/points/" + std::to_string(i), out);
        check_profile(*a.profile, ap + "/profile", out, out.list.size() == before);
    }
    if (a.kind == arrival_kind::mmpp) {
        if (a.mmpp.states.empty()) out.add(ap + "/states", "must be a non-empty array of states, got []");
        const std::size_t before = out.list.size();
        for (std::size_t i = 0; i < a.mmpp.states.size(); ++i)
            check_fields(mmpp_state_fields(), a.mmpp.states[i], ap + "/states/" + std::to_string(i), out);
        check_mmpp(a.mmpp, ap, out, out.list.size() == before);
    }
    if (s.workload.transactions.empty())
        out.add("/workload/transactions", "must be a non-empty array of transaction classes, got []");
    for (std::size_t i = 0; i < s.workload.transactions.size(); ++i)
        check_fields(transaction_fields(), s.workload.transactions[i],
                     "/workload/transactions/" + std::to_string(i), out);

    check_fields(client_fields(), s.client, "/client", out);
    check_client(s.client, "/client", out);
    if (s.pools.empty()) {
        check_pool(s.pool, find_pool_kind(s.pool.kind), "/pool", out);
    } else {
        for (const auto& np : s.pools) {
            if (!valid_pool_name(np.name)) out.add("/pools/" + np.name, "pool names are 1-40 letters, digits or _");
            else check_pool(np.settings, find_pool_kind(np.settings.kind), "/pools/" + np.name, out);
        }
    }
    if (!s.pooler.kind.empty()) check_pool({s.pooler.kind, s.pooler.params}, find_pooler_kind(s.pooler.kind), "/pooler", out);
    check_fields(database_fields(), s.database, "/database", out);
    check_database(s.database, "/database", out);
    check_fields(network_fields(), s.network, "/network", out);
    for (std::size_t i = 0; i < s.faults.size(); ++i)
        check_fields(fault_fields(), s.faults[i], "/faults/" + std::to_string(i), out);
    for (std::size_t i = 0; i < s.fleet.size(); ++i)
        check_fields(fleet_fields(), s.fleet[i], "/fleet/" + std::to_string(i), out);
    for (std::size_t i = 0; i < s.fleet.size(); ++i) check_fleet_order(s.fleet, i, out);
    check_across_sections(s, out);
    if (!out.list.empty()) throw config_error(out.list);
}

}  // namespace dbpoolsim::models
