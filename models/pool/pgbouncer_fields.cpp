// PgBouncer's scenario fields (the "pooler" section): pgbouncer.ini's names, units (seconds)
// and defaults (src/main.c config table, doc/config.md), its [databases] and [users] entries,
// and dbpoolsim's `clients` routes (which application pools log in as which database/user).
#include <cmath>

#include "models/pool/pgbouncer.hpp"
#include "models/pool/registry.hpp"

namespace dbpoolsim::models {
namespace detail {
namespace {

/// pool_mode is one of PgBouncer's three; statement pooling is not modelled. `at`: its JSON path.
void transaction_pooling_only(const pgbouncer_params& p, const std::string& at, problems& out) {
    if (p.pool_mode == "statement")
        out.add(at, "only transaction and session pooling are modelled, got \"" + p.pool_mode + "\"");
}

// ---- [databases] and [users]: {"<name>": {settings}} -----------------------------------------

const field_table<pgbouncer_database>& database_entry_fields() {
    using D = pgbouncer_database;
    static const field_table<D> t = {
        make_field<&D::pool_size>("pool_size", between(-1, 1 << 20)),
        make_field<&D::min_pool_size>("min_pool_size", between(-1, 1 << 20)),
        make_field<&D::reserve_pool_size>("reserve_pool_size", between(-1, 1 << 20)),
        make_field<&D::max_db_connections>("max_db_connections", between(0, 1 << 24)),
    };
    return t;
}

const field_table<pgbouncer_user>& user_entry_fields() {
    using U = pgbouncer_user;
    static const field_table<U> t = {
        make_field<&U::pool_size>("pool_size", between(-1, 1 << 20)),
        make_field<&U::reserve_pool_size>("reserve_pool_size", between(-1, 1 << 20)),
        make_field<&U::max_user_connections>("max_user_connections", between(0, 1 << 24)),
    };
    return t;
}

/// An object of named entries, each read with `table` (a name may not be empty).
template <class E>
void read_named(object_reader& r, const std::string& key, const field_table<E>& table, std::vector<E>& out,
                const char* what) {
    out.clear();
    const json* v = r.raw(key);
    if (!v) return;
    if (!v->is_object()) {
        r.sink().add(r.at(key), std::string("must be an object of ") + what + ", got " + show(*v));
        return;
    }
    for (auto it = v->begin(); it != v->end(); ++it) {
        if (it.key().empty()) {
            r.sink().add(r.at(key), "an entry's name must not be empty, got \"\"");
            continue;
        }
        object_reader e(it.value(), r.at(key) + "/" + it.key(), r.sink());
        if (!e.ok()) continue;
        E entry;
        entry.name = it.key();
        read_fields(e, table, entry);
        e.finish();
        out.push_back(entry);
    }
}

template <class E>
void write_named(const field_table<E>& table, const std::vector<E>& in, json& o) {
    o = json::object();
    for (const auto& e : in) {
        json j;
        write_fields(table, e, j);
        o[e.name] = j;
    }
}

template <class E>
void check_named(const field_table<E>& table, const std::vector<E>& in, const std::string& at, problems& out) {
    for (const auto& e : in) {
        if (e.name.empty()) out.add(at, "an entry's name must not be empty, got \"\"");
        else check_fields(table, e, at + "/" + e.name, out);
    }
}

// ---- clients: [{"pool": .., "instances": [..], "database": .., "user": ..}] ------------------

constexpr int max_instance = 254;  // client.instances is at most 255

void read_instances(object_reader& r, const std::string& key, const field<pgbouncer_client_route>&,
                    pgbouncer_client_route& c) {
    const json* v = r.raw(key);
    if (!v) return;
    const std::string rule = "must be an array of instance indexes (integers 0.." + std::to_string(max_instance) + ")";
    if (!v->is_array()) {
        r.sink().add(r.at(key), rule + ", got " + show(*v));
        return;
    }
    for (std::size_t i = 0; i < v->size(); ++i) {
        const json& x = (*v)[i];
        if (!x.is_number_integer() || x.get<long long>() < 0 || x.get<long long>() > max_instance) {
            r.sink().add(r.at(key) + "/" + std::to_string(i), rule + ", got " + show(x));
            continue;
        }
        c.instances.push_back(x.get<int>());
    }
}

void check_instances(const field<pgbouncer_client_route>&, const pgbouncer_client_route& c, const std::string& at,
                     problems& out) {
    for (std::size_t i = 0; i < c.instances.size(); ++i)
        if (c.instances[i] < 0 || c.instances[i] > max_instance)
            out.add(at + "/" + std::to_string(i), "must be an instance index (0.." + std::to_string(max_instance) +
                                                      "), got " + std::to_string(c.instances[i]));
}

void check_name(const field<pgbouncer_client_route>& f, const pgbouncer_client_route& c, const std::string& at,
                problems& out) {
    const std::string& v = std::string(f.name) == "database" ? c.database : c.user;
    if (v.empty()) out.add(at, "must not be empty, got \"\"");
}

void read_name(object_reader& r, const std::string& key, const field<pgbouncer_client_route>& f,
               pgbouncer_client_route& c) {
    std::string& v = key == "database" ? c.database : c.user;
    const std::size_t before = r.sink().list.size();
    r.string(key, v);
    if (r.sink().list.size() == before && v.empty()) r.sink().add(r.at(key), "must not be empty, got \"\"");
    (void)f;
}

const field_table<pgbouncer_client_route>& route_fields() {
    using C = pgbouncer_client_route;
    static const field_table<C> t = {
        make_field<&C::pool>("pool").omit_empty(),
        custom_field<C>("instances", "array of integers", read_instances,
                        [](const field<C>& f, const C& c, json& o) {
                            if (!c.instances.empty()) o[f.name] = c.instances;
                        },
                        check_instances),
        make_field<&C::database>("database").reading(read_name).checking(check_name),
        make_field<&C::user>("user").reading(read_name).checking(check_name),
    };
    return t;
}

using P = pgbouncer_params;

void read_databases(object_reader& r, const std::string& key, const field<P>&, P& p) {
    read_named(r, key, database_entry_fields(), p.databases, "databases {\"<name>\": {pool_size, ...}}");
}
void read_users(object_reader& r, const std::string& key, const field<P>&, P& p) {
    read_named(r, key, user_entry_fields(), p.users, "users {\"<name>\": {pool_size, ...}}");
}
void read_clients(object_reader& r, const std::string& key, const field<P>&, P& p) {
    p.clients.clear();
    const json* v = r.raw(key);
    if (!v) return;
    if (!v->is_array()) {
        r.sink().add(r.at(key), "must be an array of routes {\"pool\", \"instances\", \"database\", \"user\"}, got " + show(*v));
        return;
    }
    for (std::size_t i = 0; i < v->size(); ++i) {
        object_reader e((*v)[i], r.at(key) + "/" + std::to_string(i), r.sink());
        if (!e.ok()) continue;
        pgbouncer_client_route c;
        read_fields(e, route_fields(), c);
        e.finish();
        p.clients.push_back(c);
    }
}
void write_clients(const field<P>& f, const P& p, json& o) {
    json a = json::array();
    for (const auto& c : p.clients) {
        json j;
        write_fields(route_fields(), c, j);
        a.push_back(j);
    }
    o[f.name] = a;
}
void check_clients(const field<P>&, const P& p, const std::string& at, problems& out) {
    for (std::size_t i = 0; i < p.clients.size(); ++i) check_fields(route_fields(), p.clients[i], at + "/" + std::to_string(i), out);
}

const field_table<pgbouncer_params>& pgbouncer_fields() {
    static const field_table<P> t = {
        make_field<&P::pool_mode>("pool_mode")
            .one_of({"transaction", "session", "statement"})
            .reading([](object_reader& r, const std::string& key, const field<P>& f, P& p) {
                r.string(key, p.pool_mode, f.allowed);
                transaction_pooling_only(p, r.at(key), r.sink());
            })
            .checking([](const field<P>& f, const P& p, const std::string& at, problems& out) {
                if (auto broken = fields_impl::check_value(f.limits, f.allowed, p.pool_mode); !broken.empty())
                    out.add(at, broken);
                transaction_pooling_only(p, at, out);
            }),
        make_field<&P::default_pool_size>("default_pool_size", between(1, 1 << 20)),
        make_field<&P::min_pool_size>("min_pool_size", between(0, 1 << 20)),
        make_field<&P::reserve_pool_size>("reserve_pool_size", between(0, 1 << 20)),
        make_field<&P::reserve_pool_timeout>("reserve_pool_timeout", at_least(0)),
        make_field<&P::max_client_conn>("max_client_conn", between(1, 1 << 24)),
        make_field<&P::max_db_connections>("max_db_connections", between(0, 1 << 24)),
        make_field<&P::max_user_connections>("max_user_connections", between(0, 1 << 24)),
        make_field<&P::server_idle_timeout>("server_idle_timeout", at_least(0)),
        make_field<&P::server_lifetime>("server_lifetime", at_least(0)),
        make_field<&P::server_connect_timeout>("server_connect_timeout", above(0)),
        make_field<&P::server_login_retry>("server_login_retry", at_least(0)),
        make_field<&P::query_wait_timeout>("query_wait_timeout", at_least(0)),
        make_field<&P::server_check_delay>("server_check_delay", at_least(0)),
        make_field<&P::server_check_query>("server_check_query"),
        make_field<&P::server_round_robin>("server_round_robin"),
        make_field<&P::server_reset_query>("server_reset_query"),
        make_field<&P::server_reset_query_always>("server_reset_query_always"),
        make_field<&P::client_connect_time>("client_connect_time"),
        make_field<&P::cpu_per_transaction_s>("cpu_per_transaction_s", at_least(0)),
        custom_field<P>("databases", "object of named entries", read_databases,
                        [](const field<P>& f, const P& p, json& o) { write_named(database_entry_fields(), p.databases, o[f.name]); },
                        [](const field<P>&, const P& p, const std::string& at, problems& out) {
                            check_named(database_entry_fields(), p.databases, at, out);
                        }),
        custom_field<P>("users", "object of named entries", read_users,
                        [](const field<P>& f, const P& p, json& o) { write_named(user_entry_fields(), p.users, o[f.name]); },
                        [](const field<P>&, const P& p, const std::string& at, problems& out) {
                            check_named(user_entry_fields(), p.users, at, out);
                        }),
        custom_field<P>("clients", "array of routes", read_clients, write_clients, check_clients),
    };
    return t;
}

std::unique_ptr<pool_policy> make_pgbouncer_tier(const pgbouncer_params& p, pool_host& host, std::uint32_t index,
                                                 pool_metrics& metrics, sim::random_stream rng) {
    return make_pgbouncer(p, host, index, metrics, std::move(rng));
}

}  // namespace

const pool_kind& pgbouncer_pooler_kind() {
    static const pool_kind k =
        table_pool_kind<pgbouncer_params, pgbouncer_fields, make_pgbouncer_tier>(
            "pgbouncer", "PgBouncer in transaction or session pooling mode, shared by every application instance");
    return k;
}

}  // namespace detail
}  // namespace dbpoolsim::models
