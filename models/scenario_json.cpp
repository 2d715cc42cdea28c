// The scenario in JSON: strict in, fully resolved out. Each section's fields come from its
// field table (models/scenario_fields.cpp); the cross-field rules are validate()'s
// (models/scenario_validate.cpp), called here where each section is read so that problems
// are listed in reading order.
#include "models/json_text.hpp"
#include "models/pool/generic_pool.hpp"
#include "models/pool/registry.hpp"
#include "models/scenario.hpp"
#include "models/scenario_fields.hpp"
#include "sim/error.hpp"
#include "sim/format.hpp"

namespace dbpoolsim::models {
namespace {

using detail::json;
using detail::object_reader;
using detail::problems;

// ---- sections -----------------------------------------------------------------------------

void read_run(object_reader& r, run_settings& s) {
    read_fields(r, detail::run_fields(), s);
    detail::check_run(s, r.path(), r.sink());
    r.finish();
}

void read_arrivals(object_reader& r, arrival_settings& a) {
    read_fields(r, detail::arrival_fields(), a);
    if (a.kind == arrival_kind::mmpp) {
        bool clean = true;  // NaN marks a field of a state already reported
        for (const auto& st : a.mmpp.states)
            clean = clean && st.rate_per_s == st.rate_per_s && st.mean_holding_s == st.mean_holding_s;
        detail::check_mmpp(a.mmpp, r.path(), r.sink(), clean);
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
                read_fields(tr, detail::transaction_fields(), c);
                tr.finish();
                w.transactions.push_back(std::move(c));
            }
        }
    }
    r.finish();
}

void read_client(object_reader& r, client_settings& c) {
    read_fields(r, detail::client_fields(), c);
    detail::check_client(c, r.path(), r.sink());
    r.finish();
}

void read_database(object_reader& r, database_settings& d) {
    read_fields(r, detail::database_fields(), d);
    detail::check_database(d, r.path(), r.sink());
    r.finish();
}

void read_network(object_reader& r, network_settings& n) {
    read_fields(r, detail::network_fields(), n);
    r.finish();
}

/// The "kind" of an array element (fault, fleet event): false when missing or unknown (the
/// element is then skipped).
template <class E>
bool read_kind(object_reader& r, E& kind) {
    problems& out = r.sink();
    if (!r.has("kind")) {
        out.add(r.at("kind"), "missing (one of " + detail::enum_names_joined<E>() + ")");
        r.know({"kind"});
        return false;
    }
    const std::size_t before = out.list.size();
    std::string name;
    r.string("kind", name, detail::enum_name_list<E>());
    if (out.list.size() != before) return false;
    kind = *detail::enum_value<E>(name);
    return true;
}

/// An array of objects whose first field is "kind" (faults, fleet events).
template <class E>
void read_kinded_array(const json& v, const std::string& path, const char* what,
                       const detail::field_table<E>& table, std::vector<E>& items, problems& out,
                       void (*after_each)(const std::vector<E>&, std::size_t, problems&) = nullptr) {
    if (!v.is_array()) {
        out.add(path, std::string("must be an array of ") + what + ", got " + detail::show(v));
        return;
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
        object_reader r(v[i], path + "/" + std::to_string(i), out);
        if (!r.ok()) continue;
        E e;
        if (!read_kind(r, e.kind)) continue;
        read_fields(r, detail::field_table<E>(table.begin() + 1, table.end()), e);
        r.finish();
        items.push_back(e);
        if (after_each) after_each(items, items.size() - 1, out);
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

void read_pools(const json& v, const std::string& pp, bool has_pool, scenario& s, problems& out) {
    if (has_pool) {
        out.add(pp, "give either pool (one pool per instance) or pools (several), not both");
        return;
    }
    if (!v.is_object() || v.empty()) {
        out.add(pp, "must be an object of named pools, e.g. {\"read\": {...}, \"write\": {...}}, got " + detail::show(v));
        return;
    }
    for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string& name = it.key();
        if (!detail::valid_pool_name(name)) {
            out.add(pp + "/" + name, "pool names are 1-40 letters, digits or _");
            continue;
        }
        named_pool np{name, {}};
        object_reader r(it.value(), pp + "/" + name, out);
        if (r.ok()) read_pool(r, np.settings);
        s.pools.push_back(std::move(np));
    }
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

json pool_json(const pool_settings& ps) {
    json pool;
    pool["kind"] = ps.kind;
    if (const auto* pk = detail::find_pool_kind(ps.kind); pk && ps.params) pk->write(*ps.params, pool);
    return pool;
}

template <class S>
json fields_json(const detail::field_table<S>& table, const S& s) {
    json o = json::object();
    write_fields(table, s, o);
    return o;
}

template <class S>
json array_json(const detail::field_table<S>& table, const std::vector<S>& items) {
    json a = json::array();
    for (const auto& e : items) a.push_back(fields_json(table, e));
    return a;
}

template <class S>
void list_fields(const char* section, const detail::field_table<S>& table, const S& defaults,
                 std::vector<field_info>& out) {
    for (const auto& f : table) {
        json o = json::object();
        if (f.write) f.write(f, defaults, o);
        out.push_back({section, f.name, f.type, o.contains(f.name) ? o[f.name].dump() : "", f.summary});
    }
}

}  // namespace

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
        read_fields(root, detail::scenario_fields(), s);
        auto section = [&](const char* key, auto&& fn) {
            if (const json* v = root.raw(key)) {
                object_reader r(*v, root.at(key), out);
                if (r.ok()) fn(r);
            }
        };
        section("run", [&](object_reader& r) { read_run(r, s.run); });
        section("workload", [&](object_reader& r) { read_workload(r, s.workload); });
        section("client", [&](object_reader& r) { read_client(r, s.client); });
        section("pool", [&](object_reader& r) { read_pool(r, s.pool); });
        if (const json* v = root.raw("pools")) read_pools(*v, root.at("pools"), root.has("pool"), s, out);
        section("database", [&](object_reader& r) { read_database(r, s.database); });
        if (const json* v = root.raw("pooler")) read_pooler(*v, root.at("pooler"), s.pooler, out);
        section("network", [&](object_reader& r) { read_network(r, s.network); });
        if (const json* v = root.raw("faults"))
            read_kinded_array(*v, root.at("faults"), "faults", detail::fault_fields(), s.faults, out);
        if (const json* v = root.raw("fleet"))
            read_kinded_array(*v, root.at("fleet"), "fleet events", detail::fleet_fields(), s.fleet, out,
                              detail::check_fleet_order);
        root.finish();
        load_trace_arrivals(s, base_dir, out);
        detail::check_across_sections(s, out);
    }
    if (!out.list.empty()) throw config_error(out.list);
    return s;
}

json detail::scenario_json_tree(const scenario& s) {
    json j = fields_json(detail::scenario_fields(), s);
    j["run"] = fields_json(detail::run_fields(), s.run);
    j["workload"] = {{"arrivals", fields_json(detail::arrival_fields(), s.workload.arrivals)},
                     {"transactions", array_json(detail::transaction_fields(), s.workload.transactions)}};
    j["client"] = fields_json(detail::client_fields(), s.client);
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
    j["database"] = fields_json(detail::database_fields(), s.database);
    j["network"] = fields_json(detail::network_fields(), s.network);
    j["faults"] = array_json(detail::fault_fields(), s.faults);
    j["fleet"] = array_json(detail::fleet_fields(), s.fleet);
    return j;
}

std::string scenario_to_json(const scenario& s, int indent) {
    return detail::dump_json_text(detail::scenario_json_tree(s), indent);  // polls for Ctrl-C (models/interrupt.hpp)
}

std::vector<field_info> scenario_field_list() {
    std::vector<field_info> out;
    const scenario d = default_scenario();
    list_fields("", detail::scenario_fields(), d, out);
    list_fields("run", detail::run_fields(), d.run, out);
    list_fields("workload.arrivals", detail::arrival_fields(), d.workload.arrivals, out);
    list_fields("workload.arrivals.profile.points", detail::rate_point_fields(), rate_point{}, out);
    list_fields("workload.arrivals.states", detail::mmpp_state_fields(), mmpp_state{}, out);
    list_fields("workload.transactions", detail::transaction_fields(), transaction_class{}, out);
    list_fields("client", detail::client_fields(), d.client, out);
    list_fields("database", detail::database_fields(), d.database, out);
    list_fields("network", detail::network_fields(), d.network, out);
    list_fields("faults", detail::fault_fields(), fault{}, out);
    list_fields("fleet", detail::fleet_fields(), fleet_event{}, out);
    return out;
}

}  // namespace dbpoolsim::models
