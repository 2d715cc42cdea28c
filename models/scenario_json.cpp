#include <cmath>

#include "models/json_reader.hpp"
#include "models/pool/generic_pool.hpp"
#include "models/pool/registry.hpp"
#include "models/scenario.hpp"
#include "sim/error.hpp"
#include "sim/format.hpp"

namespace dbpoolsim::models {
namespace {

using detail::json;
using detail::object_reader;
using detail::problems;

// ---- distributions ------------------------------------------------------------------------

const std::vector<std::string> dist_kinds = {"constant", "exponential", "lognormal", "gamma",
                                             "weibull",  "pareto",      "uniform",   "empirical",
                                             "mixture"};

/// Parse a distribution object; returns nullopt (with problems recorded) if invalid.
std::optional<distribution> parse_distribution(const json& j, const std::string& path, problems& out) {
    object_reader r(j, path, out);
    if (!r.ok()) return std::nullopt;
    std::string kind;
    if (!r.has("kind")) {
        out.add(r.at("kind"), "missing (one of constant, exponential, lognormal, gamma, weibull, "
                              "pareto, uniform, empirical, mixture)");
        r.know({"kind"});
        r.finish();
        return std::nullopt;
    }
    const std::size_t before = out.list.size();
    r.string("kind", kind, dist_kinds);
    if (out.list.size() != before) return std::nullopt;

    const double nan = std::nan("");
    auto num = [&](const char* key, bool required) {
        double v = nan;
        if (!r.has(key)) {
            if (required) out.add(r.at(key), "missing (required for " + kind + ")");
            r.know({key});
            return v;
        }
        r.number(key, v, -1e300);
        return v;
    };
    std::optional<distribution> d;
    const std::size_t mark = out.list.size();
    try {
        if (kind == "constant") {
            const double v = num("value_s", true);
            if (out.list.size() == mark) d = distribution::constant(v);
        } else if (kind == "exponential") {
            const double m = num("mean_s", true);
            if (out.list.size() == mark) d = distribution::exponential(m);
        } else if (kind == "lognormal") {
            const bool by_median = r.has("median_s") || r.has("p99_s");
            const bool by_mean = r.has("mean_s") || r.has("sd_s");
            if (by_median && by_mean) {
                out.add(path, "lognormal takes either mean_s and sd_s, or median_s and p99_s, not both");
                r.raw("mean_s"), r.raw("sd_s"), r.raw("median_s"), r.raw("p99_s");
            } else if (by_median) {
                const double md = num("median_s", true), p99 = num("p99_s", true);
                if (out.list.size() == mark) d = distribution::lognormal_median_p99(md, p99);
            } else {
                r.know({"median_s", "p99_s"});
                const double m = num("mean_s", true), sd = num("sd_s", true);
                if (out.list.size() == mark) d = distribution::lognormal_mean_sd(m, sd);
            }
        } else if (kind == "gamma") {
            const double k = num("shape", true);
            const bool by_mean = r.has("mean_s");
            double scale = nan;
            if (by_mean) {
                const double m = num("mean_s", true);
                r.know({"scale_s"});
                if (out.list.size() == mark) {
                    if (!(k > 0)) out.add(r.at("shape"), "must be > 0, got " + sim::format_number(k));
                    else scale = m / k;
                }
            } else {
                r.know({"mean_s"});
                scale = num("scale_s", true);
            }
            if (out.list.size() == mark) d = distribution::gamma(k, scale);
        } else if (kind == "weibull" || kind == "pareto") {
            const double k = num("shape", true), scale = num("scale_s", true);
            if (out.list.size() == mark)
                d = kind == "weibull" ? distribution::weibull(k, scale) : distribution::pareto(k, scale);
        } else if (kind == "uniform") {
            const double lo = num("low_s", true), hi = num("high_s", true);
            if (out.list.size() == mark) d = distribution::uniform(lo, hi);
        } else if (kind == "empirical") {
            const json* s = r.raw("samples_s");
            if (!s) {
                out.add(r.at("samples_s"), "missing (required for empirical)");
            } else if (!s->is_array()) {
                out.add(r.at("samples_s"), "must be an array of numbers, got " + detail::show(*s));
            } else {
                std::vector<double> xs;
                for (std::size_t i = 0; i < s->size(); ++i) {
                    if (!(*s)[i].is_number())
                        out.add(r.at("samples_s") + "/" + std::to_string(i),
                                "must be a number, got " + detail::show((*s)[i]));
                    else
                        xs.push_back((*s)[i].get<double>());
                }
                if (out.list.size() == mark) d = distribution::empirical(std::move(xs));
            }
        } else if (kind == "mixture") {
            const json* s = r.raw("components");
            if (!s) {
                out.add(r.at("components"), "missing (required for mixture)");
            } else if (!s->is_array()) {
                out.add(r.at("components"), "must be an array, got " + detail::show(*s));
            } else {
                std::vector<std::pair<double, distribution>> comps;
                for (std::size_t i = 0; i < s->size(); ++i) {
                    const std::string cp = r.at("components") + "/" + std::to_string(i);
                    object_reader c((*s)[i], cp, out);
                    if (!c.ok()) continue;
                    double w = 1;
                    c.number("weight", w, 0, false);
                    const json* dj = c.raw("dist");
                    if (!dj) out.add(c.at("dist"), "missing (the component's distribution)");
                    c.finish();
                    if (dj) {
                        auto sub = parse_distribution(*dj, c.at("dist"), out);
                        if (sub) comps.emplace_back(w, *sub);
                    }
                }
                if (out.list.size() == mark) d = distribution::mixture(std::move(comps));
            }
        }
    } catch (const error& e) {
        // Factory messages are "<param>: <rule>"; the param becomes part of the path.
        const std::string msg = e.what();
        const auto colon = msg.find(": ");
        if (colon != std::string::npos) out.add(path + "/" + msg.substr(0, colon), msg.substr(colon + 2));
        else out.add(path, msg);
        d.reset();
    }
    r.finish();
    return out.list.size() == mark ? d : std::nullopt;
}

void read_distribution(object_reader& r, const std::string& key, distribution& out) {
    const json* j = r.raw(key);
    if (!j) return;
    auto d = parse_distribution(*j, r.at(key), r.sink());
    if (d) out = *d;
}

json distribution_json(const distribution& d) {
    json o;
    o["kind"] = d.kind_name();
    if (d.kind() == dist_kind::empirical) {
        o["samples_s"] = d.samples();
    } else if (d.kind() == dist_kind::mixture) {
        json arr = json::array();
        for (const auto& [w, c] : d.components()) arr.push_back(json{{"weight", w}, {"dist", distribution_json(c)}});
        o["components"] = arr;
    } else {
        for (const auto& [k, v] : d.params()) o[k] = v;
    }
    return o;
}

// ---- sections -----------------------------------------------------------------------------

void read_run(object_reader& r, run_settings& s) {
    r.number("horizon_s", s.horizon_s, 0, false, 1e9);
    r.number("warmup_s", s.warmup_s, 0);
    r.integer("replications", s.replications, 1, 100000);
    r.uint64("seed", s.seed);
    r.number("sample_interval_s", s.sample_interval_s, 0, false);
    if (s.warmup_s >= s.horizon_s)
        r.sink().add(r.at("warmup_s"), "must be < horizon_s (" + sim::format_number(s.horizon_s) +
                                           "), got " + sim::format_number(s.warmup_s));
    if (s.horizon_s / s.sample_interval_s > 10'000'000)
        r.sink().add(r.at("sample_interval_s"),
                     "gives more than 10,000,000 samples over horizon_s, got " +
                         sim::format_number(s.sample_interval_s));
    r.finish();
}

void read_arrivals(object_reader& r, arrival_settings& a) {
    std::string kind = "poisson";
    r.string("kind", kind, {"poisson", "burst", "closed_loop"});
    if (kind == "poisson") {
        a.kind = arrival_kind::poisson;
        r.number("rate_per_s", a.rate_per_s, 0, false, 1e9);
    } else if (kind == "burst") {
        a.kind = arrival_kind::burst;
        r.integer("count", a.count, 1, 10'000'000);
        r.number("at_s", a.at_s, 0);
        r.number("every_s", a.every_s, 0);
    } else {
        a.kind = arrival_kind::closed_loop;
        r.integer("users", a.users, 1, 10'000'000);
        read_distribution(r, "think_time", a.think_time);
    }
    r.finish();
}

void read_workload(object_reader& r, workload_settings& w) {
    if (const json* a = r.raw("arrivals")) {
        object_reader ar(*a, r.at("arrivals"), r.sink());
        if (ar.ok()) read_arrivals(ar, w.arrivals);
    }
    if (const json* t = r.raw("transactions")) {
        const std::string tp = r.at("transactions");
        if (!t->is_array() || t->empty()) {
            r.sink().add(tp, "must be a non-empty array of transaction classes, got " + detail::show(*t));
        } else {
            w.transactions.clear();
            for (std::size_t i = 0; i < t->size(); ++i) {
                object_reader tr((*t)[i], tp + "/" + std::to_string(i), r.sink());
                if (!tr.ok()) continue;
                transaction_class c;
                c.name = "class" + std::to_string(i);
                tr.string("name", c.name);
                tr.number("weight", c.weight, 0, false);
                tr.integer("queries", c.queries, 1, 100000);
                read_distribution(tr, "query_time", c.query_time);
                tr.string("pool", c.pool);
                if (const json* app = tr.raw("app_time"); app && !app->is_null()) {
                    auto d = parse_distribution(*app, tr.at("app_time"), r.sink());
                    if (d) c.app_time = *d;
                }
                tr.finish();
                w.transactions.push_back(std::move(c));
            }
        }
    }
    r.finish();
}

void read_pooler(const json& v, const std::string& path, pooler_settings& p, problems& out) {
    if (v.is_null()) return;  // no pooler
    object_reader r(v, path, out);
    if (!r.ok()) return;
    std::string kind;
    if (!r.has("kind")) {
        out.add(r.at("kind"), "missing (one of pgbouncer)");
        r.know({"kind"});
        r.finish();
        return;
    }
    const std::size_t before = out.list.size();
    std::vector<std::string> names;
    for (const auto& k : detail::pooler_kinds()) names.emplace_back(k.name);
    r.string("kind", kind, names);
    if (out.list.size() != before) return;
    p.kind = kind;
    p.params = detail::find_pooler_kind(kind)->parse(r);
    r.finish();
}

void read_database(object_reader& r, database_settings& d) {
    r.integer("cores", d.cores, 0, 1 << 20);
    r.integer("max_connections", d.max_connections, 1, 1 << 24);
    read_distribution(r, "connect_time", d.connect_time);
    r.number("network_rtt_s", d.network_rtt_s, 0);
    r.finish();
}

void read_pool(object_reader& r, pool_settings& p) {
    std::string kind = p.kind;
    if (const json* k = r.raw("kind")) {
        if (!k->is_string()) {
            r.sink().add(r.at("kind"), "must be a string naming a pool kind, got " + detail::show(*k));
            return;
        }
        kind = k->get<std::string>();
    }
    const auto* pk = detail::find_pool_kind(kind);
    if (!pk) {
        std::string list;
        for (const auto& k : detail::pool_kinds()) list += (list.empty() ? "" : ", ") + std::string(k.name);
        r.sink().add(r.at("kind"), "must be one of " + list + ", got \"" + kind + "\"");
        return;
    }
    p.kind = kind;
    p.params = pk->parse(r);
    r.finish();
}

}  // namespace

namespace detail {
std::optional<distribution> parse_distribution_at(const json& j, const std::string& path, problems& out) {
    return parse_distribution(j, path, out);
}
json distribution_to_json(const distribution& d) { return distribution_json(d); }
}  // namespace detail

scenario default_scenario() {
    scenario s;
    s.pool.params = std::make_shared<generic_pool_params>();
    return s;
}

scenario scenario_from_json(const std::string& text) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        // nlohmann's message: "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
        std::string msg = e.what();
        const auto p = msg.find("] ");
        throw config_error({"/: invalid JSON: " + (p == std::string::npos ? msg : msg.substr(p + 2))});
    }
    scenario s = default_scenario();
    problems out;
    object_reader root(j, "", out);
    if (root.ok()) {
        root.string("name", s.name);
        root.string("description", s.description);
        auto section = [&](const char* key, auto&& fn) {
            if (const json* v = root.raw(key)) {
                object_reader r(*v, root.at(key), out);
                if (r.ok()) fn(r);
            }
        };
        section("run", [&](object_reader& r) { read_run(r, s.run); });
        section("workload", [&](object_reader& r) { read_workload(r, s.workload); });
        section("client", [&](object_reader& r) {
            auto& c = s.client;
            r.integer("instances", c.instances, 1, 255);
            r.number("deadline_s", c.deadline_s, 0);
            r.integer("retry_attempts", c.retry_attempts, 0, 1000);
            r.number("initial_retry_delay", c.initial_retry_delay, 0);
            r.number("max_retry_delay", c.max_retry_delay, 0);
            r.number("retry_jitter_factor", c.retry_jitter_factor, 0, true, 1);
            r.number("retry_multiplier", c.retry_multiplier, 1);
            r.integer("circuit_breaker_threshold", c.circuit_breaker_threshold, 0, 1000000);
            r.number("circuit_breaker_timeout", c.circuit_breaker_timeout, 0, false);
            r.integer("circuit_breaker_reset", c.circuit_breaker_reset, 1, 1000000);
            // seeds/004 (EventCore) names the retry settings differently.
            if (r.use_alias("max_retries", "retry_attempts", "seeds/004"))
                r.integer("max_retries", c.retry_attempts, 0, 1000);
            if (r.use_alias("retry_base_delay", "initial_retry_delay", "seeds/004"))
                r.number("retry_base_delay", c.initial_retry_delay, 0);
            if (r.use_alias("retry_max_delay", "max_retry_delay", "seeds/004"))
                r.number("retry_max_delay", c.max_retry_delay, 0);
            if (c.max_retry_delay < c.initial_retry_delay)
                r.sink().add(r.at("max_retry_delay"), "must be >= initial_retry_delay (" +
                                                          sim::format_number(c.initial_retry_delay) + "), got " +
                                                          sim::format_number(c.max_retry_delay));
            r.finish();
        });
        section("pool", [&](object_reader& r) { read_pool(r, s.pool); });
        if (const json* v = root.raw("pools")) {
            const std::string pp = root.at("pools");
            if (root.has("pool")) {
                out.add(pp, "give either pool (one pool per instance) or pools (several), not both");
            } else if (!v->is_object() || v->empty()) {
                out.add(pp, "must be an object of named pools, e.g. {\"read\": {...}, \"write\": {...}}, got " + detail::show(*v));
            } else {
                for (auto it = v->begin(); it != v->end(); ++it) {
                    const std::string& name = it.key();
                    const bool ok_name = !name.empty() && name.size() <= 40 &&
                        name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == std::string::npos;
                    if (!ok_name) {
                        out.add(pp + "/" + name, "pool names are 1-40 letters, digits or _");
                        continue;
                    }
                    named_pool np{name, {}};
                    object_reader r(it.value(), pp + "/" + name, out);
                    if (r.ok()) read_pool(r, np.settings);
                    s.pools.push_back(std::move(np));
                }
            }
        }
        section("database", [&](object_reader& r) { read_database(r, s.database); });
        if (const json* v = root.raw("pooler")) read_pooler(*v, root.at("pooler"), s.pooler, out);
        root.finish();
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
    }
    if (!out.list.empty()) throw config_error(out.list);
    return s;
}

std::string scenario_to_json(const scenario& s, int indent) {
    json j;
    j["name"] = s.name;
    if (!s.description.empty()) j["description"] = s.description;
    j["run"] = {{"horizon_s", s.run.horizon_s},
                {"warmup_s", s.run.warmup_s},
                {"replications", s.run.replications},
                {"seed", s.run.seed},
                {"sample_interval_s", s.run.sample_interval_s}};
    json arr;
    const auto& a = s.workload.arrivals;
    switch (a.kind) {
        case arrival_kind::poisson: arr = {{"kind", "poisson"}, {"rate_per_s", a.rate_per_s}}; break;
        case arrival_kind::burst:
            arr = {{"kind", "burst"}, {"count", a.count}, {"at_s", a.at_s}, {"every_s", a.every_s}};
            break;
        case arrival_kind::closed_loop:
            arr = {{"kind", "closed_loop"}, {"users", a.users}, {"think_time", distribution_json(a.think_time)}};
            break;
    }
    json tx = json::array();
    for (const auto& c : s.workload.transactions) {
        json t = {{"name", c.name}, {"weight", c.weight}, {"queries", c.queries},
                  {"query_time", distribution_json(c.query_time)}};
        t["app_time"] = c.app_time ? distribution_json(*c.app_time) : json(nullptr);
        if (!c.pool.empty()) t["pool"] = c.pool;
        tx.push_back(t);
    }
    j["workload"] = {{"arrivals", arr}, {"transactions", tx}};
    j["client"] = {{"instances", s.client.instances},
                   {"deadline_s", s.client.deadline_s},
                   {"retry_attempts", s.client.retry_attempts},
                   {"initial_retry_delay", s.client.initial_retry_delay},
                   {"max_retry_delay", s.client.max_retry_delay},
                   {"retry_jitter_factor", s.client.retry_jitter_factor},
                   {"retry_multiplier", s.client.retry_multiplier},
                   {"circuit_breaker_threshold", s.client.circuit_breaker_threshold},
                   {"circuit_breaker_timeout", s.client.circuit_breaker_timeout},
                   {"circuit_breaker_reset", s.client.circuit_breaker_reset}};
    auto pool_json = [](const pool_settings& ps) {
        json pool;
        pool["kind"] = ps.kind;
        if (const auto* pk = detail::find_pool_kind(ps.kind); pk && ps.params) pk->write(*ps.params, pool);
        return pool;
    };
    if (s.pools.empty()) {
        j["pool"] = pool_json(s.pool);
    } else {
        json pools = json::object();
        for (const auto& np : s.pools) pools[np.name] = pool_json(np.settings);
        j["pools"] = pools;
    }
    if (const auto* pk = detail::find_pooler_kind(s.pooler.kind); pk && s.pooler.params) {
        json pooler;
        pooler["kind"] = s.pooler.kind;
        pk->write(*s.pooler.params, pooler);
        j["pooler"] = pooler;
    } else {
        j["pooler"] = nullptr;
    }
    j["database"] = {{"cores", s.database.cores},
                     {"max_connections", s.database.max_connections},
                     {"connect_time", distribution_json(s.database.connect_time)},
                     {"network_rtt_s", s.database.network_rtt_s}};
    return j.dump(indent);
}

}  // namespace dbpoolsim::models
