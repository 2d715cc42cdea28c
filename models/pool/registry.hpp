// dbpoolsim models (private): the string-keyed registry of pool kinds. Adding a pool is one
// policy file (algorithm, parameter table, registry entry), one line in DBPOOLSIM_POOL_KINDS
// below and one test file.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "models/field_table.hpp"
#include "models/pool/pool.hpp"

namespace dbpoolsim::models::detail {

struct pool_kind {
    const char* name;
    const char* summary;
    /// Read the members of the "pool" object (all but "kind"); problems go to the reader.
    std::shared_ptr<const pool_params> (*parse)(object_reader& r);
    /// Write the resolved parameters (all but "kind").
    void (*write)(const pool_params& p, json& out);
    /// Check parameters built in C++ (validate): every rule the parser applies, same words.
    void (*check)(const pool_params& p, const std::string& path, problems& out);
    std::unique_ptr<pool_policy> (*make)(const pool_params& p, pool_host& host, std::uint32_t index,
                                         pool_metrics& metrics, sim::random_stream rng);
};

/// The registry entry of a pool whose parameters struct P has a field table: parse, write and
/// check come from the table; `Cross` adds the cross-field rules (min <= max, ...) and
/// `Resolve` the library's own resolution after reading (silent resets); either may be null.
/// `CrossIfClean`: the JSON reader applies `Cross` only when the fields read without problems
/// (the library checks sizes it could parse).
template <class P, const field_table<P>& (*Table)(),
          std::unique_ptr<pool_policy> (*Make)(const P&, pool_host&, std::uint32_t, pool_metrics&,
                                               sim::random_stream),
          void (*Cross)(const P&, const std::string&, problems&) = nullptr,
          void (*Resolve)(object_reader&, P&) = nullptr, bool CrossIfClean = false>
pool_kind table_pool_kind(const char* name, const char* summary) {
    return pool_kind{
        name, summary,
        [](object_reader& r) -> std::shared_ptr<const pool_params> {
            auto p = std::make_shared<P>();
            const std::size_t before = r.sink().list.size();
            read_fields(r, Table(), *p);
            if constexpr (Resolve != nullptr) Resolve(r, *p);
            if constexpr (Cross != nullptr)
                if (!CrossIfClean || r.sink().list.size() == before) Cross(*p, r.path(), r.sink());
            return p;
        },
        [](const pool_params& p, json& o) { write_fields(Table(), dynamic_cast<const P&>(p), o); },
        [](const pool_params& base, const std::string& path, problems& out) {
            const auto* p = dynamic_cast<const P*>(&base);
            if (!p) {
                out.add(path, "parameters of another pool kind than this one");
                return;
            }
            check_fields(Table(), *p, path, out);
            if constexpr (Cross != nullptr) Cross(*p, path, out);
        },
        [](const pool_params& p, pool_host& host, std::uint32_t index, pool_metrics& metrics,
           sim::random_stream rng) { return Make(static_cast<const P&>(p), host, index, metrics, std::move(rng)); }};
}

// Every pool kind, one line each: X(k) names the entry `k_pool_kind()` its policy file defines.
#define DBPOOLSIM_POOL_KINDS(X) \
    X(sqlx)                     \
    X(asyncpg)                  \
    X(psycopg_pool)             \
    X(hikaricp)                 \
    X(sqlalchemy_queuepool)     \
    X(sqlalchemy_asyncadaptedqueuepool) \
    X(go_database_sql)          \
    X(node_postgres)            \
    X(generic)
// Pooler tiers (the scenario's "pooler" section): X(k) names `k_pooler_kind()`.
#define DBPOOLSIM_POOLER_KINDS(X) X(pgbouncer)

#define DBPOOLSIM_DECLARE_POOL_KIND(k) const pool_kind& k##_pool_kind();
DBPOOLSIM_POOL_KINDS(DBPOOLSIM_DECLARE_POOL_KIND)
#undef DBPOOLSIM_DECLARE_POOL_KIND
#define DBPOOLSIM_DECLARE_POOLER_KIND(k) const pool_kind& k##_pooler_kind();
DBPOOLSIM_POOLER_KINDS(DBPOOLSIM_DECLARE_POOLER_KIND)
#undef DBPOOLSIM_DECLARE_POOLER_KIND

const std::vector<pool_kind>& pool_kinds();
const pool_kind* find_pool_kind(std::string_view name);
const std::vector<pool_kind>& pooler_kinds();
const pool_kind* find_pooler_kind(std::string_view name);

}  // namespace dbpoolsim::models::detail
