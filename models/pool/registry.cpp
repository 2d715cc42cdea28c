#include "models/pool/registry.hpp"

#include "models/scenario.hpp"
#include "sim/error.hpp"

namespace dbpoolsim::models {
namespace detail {

const std::vector<pool_kind>& pooler_kinds() {
#define DBPOOLSIM_POOLER_ENTRY(k) k##_pooler_kind(),
    static const std::vector<pool_kind> kinds = {DBPOOLSIM_POOLER_KINDS(DBPOOLSIM_POOLER_ENTRY)};
#undef DBPOOLSIM_POOLER_ENTRY
    return kinds;
}

const pool_kind* find_pooler_kind(std::string_view name) {
    for (const auto& k : pooler_kinds())
        if (name == k.name) return &k;
    return nullptr;
}

const std::vector<pool_kind>& pool_kinds() {
#define DBPOOLSIM_POOL_ENTRY(k) k##_pool_kind(),
    static const std::vector<pool_kind> kinds = {DBPOOLSIM_POOL_KINDS(DBPOOLSIM_POOL_ENTRY)};
#undef DBPOOLSIM_POOL_ENTRY
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
