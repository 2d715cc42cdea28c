// dbpoolsim world: a typed reference to one connection of one pool.
//
// The world names a connection by its pool's index and its slot in that pool. An event's
// target is one 32-bit integer, so a reference that rides on an event (a login or a round
// trip finishing, an idle-session timer, a late leak return, a pool timer's argument) is
// encoded there and decoded by the event switch; nowhere else does code see the encoding.
#pragma once

#include <cstdint>

#include "sim/error.hpp"

namespace dbpoolsim::models::world_parts {

struct conn_ref {
    std::uint32_t pool = 0;  ///< index into the world's pools (application pools, then the pooler)
    std::uint32_t conn = 0;  ///< slot in that pool (or a pool timer's argument)

    /// Slots per pool that fit (pool_base's connection table and the request table hold at
    /// most 2^24, which bounds a pool timer's argument too); pools that fit: 2^8.
    static constexpr std::uint32_t conn_bits = 24;
    static constexpr std::uint32_t max_pools = 1u << (32 - conn_bits);

    /// The event target carrying this reference. Always inline (speed): GCC kept it out of
    /// line, a call on every round trip and pool timer.
    [[gnu::always_inline]] std::uint32_t target() const {
        DBPOOLSIM_ASSERT(pool < max_pools && conn < (1u << conn_bits), "conn_ref out of range");
        return pool << conn_bits | conn;
    }
    /// The reference an event target carries (the inverse of target()).
    static conn_ref of(std::uint32_t target) {
        return {target >> conn_bits, target & ((1u << conn_bits) - 1)};
    }
    constexpr bool operator==(const conn_ref&) const = default;
};

}  // namespace dbpoolsim::models::world_parts
