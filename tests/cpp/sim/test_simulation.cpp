// Specification of sim/simulation.hpp: the clock and the event loop of one run.
//
// The tests follow SimPy's style: a small model records a timeline of (now, what happened) and
// the test compares it with the expected timeline. Contract under test (header comment):
// - time never decreases; scheduling before now() (or at NaN) throws internal_error;
// - run_until(t) processes every event with time < t in (time, sequence) order, including the
//   events handlers schedule before t, then sets now() = t; events at exactly t stay pending,
//   so run_until(a); run_until(b) is the same as run_until(b);
// - stop() from a handler ends run_until after the current event, now() stays at its time;
// - a simulation has no global state: several can run at once in different threads.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <thread>
#include <tuple>
#include <vector>

#include "sim/error.hpp"
#include "sim/random.hpp"
#include "sim/simulation.hpp"

using dbpoolsim::internal_error;
using dbpoolsim::sim::event;
using dbpoolsim::sim::infinity;
using dbpoolsim::sim::simulation;
using dbpoolsim::sim::timer_handle;

namespace {

struct entry {
    double time;
    std::uint32_t kind;
    std::uint32_t target;
    bool operator==(const entry& o) const {
        return time == o.time && kind == o.kind && target == o.target;
    }
};
using timeline = std::vector<entry>;

// A handler that only records.
struct recorder {
    simulation& sim;
    timeline& log;
    void operator()(const event& e) { log.push_back({sim.now(), e.kind, e.target}); }
};

// A small self-driving model used to compare different ways of running the same schedule:
// `clients` clients each alternate "think" (kind 0) and "work" (kind 1) with pseudo-random
// durations from a keyed engine (so durations do not depend on the processing order), and
// every work phase has a timeout timer (kind 2) that is cancelled when the work completes
// first.
struct toy_model {
    simulation& sim;
    timeline& log;
    std::vector<timer_handle> timeouts;
    std::vector<std::uint64_t> step_of;
    bool lanes;  // timeouts in one FIFO lane per client instead of the heap

    toy_model(simulation& s, timeline& l, std::uint32_t clients, bool use_lanes = false)
        : sim(s), log(l), timeouts(clients), step_of(clients, 0), lanes(use_lanes) {
        for (std::uint32_t c = 0; c < clients; ++c) sim.schedule_at(0.0, 0, c);
    }
    double duration(std::uint32_t client) {
        dbpoolsim::sim::keyed_engine eng(client, step_of[client]++);
        // quarter-unit grid so that many events tie
        return static_cast<double>(eng() % 8) * 0.25;
    }
    void operator()(const event& e) {
        log.push_back({sim.now(), e.kind, e.target});
        switch (e.kind) {
            case 0:  // think done: start work, arm a timeout
                sim.schedule_after(duration(e.target), 1, e.target);
                timeouts[e.target] = lanes ? sim.fifo_timer_at(e.target, sim.now() + 1.5, 2, e.target)
                                           : sim.timer_after(1.5, 2, e.target);
                break;
            case 1:  // work done: cancel the timeout if it has not fired, think again
                sim.cancel(timeouts[e.target]);
                sim.schedule_after(duration(e.target), 0, e.target);
                break;
            default:  // timeout fired
                break;
        }
    }
};

timeline run_toy(double split, double horizon, std::uint32_t clients = 5, bool lanes = false) {
    simulation sim;
    timeline log;
    toy_model m(sim, log, clients, lanes);
    if (split >= 0) sim.run_until(split, m);
    sim.run_until(horizon, m);
    return log;
}

}  // namespace

TEST_CASE("run_until hands events over in time order and now() is each event's time",
          "[kernel][simulation]") {
    simulation sim;
    timeline log;
    sim.schedule_at(3.0, 1, 30);
    sim.schedule_at(1.0, 1, 10);
    sim.schedule_at(2.0, 2, 20);
    CHECK(sim.now() == 0.0);
    CHECK(sim.pending_events() == 3u);
    CHECK(sim.peek() == 1.0);

    CHECK(sim.run_until(10.0, recorder{sim, log}));
    CHECK(log == timeline{{1.0, 1, 10}, {2.0, 2, 20}, {3.0, 1, 30}});
    CHECK(sim.now() == 10.0);
    CHECK(sim.events_processed() == 3u);
    CHECK(sim.pending_events() == 0u);
    CHECK(sim.peek() == infinity);
}

TEST_CASE("Events at the same time run in scheduling order, also when scheduled by a handler",
          "[kernel][simulation]") {
    simulation sim;
    timeline log;
    // Two events at t=1 scheduled up front; the first one schedules two more "now" (t=1) and
    // one at t=1 via schedule_after(0): all three must run after the second original event.
    sim.schedule_at(1.0, 0, 1);
    sim.schedule_at(1.0, 0, 2);
    sim.schedule_at(2.0, 0, 9);
    auto handler = [&](const event& e) {
        log.push_back({sim.now(), e.kind, e.target});
        if (e.target == 1) {
            sim.schedule_at(1.0, 1, 3);
            sim.schedule_after(0.0, 1, 4);
            sim.timer_after(0.0, 1, 5);
        }
        if (e.target == 4) sim.schedule_at(1.0, 2, 6);  // chained: still before t=2
    };
    sim.run_until(5.0, handler);
    CHECK(log == timeline{{1.0, 0, 1},
                          {1.0, 0, 2},
                          {1.0, 1, 3},
                          {1.0, 1, 4},
                          {1.0, 1, 5},
                          {1.0, 2, 6},
                          {2.0, 0, 9}});
}

TEST_CASE("run_until(t) processes events before t, leaves events at t pending and sets now() = t",
          "[kernel][simulation]") {
    simulation sim;
    timeline log;
    sim.schedule_at(0.0, 0, 0);
    sim.schedule_at(1.0, 0, 1);
    sim.schedule_at(2.0, 0, 2);
    sim.schedule_at(std::nextafter(2.0, 0.0), 0, 3);  // just before 2
    sim.schedule_at(std::nextafter(2.0, 3.0), 0, 4);  // just after 2

    CHECK(sim.run_until(2.0, recorder{sim, log}));
    CHECK(log == timeline{{0.0, 0, 0}, {1.0, 0, 1}, {std::nextafter(2.0, 0.0), 0, 3}});
    CHECK(sim.now() == 2.0);
    CHECK(sim.pending_events() == 2u);
    CHECK(sim.peek() == 2.0);

    SECTION("an event a handler schedules at exactly t also stays pending") {
        simulation s2;
        timeline l2;
        s2.schedule_at(0.5, 0, 0);
        s2.run_until(1.0, [&](const event& e) {
            l2.push_back({s2.now(), e.kind, e.target});
            s2.schedule_at(1.0, 1, 1);
        });
        CHECK(l2 == timeline{{0.5, 0, 0}});
        CHECK(s2.pending_events() == 1u);
        CHECK(s2.now() == 1.0);
    }
    SECTION("run_until(now()) processes nothing") {
        CHECK(sim.run_until(2.0, recorder{sim, log}));
        CHECK(log.size() == 3u);
        CHECK(sim.now() == 2.0);
    }
    SECTION("the events at t are processed by the next run_until") {
        CHECK(sim.run_until(3.0, recorder{sim, log}));
        CHECK(log.size() == 5u);
        CHECK(log[3] == entry{2.0, 0, 2});
        CHECK(log[4] == entry{std::nextafter(2.0, 3.0), 0, 4});
        CHECK(sim.now() == 3.0);
    }
    SECTION("an empty queue still advances the clock") {
        simulation idle;
        CHECK(idle.run_until(42.0, [](const event&) {}));
        CHECK(idle.now() == 42.0);
        CHECK(idle.events_processed() == 0u);
    }
}

TEST_CASE("run_until(a) then run_until(b) gives the same timeline as run_until(b)",
          "[kernel][simulation]") {
    const double horizon = 50.0;
    const timeline whole = run_toy(-1, horizon);
    REQUIRE(whole.size() > 200u);
    // check that the model exercised timeouts both fired and cancelled
    std::size_t fired = 0;
    for (const auto& e : whole) fired += e.kind == 2;
    CHECK(fired > 0u);

    // Split points on the event grid (events tie there) and between grid points.
    for (double a : {0.0, 0.25, 1.0, 7.5, 7.6, 13.0, 33.25, 49.75, 50.0}) {
        CAPTURE(a);
        CHECK(run_toy(a, horizon) == whole);
    }
    SECTION("timeouts in FIFO lanes give the same timeline as timeouts in the heap") {
        CHECK(run_toy(-1, horizon, 5, /*lanes=*/true) == whole);
        CHECK(run_toy(13.0, horizon, 5, /*lanes=*/true) == whole);
    }
    SECTION("many small steps") {
        simulation sim;
        timeline log;
        toy_model m(sim, log, 5);
        for (int k = 1; k <= 200; ++k) sim.run_until(k * 0.25, m);
        CHECK(log == whole);
    }
}

TEST_CASE("stop() ends run_until after the current event and now() stays at its time",
          "[kernel][simulation]") {
    simulation sim;
    timeline log;
    for (std::uint32_t i = 1; i <= 5; ++i) sim.schedule_at(i, 0, i);
    auto handler = [&](const event& e) {
        log.push_back({sim.now(), e.kind, e.target});
        if (e.target == 2) sim.stop();
    };
    CHECK_FALSE(sim.run_until(10.0, handler));
    CHECK(log == timeline{{1.0, 0, 1}, {2.0, 0, 2}});
    CHECK(sim.now() == 2.0);
    CHECK(sim.pending_events() == 3u);

    // the stop request does not outlive the run it stopped
    CHECK(sim.run_until(10.0, handler));
    CHECK(log.size() == 5u);
    CHECK(log.back() == entry{5.0, 0, 5});
    CHECK(sim.now() == 10.0);
}

TEST_CASE("A stop() requested outside run_until does not stop the next run_until",
          "[kernel][simulation]") {
    simulation sim;
    sim.schedule_at(1.0, 0, 0);
    sim.schedule_at(2.0, 0, 1);
    sim.stop();
    int n = 0;
    CHECK(sim.run_until(3.0, [&](const event&) { ++n; }));
    CHECK(n == 2);
    SECTION("nor does a stop() from a step() handler") {
        sim.schedule_at(4.0, 0, 0);
        sim.schedule_at(5.0, 0, 1);
        CHECK(sim.step([&](const event&) { sim.stop(); }));
        CHECK(sim.now() == 4.0);
        CHECK(sim.run_until(6.0, [&](const event&) { ++n; }));
        CHECK(n == 3);
    }
}

TEST_CASE("step() processes exactly one event and returns false when none is pending",
          "[kernel][simulation]") {
    simulation sim;
    timeline log;
    sim.schedule_at(2.0, 0, 2);
    sim.schedule_at(1.0, 0, 1);
    CHECK(sim.step(recorder{sim, log}));
    CHECK(log == timeline{{1.0, 0, 1}});
    CHECK(sim.now() == 1.0);
    CHECK(sim.step(recorder{sim, log}));
    CHECK(sim.now() == 2.0);
    CHECK_FALSE(sim.step(recorder{sim, log}));
    CHECK(sim.now() == 2.0);  // unchanged
    CHECK(log.size() == 2u);
    CHECK(sim.events_processed() == 2u);
}

TEST_CASE("Scheduling before now() or at NaN throws internal_error and changes nothing",
          "[kernel][simulation]") {
    simulation sim;
    sim.schedule_at(5.0, 0, 0);
    sim.run_until(3.0, [](const event&) {});
    REQUIRE(sim.now() == 3.0);
    const double nan = std::numeric_limits<double>::quiet_NaN();

    CHECK_THROWS_AS(sim.schedule_at(2.0, 0, 1), internal_error);
    CHECK_THROWS_AS(sim.schedule_at(std::nextafter(3.0, 0.0), 0, 1), internal_error);
    CHECK_THROWS_AS(sim.schedule_after(-1e-9, 0, 1), internal_error);
    CHECK_THROWS_AS(sim.timer_at(0.0, 0, 1), internal_error);
    CHECK_THROWS_AS(sim.timer_after(-1.0, 0, 1), internal_error);
    CHECK_THROWS_AS(sim.schedule_at(nan, 0, 1), internal_error);
    CHECK_THROWS_AS(sim.schedule_after(nan, 0, 1), internal_error);
    CHECK_THROWS_AS(sim.timer_at(nan, 0, 1), internal_error);
    CHECK_THROWS_AS(sim.fifo_timer_at(0, 2.0, 0, 1), internal_error);
    CHECK_THROWS_AS(sim.fifo_timer_at(0, nan, 0, 1), internal_error);
    CHECK_THROWS_AS(sim.run_until(2.0, [](const event&) {}), internal_error);
    CHECK_THROWS_AS(sim.run_until(nan, [](const event&) {}), internal_error);
    CHECK_THROWS_WITH(sim.schedule_at(2.0, 0, 1),
                      Catch::Matchers::Contains("before now"));

    CHECK(sim.now() == 3.0);
    CHECK(sim.pending_events() == 1u);

    // scheduling at exactly now() is allowed
    CHECK_NOTHROW(sim.schedule_at(3.0, 0, 2));
    CHECK_NOTHROW(sim.schedule_after(0.0, 0, 3));
    CHECK(sim.pending_events() == 3u);

    SECTION("a handler scheduling in the past propagates the exception out of run_until") {
        CHECK_THROWS_AS(sim.run_until(10.0, [&](const event&) { sim.schedule_at(1.0, 0, 9); }),
                        internal_error);
        CHECK(sim.now() == 3.0);  // the event at 3 was being handled
    }
}

TEST_CASE("Cancelled timers never fire; a timeout is cancelled by the event that beats it",
          "[kernel][simulation]") {
    // request 0: work 1.0, timeout 2.0 -> work completes, timeout cancelled
    // request 1: work 3.0, timeout 2.0 -> timeout fires at 2, then work completes at 3 and its
    //            cancel returns false
    simulation sim;
    timeline log;
    std::vector<timer_handle> to(2);
    std::vector<bool> cancel_result(2);
    const double work[] = {1.0, 3.0};
    for (std::uint32_t r = 0; r < 2; ++r) {
        sim.schedule_at(work[r], /*done*/ 1, r);
        to[r] = sim.timer_at(2.0, /*timeout*/ 2, r);
    }
    CHECK(sim.pending_events() == 4u);
    sim.run_until(10.0, [&](const event& e) {
        log.push_back({sim.now(), e.kind, e.target});
        if (e.kind == 1) cancel_result[e.target] = sim.cancel(to[e.target]);
    });
    CHECK(log == timeline{{1.0, 1, 0}, {2.0, 2, 1}, {3.0, 1, 1}});
    CHECK(cancel_result[0]);
    CHECK_FALSE(cancel_result[1]);
    CHECK_FALSE(sim.pending(to[0]));
    CHECK(sim.events_processed() == 3u);
}

TEST_CASE("Memory stays bounded in a long schedule/cancel loop as time advances",
          "[kernel][simulation]") {
    // One million requests one after the other, each arming a 1 s timeout that the next event
    // (1 ms later) cancels: the pattern of a pool whose acquires almost never time out. In the
    // heap, cancelled timeouts stay until they reach the top (at most ~1 s worth of them,
    // 1000) or until compaction drops them; a FIFO lane drops them from its front.
    const bool lane = GENERATE(false, true);  // the timeout in the heap / in a FIFO lane
    CAPTURE(lane);
    simulation sim;
    timer_handle timeout;
    std::size_t peak_heap = 0;
    std::uint32_t max_slot = 0;
    std::uint64_t timeouts_fired = 0;
    std::uint64_t requests = 0;
    sim.schedule_at(0.0, 0, 0);
    auto handler = [&](const event& e) {
        if (e.kind == 1) {
            ++timeouts_fired;
            return;
        }
        sim.cancel(timeout);
        if (++requests == 1'000'000) return;
        timeout = lane ? sim.fifo_timer_at(0, sim.now() + 1.0, 1, 0) : sim.timer_after(1.0, 1, 0);
        if (timeout.slot > max_slot) max_slot = timeout.slot;
        sim.schedule_after(0.001, 0, 0);
        if (sim.heap_entries() > peak_heap) peak_heap = sim.heap_entries();
    };
    sim.run_until(infinity, handler);
    CHECK(requests == 1'000'000u);
    CHECK(timeouts_fired == 0u);
    CHECK(max_slot == 1u);  // the single slot is reused
    if (lane) {
        // a lane discards cancelled entries as soon as they are at its front: here, at once
        CHECK(peak_heap <= 3u);
    } else {
        // the heap keeps cancelled entries (lazy deletion) until they are more than half of
        // a heap over compact_threshold: then it drops them all (about 1000 without that)
        CHECK(peak_heap <= dbpoolsim::sim::event_queue::compact_threshold + 3);
        CHECK(peak_heap >= dbpoolsim::sim::event_queue::compact_threshold);  // (lazy up to the threshold)
    }
    CHECK(sim.pending_events() == 0u);
}

TEST_CASE("Two simulations are independent: no global state, safe in two threads",
          "[kernel][simulation]") {
    const timeline reference = run_toy(-1, 200.0, 8);
    REQUIRE(reference.size() > 1000u);

    SECTION("interleaved in one thread") {
        simulation a, b;
        timeline la, lb;
        toy_model ma(a, la, 8), mb(b, lb, 8);
        for (int k = 1; k <= 200; ++k) {
            a.run_until(k, ma);
            CHECK(b.now() == k - 1.0);  // running a does not move b's clock
            b.run_until(k, mb);
        }
        CHECK(la == reference);
        CHECK(lb == reference);
    }
    SECTION("in two threads at once") {
        timeline l1, l2;
        std::thread t1([&] { l1 = run_toy(-1, 200.0, 8); });
        std::thread t2([&] { l2 = run_toy(-1, 200.0, 8); });
        t1.join();
        t2.join();
        CHECK(l1 == reference);
        CHECK(l2 == reference);
    }
}
