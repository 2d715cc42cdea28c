// dbpoolsim models (private): the string-keyed registry of pool kinds. Adding a pool is one
// policy file, one entry in registry.cpp and one test file.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "models/json_reader.hpp"
#include "models/pool/pool.hpp"

namespace dbpoolsim::models::detail {

struct pool_kind {
    const char* name;
    const char* summary;
    /// Read the members of the "pool" object (all but "kind"); problems go to the reader.
    std::shared_ptr<const pool_params> (*parse)(object_reader& r);
    /// Write the resolved parameters (all but "kind").
    void (*write)(const pool_params& p, json& out);
    std::unique_ptr<pool_policy> (*make)(const pool_params& p, pool_host& host, std::uint32_t index,
                                         pool_metrics& metrics, sim::random_stream rng);
};

const std::vector<pool_kind>& pool_kinds();
/// Pooler tiers (the scenario's "pooler" section): today PgBouncer.
const std::vector<pool_kind>& pooler_kinds();
const pool_kind* find_pooler_kind(std::string_view name);

// Each policy file defines its registry entry; registry.cpp lists them (one line each).
// <pool kind declarations: one line each>
const pool_kind& sqlx_pool_kind();
const pool_kind& asyncpg_pool_kind();
const pool_kind& psycopg_pool_pool_kind();
const pool_kind& hikaricp_pool_kind();
const pool_kind& sqlalchemy_queuepool_pool_kind();
const pool_kind& sqlalchemy_asyncadaptedqueuepool_pool_kind();
const pool_kind& generic_pool_kind();
const pool_kind* find_pool_kind(std::string_view name);

}  // namespace dbpoolsim::models::detail
