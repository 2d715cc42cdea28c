// Specification of sim/event_queue.hpp's re-armable timers (`disarm`, `rearm`).
//
// Contract under test (see the header comment):
// - `disarm` cancels a timer but keeps its heap entry; `rearm` arms the same handle again at a
//   time no earlier than that entry's, taking its sequence number at the rearm: every pop,
//   `size` and `pending` are exactly those of `cancel` + a new `push_timer` at that moment;
// - `rearm` returns false (and the caller pushes a new timer) when the entry is gone (popped
//   as a disarmed entry, compacted, or the timer fired) or is later than the new time;
// - re-arming a timer at every use keeps one heap entry per timer: no stale entries pile up;
// - only a timer from push_rearmable (a heap timer) can be disarmed: a lane timer's handle
//   does not compile (a lane skips its cancelled entries, so a re-armed one would never fire).
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <tuple>
#include <vector>

#include "sim/event_queue.hpp"

using dbpoolsim::sim::event;
using dbpoolsim::sim::event_queue;
using dbpoolsim::sim::rearmable_handle;
using dbpoolsim::sim::timer_handle;

namespace {
template <class Handle>
concept disarmable = requires(event_queue& q, Handle& h) {
    q.disarm(h, 0.0);
    q.rearm(h, 0.0);
};
static_assert(disarmable<rearmable_handle>);
static_assert(!disarmable<timer_handle>, "a plain (heap or lane) timer cannot be disarmed");
using logged = std::tuple<double, std::uint64_t, std::uint32_t, std::uint32_t>;
logged as_tuple(const event& e) { return {e.time, e.seq, e.kind, e.target}; }
}  // namespace

TEST_CASE("A disarmed timer does not fire; re-armed, it fires at its new time in its new order",
          "[kernel][event_queue][rearm]") {
    event_queue q;
    rearmable_handle h = q.push_rearmable(10.0, 1, 7);
    q.push(5.0, 0, 1);
    q.disarm(h, 10.0);
    CHECK_FALSE(q.pending(h));
    CHECK(q.size() == 1u);
    q.push(12.0, 0, 2);                // seq 2: before the re-armed timer at equal... later time
    REQUIRE(q.rearm(h, 12.0));         // seq 3: after the event at 12.0 pushed just before
    CHECK(q.pending(h));
    CHECK(q.size() == 3u);
    CHECK(q.heap_entries() == 3u);     // the timer's old entry was reused, not duplicated
    event e{};
    REQUIRE(q.pop(e));
    CHECK(as_tuple(e) == logged{5.0, 1, 0, 1});
    REQUIRE(q.pop(e));                 // the old entry (10.0) moved to 12.0 without a pop
    CHECK(as_tuple(e) == logged{12.0, 2, 0, 2});
    REQUIRE(q.pop(e));
    CHECK(as_tuple(e) == logged{12.0, 3, 1, 7});
    CHECK_FALSE(q.pending(h));
    CHECK_FALSE(q.rearm(h, 20.0));     // fired: nothing to re-arm
    CHECK(q.empty());
}

TEST_CASE("rearm refuses an earlier time and a disarmed entry that already surfaced",
          "[kernel][event_queue][rearm]") {
    event_queue q;
    rearmable_handle h = q.push_rearmable(10.0, 1, 7);
    q.disarm(h, 10.0);
    CHECK_FALSE(q.rearm(h, 9.0));      // its entry (10.0) would come out too late
    q.push(11.0, 0, 1);
    event e{};
    REQUIRE(q.pop(e));                 // the disarmed entry at 10.0 is dropped on the way
    CHECK(e.time == 11.0);
    CHECK_FALSE(q.rearm(h, 20.0));
    CHECK(q.heap_entries() == 0u);
    timer_handle g = q.push_timer(30.0, 1, 8);  // the slot is reused by a new timer...
    CHECK(g.slot == h.slot);
    CHECK_FALSE(q.rearm(h, 40.0));     // ...which the old handle cannot touch
    CHECK(q.pending(g));
}

TEST_CASE("Timers re-armed at every use keep one heap entry each", "[kernel][event_queue][rearm]") {
    // 100 connections used about every second; each use disarms the connection's 300 s timer
    // and re-arms it after. The heap holds the 100 timers and the 100 next uses, nothing more.
    event_queue q;
    std::vector<rearmable_handle> idle(100);
    std::vector<double> due(100);
    for (std::uint32_t c = 0; c < 100; ++c) q.push(0.01 * c, 0, c);
    std::mt19937_64 rng(7);
    std::size_t peak = 0;
    event e{};
    for (int pops = 0; pops < 100'000 && q.pop(e); ++pops) {
        REQUIRE(e.kind == 0);
        const std::uint32_t c = e.target;
        q.disarm(idle[c], due[c]);  // nothing when idle[c] is empty
        due[c] = e.time + 300;
        if (!q.rearm(idle[c], due[c])) idle[c] = q.push_rearmable(due[c], 1, c);
        q.push(e.time + 0.5 + static_cast<double>(rng() % 1000) / 1000.0, 0, c);
        peak = std::max(peak, q.heap_entries());
    }
    CHECK(q.size() == 200u);
    CHECK(peak <= 201u);
}

TEST_CASE("Random disarm / rearm agree with cancel / push_timer", "[kernel][event_queue][rearm]") {
    // Two queues get the same operations on 50 objects, each with a timer that is armed at a
    // random delay (sometimes shorter than before: rearm refuses, a new timer is pushed),
    // disarmed, cancelled for good, or left to fire; plus plain events and other timers
    // cancelled at random (so the heap compacts). One queue uses disarm / rearm, the other
    // cancel / push_timer: every pop, size and pending must agree.
    std::mt19937_64 rng(2024);
    auto below = [&](std::uint64_t n) { return rng() % n; };
    event_queue ref, lazy;
    struct obj {
        timer_handle r;
        rearmable_handle z;
        double due = 0;
    };
    std::vector<obj> objs(50);
    std::vector<std::pair<timer_handle, timer_handle>> others;
    double now = 0;
    std::size_t mismatches = 0, reused = 0, fired = 0;
    for (int op = 0; op < 200'000; ++op) {
        const auto r = below(100);
        obj& o = objs[below(objs.size())];
        const auto target = static_cast<std::uint32_t>(&o - objs.data());
        if (r < 25) {  // arm (after a disarm, as asyncpg does at every release)
            ref.cancel(o.r);
            lazy.disarm(o.z, o.due);
            o.due = now + static_cast<double>(below(40)) * 0.5;
            o.r = ref.push_timer(o.due, 1, target);
            if (lazy.rearm(o.z, o.due)) ++reused;
            else o.z = lazy.push_rearmable(o.due, 1, target);
        } else if (r < 40) {  // disarm
            ref.cancel(o.r);
            lazy.disarm(o.z, o.due);
        } else if (r < 43) {  // cancel for good
            if (ref.cancel(o.r) != lazy.cancel(o.z)) ++mismatches;
        } else if (r < 60) {
            const double t = now + static_cast<double>(below(20)) * 0.5;
            ref.push(t, 0, 1000);
            lazy.push(t, 0, 1000);
        } else if (r < 70) {
            const double t = now + static_cast<double>(below(200)) * 0.5;
            others.emplace_back(ref.push_timer(t, 2, 2000), lazy.push_timer(t, 2, 2000));
        } else if (r < 78) {
            if (others.empty()) continue;
            const auto i = static_cast<std::size_t>(below(others.size()));
            if (ref.cancel(others[i].first) != lazy.cancel(others[i].second)) ++mismatches;
            others[i] = others.back();
            others.pop_back();
        } else {
            event a{}, b{};
            const bool ga = ref.pop(a), gb = lazy.pop(b);
            if (ga != gb || (ga && as_tuple(a) != as_tuple(b))) ++mismatches;
            if (ga) now = a.time;
            if (ga && a.kind == 1) ++fired;
        }
        if (ref.pending(o.r) != lazy.pending(o.z)) ++mismatches;
        if (ref.size() != lazy.size()) ++mismatches;
        if (op % 37 == 0 && ref.next_time() != lazy.next_time()) ++mismatches;
    }
    event a{}, b{};
    for (;;) {
        const bool ga = ref.pop(a), gb = lazy.pop(b);
        if (ga != gb) ++mismatches;
        if (!ga || !gb) break;
        if (as_tuple(a) != as_tuple(b)) ++mismatches;
    }
    CHECK(mismatches == 0u);
    CHECK(reused > 10'000u);
    CHECK(fired > 1'000u);
}
