// dbpoolsim world: requests and the client layer of each application instance.
//
// A request is one unit of the workload; its attempts (retries included) each ask the
// instance's pool for a connection. This file holds the request table (slots reused through
// sim/slot_table.hpp, so memory is O(requests in flight)), the transaction-class mix, the retry
// backoff (seeds/001), and the per-instance circuit breaker. Nothing here schedules events:
// the world asks and acts on the answers.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "models/metrics.hpp"
#include "models/pool/pool.hpp"
#include "models/scenario.hpp"
#include "sim/random.hpp"
#include "sim/simulation.hpp"
#include "sim/slot_table.hpp"
#include "sim/stats/accumulator.hpp"

namespace dbpoolsim::models::world_parts {

/// One request in flight (a slot of the request table).
struct request {
    double arrival = 0;
    double acquire_start = 0;
    std::uint64_t seqno = 0;
    std::uint32_t conn = npos32;    // application pool connection
    std::uint32_t server = npos32;  // pooler server connection (with a pooler tier)
    double pooler_start = 0;
    std::uint32_t user = npos32;
    std::uint32_t query_index = 0;
    std::uint16_t cls = 0;
    std::uint8_t pool = 0;      // application pool (instance * pools per instance + named pool)
    std::uint16_t attempt = 0;  // attempts started (retries = attempt - 1)
    bool done = false;          // the outcome is recorded (an abandoned attempt may still run)
    sim::timer_handle deadline, retry, stmt, patience;
    bool counted = false;
    bool gave_up = false;  // abandoned at its patience while the pool could not drop it
    double wait = NAN;     // the last attempt's acquire wait (NaN while it waits)
    // A query error on its way to the client (ev_query_error).
    fail_reason err = fail_reason::query_error;
    std::uint8_t err_broken = 0;  // 1: the app's connection is gone, 2: the pooler's server is
    double query_start = 0;
    double duration = NAN;  // trace replay: database time of the whole transaction
};

/// A uniform draw in [0, 1) from a keyed engine (53 bits).
inline double keyed_uniform(std::uint64_t seed, std::uint64_t key) {
    sim::keyed_engine eng(seed, key);
    return static_cast<double>(eng() >> 11) * 0x1.0p-53;
}

/// The request table: slots handed out and taken back, each request's transaction class
/// drawn from the workload's mix (keyed by the request's sequence number: common random
/// numbers across pool configurations).
class request_table {
public:
    request_table(const scenario& s, int rep)
        : mix_seed_(sim::stream_seed(s.run.seed, rep, "transaction_mix")) {
        double acc = 0, total = 0;
        for (const auto& c : s.workload.transactions) total += c.weight;
        for (const auto& c : s.workload.transactions) mix_cdf_.push_back(acc += c.weight / total);
        mix_cdf_.back() = 1.0;
    }

    /// A fresh request arriving at `now` (class `cls`, or drawn from the mix if negative).
    /// Forced inline (speed, issue 9): once per request, into world::admit.
    [[gnu::always_inline]] std::uint32_t add(double now, std::uint32_t user, int cls, double duration, bool counted) {
        const std::uint32_t id = reqs_.allocate();
        request& r = reqs_[id];
        r.arrival = r.acquire_start = now;
        r.seqno = next_seqno_++;
        r.user = user;
        r.counted = counted;
        r.duration = duration;
        if (cls >= 0) {
            r.cls = static_cast<std::uint16_t>(cls);
        } else if (mix_cdf_.size() > 1) {
            const double u = keyed_uniform(mix_seed_, r.seqno);
            std::uint16_t c = 0;
            while (c + 1u < mix_cdf_.size() && u >= mix_cdf_[c]) ++c;
            r.cls = c;
        }
        return id;
    }
    /// The request's slot is free again; returns the number of requests still live.
    std::uint32_t remove(std::uint32_t id) {
        reqs_.release(id);
        return reqs_.live();
    }

    request& operator[](std::uint32_t id) { return reqs_[id]; }
    const request& operator[](std::uint32_t id) const { return reqs_[id]; }
    std::uint32_t live() const noexcept { return reqs_.live(); }
    /// Counted requests whose outcome is not recorded yet (at the end of the run).
    std::uint64_t counted_in_flight() const {
        std::uint64_t n = 0;
        for_each_in_flight([&n](const request&) { ++n; });
        return n;
    }
    /// f(request) for each of them, in slot order.
    template <class F>
    void for_each_in_flight(F&& f) const {
        const std::vector<bool> in_use = reqs_.in_use();
        for (std::uint32_t i = 0; i < reqs_.size(); ++i)
            if (in_use[i] && reqs_[i].counted && !reqs_[i].done) f(reqs_[i]);
    }

private:
    std::uint64_t mix_seed_;
    std::vector<double> mix_cdf_;
    sim::slot_table<request> reqs_{1u << 24, "more than 2^24 requests in flight"};
    std::uint64_t next_seqno_ = 0;
};

/// The retry policy of seeds/001: exponential backoff from initial_retry_delay, capped at
/// max_retry_delay, with +-retry_jitter_factor jitter (keyed: common random numbers).
class retry_policy {
public:
    retry_policy(const client_settings& c, const scenario& s, int rep)
        : c_(c), seed_(sim::stream_seed(s.run.seed, rep, "retry_jitter")) {}

    /// Whether an attempt that failed for `why` may be retried (attempts so far: `attempt`).
    bool retries(fail_reason why, int attempt) const {
        const bool retryable = why != fail_reason::circuit_open && why != fail_reason::deadline_exceeded &&
                               why != fail_reason::abandoned;
        return retryable && attempt <= c_.retry_attempts;
    }
    /// The backoff before attempt number `attempt + 1` of request `seqno`.
    double backoff(int attempt, std::uint64_t seqno) const {
        double delay = std::min(c_.max_retry_delay, c_.initial_retry_delay * std::pow(c_.retry_multiplier, attempt - 1));
        const double u = keyed_uniform(seed_ ^ sim::mix64(static_cast<std::uint64_t>(attempt)), seqno);
        return delay * (1 + c_.retry_jitter_factor * (2 * u - 1));
    }

private:
    const client_settings& c_;
    std::uint64_t seed_;
};

/// One instance's circuit breaker: closed until `threshold` consecutive attempt failures,
/// then open (attempts fail fast) for circuit_breaker_timeout, then half-open: `reset`
/// consecutive successes close it, one failure opens it again.
class circuit_breaker {
public:
    enum state_t : std::uint8_t { closed, open, half_open };

    state_t state() const noexcept { return st_; }
    /// An attempt's result; returns the new state if it changed (then the caller accounts
    /// for it and, for `open`, schedules the half-open transition), else the current one.
    /// Results in the open state (attempts started before it opened) change nothing.
    state_t record(bool ok, int threshold, int reset) {
        if (st_ == closed) {
            failures_ = ok ? 0 : failures_ + 1;
            if (failures_ >= threshold) return set(open);
        } else if (st_ == half_open) {
            if (!ok) return set(open);
            if (++successes_ >= reset) return set(closed);
        }
        return st_;
    }
    /// The open timeout ended: half-open.
    void half_open_now() { set(half_open); }
    /// Set the state (counts restart).
    state_t set(state_t st) {
        st_ = st;
        failures_ = successes_ = 0;
        return st;
    }

private:
    state_t st_ = closed;
    int failures_ = 0, successes_ = 0;
};

/// The breakers of all instances (none when client.circuit_breaker_threshold is 0), with the
/// time spent in each state summed over instances.
class breakers {
public:
    breakers(const client_settings& c, int instances) : c_(c) {
        if (c.circuit_breaker_threshold > 0) b_.resize(static_cast<std::size_t>(instances));
    }
    bool enabled() const noexcept { return !b_.empty(); }
    bool is_open(std::uint32_t inst) const { return !b_.empty() && b_[inst].state() == circuit_breaker::open; }
    /// An attempt of instance `inst` ended; true if its breaker just opened (the caller
    /// schedules the half-open transition after circuit_breaker_timeout).
    bool record(std::uint32_t inst, bool ok, double t) {
        if (b_.empty()) return false;
        circuit_breaker& b = b_[inst];
        const auto before = b.state();
        const auto after = b.record(ok, c_.circuit_breaker_threshold, c_.circuit_breaker_reset);
        if (after == circuit_breaker::open && before != circuit_breaker::open) {
            account(before, after, t);
            ++opens_;
            return true;
        }
        // half_open -> closed (same state reported when nothing changed)
        if (after != before) account(before, after, t);
        return false;
    }
    void half_open(std::uint32_t inst, double t) {
        const auto before = b_[inst].state();
        b_[inst].half_open_now();
        account(before, circuit_breaker::half_open, t);
    }
    void reset_measurements(double t) {
        opens_ = 0;
        in_open_.reset(t);
        in_half_open_.reset(t);
    }
    std::uint64_t opens() const noexcept { return opens_; }
    const sim::stats::time_average& in_open() const noexcept { return in_open_; }
    const sim::stats::time_average& in_half_open() const noexcept { return in_half_open_; }

private:
    void account(circuit_breaker::state_t from, circuit_breaker::state_t to, double t) {
        if (from == circuit_breaker::open) in_open_.add(t, -1);
        if (from == circuit_breaker::half_open) in_half_open_.add(t, -1);
        if (to == circuit_breaker::open) in_open_.add(t, 1);
        if (to == circuit_breaker::half_open) in_half_open_.add(t, 1);
    }

    const client_settings& c_;
    std::vector<circuit_breaker> b_;
    std::uint64_t opens_ = 0;
    sim::stats::time_average in_open_, in_half_open_;
};

}  // namespace dbpoolsim::models::world_parts
