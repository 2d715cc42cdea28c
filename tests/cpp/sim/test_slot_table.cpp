// Specification of sim/slot_table.hpp: reusable dense ids for the world's short-lived records.
//
// Contract under test:
// - ids are handed out densely from 0; a released id is reused before the table grows, the most
//   recently released first (the reuse order is part of every deterministic run);
// - an allocated slot always starts value-initialised, even when its id is reused;
// - `live` counts slots in use, `in_use` tells which; the id limit is enforced with the
//   caller's message; releasing more slots than are in use is an internal error.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "sim/error.hpp"
#include "sim/slot_table.hpp"

using dbpoolsim::sim::slot_table;

namespace {
struct record {
    int value = 7;
    double t = 0;
};
}  // namespace

TEST_CASE("slot_table hands out dense ids and reuses the most recently released first") {
    slot_table<record> s;
    CHECK(s.allocate() == 0);
    CHECK(s.allocate() == 1);
    CHECK(s.allocate() == 2);
    CHECK(s.allocate() == 3);
    CHECK(s.live() == 4);
    s.release(1);
    s.release(3);
    CHECK(s.live() == 2);
    CHECK(s.in_use() == std::vector<bool>{true, false, true, false});
    CHECK(s.allocate() == 3);  // LIFO: the last released
    CHECK(s.allocate() == 1);
    CHECK(s.allocate() == 4);  // nothing free: the table grows
    CHECK(s.size() == 5);
    CHECK(s.live() == 5);
}

TEST_CASE("slot_table resets a reused slot to a value-initialised record") {
    slot_table<record> s;
    const auto a = s.allocate();
    s[a].value = 42;
    s[a].t = 1.5;
    s.release(a);
    CHECK(s[a].value == 42);  // the value stays until the id is handed out again
    const auto b = s.allocate();
    REQUIRE(b == a);
    CHECK(s[b].value == 7);
    CHECK(s[b].t == 0);
}

TEST_CASE("slot_table enforces its id limit with the caller's message") {
    slot_table<int> s(2, "more than 2 things");
    s.allocate();
    s.allocate();
    try {
        s.allocate();
        FAIL("a third slot was handed out");
    } catch (const dbpoolsim::internal_error& e) {
        CHECK(std::string(e.what()).find("more than 2 things") != std::string::npos);
    }
    s.release(0);
    CHECK(s.allocate() == 0);  // a freed id is still available at the limit
}

TEST_CASE("slot_table refuses to release more slots than are in use") {
    slot_table<int> s;
    s.allocate();
    s.release(0);
    CHECK_THROWS_AS(s.release(0), dbpoolsim::internal_error);
    CHECK_THROWS_AS(s.release(5), dbpoolsim::internal_error);
}
