// dbpoolsim kernel: the pending-event set.
//
// Contract:
// - Events are totally ordered by (time, sequence number). The sequence number is assigned at
//   scheduling, so events at equal times come out in the order they were scheduled (FIFO).
// - An event is a small record (time, sequence, kind, target): `kind` and `target` are opaque
//   to the kernel; the model dispatches on them. There is no allocation per event: the heap and
//   the timer slots are vectors that grow to the peak number of pending events and are reused.
// - Cancellable events ("timers") get a handle. `cancel` is O(1) amortised: it bumps the
//   generation of the timer's slot; the stale heap entry is discarded when it reaches the top
//   (lazy deletion), or earlier: when stale entries make up more than half of a heap of more
//   than `compact_threshold` entries (long timers re-armed at every use, such as idle
//   timeouts), the heap drops them all and is rebuilt in O(n). The pop order is unchanged:
//   it depends only on (time, seq).
// - A 4-ary heap: shallower than a binary heap, and its children share a cache line.
// - FIFO lanes: timers whose times never decrease within a lane (a constant delay such as a
//   pool's acquire timeout) can go to a lane, a ring buffer that is O(1) to push and to
//   discard cancelled entries from. `pop` takes the smallest (time, seq) among the heap top and
//   the lane fronts, so the total order is exactly the same as with the heap alone. A timer
//   pushed to a lane earlier than the lane's last time silently goes to the heap instead.
//   `push_fifo` puts a plain (non-cancellable) event in a lane: an arrival process, whose
//   next event is always the latest, costs no heap operation at all. `pop` visits only the
//   lanes ever used, whatever their numbers.
// - Cached lane fronts (why: speed): each used lane's front entry is copied into `fronts_`,
//   and a cached front is always live: cancelling a lane's front moves the front
//   on at once, past any cancelled entries behind it (a granted waiter's acquire timeout is
//   usually its lane's front). So `pop` compares the heap top with contiguous cached keys,
//   with no stale test and no walk into the lanes' buffers.
// - Deferred pop (why it is fast): popping the heap's top only marks it taken; the next push
//   puts its entry in the top's place and sifts it down once (a "replace top"), instead of a
//   sift-down for the pop and a sift-up for the push. Handlers usually schedule an event right
//   after one is popped (a query ends, the next starts), so most pops cost half. Anything else
//   that reads the heap settles the taken top first. Keys (time, seq) are unique, so any valid
//   heap pops in the same order.
// - Re-armable timers (why: speed): a timer that is disarmed and armed again at every use of
//   its object, always later than before (asyncpg's 300 s inactivity timer: disarmed at each
//   acquire, re-armed at each release), would otherwise leave one stale heap entry per use.
//   `disarm` cancels such a timer but leaves its heap entry in place; `rearm` then records the
//   new time and takes its sequence number exactly as a new push_timer would, and the entry is
//   moved to that (time, seq) when it reaches the top (or at a compaction). Nothing is popped in
//   between: an entry only surfaces at its old time, which is no later than its new one. So the
//   pop order, the events handed out and `size()` are exactly those of cancel + push_timer.
//   Only a timer from `push_rearmable` (a `rearmable_handle`, always in the heap) can be
//   disarmed: a lane skips its cancelled entries without looking at them, so a lane timer
//   re-armed this way would never fire. The type says so at compile time, at no cost.
#pragma once

#include <algorithm>
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

/// A timer that can be disarmed and re-armed (push_rearmable; always a heap timer).
struct rearmable_handle : timer_handle {};

/// One event as handed to the model.
struct event {
    sim_time time;
    std::uint64_t seq;
    std::uint32_t kind;
    std::uint32_t target;
};

class event_queue {
public:
    /// A heap of at most this many entries keeps its stale entries (lazy deletion only).
    static constexpr std::size_t compact_threshold = 64;

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

    /// Like push_timer, for a timer that may be disarmed and re-armed (see the header comment).
    rearmable_handle push_rearmable(sim_time t, std::uint32_t kind, std::uint32_t target) {
        return rearmable_handle{push_timer(t, kind, target)};
    }

    /// Like push_timer, into FIFO lane `lane` (see the header comment).
    timer_handle push_timer_fifo(std::uint32_t lane, sim_time t, std::uint32_t kind,
                                 std::uint32_t target) {
        fifo& f = lane_for(lane);
        if (f.head < f.buf.size() && t < f.buf.back().time) [[unlikely]] return push_timer(t, kind, target);
        std::uint32_t slot;
        if (!free_slots_.empty()) {
            slot = free_slots_.back();
            free_slots_.pop_back();
        } else {
            slot_gen_.push_back(0);
            slot = static_cast<std::uint32_t>(slot_gen_.size());
        }
        const std::uint32_t gen = slot_gen_[slot - 1];
        lane_append(f, entry{t, seq_++, kind, target, slot, gen});
        return timer_handle{slot, gen};
    }

    /// Like push, into FIFO lane `lane` (not cancellable; an earlier time goes to the heap).
    void push_fifo(std::uint32_t lane, sim_time t, std::uint32_t kind, std::uint32_t target) {
        fifo& f = lane_for(lane);
        if (f.head < f.buf.size() && t < f.buf.back().time) [[unlikely]] return push(t, kind, target);
        lane_append(f, entry{t, seq_++, kind, target, 0, 0});
    }

    /// Cancel a pending timer. Returns false (and does nothing) if the handle is empty or the
    /// timer already fired or was cancelled. Resets the handle to empty.
    /// Inline: most cancels find an empty or already-fired handle (a grant cancels a patience
    /// timer that was never armed); a pending timer's cancel goes out of line.
    bool cancel(timer_handle& h) noexcept {
        if (h.slot == 0) return false;
        const bool pending = slot_gen_[h.slot - 1] == h.generation;
        if (pending) cancel_pending(h.slot);
        h = timer_handle{};
        return pending;
    }

    /// Cancel a re-armable timer (see the header comment) due at `due` (the time it was last
    /// armed for): like cancel, but its heap entry stays for a later `rearm` of the same handle,
    /// which is kept for it; `pending(h)` becomes false.
    void disarm(const rearmable_handle& h, sim_time due) noexcept {
        if (h.slot == 0 || slot_gen_[h.slot - 1] != h.generation) return;
        lazy_slot& z = lazy_for(h.slot);
        if (z.state == lazy_state::none) {  // the heap entry is the handle's own: its key is `due`
            z.entry_gen = h.generation;
            z.entry_time = due;
        }
        z.state = lazy_state::parked;
        ++slot_gen_[h.slot - 1];  // the handle and the entry now look cancelled
        --live_;  // (never a lane's front: a re-armable timer is a heap timer)
        const std::size_t held = heap_.size() - top_taken_;
        if (held > compact_threshold && held > 2 * live_) compact();
    }

    /// Arm the timer `h` disarmed again, at t, with the same kind and target: the same as a new
    /// push_timer(t, ...) (it takes the next sequence number now), reusing its heap entry. Updates
    /// `h` and returns true; false (h unchanged) if the entry is gone or later than t: then the
    /// caller schedules a new timer.
    bool rearm(rearmable_handle& h, sim_time t) noexcept {
        if (h.slot == 0 || h.slot > lazy_.size()) return false;
        lazy_slot& z = lazy_[h.slot - 1];
        const std::uint32_t gen = slot_gen_[h.slot - 1];
        if (z.state != lazy_state::parked || gen != h.generation + 1 || z.entry_time > t) return false;
        z.state = lazy_state::moved;
        z.due = {t, seq_++};
        ++live_;
        h.generation = gen;
        return true;
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
        const entry* e = peek_entry();
        return e ? e->time : infinity;
    }

    /// Remove the next pending event into `out`; false if there is none.
    bool pop(event& out) { return pop_before(infinity, out, true); }

    /// Remove the next pending event if its time is < t (or <= t when `inclusive`).
    bool pop_before(sim_time t, event& out, bool inclusive = false) {
        const entry* top = peek_entry();
        if (!top || top->time > t || (!inclusive && top->time == t)) return false;
        out = event{top->time, top->seq, top->kind, top->target};
        if (top->slot != 0) release_slot(top->slot);
        if (from_lane_) next_front(front_index_);
        else top_taken_ = true;  // removed at the next push or read (see the header comment)
        --live_;
        return true;
    }

    /// Entries held (pending plus not yet discarded cancelled ones), heap and lanes.
    std::size_t heap_entries() const noexcept {
        std::size_t n = heap_.size() - top_taken_;
        for (const auto& f : lanes_) n += f.buf.size() - f.head;
        return n;
    }

    /// Drop every pending event. Handles obtained before stay valid-but-stale: every slot's
    /// generation moves on, so they can never refer to a timer scheduled afterwards.
    void clear() {
        heap_.clear();
        top_taken_ = false;
        lanes_.clear();
        used_lanes_.clear();
        fronts_.clear();
        free_slots_.clear();
        lazy_.clear();
        for (std::uint32_t i = 0; i < slot_gen_.size(); ++i) {
            ++slot_gen_[i];
            free_slots_.push_back(i + 1);
        }
        live_ = 0;
    }

    // ---- zero-delay events kept outside the queue (sim/simulation.hpp's schedule_now) ----
    // Kept apart from the rest (speed, issue 9): simulation holds events scheduled at exactly
    // now() in a FIFO of its own and hands them out without a heap push and pop when nothing
    // pending comes first. These three functions are all it needs from the queue.

    /// Take the next sequence number, exactly as a push would, without scheduling anything.
    std::uint64_t reserve_seq() noexcept { return seq_++; }

    /// Schedule a non-cancellable event with a sequence number taken earlier by reserve_seq.
    void push_reserved(sim_time t, std::uint64_t seq, std::uint32_t kind, std::uint32_t target) {
        heap_push(entry{t, seq, kind, target, 0, 0});
        ++live_;
    }

    /// False only if no pending event comes before (t, seq) in the pop order. Conservative: it
    /// may say true for an entry that turns out to be cancelled (or a re-armed timer's entry,
    /// whose real key is later than the one in the heap). It reads without settling the heap:
    /// with the top taken (the deferred pop), the smallest remaining entry is one of the
    /// root's children; a lane's smallest entry is its cached front.
    bool any_before(sim_time t, std::uint64_t seq) const noexcept {
        const entry key{t, seq, 0, 0, 0, 0};
        const std::size_t n = heap_.size();
        if (!top_taken_) {
            if (n != 0 && before(heap_[0], key)) return true;
        } else if (n >= 5) {
            // Speed: the four children's times first (no entry is before now, so only a tie
            // at t can come first); the full test only then.
            const entry* h = heap_.data();
            const double m = std::min(std::min(h[1].time, h[2].time), std::min(h[3].time, h[4].time));
            if (!(m > t))
                for (std::size_t i = 1; i <= 4; ++i)
                    if (before(h[i], key)) return true;
        } else {
            for (std::size_t i = 1; i < n; ++i)
                if (before(heap_[i], key)) return true;
        }
        for (const entry& f : fronts_)  // the lanes' cached fronts (no_entry: an empty lane)
            if (before(f, key)) return true;
        return false;
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
    struct fifo {
        std::vector<entry> buf;
        std::size_t head = 0;
        bool used = false;
        std::uint32_t front = 0;  // this lane's index in fronts_ and used_lanes_
    };
    /// An empty lane's front (and the heap's, when it is empty): after every real entry.
    static constexpr entry no_entry{infinity, UINT64_MAX, 0, 0, 0, 0};
    static bool before(const entry& a, const entry& b) noexcept {
        return a.time < b.time || (a.time == b.time && a.seq < b.seq);
    }
    [[gnu::noinline]] void cancel_pending(std::uint32_t slot) noexcept {
        release_slot(slot);
        forget_lazy(slot);
        unfront(slot);
        --live_;
        const std::size_t held = heap_.size() - top_taken_;
        if (held > compact_threshold && held > 2 * live_) compact();
    }
    void release_slot(std::uint32_t slot) {
        ++slot_gen_[slot - 1];
        free_slots_.push_back(slot);
    }
    // A re-armable timer's slot that is freed forgets its state: its old heap entry, when it
    // surfaces, is then dropped. (Not needed when a timer fires: its state is already none.)
    void forget_lazy(std::uint32_t slot) noexcept {
        if (slot <= lazy_.size()) lazy_[slot - 1].state = lazy_state::none;
    }
    bool stale(const entry& e) const noexcept { return e.slot != 0 && slot_gen_[e.slot - 1] != e.gen; }
    /// Remove the taken top, if any (the deferred pop).
    void settle() {
        if (top_taken_) {
            top_taken_ = false;
            heap_pop();
        }
    }
    void drop_stale() {
        while (!heap_.empty() && stale(heap_.front())) discard_top();
    }
    /// The top looks cancelled: drop it, or move a re-armed timer's entry to its new time.
    [[gnu::noinline]] void discard_top() {
        entry& e = heap_.front();
        switch (revive(e)) {
            case revived::moved: sift_down(0, e); return;  // (time, seq) only grew: sift down
            case revived::dropped: heap_pop(); return;
        }
    }
    enum class revived : std::uint8_t { moved, dropped };
    /// A stale-looking heap entry: a re-armed timer's entry gets its new key and generation
    /// (moved); a disarmed one's frees its slot (dropped); a cancelled one is dropped.
    revived revive(entry& e) {
        if (e.slot == 0 || e.slot > lazy_.size()) return revived::dropped;
        lazy_slot& z = lazy_[e.slot - 1];
        if (z.state == lazy_state::none || z.entry_gen != e.gen) return revived::dropped;
        if (z.state == lazy_state::parked) {
            release_slot(e.slot);  // a new generation: the disarmed handle can no longer rearm it
            z.state = lazy_state::none;
            return revived::dropped;
        }
        e.time = z.due.time;
        e.seq = z.due.seq;
        e.gen = slot_gen_[e.slot - 1];
        z = lazy_slot{};
        z.entry_time = e.time;
        return revived::moved;
    }
    /// The next live entry among the heap top and the lane fronts (sets from_lane_ and
    /// front_index_). The fronts are cached copies, always live (see next_front), so this is
    /// one (time, seq) comparison per lane in use: no stale test, no walk into the lane.
    const entry* peek_entry() {
        settle();
        drop_stale();
        const entry* best = heap_.empty() ? &no_entry : &heap_.front();
        from_lane_ = false;
        const entry* const fronts = fronts_.data();
        for (std::size_t k = 0, n = fronts_.size(); k < n; ++k) {
            if (before(fronts[k], *best)) {
                best = &fronts[k];
                from_lane_ = true;
                front_index_ = k;
            }
        }
        return best->seq == UINT64_MAX ? nullptr : best;
    }
    /// Lane `k` (in first-use order) lost its front (popped or cancelled): skip the cancelled
    /// entries behind it and cache the next live one, or no_entry. Why: a pop then compares
    /// cached keys only, and a lane's stale entries are skipped once, not at every pop.
    void next_front(std::size_t k) {
        fifo& f = lanes_[used_lanes_[k]];
        ++f.head;
        while (f.head < f.buf.size() && stale(f.buf[f.head])) ++f.head;
        fronts_[k] = f.head < f.buf.size() ? f.buf[f.head] : no_entry;
    }
    /// A timer of `slot` was cancelled: if it is a lane's front, move that front
    /// on (the invariant: a cached front is live). A granted waiter's acquire timeout is
    /// usually its lane's front, so the lane's buffer does not keep it.
    void unfront(std::uint32_t slot) noexcept {
        for (std::size_t k = 0, n = fronts_.size(); k < n; ++k)
            if (fronts_[k].slot == slot) return next_front(k);
    }
    // Inline: every lane push asks; a lane's first use goes out of line.
    fifo& lane_for(std::uint32_t lane) {
        if (lane < lanes_.size() && lanes_[lane].used) [[likely]] return lanes_[lane];
        return first_use(lane);
    }
    [[gnu::noinline]] fifo& first_use(std::uint32_t lane) {
        DBPOOLSIM_ASSERT(lane < (1u << 16), "FIFO lane index out of range");
        if (lane >= lanes_.size()) lanes_.resize(std::size_t{lane} + 1);
        fifo& f = lanes_[lane];
        if (!f.used) {
            f.used = true;
            f.front = static_cast<std::uint32_t>(used_lanes_.size());
            used_lanes_.push_back(lane);
            fronts_.push_back(no_entry);
        }
        return f;
    }
    void lane_append(fifo& f, const entry& e) {
        if (f.head == f.buf.size()) {  // an empty lane: e is its new front
            f.buf.clear();
            f.head = 0;
            fronts_[f.front] = e;
        } else if (f.head > 4096 && f.head * 2 > f.buf.size()) {
            f.buf.erase(f.buf.begin(), f.buf.begin() + static_cast<std::ptrdiff_t>(f.head));
            f.head = 0;
        }
        f.buf.push_back(e);
        ++live_;
    }
    void heap_push(const entry& e) {
        if (top_taken_) {  // the deferred pop: e takes the taken top's place
            top_taken_ = false;
            sift_down(0, e);
            return;
        }
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
        if (!heap_.empty()) sift_down(0, last);
    }
    /// Place `last` at position i or below (the heap property holds beneath i).
    void sift_down(std::size_t i, const entry last) {
        const std::size_t n = heap_.size();
        entry* h = heap_.data();
        for (;;) {
            const std::size_t first = 4 * i + 1;
            if (first >= n) break;
            std::size_t best;
            if (first + 4 <= n) {  // four children: a tournament, no loop bound to test
                const std::size_t a = before(h[first + 1], h[first]) ? first + 1 : first;
                const std::size_t b = before(h[first + 3], h[first + 2]) ? first + 3 : first + 2;
                best = before(h[b], h[a]) ? b : a;
            } else {
                best = first;
                for (std::size_t c = first + 1; c < n; ++c)
                    if (before(h[c], h[best])) best = c;
            }
            if (!before(h[best], last)) break;
            h[i] = h[best];
            i = best;
        }
        h[i] = last;
    }
    /// Drop every stale entry from the heap and rebuild it bottom-up (Floyd), O(n).
    void compact() {
        settle();
        std::size_t j = 0;
        for (entry& e : heap_)
            if (!stale(e) || revive(e) == revived::moved) heap_[j++] = e;
        heap_.resize(j);
        for (std::size_t i = j > 1 ? (j - 2) / 4 + 1 : 0; i-- > 0;) sift_down(i, heap_[i]);
    }

    std::vector<entry> heap_;
    std::vector<fifo> lanes_;
    std::vector<std::uint32_t> used_lanes_;  // lanes ever pushed to, in first-use order
    std::vector<entry> fronts_;  // fronts_[k]: the live front of lane used_lanes_[k], or no_entry
    bool from_lane_ = false;
    bool top_taken_ = false;  // the heap's top was popped (deferred; see settle)
    std::size_t front_index_ = 0;
    std::vector<std::uint32_t> slot_gen_;
    std::vector<std::uint32_t> free_slots_;
    // Re-armable timers, per slot (grown on first use; other slots never read it but on release).
    enum class lazy_state : std::uint8_t { none, parked, moved };
    struct lazy_slot {
        lazy_state state = lazy_state::none;  // parked: disarmed; moved: re-armed to `due`
        std::uint32_t entry_gen = 0;          // the generation of the slot's entry in the heap
        sim_time entry_time = 0;              // that entry's time
        struct { sim_time time; std::uint64_t seq; } due{0, 0};
    };
    std::vector<lazy_slot> lazy_;
    lazy_slot& lazy_for(std::uint32_t slot) {
        if (slot > lazy_.size()) lazy_.resize(slot);
        return lazy_[slot - 1];
    }
    std::uint64_t seq_ = 0;
    std::size_t live_ = 0;
};

}  // namespace dbpoolsim::sim
