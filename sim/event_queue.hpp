// dbpoolsim kernel: the pending-event set.
//
// Contract:
// - Events are totally ordered by (time, sequence number). The sequence number is assigned at
//   scheduling, so events at equal times come out in the order they were scheduled (FIFO).
// - An event is a small record (time, sequence, kind, target): `kind` and `target` are opaque
//   to the kernel; the model dispatches on them. There is no allocation per event: the heap and
//   the timer slots are vectors that grow to the peak number of pending events and are reused.
// - Cancellable events ("timers") get a handle. `cancel` is O(1): it bumps the generation of
//   the timer's slot; the stale heap entry is discarded when it reaches the top (lazy deletion).
// - A 4-ary heap: shallower than a binary heap, and its children share a cache line.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/error.hpp"
#include "sim/time.hpp"

namespace dbpoolsim::sim {

/// Identifies one scheduled timer; default-constructed handles refer to nothing.
struct timer_handle {
    std::uint32_t slot = 0;  // 1-based; 0 = empty handle
    std::uint32_t generation = 0;
    bool empty() const noexcept { return slot == 0; }
};

/// One event as handed to the model.
struct event {
    sim_time time;
    std::uint64_t seq;
    std::uint32_t kind;
    std::uint32_t target;
};

class event_queue {
public:
    /// Schedule a non-cancellable event.
    void push(sim_time t, std::uint32_t kind, std::uint32_t target) {
        heap_push(entry{t, seq_++, kind, target, 0, 0});
        ++live_;
    }

    /// Schedule a cancellable event; the handle cancels it in O(1).
    timer_handle push_timer(sim_time t, std::uint32_t kind, std::uint32_t target) {
        std::uint32_t slot;
        if (!free_slots_.empty()) {
            slot = free_slots_.back();
            free_slots_.pop_back();
        } else {
            slot_gen_.push_back(0);
            slot = static_cast<std::uint32_t>(slot_gen_.size());
        }
        const std::uint32_t gen = slot_gen_[slot - 1];
        heap_push(entry{t, seq_++, kind, target, slot, gen});
        ++live_;
        return timer_handle{slot, gen};
    }

    /// Cancel a pending timer. Returns false (and does nothing) if the handle is empty or the
    /// timer already fired or was cancelled. Resets the handle to empty.
    bool cancel(timer_handle& h) noexcept {
        if (h.slot == 0) return false;
        const bool pending = slot_gen_[h.slot - 1] == h.generation;
        if (pending) {
            release_slot(h.slot);
            --live_;
        }
        h = timer_handle{};
        return pending;
    }

    /// True if the timer behind the handle is still pending.
    bool pending(const timer_handle& h) const noexcept {
        return h.slot != 0 && slot_gen_[h.slot - 1] == h.generation;
    }

    /// Number of pending (not cancelled) events.
    std::size_t size() const noexcept { return live_; }
    bool empty() const noexcept { return live_ == 0; }

    /// Time of the next pending event, or infinity.
    sim_time next_time() {
        drop_stale();
        return heap_.empty() ? infinity : heap_.front().time;
    }

    /// Remove the next pending event into `out`; false if there is none.
    bool pop(event& out) {
        drop_stale();
        if (heap_.empty()) return false;
        const entry& top = heap_.front();
        out = event{top.time, top.seq, top.kind, top.target};
        if (top.slot != 0) release_slot(top.slot);
        heap_pop();
        --live_;
        return true;
    }

    /// Capacity actually used by the heap (pending plus not yet discarded cancelled entries).
    std::size_t heap_entries() const noexcept { return heap_.size(); }

    void clear() {
        heap_.clear();
        free_slots_.clear();
        slot_gen_.clear();
        live_ = 0;
    }

private:
    struct entry {
        sim_time time;
        std::uint64_t seq;
        std::uint32_t kind;
        std::uint32_t target;
        std::uint32_t slot;  // 0 = not cancellable
        std::uint32_t gen;
    };
    static bool before(const entry& a, const entry& b) noexcept {
        return a.time < b.time || (a.time == b.time && a.seq < b.seq);
    }
    void release_slot(std::uint32_t slot) {
        ++slot_gen_[slot - 1];
        free_slots_.push_back(slot);
    }
    void drop_stale() {
        while (!heap_.empty()) {
            const entry& top = heap_.front();
            if (top.slot == 0 || slot_gen_[top.slot - 1] == top.gen) return;
            heap_pop();
        }
    }
    void heap_push(const entry& e) {
        heap_.push_back(e);
        std::size_t i = heap_.size() - 1;
        while (i > 0) {
            const std::size_t parent = (i - 1) / 4;
            if (!before(e, heap_[parent])) break;
            heap_[i] = heap_[parent];
            i = parent;
        }
        heap_[i] = e;
    }
    void heap_pop() {
        const entry last = heap_.back();
        heap_.pop_back();
        const std::size_t n = heap_.size();
        if (n == 0) return;
        std::size_t i = 0;
        for (;;) {
            const std::size_t first = 4 * i + 1;
            if (first >= n) break;
            std::size_t best = first;
            const std::size_t end = first + 4 < n ? first + 4 : n;
            for (std::size_t c = first + 1; c < end; ++c)
                if (before(heap_[c], heap_[best])) best = c;
            if (!before(heap_[best], last)) break;
            heap_[i] = heap_[best];
            i = best;
        }
        heap_[i] = last;
    }

    std::vector<entry> heap_;
    std::vector<std::uint32_t> slot_gen_;
    std::vector<std::uint32_t> free_slots_;
    std::uint64_t seq_ = 0;
    std::size_t live_ = 0;
};

}  // namespace dbpoolsim::sim
