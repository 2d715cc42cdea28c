// The typed connection reference (models/world/conn_ref.hpp): what an event target carries.
#include <catch2/catch.hpp>

#include "models/world/conn_ref.hpp"

using dbpoolsim::models::world_parts::conn_ref;

TEST_CASE("conn_ref: an event target gives back the same pool and slot", "[world]") {
    for (const conn_ref c : {conn_ref{0, 0}, conn_ref{1, 0}, conn_ref{0, 1}, conn_ref{255, (1u << 24) - 1},
                             conn_ref{17, 123456}}) {
        CHECK(conn_ref::of(c.target()) == c);
    }
    // Distinct references, distinct targets (pool and slot do not overlap).
    CHECK(conn_ref{1, 0}.target() != conn_ref{0, 1}.target());
    CHECK(conn_ref{2, 5}.target() != conn_ref{5, 2}.target());
}

TEST_CASE("conn_ref: a pool or slot that does not fit the target is an internal error", "[world]") {
    CHECK_THROWS_AS((conn_ref{256, 0}.target()), dbpoolsim::internal_error);
    CHECK_THROWS_AS((conn_ref{0, 1u << 24}.target()), dbpoolsim::internal_error);
}
