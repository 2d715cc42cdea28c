// dbpoolsim world: the database server's CPU, as egalitarian processor sharing.
//
// `cores` = c: with n active queries each receives min(1, c/n) of a core (c = 0 means no CPU
// contention: every query runs at full speed). Implemented with virtual time: V(t) grows at
// rate r(n) = min(1, c/n); a query submitted with work w finishes when V reaches V_submit + w.
// Only the earliest finisher has a pending event; it is rescheduled when n (hence r) changes,
// and only if its time actually moves. Cost per query: O(log n) plus at most one timer.
//
// Optionally the per-query speed also follows the Universal Scalability Law (models/usl.hpp):
// with n active queries each runs at r(n) x 1 / (1 + sigma (n - 1) + kappa n (n - 1)), so the
// database's throughput peaks at N* = sqrt((1 - sigma) / kappa) active queries and falls
// beyond: a pool larger than N* makes every query slower. Any r(n) shared by all active jobs
// keeps the virtual-time method exact.
//
// Jobs can be cancelled (statement timeout, a connection killed under its query): with
// `cancellable` the uncontended case also uses the virtual-time heap, and a cancelled job is
// dropped lazily when it reaches the top (its generation no longer matches).
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

#include "models/usl.hpp"

#include "sim/simulation.hpp"
#include "sim/stats/accumulator.hpp"

namespace dbpoolsim::models {

class cpu_model {
public:
    cpu_model(sim::simulation& s, int cores, std::uint32_t done_kind,
              std::optional<usl::usl_params> usl = std::nullopt, bool cancellable = false)
        : sim_(s), cores_(cores), done_kind_(done_kind), usl_(usl),
          heap_(cores != 0 || usl.has_value() || cancellable) {}

    /// Start a query of `work` CPU-seconds for job `id`. When it finishes the simulation
    /// receives event (done_kind, id) if cores == 0, else (done_kind, npos) and the caller
    /// must call `complete()` to learn which job finished.
    void submit(std::uint32_t id, double work) {
        ++n_;
        if (cores_) busy_.set(sim_.now(), busy_now());
        active_.set(sim_.now(), n_);
        if (!heap_) {  // no virtual time to advance: nothing reads it (speed, issue 9)
            sim_.schedule_after(work, done_kind_, id);
            return;
        }
        advance();
        jobs_.push(job{v_ + work, seq_++, id, ++gen(id)});
        reschedule();
    }

    /// Cancel job `id` (it must be running; only with `cancellable` or contention).
    void cancel(std::uint32_t id) {
        advance();
        ++gen(id);
        finish_one();
        prune();
        reschedule();
    }

    /// Under contention: the job whose completion event just fired.
    std::uint32_t complete() {
        advance();
        prune();
        const job j = jobs_.top();
        jobs_.pop();
        ++gen(j.id);
        timer_ = {};
        finish_one();
        prune();
        reschedule();
        return j.id;
    }
    /// Without contention: account for the finished job (the event carried its id).
    void complete_direct() { finish_one(); }

    bool contended() const noexcept { return heap_; }
    std::uint32_t active() const noexcept { return n_; }
    /// Cores busy (see busy_now()). With cores == 0 that is the number of active queries, so
    /// only active_ is kept (one time average less to update per query).
    const sim::stats::time_average& busy_cores() const noexcept { return cores_ ? busy_ : active_; }
    const sim::stats::time_average& active_queries() const noexcept { return active_; }
    sim::stats::time_average& busy_cores() noexcept { return cores_ ? busy_ : active_; }
    sim::stats::time_average& active_queries() noexcept { return active_; }
    int cores() const noexcept { return cores_; }

private:
    struct job {
        double finish_v;
        std::uint64_t seq;
        std::uint32_t id;
        std::uint32_t gen;
        bool operator>(const job& o) const noexcept {
            return finish_v > o.finish_v || (finish_v == o.finish_v && seq > o.seq);
        }
    };
    double rate() const noexcept {
        double r = (cores_ == 0 || n_ <= static_cast<std::uint32_t>(cores_))
                       ? 1.0
                       : static_cast<double>(cores_) / n_;
        if (usl_ && n_ > 1) r *= usl_->speed_factor(n_);
        return r;
    }
    // Job generations: request ids (< 2^31) at even slots, login jobs (bit 31 set) at odd.
    std::uint32_t& gen(std::uint32_t id) {
        const std::size_t k = id >> 31 ? (std::size_t(id & 0x7fffffffu) << 1 | 1) : std::size_t(id) << 1;
        if (k >= gens_.size()) gens_.resize(std::max<std::size_t>(k + 1, 2 * gens_.size()), 0);
        return gens_[k];
    }
    void prune() {
        while (!jobs_.empty() && jobs_.top().gen != gen(jobs_.top().id)) jobs_.pop();
    }
    double busy_now() const noexcept {
        if (cores_ == 0) return n_;
        return n_ < static_cast<std::uint32_t>(cores_) ? n_ : cores_;
    }
    void advance() {
        const double t = sim_.now();
        v_ += rate_ * (t - t_);
        t_ = t;
    }
    void finish_one() {
        --n_;
        if (cores_) busy_.set(sim_.now(), busy_now());
        active_.set(sim_.now(), n_);
    }
    void reschedule() {
        rate_ = rate();
        if (jobs_.empty()) {
            sim_.cancel(timer_);
            return;
        }
        const double due = sim_.now() + (jobs_.top().finish_v - v_) / rate_;
        const double at = due < sim_.now() ? sim_.now() : due;
        if (sim_.pending(timer_)) {
            if (at == timer_at_) return;
            sim_.cancel(timer_);
        }
        timer_ = sim_.timer_at(at, done_kind_, 0xffffffffu);
        timer_at_ = at;
    }

    sim::simulation& sim_;
    int cores_;
    std::uint32_t done_kind_;
    std::optional<usl::usl_params> usl_;
    bool heap_;
    std::vector<std::uint32_t> gens_;
    std::uint32_t n_ = 0;
    double v_ = 0, t_ = 0, rate_ = 1;
    std::uint64_t seq_ = 0;
    std::priority_queue<job, std::vector<job>, std::greater<job>> jobs_;
    sim::timer_handle timer_;
    double timer_at_ = 0;
    sim::stats::time_average busy_, active_;
};

}  // namespace dbpoolsim::models
