// psycopg_pool's hand-off latency (`wakeup_latency_s`, issue 13): `_add_to_pool` gives the
// connection to the oldest waiter with WaitingClient.set, and the waiter's thread runs later.
// Event by event on the scripted host (tests/cpp/support/scripted_host.hpp): logins take
// 0.1 s, round trips 10 ms; constant times make every number exact.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "models/pool/psycopg_pool.hpp"
#include "support/scenarios.hpp"
#include "support/psycopg_world.hpp"

using namespace dbpoolsim;

namespace {

using script_world = test::psycopg_world;  // tests/cpp/support/psycopg_world.hpp

/// A fixed pool of one connection (ready at 0.1), acquire timeout 0.45 s. A arrives at 1.0 and
/// holds 0.5 s; B arrives at 1.1 (deadline 1.55) and holds 0.2 s; C arrives at 1.52.
struct one_conn {
    models::psycopg_pool_params p;
    explicit one_conn(double latency_s, bool set_field = true) {
        p.min_size = 1;
        p.timeout = 0.45;
        if (set_field) p.wakeup_latency_s = latency_s;
    }
};

void script_abc(script_world& w) {
    w.hold = [](std::uint32_t req) { return req == 1 ? 0.2 : 0.5; };
    w.arrive_at(1.0, 0);
    w.arrive_at(1.1, 1);
    w.arrive_at(1.52, 2);
}

struct grant_t {
    std::uint32_t req;
    double t;
};

std::vector<grant_t> grants_of(const script_world& w) {
    std::vector<grant_t> v;
    for (const auto& g : w.grants) v.push_back({g.req, g.t});
    return v;
}

}  // namespace

TEST_CASE("with wakeup_latency_s the woken waiter is granted that much after the return, keeps the connection, and outlives its deadline",
          "[pool][psycopg_pool]") {
    // A's return at 1.5 sets B (waiting since 1.1); B's thread runs at 1.6, past its
    // deadline of 1.55: set() won, so no PoolTimeout. C, arriving at 1.52, finds nothing
    // idle (the connection is B's) and waits; B's return at 1.8 sets C, which runs at 1.9.
    script_world w(one_conn(0.1).p);
    script_abc(w);
    models::pool_counts during{};
    w.at(1.55, [&] { during = w.counts(); });
    w.run(5);
    REQUIRE(w.grants.size() == 3);
    CHECK(w.granted() == std::vector<std::uint32_t>{0, 1, 2});
    CHECK(w.grants[0].t == Approx(1.0));
    CHECK(w.grants[1].t == Approx(1.6));
    CHECK(w.grants[2].t == Approx(1.9));
    CHECK(w.fails.empty());
    // During B's hand-off the connection is neither idle nor in use, and C waits.
    CHECK(during.total == 1);
    CHECK(during.idle == 0);
    CHECK(during.in_use == 0);
    CHECK(during.checking == 1);
    CHECK(during.waiters == 1);
    CHECK(w.counts().idle == 1);  // C returned it at 2.4 with nobody waiting
}

TEST_CASE("wakeup_latency_s 0 is the instant hand-off: the same timeline as without the field",
          "[pool][psycopg_pool]") {
    // A returns at 1.5 and B has it at once (release 1.7); C (1.52) gets it at 1.7.
    script_world zero(one_conn(0).p), unset(one_conn(0, false).p);
    script_abc(zero);
    script_abc(unset);
    zero.run(5);
    unset.run(5);
    REQUIRE(zero.grants.size() == 3);
    CHECK(zero.grants[1].t == Approx(1.5));
    CHECK(zero.grants[2].t == Approx(1.7));
    CHECK(zero.fails.empty());
    const auto a = grants_of(zero), b = grants_of(unset);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(a[i].req == b[i].req);
        CHECK(a[i].t == b[i].t);  // bit for bit
    }
}

TEST_CASE("a new connection is handed off too, and the check callback runs when the client does",
          "[pool][psycopg_pool]") {
    SECTION("a growth login") {
        // min 1 / max 2, latency 50 ms: A takes the idle connection at 1.0; B queues at 1.1 and
        // starts a growth login, which ends at 1.2 and goes to B, who runs at 1.25.
        models::psycopg_pool_params p;
        p.min_size = 1;
        p.max_size = 2;
        p.wakeup_latency_s = 0.05;
        script_world w(p);
        w.arrive_at(1.0, 0);
        w.arrive_at(1.1, 1);
        w.run(5);
        REQUIRE(w.grants.size() == 2);
        CHECK(w.grants[1].req == 1);
        CHECK(w.grants[1].t == Approx(1.25));
        CHECK(w.opens.size() == 2);
    }
    SECTION("check") {
        // A: check 1.0-1.01, granted 1.01, returns 1.51 to B, who runs at 1.61 and checks
        // until 1.62.
        models::psycopg_pool_params p;
        p.min_size = 1;
        p.check = true;
        p.wakeup_latency_s = 0.1;
        script_world w(p);
        w.hold = [](std::uint32_t) { return 0.5; };
        w.arrive_at(1.0, 0);
        w.arrive_at(1.1, 1);
        w.run(5);
        REQUIRE(w.grants.size() == 2);
        REQUIRE(w.round_trips.size() == 2);
        CHECK(w.round_trips[1].t == Approx(1.61));
        CHECK(w.grants[1].t == Approx(1.62));
    }
}

TEST_CASE("a client cancelled during its hand-off lets go, and a worker returns the connection",
          "[pool][psycopg_pool]") {
    // Latency 0.1, timeout 30: A holds 1.0-1.5, B waits from 1.1 and is set at 1.5; its caller
    // gives up at 1.55 (getconn's `if pos.conn: run_task(ReturnConnection(...))`). B gets
    // neither a connection nor a failure; the worker puts the connection back at 1.55.
    models::psycopg_pool_params p;
    p.min_size = 1;
    p.wakeup_latency_s = 0.1;
    SECTION("nobody waits: it is idle again, and a newcomer takes it at once") {
        script_world w(p);
        w.hold = [](std::uint32_t) { return 0.5; };
        w.arrive_at(1.0, 0);
        w.arrive_at(1.1, 1);
        w.cancel_at(1.55, 1);
        w.arrive_at(1.56, 2);
        w.run(5);
        CHECK(w.cancelled == std::vector<bool>{true});
        CHECK(w.out.count(1) == 0);
        REQUIRE(w.grants.size() == 2);
        CHECK(w.grants[1].req == 2);
        CHECK(w.grants[1].t == Approx(1.56));
        CHECK(w.fails.empty());
    }
    SECTION("another client waits: it is set in turn") {
        script_world w(p);
        w.hold = [](std::uint32_t) { return 0.5; };
        w.arrive_at(1.0, 0);
        w.arrive_at(1.1, 1);
        w.arrive_at(1.2, 2);
        w.cancel_at(1.55, 1);
        w.run(5);
        CHECK(w.cancelled == std::vector<bool>{true});
        REQUIRE(w.grants.size() == 2);
        CHECK(w.grants[1].req == 2);
        CHECK(w.grants[1].t == Approx(1.65));
    }
}

TEST_CASE("in the world, each hand-off to a waiter adds wakeup_latency_s", "[pool][psycopg_pool]") {
    // The default fixed pool of 4, 10 requests of 0.5 s at t = 1: 4 served at 1.0, 4 waiters
    // set at 1.5 (run at 1.51), 2 set at 2.01 (run at 2.02): the longest wait 1020 ms.
    constexpr test::timeline_with scenario{0.01};
    const std::string burst = R"({"kind": "burst", "count": 10, "at_s": 1, "every_s": 0})";
    const auto r = models::run_replication(
        scenario(burst, R"({"kind": "psycopg_pool", "wakeup_latency_s": 0.01})", test::db(0.1), 0.5, 3.0), 0);
    CHECK(r.metric("completed") == 10);
    CHECK(r.metric("wait_time_max_ms") == Approx(1020).margin(1e-6));
}

TEST_CASE("psycopg_pool's wakeup_latency_s is a number >= 0", "[pool][psycopg_pool]") {
    CHECK(test::pool_problems(R"({"kind": "psycopg_pool", "wakeup_latency_s": -0.5})") ==
          std::vector<std::string>{"/pool/wakeup_latency_s: must be >= 0, got -0.5"});
    CHECK(test::pool_problems(R"({"kind": "psycopg_pool", "wakeup_latency_s": "fast"})") ==
          std::vector<std::string>{"/pool/wakeup_latency_s: must be a number, got a string \"fast\""});
    CHECK(test::pool_problems(R"({"kind": "psycopg_pool", "wakeup_latency_s": 0.0005})").empty());
    CHECK(test::pool_params<models::psycopg_pool_params>(R"({"kind": "psycopg_pool", "wakeup_latency_s": 0.0005})")
              .wakeup_latency_s == 0.0005);
}
