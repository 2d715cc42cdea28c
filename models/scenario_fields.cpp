// The field tables of the scenario structs (see models/field_table.hpp). Each JSON field is
// declared here once; docs/scenario.md documents each (tests/python/test_docs.py checks it).
// Defaults are the member initialisers in models/scenario.hpp.
#include "models/scenario_fields.hpp"

#include <cmath>

#include "sim/error.hpp"

namespace dbpoolsim::models::detail {
namespace {

bool is_poisson(const arrival_settings& a) { return a.kind == arrival_kind::poisson; }
bool is_constant_poisson(const arrival_settings& a) { return is_poisson(a) && !a.profile; }
bool is_mmpp(const arrival_settings& a) { return a.kind == arrival_kind::mmpp; }
bool is_trace(const arrival_settings& a) { return a.kind == arrival_kind::trace; }
bool is_burst(const arrival_settings& a) { return a.kind == arrival_kind::burst; }
bool is_closed_loop(const arrival_settings& a) { return a.kind == arrival_kind::closed_loop; }

/// A required non-empty array of objects at `key`: fn(reader) for each element.
template <class F>
void each_object(object_reader& o, const char* key, const char* what, F&& fn) {
    problems& out = o.sink();
    const json* v = o.raw(key);
    if (!v) {
        out.add(o.at(key), std::string("missing (") + what + ")");
    } else if (!v->is_array() || v->empty()) {
        out.add(o.at(key), std::string("must be a non-empty array of ") + what + ", got " + show(*v));
    } else {
        for (std::size_t i = 0; i < v->size(); ++i) {
            object_reader e((*v)[i], o.at(key) + "/" + std::to_string(i), out);
            if (e.ok()) fn(e);
        }
    }
}

// ---- arrivals: the profile, the MMPP states and the trace file -------------------------------

void read_profile(object_reader& r, const std::string& key, const field<arrival_settings>&,
                  arrival_settings& a) {
    const json* pj = r.raw(key);
    if (!pj || pj->is_null()) return;
    problems& out = r.sink();
    if (r.has("rate_per_s")) {
        r.raw("rate_per_s");
        out.add(r.path(), "give either rate_per_s (a constant rate) or profile (a rate over time), not both");
        return;
    }
    object_reader pr(*pj, r.at(key), out);
    if (!pr.ok()) return;
    const std::size_t mark = out.list.size();
    rate_profile prof;
    if (!pr.has("shape")) {
        out.add(pr.at("shape"), "missing (step or linear)");
        pr.know({"shape"});
    } else {
        std::string shape;
        pr.string("shape", shape, enum_name_list<profile_shape>());
        prof.shape = enum_value<profile_shape>(shape).value_or(profile_shape::step);
    }
    each_object(pr, "points", "points {\"at_s\": s, \"rate_per_s\": requests/s}", [&](object_reader& e) {
        // A field left NaN was missing or invalid (already reported): the order rule skips it.
        rate_point pt{std::nan(""), std::nan("")};
        read_fields(e, rate_point_fields(), pt);
        e.finish();
        prof.points.push_back(pt);
    });
    check_profile(prof, pr.path(), out, out.list.size() == mark);
    pr.finish();
    if (out.list.size() == mark) a.profile = std::move(prof);
}

void write_profile(const field<arrival_settings>& f, const arrival_settings& a, json& o) {
    if (!a.profile) return;
    json pts = json::array();
    for (const auto& p : a.profile->points) {
        json pt;
        write_fields(rate_point_fields(), p, pt);
        pts.push_back(pt);
    }
    o[f.name] = {{"shape", enum_name(a.profile->shape)}, {"points", pts}};
}

void read_states(object_reader& r, const std::string& key, const field<arrival_settings>&,
                 arrival_settings& a) {
    a.mmpp.states.clear();
    each_object(r, key.c_str(), "states {\"rate_per_s\": requests/s, \"mean_holding_s\": s}",
                [&](object_reader& e) {
                    mmpp_state st{std::nan(""), std::nan("")};
                    read_fields(e, mmpp_state_fields(), st);
                    e.finish();
                    a.mmpp.states.push_back(st);
                });
}

void write_states(const field<arrival_settings>& f, const arrival_settings& a, json& o) {
    json states = json::array();
    for (const auto& st : a.mmpp.states) {
        json j;
        write_fields(mmpp_state_fields(), st, j);
        states.push_back(j);
    }
    o[f.name] = states;
}

void read_trace_file(object_reader& r, const std::string& key, const field<arrival_settings>&,
                     arrival_settings& a) {
    if (!r.has(key)) return;
    const std::size_t before = r.sink().list.size();
    r.string(key, a.trace.file);
    if (r.sink().list.size() == before && a.trace.file.empty())
        r.sink().add(r.at(key), "must name a CSV file, got \"\"");
}

void check_trace_file(const field<arrival_settings>& f, const arrival_settings& a,
                      const std::string& at, problems& out) {
    if (a.trace.file.empty()) out.add(at, "must name a CSV file, got \"\"");
    else if (!a.trace.data)
        out.add(at, "was not loaded: give the trace through scenario_from_json (which reads the "
                    "CSV file), got \"" + a.trace.file + "\"");
    (void)f;
}

// ---- database.usl: {"sigma": .., "kappa": ..} or {"fit": {"n": [...], "x": [...]}} -----------

void read_usl(object_reader& parent, const std::string& key, const field<database_settings>&,
              database_settings& d) {
    const json* v = parent.raw(key);
    if (!v || v->is_null()) return;
    problems& out = parent.sink();
    const std::string path = parent.at(key);
    object_reader r(*v, path, out);
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
        auto numbers = [&](const char* k, std::vector<double>& xs) {
            const json* a = fr.raw(k);
            if (!a) {
                out.add(fr.at(k), "missing (an array of numbers)");
                return;
            }
            if (!a->is_array() || a->empty()) {  // an empty fit must not drop the model silently
                out.add(fr.at(k), std::string(a->is_array() ? "must be a non-empty" : "must be an") +
                                      " array of numbers, got " + show(*a));
                return;
            }
            for (const auto& e : *a) {
                if (!e.is_number()) {
                    out.add(fr.at(k), "must be an array of numbers, got " + show(*a));
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
            d.usl = usl::fit_usl(n, x).params;
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

void write_usl(const field<database_settings>& f, const database_settings& d, json& o) {
    if (d.usl) o[f.name] = {{"sigma", d.usl->sigma}, {"kappa", d.usl->kappa}, {"lambda", d.usl->lambda}};
    else o[f.name] = nullptr;
}

void check_usl(const field<database_settings>&, const database_settings& d, const std::string& at,
               problems& out) {
    if (!d.usl) return;
    auto rule = [&](const char* k, double x, double min, bool incl, double max) {
        auto b = number_rule_broken(x, min, incl, max);
        if (!b.empty()) out.add(at + "/" + k, b + ", got " + sim::format_number(x));
    };
    rule("sigma", d.usl->sigma, 0, true, 0.999999);
    rule("kappa", d.usl->kappa, 0, true, 1e300);
    rule("lambda", d.usl->lambda, 0, false, 1e300);
}

bool not_kill(const fault& f) { return f.kind != fault_kind::kill_connections; }
bool connect_errors(const fault& f) { return f.kind == fault_kind::connect_errors; }
bool slows(const fault& f) { return f.kind == fault_kind::slow_connects || f.kind == fault_kind::slow_queries; }
bool kill(const fault& f) { return f.kind == fault_kind::kill_connections; }
bool rolling(const fleet_event& e) { return e.kind == fleet_event_kind::rolling_deploy; }
bool scale(const fleet_event& e) { return e.kind == fleet_event_kind::scale; }

}  // namespace

const field_table<scenario>& scenario_fields() {
    static const field_table<scenario> t = {
        make_field<&scenario::name>("name"),
        make_field<&scenario::description>("description").omit_empty(),
    };
    return t;
}

const field_table<run_settings>& run_fields() {
    static const field_table<run_settings> t = {
        make_field<&run_settings::horizon_s>("horizon_s", above(0).at_most(1e9)),
        make_field<&run_settings::warmup_s>("warmup_s", at_least(0)),
        make_field<&run_settings::replications>("replications", between(1, 100000)),
        make_field<&run_settings::seed>("seed"),
        make_field<&run_settings::sample_interval_s>("sample_interval_s", above(0)),
        make_field<&run_settings::wait_threshold_s>("wait_threshold_s", at_least(0)),
        make_field<&run_settings::record_requests>("record_requests"),
        make_field<&run_settings::record_requests_max>("record_requests_max", between(1, 100'000'000)),
        make_field<&run_settings::pool_start_s>("pool_start_s", between(-1e9, 0)),
        make_field<&run_settings::max_memory_mb>("max_memory_mb", at_least(1).at_most(1e7)),
    };
    return t;
}

const field_table<rate_point>& rate_point_fields() {
    static const field_table<rate_point> t = {
        make_field<&rate_point::at_s>("at_s", at_least(0)).required("required in each point"),
        make_field<&rate_point::rate_per_s>("rate_per_s", between(0, 1e9)).required("required in each point"),
    };
    return t;
}

const field_table<mmpp_state>& mmpp_state_fields() {
    static const field_table<mmpp_state> t = {
        make_field<&mmpp_state::rate_per_s>("rate_per_s", between(0, 1e9)).required("required in each state"),
        make_field<&mmpp_state::mean_holding_s>("mean_holding_s", above(0)).required("required in each state"),
    };
    return t;
}

const field_table<arrival_settings>& arrival_fields() {
    using A = arrival_settings;
    static const field_table<A> t = {
        make_field<&A::kind>("kind"),
        custom_field<A>("profile", "object or null", read_profile, write_profile).when(is_poisson),
        make_field<&A::rate_per_s>("rate_per_s", above(0).at_most(1e9)).when(is_constant_poisson),
        custom_field<A>("states", "array", read_states, write_states).when(is_mmpp),
        make_field<&A::mmpp, &mmpp_settings::initial_state>("initial_state", between(0, 63)).when(is_mmpp),
        custom_field<A>("file", "string", read_trace_file,
                  [](const field<A>& f, const A& a, json& o) { o[f.name] = a.trace.file; }, check_trace_file)
            .when(is_trace)
            .required("required for trace: the CSV file of arrival times"),
        make_field<&A::trace, &trace_settings::time_scale>("time_scale", above(0)).when(is_trace),
        make_field<&A::trace, &trace_settings::loop>("loop").when(is_trace),
        make_field<&A::count>("count", between(1, 10'000'000)).when(is_burst),
        make_field<&A::at_s>("at_s", at_least(0)).when(is_burst),
        make_field<&A::every_s>("every_s", at_least(0)).when(is_burst),
        make_field<&A::users>("users", between(1, 10'000'000)).when(is_closed_loop),
        make_field<&A::think_time>("think_time").when(is_closed_loop),
    };
    return t;
}

const field_table<transaction_class>& transaction_fields() {
    using T = transaction_class;
    static const field_table<T> t = {
        make_field<&T::name>("name"),
        make_field<&T::weight>("weight", above(0)),
        make_field<&T::queries>("queries", between(1, 100000)),
        make_field<&T::query_time>("query_time"),
        // Read before app_time, written after it (both orders as they always were).
        make_field<&T::pool>("pool").read_only_here(),
        make_field<&T::app_time>("app_time"),
        make_field<&T::pool>("pool").omit_empty().written_only_here(),
        make_field<&T::read_only>("read_only"),
        make_field<&T::leak_probability>("leak_probability", between(0, 1)),
        make_field<&T::leak_hold_time>("leak_hold_time"),
    };
    return t;
}

const field_table<client_settings>& client_fields() {
    using C = client_settings;
    // seeds/004 (EventCore) names the retry settings and the statement timeout differently.
    static const field_table<C> t = {
        make_field<&C::instances>("instances", between(1, 255)),
        make_field<&C::deadline_s>("deadline_s", at_least(0)),
        make_field<&C::patience>("patience"),
        make_field<&C::retry_attempts>("retry_attempts", between(0, 1000)).aka("max_retries", "seeds/004"),
        make_field<&C::initial_retry_delay>("initial_retry_delay", at_least(0)).aka("retry_base_delay", "seeds/004"),
        make_field<&C::max_retry_delay>("max_retry_delay", at_least(0)).aka("retry_max_delay", "seeds/004"),
        make_field<&C::retry_jitter_factor>("retry_jitter_factor", between(0, 1)),
        make_field<&C::retry_multiplier>("retry_multiplier", at_least(1)),
        make_field<&C::circuit_breaker_threshold>("circuit_breaker_threshold", between(0, 1000000)),
        make_field<&C::circuit_breaker_timeout>("circuit_breaker_timeout", above(0)),
        make_field<&C::circuit_breaker_reset>("circuit_breaker_reset", between(1, 1000000)),
        make_field<&C::statement_timeout_s>("statement_timeout_s", at_least(0)).aka("query_timeout", "seeds/004"),
    };
    return t;
}

const field_table<database_settings>& database_fields() {
    using D = database_settings;
    static const field_table<D> t = {
        make_field<&D::cores>("cores", between(0, 1 << 20)),
        make_field<&D::max_connections>("max_connections", between(1, 1 << 24)),
        make_field<&D::connect_time>("connect_time", counted_draws),
        make_field<&D::network_rtt_s>("network_rtt_s", at_least(0)),
        make_field<&D::connect_cpu_s>("connect_cpu_s", at_least(0)),
        make_field<&D::accept_rate_per_s>("accept_rate_per_s", at_least(0)),
        make_field<&D::idle_session_timeout_s>("idle_session_timeout_s", at_least(0)),
        make_field<&D::tcp_keepalive_s>("tcp_keepalive_s", above(0)),
        custom_field<D>("usl", "object or null", read_usl, write_usl, check_usl),
    };
    return t;
}

const field_table<network_settings>& network_fields() {
    using N = network_settings;
    static const field_table<N> t = {
        make_field<&N::nat_idle_timeout_s>("nat_idle_timeout_s", at_least(0)),
        make_field<&N::nat_drop>("nat_drop"),
        make_field<&N::socket_timeout_s>("socket_timeout_s", above(0)),
        make_field<&N::connect_timeout_s>("connect_timeout_s", above(0)),
    };
    return t;
}

const field_table<fault>& fault_fields() {
    static const field_table<fault> t = {
        make_field<&fault::kind>("kind"),
        make_field<&fault::at_s>("at_s", at_least(0)).required("when the fault happens, s"),
        make_field<&fault::duration_s>("duration_s", at_least(0)).when(not_kill).required("how long the fault lasts, s"),
        make_field<&fault::probability>("probability", between(0, 1)).when(connect_errors),
        make_field<&fault::factor>("factor", above(0).at_most(1e6)).when(slows).required("how many times slower"),
        make_field<&fault::fraction>("fraction", between(0, 1)).when(kill),
    };
    return t;
}

const field_table<fleet_event>& fleet_fields() {
    using E = fleet_event;
    static const field_table<E> t = {
        make_field<&E::kind>("kind"),
        make_field<&E::at_s>("at_s", at_least(0)).required("when the event starts, s"),
        make_field<&E::batch>("batch", between(1, 255)).when(rolling),
        make_field<&E::interval_s>("interval_s", above(0)).when(rolling),
        make_field<&E::instances>("instances", between(1, 255)).when(scale).required("the new number of instances"),
        make_field<&E::ready_after_s>("ready_after_s", at_least(0)),
    };
    return t;
}

}  // namespace dbpoolsim::models::detail
