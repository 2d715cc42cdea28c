#include "models/pool/registry.hpp"

#include "models/pool/asyncpg.hpp"
#include "models/pool/generic_pool.hpp"
#include "models/pool/pgbouncer.hpp"
#include "models/pool/hikaricp.hpp"
#include "models/pool/psycopg_pool.hpp"
#include "models/pool/sqlalchemy_queuepool.hpp"
#include "models/pool/sqlx.hpp"
#include "models/scenario.hpp"
#include "sim/format.hpp"

namespace dbpoolsim::models {
namespace detail {
namespace {

// ---- generic (seeds 000, 001, 004) ------------------------------------------------------

std::shared_ptr<const pool_params> parse_generic(object_reader& r) {
    auto p = std::make_shared<generic_pool_params>();
    r.integer("min_connections", p->min_connections, 0, 1 << 24);
    r.integer("max_connections", p->max_connections, 1, 1 << 24);
    r.number("acquisition_timeout", p->acquisition_timeout, 0);
    r.number("idle_timeout", p->idle_timeout, 0);
    r.number("max_lifetime", p->max_lifetime, 0);
    // seeds/001 names two of these differently; accept its names so its configurations paste
    // as they are (the resolved scenario uses seeds/000's names).
    if (r.use_alias("connection_timeout", "acquisition_timeout", "seeds/001"))
        r.number("connection_timeout", p->acquisition_timeout, 0);
    if (r.use_alias("connection_lifetime", "max_lifetime", "seeds/001"))
        r.number("connection_lifetime", p->max_lifetime, 0);
    r.number("idle_cleanup_interval", p->idle_cleanup_interval, 0, false);
    r.boolean("validate_on_borrow", p->validate_on_borrow);
    r.string("validation_query", p->validation_query);
    r.number("validation_timeout", p->validation_timeout, 0, false);
    r.number("health_check_interval", p->health_check_interval, 0);
    r.string("idle_order", p->idle_order, {"lifo", "fifo"});
    if (p->min_connections > p->max_connections)
        r.sink().add(r.at("min_connections"),
                               "must be <= max_connections (" + std::to_string(p->max_connections) +
                                   "), got " + std::to_string(p->min_connections));
    return p;
}

void write_generic(const pool_params& base, json& o) {
    const auto& p = static_cast<const generic_pool_params&>(base);
    o["min_connections"] = p.min_connections;
    o["max_connections"] = p.max_connections;
    o["acquisition_timeout"] = p.acquisition_timeout;
    o["idle_timeout"] = p.idle_timeout;
    o["max_lifetime"] = p.max_lifetime;
    o["idle_cleanup_interval"] = p.idle_cleanup_interval;
    o["validate_on_borrow"] = p.validate_on_borrow;
    o["validation_query"] = p.validation_query;
    o["validation_timeout"] = p.validation_timeout;
    o["health_check_interval"] = p.health_check_interval;
    o["idle_order"] = p.idle_order;
}

std::unique_ptr<pool_policy> make_generic(const pool_params& p, pool_host& host, std::uint32_t index,
                                          pool_metrics& metrics, sim::random_stream rng) {
    return make_generic_pool(static_cast<const generic_pool_params&>(p), host, index, metrics,
                             std::move(rng));
}

// ---- pgbouncer (spec section 3; pgbouncer.ini names and defaults) ---------------------

std::shared_ptr<const pool_params> parse_pgbouncer(object_reader& r) {
    auto p = std::make_shared<pgbouncer_params>();
    r.string("pool_mode", p->pool_mode, {"transaction", "session", "statement"});
    if (p->pool_mode != "transaction")
        r.sink().add(r.at("pool_mode"), "only transaction pooling is modelled, got \"" + p->pool_mode + "\"");
    r.integer("default_pool_size", p->default_pool_size, 1, 1 << 20);
    r.integer("min_pool_size", p->min_pool_size, 0, 1 << 20);
    r.integer("reserve_pool_size", p->reserve_pool_size, 0, 1 << 20);
    r.number("reserve_pool_timeout", p->reserve_pool_timeout, 0);
    r.integer("max_client_conn", p->max_client_conn, 1, 1 << 24);
    r.integer("max_db_connections", p->max_db_connections, 0, 1 << 24);
    r.number("server_idle_timeout", p->server_idle_timeout, 0);
    r.number("server_lifetime", p->server_lifetime, 0);
    r.number("server_connect_timeout", p->server_connect_timeout, 0, false);
    r.number("server_login_retry", p->server_login_retry, 0);
    r.number("query_wait_timeout", p->query_wait_timeout, 0);
    r.number("server_check_delay", p->server_check_delay, 0);
    r.string("server_check_query", p->server_check_query);
    r.boolean("server_round_robin", p->server_round_robin);
    r.number("cpu_per_transaction_s", p->cpu_per_transaction_s, 0);
    if (const json* d = r.raw("client_connect_time")) {
        auto parsed = parse_distribution_at(*d, r.at("client_connect_time"), r.sink());
        if (parsed) p->client_connect_time = *parsed;
    }
    return p;
}

void write_pgbouncer(const pool_params& base, json& o) {
    const auto& p = static_cast<const pgbouncer_params&>(base);
    o["pool_mode"] = p.pool_mode;
    o["default_pool_size"] = p.default_pool_size;
    o["min_pool_size"] = p.min_pool_size;
    o["reserve_pool_size"] = p.reserve_pool_size;
    o["reserve_pool_timeout"] = p.reserve_pool_timeout;
    o["max_client_conn"] = p.max_client_conn;
    o["max_db_connections"] = p.max_db_connections;
    o["server_idle_timeout"] = p.server_idle_timeout;
    o["server_lifetime"] = p.server_lifetime;
    o["server_connect_timeout"] = p.server_connect_timeout;
    o["server_login_retry"] = p.server_login_retry;
    o["query_wait_timeout"] = p.query_wait_timeout;
    o["server_check_delay"] = p.server_check_delay;
    o["server_check_query"] = p.server_check_query;
    o["server_round_robin"] = p.server_round_robin;
    o["client_connect_time"] = distribution_to_json(p.client_connect_time);
    o["cpu_per_transaction_s"] = p.cpu_per_transaction_s;
}

std::unique_ptr<pool_policy> make_pgbouncer_kind(const pool_params& p, pool_host& host,
                                                 std::uint32_t index, pool_metrics& metrics,
                                                 sim::random_stream rng) {
    return make_pgbouncer(static_cast<const pgbouncer_params&>(p), host, index, metrics, std::move(rng));
}

}  // namespace

const std::vector<pool_kind>& pooler_kinds() {
    static const std::vector<pool_kind> kinds = {
        {"pgbouncer", "PgBouncer in transaction pooling mode, shared by every application instance",
         parse_pgbouncer, write_pgbouncer, make_pgbouncer_kind},
    };
    return kinds;
}

const pool_kind* find_pooler_kind(std::string_view name) {
    for (const auto& k : pooler_kinds())
        if (name == k.name) return &k;
    return nullptr;
}

const pool_kind& generic_pool_kind() {
    static const pool_kind k{"generic", "the min/max pool of the seed documents (seeds 000, 001, 004)",
                             parse_generic, write_generic, make_generic};
    return k;
}

const std::vector<pool_kind>& pool_kinds() {
    static const std::vector<pool_kind> kinds = {
        // <pool kinds: one line each>
        sqlx_pool_kind(),
        asyncpg_pool_kind(),
        psycopg_pool_pool_kind(),
        hikaricp_pool_kind(),
        sqlalchemy_queuepool_pool_kind(),
        sqlalchemy_asyncadaptedqueuepool_pool_kind(),
        generic_pool_kind(),
    };
    return kinds;
}

const pool_kind* find_pool_kind(std::string_view name) {
    for (const auto& k : pool_kinds())
        if (name == k.name) return &k;
    return nullptr;
}

}  // namespace detail

std::unique_ptr<pool_policy> make_pool(const pool_settings& s, pool_host& host, std::uint32_t index,
                                       pool_metrics& metrics, sim::random_stream rng) {
    const auto* k = detail::find_pool_kind(s.kind);
    if (!k) throw error("/pool/kind: unknown pool kind \"" + s.kind + "\"");
    DBPOOLSIM_ASSERT(s.params != nullptr, "pool settings without parameters");
    return k->make(*s.params, host, index, metrics, std::move(rng));
}

}  // namespace dbpoolsim::models

namespace dbpoolsim::models {
std::unique_ptr<pooler_policy> make_pooler(const pooler_settings& s, pool_host& host, std::uint32_t index,
                                           pool_metrics& metrics, sim::random_stream rng) {
    const auto* k = detail::find_pooler_kind(s.kind);
    if (!k) throw error("/pooler/kind: unknown pooler kind \"" + s.kind + "\"");
    std::unique_ptr<pool_policy> p = k->make(*s.params, host, index, metrics, std::move(rng));
    auto* tier = dynamic_cast<pooler_policy*>(p.get());
    DBPOOLSIM_ASSERT(tier != nullptr, "pooler kind does not make a pooler_policy");
    p.release();
    return std::unique_ptr<pooler_policy>(tier);
}

std::vector<std::pair<std::string, std::string>> pool_kind_list() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& k : detail::pool_kinds()) out.emplace_back(k.name, k.summary);
    return out;
}
}  // namespace dbpoolsim::models
