#include <cmath>

#include "models/json_reader.hpp"
#include "models/json_text.hpp"
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
    r.string("kind", kind, {"poisson", "burst", "closed_loop", "mmpp", "trace"});
    problems& out = r.sink();
    // A required number; false (with the problem recorded) if missing or invalid.
    auto required = [&](object_reader& o, const char* key, double& x, double min, bool inclusive,
                        double max, const char* in) {
        if (!o.has(key)) {
            out.add(o.at(key), std::string("missing (required in each ") + in + ")");
            o.know({key});
            return false;
        }
        const std::size_t before = out.list.size();
        o.number(key, x, min, inclusive, max);
        return out.list.size() == before;
    };
    // A required non-empty array of objects: fn(reader, index) for each element.
    auto each = [&](object_reader& o, const char* key, const char* what, auto&& fn) {
        const json* v = o.raw(key);
        if (!v) {
            out.add(o.at(key), std::string("missing (") + what + ")");
        } else if (!v->is_array() || v->empty()) {
            out.add(o.at(key), std::string("must be a non-empty array of ") + what + ", got " + detail::show(*v));
        } else {
            for (std::size_t i = 0; i < v->size(); ++i) {
                object_reader e((*v)[i], o.at(key) + "/" + std::to_string(i), out);
                if (e.ok()) fn(e, i);
            }
        }
    };
    if (kind == "poisson") {
        a.kind = arrival_kind::poisson;
        const json* pj = r.raw("profile");
        if (pj && !pj->is_null() && r.has("rate_per_s")) {
            r.raw("rate_per_s");
            out.add(r.path(), "give either rate_per_s (a constant rate) or profile (a rate over time), not both");
        } else if (pj && !pj->is_null()) {
            object_reader pr(*pj, r.at("profile"), out);
            if (pr.ok()) {
                const std::size_t mark = out.list.size();
                rate_profile prof;
                std::string shape;
                if (!pr.has("shape")) {
                    out.add(pr.at("shape"), "missing (step or linear)");
                    pr.know({"shape"});
                } else {
                    pr.string("shape", shape, {"step", "linear"});
                }
                prof.shape = shape == "linear" ? profile_shape::linear : profile_shape::step;
                double prev = -1;
                bool positive = false;
                each(pr, "points", "points {\"at_s\": s, \"rate_per_s\": requests/s}",
                     [&](object_reader& e, std::size_t) {
                         rate_point pt;
                         if (required(e, "at_s", pt.at_s, 0, true, 1e300, "point")) {
                             if (!(pt.at_s > prev) && prev >= 0)
                                 out.add(e.at("at_s"), "must be > the previous point's at_s (" +
                                                           sim::format_number(prev) + "), got " +
                                                           sim::format_number(pt.at_s));
                             prev = pt.at_s;
                         }
                         if (required(e, "rate_per_s", pt.rate_per_s, 0, true, 1e9, "point"))
                             positive = positive || pt.rate_per_s > 0;
                         e.finish();
                         prof.points.push_back(pt);
                     });
                if (out.list.size() == mark && !positive)
                    out.add(pr.at("points"), "needs a rate_per_s > 0 somewhere, got all 0");
                pr.finish();
                if (out.list.size() == mark) a.profile = std::move(prof);
            }
        } else {
            r.number("rate_per_s", a.rate_per_s, 0, false, 1e9);
        }
    } else if (kind == "mmpp") {
        a.kind = arrival_kind::mmpp;
        const std::size_t mark = out.list.size();
        mmpp_settings m;
        bool positive = false;
        each(r, "states", "states {\"rate_per_s\": requests/s, \"mean_holding_s\": s}",
             [&](object_reader& e, std::size_t) {
                 mmpp_state st;
                 if (required(e, "rate_per_s", st.rate_per_s, 0, true, 1e9, "state"))
                     positive = positive || st.rate_per_s > 0;
                 required(e, "mean_holding_s", st.mean_holding_s, 0, false, 1e300, "state");
                 e.finish();
                 m.states.push_back(st);
             });
        const std::size_t n = m.states.size();
        if (n > 64) out.add(r.at("states"), "must have at most 64 states, got " + std::to_string(n));
        else if (out.list.size() == mark && n > 0 && !positive)
            out.add(r.at("states"), "needs a state with rate_per_s > 0, got all 0");
        const std::size_t before = out.list.size();
        r.integer("initial_state", m.initial_state, 0, 63);
        if (out.list.size() == before && n > 0 && static_cast<std::size_t>(m.initial_state) >= n)
            out.add(r.at("initial_state"), "must be < the number of states (" + std::to_string(n) +
                                               "), got " + std::to_string(m.initial_state));
        if (out.list.size() == mark) a.mmpp = std::move(m);
    } else if (kind == "trace") {
        a.kind = arrival_kind::trace;
        if (!r.has("file")) {
            out.add(r.at("file"), "missing (required for trace: the CSV file of arrival times)");
            r.know({"file"});
        } else {
            const std::size_t before = out.list.size();
            r.string("file", a.trace.file);
            if (out.list.size() == before && a.trace.file.empty())
                out.add(r.at("file"), "must name a CSV file, got \"\"");
        }
        r.number("time_scale", a.trace.time_scale, 0, false);
        r.boolean("loop", a.trace.loop);
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

/// Trace arrivals are loaded once the transaction classes are known, so that the file's
/// class column is stored as class indices; a relative file is resolved against base_dir.
void load_trace_arrivals(scenario& s, const std::string& base_dir, problems& out) {
    auto& t = s.workload.arrivals.trace;
    if (s.workload.arrivals.kind != arrival_kind::trace || t.file.empty()) return;
    std::vector<std::string> names;
    for (const auto& c : s.workload.transactions) names.push_back(c.name);
    try {
        t.data = load_arrival_trace(t.file, names, base_dir);
    } catch (const config_error& e) {
        for (const auto& p : e.problems()) out.add("/workload/arrivals/file", p);
        return;
    }
    t.file = t.data->file;
    if (t.loop && t.data->records.back().t_s == 0)
        out.add("/workload/arrivals/loop", "needs the trace's last t_s > 0 (the loop period), got 0");
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
                tr.boolean("read_only", c.read_only);
                tr.number("leak_probability", c.leak_probability, 0, true, 1);
                if (const json* lh = tr.raw("leak_hold_time"); lh && !lh->is_null()) {
                    auto d = parse_distribution(*lh, tr.at("leak_hold_time"), r.sink());
                    if (d) c.leak_hold_time = *d;
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

// database.usl: {"sigma": .., "kappa": ..} or {"fit": {"n": [...], "x": [...]}} (fitted here).
void read_usl(const json& v, const std::string& path, database_settings& d, problems& out) {
    object_reader r(v, path, out);
    if (!r.ok()) return;
    if (const json* f = r.raw("fit")) {
        if (r.has("sigma") || r.has("kappa")) {
            out.add(path, "give either sigma and kappa or fit, not both");
            r.know({"sigma", "kappa"});
            r.finish();
            return;
        }
        object_reader fr(*f, r.at("fit"), out);
        if (!fr.ok()) return;
        std::vector<double> n, x;
        auto numbers = [&](const char* key, std::vector<double>& xs) {
            const json* a = fr.raw(key);
            if (!a) {
                out.add(fr.at(key), "missing (an array of numbers)");
                return;
            }
            if (!a->is_array()) {
                out.add(fr.at(key), "must be an array of numbers, got " + detail::show(*a));
                return;
            }
            for (const auto& e : *a) {
                if (!e.is_number()) {
                    out.add(fr.at(key), "must be an array of numbers, got " + detail::show(*a));
                    xs.clear();
                    return;
                }
                xs.push_back(e.get<double>());
            }
        };
        numbers("n", n);
        numbers("x", x);
        fr.finish();
        if (n.empty() || x.empty()) return;
        try {
            const auto fit = usl::fit_usl(n, x);
            d.usl = fit.params;
        } catch (const error& e) {
            out.add(r.at("fit"), e.what());
        }
        r.finish();
        return;
    }
    usl::usl_params p{1, 0, 0};
    if (!r.has("sigma")) out.add(r.at("sigma"), "missing (contention, in [0, 1))");
    if (!r.has("kappa")) out.add(r.at("kappa"), "missing (coherency, >= 0)");
    r.number("sigma", p.sigma, 0, true, 0.999999);
    r.number("kappa", p.kappa, 0);
    r.number("lambda", p.lambda, 0, false);
    r.finish();
    d.usl = p;
}

void read_database(object_reader& r, database_settings& d) {
    r.integer("cores", d.cores, 0, 1 << 20);
    r.integer("max_connections", d.max_connections, 1, 1 << 24);
    read_distribution(r, "connect_time", d.connect_time);
    r.number("network_rtt_s", d.network_rtt_s, 0);
    r.number("connect_cpu_s", d.connect_cpu_s, 0);
    r.number("accept_rate_per_s", d.accept_rate_per_s, 0);
    r.number("idle_session_timeout_s", d.idle_session_timeout_s, 0);
    r.number("tcp_keepalive_s", d.tcp_keepalive_s, 0, false);
    if (const json* u = r.raw("usl"); u && !u->is_null()) read_usl(*u, r.at("usl"), d, r.sink());
    if (d.connect_cpu_s > 0 && d.cores == 0 && !d.usl)
        r.sink().add(r.at("connect_cpu_s"), "needs a CPU model (cores > 0 or usl), got " +
                                                sim::format_number(d.connect_cpu_s) + " with cores 0");
    r.finish();
}

void read_network(object_reader& r, network_settings& n) {
    r.number("nat_idle_timeout_s", n.nat_idle_timeout_s, 0);
    std::string drop = n.nat_drop == nat_drop_mode::silent ? "silent" : "reset";
    r.string("nat_drop", drop, {"silent", "reset"});
    n.nat_drop = drop == "silent" ? nat_drop_mode::silent : nat_drop_mode::reset;
    r.number("socket_timeout_s", n.socket_timeout_s, 0, false);
    r.number("connect_timeout_s", n.connect_timeout_s, 0, false);
    r.finish();
}

void read_faults(const json& v, const std::string& path, std::vector<fault>& faults, problems& out) {
    if (!v.is_array()) {
        out.add(path, "must be an array of faults, got " + detail::show(v));
        return;
    }
    std::vector<std::string> kinds(std::begin(fault_kind_names), std::end(fault_kind_names));
    for (std::size_t i = 0; i < v.size(); ++i) {
        object_reader r(v[i], path + "/" + std::to_string(i), out);
        if (!r.ok()) continue;
        if (!r.has("kind")) {
            out.add(r.at("kind"), "missing (one of restart, failover, read_only, connect_errors, "
                                  "slow_connects, slow_queries, kill_connections)");
            r.know({"kind"});
            continue;
        }
        const std::size_t before = out.list.size();
        std::string kind;
        r.string("kind", kind, kinds);
        if (out.list.size() != before) continue;
        fault f;
        for (std::size_t k = 0; k < kinds.size(); ++k)
            if (kinds[k] == kind) f.kind = static_cast<fault_kind>(k);
        if (!r.has("at_s")) out.add(r.at("at_s"), "missing (when the fault happens, s)");
        r.number("at_s", f.at_s, 0);
        if (f.kind != fault_kind::kill_connections) {
            if (!r.has("duration_s")) out.add(r.at("duration_s"), "missing (how long the fault lasts, s)");
            r.number("duration_s", f.duration_s, 0);
        }
        if (f.kind == fault_kind::connect_errors) r.number("probability", f.probability, 0, true, 1);
        if (f.kind == fault_kind::slow_connects || f.kind == fault_kind::slow_queries) {
            if (!r.has("factor")) out.add(r.at("factor"), "missing (how many times slower)");
            r.number("factor", f.factor, 0, false, 1e6);
        }
        if (f.kind == fault_kind::kill_connections) r.number("fraction", f.fraction, 0, true, 1);
        r.finish();
        faults.push_back(f);
    }
}

void read_fleet(const json& v, const std::string& path, scenario& s, problems& out) {
    if (!v.is_array()) {
        out.add(path, "must be an array of fleet events, got " + detail::show(v));
        return;
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
        object_reader r(v[i], path + "/" + std::to_string(i), out);
        if (!r.ok()) continue;
        const std::size_t before = out.list.size();
        std::string kind;
        if (!r.has("kind")) out.add(r.at("kind"), "missing (one of rolling_deploy, scale)");
        r.string("kind", kind, {"rolling_deploy", "scale"});
        if (out.list.size() != before) continue;
        fleet_event e;
        e.kind = kind == "scale" ? fleet_event_kind::scale : fleet_event_kind::rolling_deploy;
        if (!r.has("at_s")) out.add(r.at("at_s"), "missing (when the event starts, s)");
        r.number("at_s", e.at_s, 0);
        r.number("ready_after_s", e.ready_after_s, 0);
        if (e.kind == fleet_event_kind::rolling_deploy) {
            r.integer("batch", e.batch, 1, 255);
            r.number("interval_s", e.interval_s, 0, false);
        } else {
            if (!r.has("instances")) out.add(r.at("instances"), "missing (the new number of instances)");
            r.integer("instances", e.instances, 1, 255);
        }
        r.finish();
        if (!s.fleet.empty() && e.at_s < s.fleet.back().at_s)
            out.add(r.at("at_s"), "fleet events must be in time order, got " + sim::format_number(e.at_s) +
                                      " after " + sim::format_number(s.fleet.back().at_s));
        s.fleet.push_back(e);
    }
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

int fleet_instances_needed(const scenario& s) {
    int active = s.client.instances, total = s.client.instances;
    for (const auto& e : s.fleet) {
        if (e.kind == fleet_event_kind::rolling_deploy) {
            total += active;
        } else {
            if (e.instances > active) total += e.instances - active;
            active = e.instances;
        }
    }
    return total;
}

scenario default_scenario() {
    scenario s;
    s.pool.params = std::make_shared<generic_pool_params>();
    return s;
}

scenario scenario_from_json(const std::string& text, const std::string& base_dir) {
    const json j = detail::parse_json_text(text);  // models/json_text.hpp: syntax and limits
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
            r.number("statement_timeout_s", c.statement_timeout_s, 0);
            if (r.use_alias("query_timeout", "statement_timeout_s", "seeds/004"))
                r.number("query_timeout", c.statement_timeout_s, 0);
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
        section("network", [&](object_reader& r) { read_network(r, s.network); });
        if (const json* v = root.raw("faults")) read_faults(*v, root.at("faults"), s.faults, out);
        if (const json* v = root.raw("fleet")) read_fleet(*v, root.at("fleet"), s, out);
        root.finish();
        load_trace_arrivals(s, base_dir, out);
        for (std::size_t i = 0; i < s.workload.transactions.size(); ++i) {
            const auto& c = s.workload.transactions[i];
            if (c.leak_hold_time && c.leak_probability == 0)
                out.add("/workload/transactions/" + std::to_string(i) + "/leak_hold_time",
                        "has no effect with leak_probability 0");
        }
        // A rolling deploy must end before the next fleet event starts.
        {
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
        for (const auto& [path, msg] : clock_limit_problems(s)) out.add(path, msg);  // models/arrivals.hpp
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
        case arrival_kind::poisson:
            if (a.profile) {
                json pts = json::array();
                for (const auto& p : a.profile->points) pts.push_back({{"at_s", p.at_s}, {"rate_per_s", p.rate_per_s}});
                const char* shape = a.profile->shape == profile_shape::linear ? "linear" : "step";
                arr = {{"kind", "poisson"}, {"profile", {{"shape", shape}, {"points", pts}}}};
            } else {
                arr = {{"kind", "poisson"}, {"rate_per_s", a.rate_per_s}};
            }
            break;
        case arrival_kind::mmpp: {
            json states = json::array();
            for (const auto& st : a.mmpp.states)
                states.push_back({{"rate_per_s", st.rate_per_s}, {"mean_holding_s", st.mean_holding_s}});
            arr = {{"kind", "mmpp"}, {"states", states}, {"initial_state", a.mmpp.initial_state}};
            break;
        }
        case arrival_kind::trace:
            arr = {{"kind", "trace"}, {"file", a.trace.file}, {"time_scale", a.trace.time_scale}, {"loop", a.trace.loop}};
            break;
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
        t["read_only"] = c.read_only;
        t["leak_probability"] = c.leak_probability;
        t["leak_hold_time"] = c.leak_hold_time ? distribution_json(*c.leak_hold_time) : json(nullptr);
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
                   {"circuit_breaker_reset", s.client.circuit_breaker_reset},
                   {"statement_timeout_s", s.client.statement_timeout_s}};
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
                     {"network_rtt_s", s.database.network_rtt_s},
                     {"connect_cpu_s", s.database.connect_cpu_s},
                     {"accept_rate_per_s", s.database.accept_rate_per_s},
                     {"idle_session_timeout_s", s.database.idle_session_timeout_s},
                     {"tcp_keepalive_s", s.database.tcp_keepalive_s}};
    if (s.database.usl)
        j["database"]["usl"] = {{"sigma", s.database.usl->sigma},
                                {"kappa", s.database.usl->kappa},
                                {"lambda", s.database.usl->lambda}};
    else
        j["database"]["usl"] = nullptr;
    j["network"] = {{"nat_idle_timeout_s", s.network.nat_idle_timeout_s},
                    {"nat_drop", s.network.nat_drop == nat_drop_mode::silent ? "silent" : "reset"},
                    {"socket_timeout_s", s.network.socket_timeout_s},
                    {"connect_timeout_s", s.network.connect_timeout_s}};
    json faults = json::array();
    for (const auto& f : s.faults) {
        json o = {{"kind", fault_kind_names[static_cast<int>(f.kind)]}, {"at_s", f.at_s}};
        if (f.kind != fault_kind::kill_connections) o["duration_s"] = f.duration_s;
        if (f.kind == fault_kind::connect_errors) o["probability"] = f.probability;
        if (f.kind == fault_kind::slow_connects || f.kind == fault_kind::slow_queries) o["factor"] = f.factor;
        if (f.kind == fault_kind::kill_connections) o["fraction"] = f.fraction;
        faults.push_back(o);
    }
    j["faults"] = faults;
    json fleet = json::array();
    for (const auto& e : s.fleet) {
        if (e.kind == fleet_event_kind::rolling_deploy)
            fleet.push_back({{"kind", "rolling_deploy"}, {"at_s", e.at_s}, {"batch", e.batch},
                             {"interval_s", e.interval_s}, {"ready_after_s", e.ready_after_s}});
        else
            fleet.push_back({{"kind", "scale"}, {"at_s", e.at_s}, {"instances", e.instances},
                             {"ready_after_s", e.ready_after_s}});
    }
    j["fleet"] = fleet;
    return j.dump(indent);
}

}  // namespace dbpoolsim::models
