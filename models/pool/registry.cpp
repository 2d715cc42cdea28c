#include "models/pool/registry.hpp"

#include <tuple>

#include "models/pool/generic_pool.hpp"
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
    for (auto [alias, canonical, field] :
         {std::tuple{"connection_timeout", "acquisition_timeout", &p->acquisition_timeout},
          std::tuple{"connection_lifetime", "max_lifetime", &p->max_lifetime}}) {
        if (!r.has(alias)) continue;
        if (r.has(canonical)) {
            r.raw(alias);
            r.sink().add(r.at(alias), std::string("is seeds/001's name for ") + canonical +
                                          "; give only one of them");
            continue;
        }
        r.number(alias, *field, 0);
    }
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

}  // namespace

const pool_kind& generic_pool_kind() {
    static const pool_kind k{"generic", "the min/max pool of the seed documents (seeds 000, 001, 004)",
                             parse_generic, write_generic, make_generic};
    return k;
}

const std::vector<pool_kind>& pool_kinds() {
    static const std::vector<pool_kind> kinds = {
        // <pool kinds: one line each>
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
std::vector<std::pair<std::string, std::string>> pool_kind_list() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& k : detail::pool_kinds()) out.emplace_back(k.name, k.summary);
    return out;
}
}  // namespace dbpoolsim::models
