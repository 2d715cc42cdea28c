// HikariCP's per-thread list (util/ConcurrentBag threadList), with the application threads
// that own the lists: the `threads` parameter (dbpoolsim's own, docs/pools.md).
//
// The world's requests carry no thread. With `threads` N > 0 the application runs them on a
// fixed pool of N threads, each request on the thread that has been idle the longest: a
// java.util.concurrent.ThreadPoolExecutor over a LinkedBlockingQueue, whose idle workers wait
// in take() on the queue's condition, which signals the longest-waiting one first (FIFO); all
// N started in order at first (prestartAllCoreThreads). A request keeps its thread from its
// acquire to its end (release, failure); with none idle it runs without a list (a real
// executor would queue it: size N above the concurrency).
//
// Each thread's list holds the connections it returned when nobody waited (requite's last
// step). borrow first walks it from the newest entry, removing every entry it passes, and takes
// the first one still NOT_IN_USE; only then does it scan the shared list (ConcurrentBag.borrow,
// "Try the thread-local list first"; HikariCP-2.7.9 and 6.0.0 alike). 6.0.0 adds to a list only
// while it holds fewer than 50 entries; 2.7.9 has no cap.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

namespace dbpoolsim::models::hikaricp_detail {

class thread_lists {
public:
    static constexpr std::uint32_t none = 0xffffffffu;
    using entry = std::pair<std::uint32_t, std::uint64_t>;  // connection slot, creation sequence

    thread_lists(std::uint32_t threads, bool capped) : lists_(threads), capped_(capped) {
        for (std::uint32_t t = 0; t < threads; ++t) idle_.push_back(t);
    }

    bool enabled() const { return !lists_.empty(); }

    /// The request starts on the longest-idle thread (none if all are busy or N is 0).
    void start(std::uint32_t req) {
        if (!enabled()) return;
        if (req >= thread_of_.size()) thread_of_.resize(std::max<std::size_t>(req + 1, thread_of_.size() * 2), none);
        std::uint32_t t = none;
        if (!idle_.empty()) {
            t = idle_.front();
            idle_.pop_front();
        }
        thread_of_[req] = t;
    }

    /// The request ended: its thread waits for the next one, behind the threads idle longer.
    void end(std::uint32_t req) {
        if (!enabled() || req >= thread_of_.size() || thread_of_[req] == none) return;
        idle_.push_back(thread_of_[req]);
        thread_of_[req] = none;
    }

    /// The list of the thread running `req` (nullptr without one).
    std::vector<entry>* list_of(std::uint32_t req) {
        if (!enabled() || req >= thread_of_.size() || thread_of_[req] == none) return nullptr;
        return &lists_[thread_of_[req]];
    }

    /// requite with nobody waiting: the returning thread keeps the entry (6.0.0: below 50).
    void keep(std::uint32_t req, entry e) {
        std::vector<entry>* l = list_of(req);
        if (l != nullptr && (!capped_ || l->size() < 50)) l->push_back(e);
    }

private:
    std::vector<std::vector<entry>> lists_;
    std::deque<std::uint32_t> idle_;
    std::vector<std::uint32_t> thread_of_;  // by request id
    bool capped_;
};

}  // namespace dbpoolsim::models::hikaricp_detail
