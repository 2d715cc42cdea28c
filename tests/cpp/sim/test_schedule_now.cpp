// Specification of simulation::schedule_now (sim/simulation.hpp, "Zero-delay events"): an
// event scheduled at now() through the zero-delay FIFO is handed out exactly where
// schedule_at(now(), ...) would put it, whatever else is pending: ties at equal times in the
// heap, cancelled and re-armed timers, FIFO lanes (one of them with zero delay), stops,
// step(), peek() and run_until's chunk ends.
#include <catch2/catch.hpp>

#include <cstdint>
#include <tuple>
#include <vector>

#include "sim/random.hpp"
#include "sim/simulation.hpp"

using dbpoolsim::sim::event;
using dbpoolsim::sim::infinity;
using dbpoolsim::sim::random_stream;
using dbpoolsim::sim::simulation;
using dbpoolsim::sim::rearmable_handle;
using dbpoolsim::sim::timer_handle;

namespace {

using handled = std::tuple<double, std::uint64_t, std::uint32_t, std::uint32_t>;  // time, seq, kind, target

/// A random model: every event schedules a few more, on a coarse time grid (0.25 s) so that
/// many fall at equal times. `fast`: zero-delay events go through schedule_now; otherwise
/// through schedule_at(now()). Both runs draw the same numbers as long as they handle the
/// same events in the same order.
struct random_model {
    random_model(simulation& s, bool f, std::uint64_t seed) : sim(s), fast(f), rng(seed, 0, "schedule_now") {}
    simulation& sim;
    bool fast;
    random_stream rng;
    std::vector<handled> log;
    std::vector<rearmable_handle> timers;
    std::vector<double> due;  // per timer: the time it was armed for (disarm/rearm)
    std::uint32_t next_target = 0;

    std::uint32_t pick(std::uint32_t n) { return static_cast<std::uint32_t>(rng.uniform() * n) % n; }
    double grid_delay() { return 0.25 * pick(4); }  // 0, 0.25, 0.5 or 0.75 s: ties

    void operator()(const event& e) {
        log.emplace_back(e.time, e.seq, e.kind, e.target);
        if (log.size() > 30000) return;  // let the run drain
        const std::uint32_t ops = 1 + pick(3);
        for (std::uint32_t i = 0; i < ops; ++i) {
            const std::uint32_t t = next_target++;
            switch (pick(9)) {
                case 0:
                case 1:  // zero delay: the path under test
                    if (fast) sim.schedule_now(1, t);
                    else sim.schedule_at(sim.now(), 1, t);
                    break;
                case 2: sim.schedule_after(grid_delay(), 2, t); break;  // zero delay too, via the heap
                case 3: {
                    const double at = sim.now() + grid_delay();
                    timers.push_back(sim.rearmable_timer_at(at, 3, t));
                    due.push_back(at);
                    break;
                }
                case 4:  // cancel a random timer (often already fired: a no-op)
                    if (!timers.empty()) sim.cancel(timers[pick(static_cast<std::uint32_t>(timers.size()))]);
                    break;
                case 5: sim.fifo_timer_at(0, sim.now() + 0.5, 5, t); break;  // a constant-delay lane
                case 6: sim.fifo_timer_at(1, sim.now(), 6, t); break;        // a zero-delay lane
                case 7: sim.schedule_fifo_at(2, sim.now() + grid_delay(), 7, t); break;
                case 8:  // a re-armable timer: disarm and arm again later (or at now)
                    if (!timers.empty()) {
                        const std::uint32_t k = pick(static_cast<std::uint32_t>(timers.size()));
                        if (sim.pending(timers[k])) {
                            sim.disarm(timers[k], due[k]);
                            const double at = due[k] + grid_delay();
                            if (!sim.rearm(timers[k], at)) timers[k] = sim.rearmable_timer_at(at, 8, t);
                            due[k] = at;
                        }
                    }
                    break;
            }
        }
        if (pick(50) == 0) sim.stop();
    }
};

std::vector<handled> run_model(bool fast, std::uint64_t seed) {
    simulation sim;
    random_model m(sim, fast, seed);
    for (std::uint32_t i = 0; i < 4; ++i) sim.schedule_at(0.25 * i, 0, m.next_target++);
    if (fast) sim.schedule_now(1, m.next_target++);  // before any run: waits for run_until
    else sim.schedule_at(0, 1, m.next_target++);
    // Chunks ending on grid times (events at exactly the end stay pending), a step and a
    // peek between them.
    for (double t = 0.5; t < 400 && sim.pending_events() > 0; t += 0.5) {
        while (!sim.run_until(t, m)) {
        }
        if (m.pick(3) == 0) sim.step(m);
        if (m.pick(3) == 0) (void)sim.peek();
    }
    sim.run_until(infinity, m);
    return m.log;
}

}  // namespace

TEST_CASE("simulation: schedule_now hands out events in the order of schedule_at",
          "[kernel][simulation]") {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        CAPTURE(seed);
        const std::vector<handled> slow = run_model(false, seed);
        const std::vector<handled> fast = run_model(true, seed);
        REQUIRE(slow.size() > 1000u);
        CHECK(fast == slow);
    }
}

TEST_CASE("simulation: schedule_now counts as pending and waits behind earlier ties",
          "[kernel][simulation]") {
    simulation sim;
    std::vector<std::uint32_t> order;
    sim.schedule_at(1.0, 0, 0);
    sim.schedule_at(1.0, 0, 1);
    sim.run_until(infinity, [&](const event& e) {
        order.push_back(e.target);
        if (e.target == 0) {
            sim.schedule_now(0, 10);  // after target 1, scheduled earlier at the same time
            CHECK(sim.pending_events() == 2u);
        }
        if (e.target == 10) sim.schedule_now(0, 11);
    });
    CHECK(order == std::vector<std::uint32_t>{0, 1, 10, 11});
    CHECK(sim.events_processed() == 4u);
    CHECK(sim.pending_events() == 0u);
}
