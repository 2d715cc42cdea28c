// dbpoolsim kernel: a table of reusable slots addressed by dense 32-bit ids.
//
// The simulated world keeps many short-lived records (requests, connections, a pool's pending
// tasks, logins' CPU jobs) that events refer to by a small integer. `slot_table` hands those ids
// out: a freed id is reused before the table grows, the most recently freed first (LIFO), so
// ids stay dense and the order in which ids are reused is part of the deterministic run.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "sim/error.hpp"

namespace dbpoolsim::sim {

template <class T>
class slot_table {
public:
    /// At most `max_slots` ids in use at once; `full_message` is the error when one more is asked.
    explicit slot_table(std::uint32_t max_slots = std::numeric_limits<std::uint32_t>::max(),
                        const char* full_message = "slot table full")
        : max_(max_slots), full_message_(full_message) {}

    /// A slot holding a value-initialised T: the most recently released id, else a new one.
    std::uint32_t allocate() {
        std::uint32_t id;
        if (!free_.empty()) {
            id = free_.back();
            free_.pop_back();
            slots_[id] = T{};
        } else {
            id = static_cast<std::uint32_t>(slots_.size());
            DBPOOLSIM_ASSERT(id < max_, full_message_);
            slots_.emplace_back();
        }
        ++live_;
        return id;
    }
    /// The slot's id may be handed out again (its value stays until then).
    void release(std::uint32_t id) {
        DBPOOLSIM_ASSERT(id < slots_.size() && live_ > 0, "release of a slot that is not in use");
        free_.push_back(id);
        --live_;
    }

    T& operator[](std::uint32_t id) { return slots_[id]; }
    const T& operator[](std::uint32_t id) const { return slots_[id]; }
    /// Slots in use.
    std::uint32_t live() const noexcept { return live_; }
    /// Ids ever handed out (ids are below this).
    std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(slots_.size()); }
    /// Per id: true if the slot is in use (O(size); for end-of-run accounting, not hot paths).
    std::vector<bool> in_use() const {
        std::vector<bool> used(slots_.size(), true);
        for (auto id : free_) used[id] = false;
        return used;
    }

private:
    std::vector<T> slots_;
    std::vector<std::uint32_t> free_;
    std::uint32_t live_ = 0;
    std::uint32_t max_;
    const char* full_message_;
};

}  // namespace dbpoolsim::sim
