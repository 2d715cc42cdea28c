// dbpoolsim kernel: the clock and the event loop of one simulation run.
//
// One `simulation` object is one run; it has no global state, so any number may run at once in
// different threads. The model owns the dispatch: `run_until` hands each event to a callable
// `handler(const event&)`, which switches on `event.kind` (no virtual call, no std::function).
//
// Time rules (tested in tests/cpp/sim/test_simulation.cpp):
// - time never decreases; scheduling before `now()` throws internal_error;
// - `run_until(t)` processes every event with time < t, in (time, sequence) order, including
//   events that handlers schedule before t; then sets now() = t. Events at exactly t stay
//   pending, so `run_until(a); run_until(b)` is the same as `run_until(b)`;
// - `stop()` from a handler ends `run_until` after the current event; now() stays at that
//   event's time.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "sim/error.hpp"
#include "sim/event_queue.hpp"
#include "sim/time.hpp"

namespace dbpoolsim::sim {

class simulation {
public:
    sim_time now() const noexcept { return now_; }

    void schedule_at(sim_time t, std::uint32_t kind, std::uint32_t target) {
        check_time(t);
        queue_.push(t, kind, target);
    }
    void schedule_after(sim_time delay, std::uint32_t kind, std::uint32_t target) {
        schedule_at(now_ + delay, kind, target);
    }
    timer_handle timer_at(sim_time t, std::uint32_t kind, std::uint32_t target) {
        check_time(t);
        return queue_.push_timer(t, kind, target);
    }
    timer_handle timer_after(sim_time delay, std::uint32_t kind, std::uint32_t target) {
        return timer_at(now_ + delay, kind, target);
    }
    /// A timer in FIFO lane `lane`: for timers whose times never decrease within the lane
    /// (e.g. a constant timeout). Same ordering as timer_at; O(1) push and cancel.
    timer_handle fifo_timer_at(std::uint32_t lane, sim_time t, std::uint32_t kind,
                               std::uint32_t target) {
        check_time(t);
        return queue_.push_timer_fifo(lane, t, kind, target);
    }
    /// A plain event in FIFO lane `lane`, for a source whose times never decrease (an
    /// arrival process): same ordering as schedule_at, and no heap operation.
    void schedule_fifo_at(std::uint32_t lane, sim_time t, std::uint32_t kind, std::uint32_t target) {
        check_time(t);
        queue_.push_fifo(lane, t, kind, target);
    }
    bool cancel(timer_handle& h) noexcept { return queue_.cancel(h); }
    /// Re-armable timers (sim/event_queue.hpp): cancel, keeping the heap entry for `rearm`...
    void disarm(const timer_handle& h, sim_time due) noexcept { queue_.disarm(h, due); }
    /// ...and arm again at t (same kind and target); false: schedule a new timer instead.
    bool rearm(timer_handle& h, sim_time t) {
        check_time(t);
        return queue_.rearm(h, t);
    }
    bool pending(const timer_handle& h) const noexcept { return queue_.pending(h); }

    /// Time of the next pending event (infinity if none).
    sim_time peek() { return queue_.next_time(); }
    std::size_t pending_events() const noexcept { return queue_.size(); }
    std::size_t heap_entries() const noexcept { return queue_.heap_entries(); }
    std::uint64_t events_processed() const noexcept { return processed_; }

    /// Start the clock at t instead of 0 (possibly negative); only before anything is scheduled.
    void start_at(sim_time t) {
        if (processed_ != 0 || queue_.size() != 0 || !std::isfinite(t))
            throw internal_error("start_at: the clock is set before anything is scheduled, to a finite time");
        now_ = t;
    }

    /// Ask `run_until` to return after the current event.
    void stop() noexcept { stop_ = true; }

    /// Process one event if any is pending. Returns false when the queue is empty.
    template <class Handler>
    bool step(Handler&& handler) {
        event e;
        if (!queue_.pop(e)) return false;
        now_ = e.time;
        ++processed_;
        handler(e);
        return true;
    }

    /// Process all events with time < t (see the contract above). Returns false if stopped.
    template <class Handler>
    bool run_until(sim_time t, Handler&& handler) {
        if (std::isnan(t) || t < now_)
            throw internal_error("run_until: target " + std::to_string(t) +
                                 " is before now " + std::to_string(now_));
        stop_ = false;
        event e;
        while (queue_.pop_before(t, e)) {
            now_ = e.time;
            ++processed_;
            handler(e);
            if (stop_) return false;
        }
        now_ = t;
        return true;
    }

private:
    void check_time(sim_time t) const {
        if (!(t >= now_)) [[unlikely]]  // also catches NaN
            time_error(t);
    }
    [[noreturn, gnu::cold, gnu::noinline]] void time_error(sim_time t) const {
        throw internal_error("schedule: time " + std::to_string(t) + " is before now " +
                             std::to_string(now_));
    }

    event_queue queue_;
    sim_time now_ = 0.0;
    std::uint64_t processed_ = 0;
    bool stop_ = false;
};

}  // namespace dbpoolsim::sim
