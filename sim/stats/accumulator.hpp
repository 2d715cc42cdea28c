// dbpoolsim kernel: count / mean / variance / min / max, streaming and mergeable.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace dbpoolsim::sim::stats {

/// Welford's streaming moments; `merge` uses Chan et al.'s pairwise update, so merging
/// replications gives the same moments as one accumulator over all values (to rounding).
class accumulator {
public:
    void add(double x) noexcept {
        ++n_;
        const double d = x - mean_;
        mean_ += d / static_cast<double>(n_);
        m2_ += d * (x - mean_);
        min_ = std::min(min_, x);
        max_ = std::max(max_, x);
    }
    void merge(const accumulator& o) noexcept {
        if (o.n_ == 0) return;
        if (n_ == 0) {
            *this = o;
            return;
        }
        const double n = static_cast<double>(n_ + o.n_);
        const double d = o.mean_ - mean_;
        mean_ += d * static_cast<double>(o.n_) / n;
        m2_ += o.m2_ + d * d * static_cast<double>(n_) * static_cast<double>(o.n_) / n;
        n_ += o.n_;
        min_ = std::min(min_, o.min_);
        max_ = std::max(max_, o.max_);
    }
    void reset() noexcept { *this = accumulator{}; }

    std::uint64_t count() const noexcept { return n_; }
    /// Mean; NaN when empty.
    double mean() const noexcept {
        return n_ ? mean_ : std::numeric_limits<double>::quiet_NaN();
    }
    /// Sample variance (n-1 denominator); NaN with fewer than two values.
    double variance() const noexcept {
        return n_ > 1 ? m2_ / static_cast<double>(n_ - 1)
                      : std::numeric_limits<double>::quiet_NaN();
    }
    double stddev() const noexcept { return std::sqrt(variance()); }
    double sum() const noexcept { return mean_ * static_cast<double>(n_); }
    double min() const noexcept { return n_ ? min_ : std::numeric_limits<double>::quiet_NaN(); }
    double max() const noexcept { return n_ ? max_ : std::numeric_limits<double>::quiet_NaN(); }

private:
    std::uint64_t n_ = 0;
    double mean_ = 0.0;
    double m2_ = 0.0;
    double min_ = std::numeric_limits<double>::infinity();
    double max_ = -std::numeric_limits<double>::infinity();
};

/// The running mean alone, by the same update as accumulator (so the same value, bit for
/// bit): for a mean read per run, updated per request, it skips accumulator's variance,
/// min and max (speed, issue 9).
class running_mean {
public:
    void add(double x) noexcept {
        ++n_;
        mean_ += (x - mean_) / static_cast<double>(n_);
    }
    std::uint64_t count() const noexcept { return n_; }
    /// Mean; NaN when empty.
    double mean() const noexcept { return n_ ? mean_ : std::numeric_limits<double>::quiet_NaN(); }

private:
    std::uint64_t n_ = 0;
    double mean_ = 0.0;
};

/// Time-weighted average of a piecewise-constant signal (queue length, busy connections...).
/// `set(t, v)` says the signal becomes v at time t (t never decreases). `reset(t)` starts a new
/// observation window at t keeping the current value (warm-up deletion).
class time_average {
public:
    void set(double t, double v) noexcept {
        area_ += value_ * (t - last_);
        last_ = t;
        value_ = v;
        if (v > max_) max_ = v;
    }
    void add(double t, double dv) noexcept { set(t, value_ + dv); }
    void reset(double t) noexcept {
        area_ = 0.0;
        start_ = last_ = t;
        max_ = value_;
    }
    /// Average over [window start, t]; the current value if the window is empty.
    double mean(double t) const noexcept {
        const double span = t - start_;
        return span > 0 ? (area_ + value_ * (t - last_)) / span : value_;
    }
    /// Integral of the signal over [window start, t].
    double integral(double t) const noexcept { return area_ + value_ * (t - last_); }
    double value() const noexcept { return value_; }
    double max() const noexcept { return max_; }

private:
    double area_ = 0.0;
    double start_ = 0.0;
    double last_ = 0.0;
    double value_ = 0.0;
    double max_ = 0.0;
};

}  // namespace dbpoolsim::sim::stats
