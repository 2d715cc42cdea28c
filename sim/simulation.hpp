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
//
// Zero-delay events (`schedule_now`; why: speed, issue 9). An event scheduled at exactly now()
// takes the next sequence number, as `schedule_at(now(), ...)` would, but goes to a FIFO of
// its own instead of the event queue. Its place in the order is (now, seq), and every other
// pending event is at now or later. So it comes next exactly when no pending event is before
// (now, seq): `run_until`, after each event, looks at the FIFO's front and asks the queue
// `any_before(now, seq)` (sim/event_queue.hpp; no heap settling). No: the front is handed to
// the handler directly, no heap push or pop. Yes (a tie at now with an earlier event), or
// maybe (the queue's answer is conservative): every FIFO entry moves into the queue with its
// reserved sequence number and the queue orders them. Entries in the FIFO are in increasing
// sequence order (numbers are taken in order), so checking the front alone is enough, and
// anything scheduled while they wait gets a larger number. The handled order is therefore exactly that of schedule_at(now(), ...): the test
// "simulation: schedule_now hands out events in the order of schedule_at" in
// tests/cpp/sim/test_schedule_now.cpp compares the two on random schedules. Everything else
// that reads the queue (step, peek, a stop, the start of run_until) moves the FIFO into the
// queue first. A run without zero-delay events pays nothing more per event: the test after
// each event covers both a stop and a waiting zero-delay event.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

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
    /// The same as schedule_at(now(), kind, target) (see "Zero-delay events" above).
    void schedule_now(std::uint32_t kind, std::uint32_t target) {
        zero_.push_back(zero_entry{queue_.reserve_seq(), kind, target});
        attention_ |= zero_bit;
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
    /// A re-armable timer (sim/event_queue.hpp): a heap timer that `disarm` cancels, keeping
    /// its heap entry for `rearm`...
    rearmable_handle rearmable_timer_at(sim_time t, std::uint32_t kind, std::uint32_t target) {
        check_time(t);
        return queue_.push_rearmable(t, kind, target);
    }
    void disarm(const rearmable_handle& h, sim_time due) noexcept { queue_.disarm(h, due); }
    /// ...and arm again at t (same kind and target); false: schedule a new timer instead.
    bool rearm(rearmable_handle& h, sim_time t) {
        check_time(t);
        return queue_.rearm(h, t);
    }
    bool pending(const timer_handle& h) const noexcept { return queue_.pending(h); }

    /// Time of the next pending event (infinity if none).
    sim_time peek() {
        flush_zero();
        return queue_.next_time();
    }
    std::size_t pending_events() const noexcept { return queue_.size() + zero_.size(); }
    std::size_t heap_entries() const noexcept { return queue_.heap_entries() + zero_.size(); }
    std::uint64_t events_processed() const noexcept { return processed_; }

    /// Start the clock at t instead of 0 (possibly negative); only before anything is scheduled.
    void start_at(sim_time t) {
        if (processed_ != 0 || pending_events() != 0 || !std::isfinite(t))
            throw internal_error("start_at: the clock is set before anything is scheduled, to a finite time");
        now_ = t;
    }

    /// Ask `run_until` to return after the current event.
    void stop() noexcept { attention_ |= stop_bit; }

    /// Process one event if any is pending. Returns false when the queue is empty.
    template <class Handler>
    bool step(Handler&& handler) {
        flush_zero();
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
        attention_ &= ~stop_bit;
        flush_zero();  // scheduled outside run_until: let the queue order them
        event e;
        while (queue_.pop_before(t, e)) {
            for (;;) {
                now_ = e.time;
                ++processed_;
                handler(e);
                // One test per event for both a stop and a zero-delay event (speed: a run
                // without zero-delay events pays nothing more than the stop test).
                if (attention_ == 0) [[likely]] break;
                if (attention_ & stop_bit) {
                    flush_zero();
                    return false;
                }
                if (!take_zero(e)) break;  // the queue's next event comes first
            }
        }
        now_ = t;
        return true;
    }

private:
    /// The zero-delay FIFO (schedule_now): a vector read from `head`, emptied when drained.
    struct zero_entry {
        std::uint64_t seq;
        std::uint32_t kind;
        std::uint32_t target;
    };
    class zero_fifo {
    public:
        // Emptied when drained (pop_front, clear), so one comparison tells (the run loop asks
        // before every event).
        bool empty() const noexcept { return buf_.empty(); }
        std::size_t size() const noexcept { return buf_.size() - head_; }
        const zero_entry& front() const noexcept { return buf_[head_]; }
        void push_back(const zero_entry& z) { buf_.push_back(z); }
        void pop_front() noexcept {
            if (++head_ == buf_.size()) clear();
        }
        void clear() noexcept {
            buf_.clear();
            head_ = 0;
        }
        template <class F>
        void for_each(F&& f) const {
            for (std::size_t i = head_; i < buf_.size(); ++i) f(buf_[i]);
        }

    private:
        std::vector<zero_entry> buf_;
        std::size_t head_ = 0;
    };
    /// Move the zero-delay FIFO into the queue, each event with its reserved sequence number.
    /// Inline test, out-of-line move (speed: the move is rare, and inlined three times into
    /// run_until, with the heap's sift, it made the caller's file too big for GCC to inline
    /// its other hot calls).
    void flush_zero() {
        if (!zero_.empty()) move_zero_to_queue();
    }
    [[gnu::noinline]] void move_zero_to_queue() {
        zero_.for_each([&](const zero_entry& z) { queue_.push_reserved(now_, z.seq, z.kind, z.target); });
        zero_.clear();
        attention_ &= ~zero_bit;
    }
    /// The FIFO's front into `e` if it is the next event (see the header comment: nothing in
    /// the queue before (now, its seq)); otherwise the FIFO moves into the queue. Its time is
    /// now_, which run_until's target is after.
    bool take_zero(event& e) {
        const zero_entry z = zero_.front();
        if (queue_.any_before(now_, z.seq)) {
            flush_zero();
            return false;
        }
        zero_.pop_front();
        if (zero_.empty()) attention_ &= ~zero_bit;
        e = event{now_, z.seq, z.kind, z.target};
        return true;
    }

    void check_time(sim_time t) const {
        if (!(t >= now_)) [[unlikely]]  // also catches NaN
            time_error(t);
    }
    [[noreturn, gnu::cold, gnu::noinline]] void time_error(sim_time t) const {
        throw internal_error("schedule: time " + std::to_string(t) + " is before now " +
                             std::to_string(now_));
    }

    event_queue queue_;
    zero_fifo zero_;
    sim_time now_ = 0.0;
    std::uint64_t processed_ = 0;
    // Set bits: stop() was called, or the zero-delay FIFO is not empty (tested as one byte).
    static constexpr std::uint8_t stop_bit = 1, zero_bit = 2;
    std::uint8_t attention_ = 0;
};

}  // namespace dbpoolsim::sim
