// dbpoolsim kernel: log-bucket histogram with a bounded relative error.
//
// Layout (fixed, so histograms of different replications merge exactly by adding counts):
// positive values are bucketed by their binary exponent e (2^-30 s ~ 1 ns up to 2^21 s ~ 24
// days) and the top 7 bits of their mantissa: 128 buckets per octave. A bucket [lo, hi) has
// (hi - lo) / lo <= 1/128, and `quantile` reports the bucket midpoint, so
//
//     |reported - exact| / exact <= 1/256 (0.39 %)
//
// where `exact` is the order statistic of rank ceil(q * n) (tested against sorting). Values
// <= 0 are counted in a separate zero bucket (most acquire waits are exactly zero) and reported
// as 0. Values below 2^-30 count in the first bucket, values above 2^21 in the last, and the
// exact min and max are kept, so the reported value is always clamped into [min, max].
// Bucket lookup is a few bit operations on the IEEE-754 representation: no log() per value.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace dbpoolsim::sim::stats {

class log_histogram {
public:
    static constexpr int sub_bits = 7;
    static constexpr int sub_buckets = 1 << sub_bits;
    static constexpr int min_exponent = -30;
    static constexpr int max_exponent = 21;  // exclusive
    static constexpr int bucket_count = (max_exponent - min_exponent) * sub_buckets;
    /// Bound on |reported quantile - exact order statistic| / exact.
    static constexpr double relative_error = 1.0 / (2 * sub_buckets);

    log_histogram() : counts_(bucket_count, 0) {}

    // Always inline (speed, issue 9): a few instructions, once or twice per request, and GCC's
    // inlining budget for a long caller (world::grant) otherwise drops it as files grow.
    [[gnu::always_inline]] void add(double x) noexcept {
        ++n_;
        sum_ += x;
        if (x < min_) min_ = x;
        if (x > max_) max_ = x;
        if (!(x > 0.0)) {
            ++zeros_;
            return;
        }
        const int i = index(x);
        ++counts_[static_cast<std::size_t>(i)];
        if (i < lo_) lo_ = i;
        if (i > hi_) hi_ = i;
    }

    void merge(const log_histogram& o) {
        if (o.n_ == 0) return;
        for (int i = o.lo_; i <= o.hi_; ++i)
            counts_[static_cast<std::size_t>(i)] += o.counts_[static_cast<std::size_t>(i)];
        n_ += o.n_;
        zeros_ += o.zeros_;
        sum_ += o.sum_;
        min_ = std::min(min_, o.min_);
        max_ = std::max(max_, o.max_);
        lo_ = std::min(lo_, o.lo_);
        hi_ = std::max(hi_, o.hi_);
    }

    /// Clears the counts; cost proportional to the range of buckets used.
    void reset() noexcept {
        if (lo_ <= hi_)
            std::fill(counts_.begin() + lo_, counts_.begin() + hi_ + 1, std::uint64_t{0});
        n_ = zeros_ = 0;
        sum_ = 0.0;
        min_ = std::numeric_limits<double>::infinity();
        max_ = -std::numeric_limits<double>::infinity();
        lo_ = bucket_count;
        hi_ = -1;
    }

    std::uint64_t count() const noexcept { return n_; }
    std::uint64_t zeros() const noexcept { return zeros_; }
    double sum() const noexcept { return sum_; }
    double mean() const noexcept {
        return n_ ? sum_ / static_cast<double>(n_) : std::numeric_limits<double>::quiet_NaN();
    }
    double min() const noexcept { return n_ ? min_ : std::numeric_limits<double>::quiet_NaN(); }
    double max() const noexcept { return n_ ? max_ : std::numeric_limits<double>::quiet_NaN(); }

    /// The q-quantile (q in [0, 1]) as the order statistic of rank max(1, ceil(q n)), within
    /// `relative_error`. NaN when empty.
    double quantile(double q) const noexcept {
        if (n_ == 0) return std::numeric_limits<double>::quiet_NaN();
        q = std::clamp(q, 0.0, 1.0);
        auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n_)));
        if (rank < 1) rank = 1;
        if (rank <= zeros_) return std::max(0.0, min_);
        std::uint64_t seen = zeros_;
        for (int i = lo_; i <= hi_; ++i) {
            seen += counts_[static_cast<std::size_t>(i)];
            if (seen >= rank) return std::clamp(midpoint(i), min_, max_);
        }
        return max_;
    }

    /// Fraction of values strictly greater than x (bucket resolution).
    double fraction_above(double x) const noexcept {
        if (n_ == 0) return std::numeric_limits<double>::quiet_NaN();
        if (!(x > 0.0)) return static_cast<double>(n_ - zeros_) / static_cast<double>(n_);
        std::uint64_t above = 0;
        const int k = index(x);
        for (int i = std::max(k + 1, lo_); i <= hi_; ++i)
            above += counts_[static_cast<std::size_t>(i)];
        return static_cast<double>(above) / static_cast<double>(n_);
    }

    /// Bucket of a positive value.
    static int index(double x) noexcept {
        const auto bits = std::bit_cast<std::uint64_t>(x);
        const int e = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
        if (e < min_exponent) return 0;
        if (e >= max_exponent) return bucket_count - 1;
        const int sub = static_cast<int>((bits >> (52 - sub_bits)) & (sub_buckets - 1));
        return (e - min_exponent) * sub_buckets + sub;
    }
    /// Midpoint of bucket i.
    static double midpoint(int i) noexcept {
        const int e = i / sub_buckets + min_exponent;
        const int sub = i % sub_buckets;
        return std::ldexp(1.0 + (sub + 0.5) / sub_buckets, e);
    }

private:
    friend class log_histogram_window;
    std::vector<std::uint64_t> counts_;
    std::uint64_t n_ = 0;
    std::uint64_t zeros_ = 0;
    double sum_ = 0.0;
    double min_ = std::numeric_limits<double>::infinity();
    double max_ = -std::numeric_limits<double>::infinity();
    int lo_ = bucket_count;
    int hi_ = -1;
};

/// The values a log_histogram received since the window last restarted, with the same
/// quantile() and max() as a second log_histogram fed the same values and reset at each
/// restart, bit for bit (tests/cpp/sim/test_stats.cpp checks it against one).
///
/// Done this way for speed (issue 9): the time series' per-interval wait percentiles used to
/// come from a second histogram, updated with every value (about 25 instructions each). A
/// window instead notes each value's min and max, and at a restart copies the counts that
/// changed (the buckets between the window's min and max) so the next window's counts are
/// differences. The owner calls note(x) for each value it adds to the histogram.
class log_histogram_window {
public:
    /// Watches h, which must outlive it and is never reset or assigned while watched.
    explicit log_histogram_window(const log_histogram& h) : h_(h), start_(log_histogram::bucket_count, 0) {}
    log_histogram_window(const log_histogram_window&) = delete;
    log_histogram_window& operator=(const log_histogram_window&) = delete;

    void note(double x) noexcept {
        if (x < min_) min_ = x;
        if (x > max_) max_ = x;
    }
    std::uint64_t count() const noexcept { return h_.n_ - n0_; }
    double max() const noexcept { return count() ? max_ : std::numeric_limits<double>::quiet_NaN(); }

    /// The q-quantiles of the window's values (as log_histogram::quantile), q ascending.
    template <std::size_t N>
    std::array<double, N> quantiles(const std::array<double, N>& qs) const noexcept {
        std::array<double, N> out;
        const std::uint64_t n = count();
        if (n == 0) {
            out.fill(std::numeric_limits<double>::quiet_NaN());
            return out;
        }
        const std::uint64_t zeros = h_.zeros_ - zeros0_;
        std::uint64_t seen = zeros;
        int i = first_bucket() - 1;  // the last bucket counted in `seen`
        const int first = i + 1, last = last_bucket();
        for (std::size_t k = 0; k < N; ++k) {
            auto rank = static_cast<std::uint64_t>(std::ceil(std::clamp(qs[k], 0.0, 1.0) * static_cast<double>(n)));
            if (rank < 1) rank = 1;
            if (rank <= zeros) {
                out[k] = std::max(0.0, min_);
                continue;
            }
            if (2 * rank > n) {
                // From the top (for speed, issue 9): a rank in the upper half (the p99) is
                // found counting down from the window's max, not up from its min (about 2,000
                // buckets for the waits). The bucket is the same: the lowest b with
                // (values <= b) >= rank, where (values <= b) = n - (values above b).
                std::uint64_t above = 0;  // values in buckets >= j
                int j = last + 1;
                for (;;) {
                    const int b = j - 1;
                    const std::uint64_t c = count_at(b);
                    if (n - above - c < rank || b == first) {  // values <= b - 1 fall short
                        out[k] = std::clamp(log_histogram::midpoint(b), min_, max_);
                        break;
                    }
                    above += c;
                    j = b;
                }
                continue;
            }
            while (seen < rank && i < last) {
                ++i;
                seen += count_at(i);
            }
            out[k] = seen >= rank ? std::clamp(log_histogram::midpoint(i), min_, max_) : max_;
        }
        return out;
    }

    /// A new window starts with the histogram's next value.
    void restart() noexcept {
        if (count() > zeros_in_window()) {
            const int last = last_bucket();
            for (int i = first_bucket(); i <= last; ++i)
                start_[static_cast<std::size_t>(i)] = h_.counts_[static_cast<std::size_t>(i)];
        }
        n0_ = h_.n_;
        zeros0_ = h_.zeros_;
        min_ = std::numeric_limits<double>::infinity();
        max_ = -std::numeric_limits<double>::infinity();
    }

private:
    std::uint64_t count_at(int i) const noexcept {
        return h_.counts_[static_cast<std::size_t>(i)] - start_[static_cast<std::size_t>(i)];
    }
    std::uint64_t zeros_in_window() const noexcept { return h_.zeros_ - zeros0_; }
    // Every positive value of the window lies in a bucket between these two.
    int first_bucket() const noexcept { return min_ > 0.0 ? log_histogram::index(min_) : h_.lo_; }
    int last_bucket() const noexcept { return max_ > 0.0 ? log_histogram::index(max_) : -1; }

    const log_histogram& h_;
    std::vector<std::uint64_t> start_;  // the histogram's counts when the window started
    std::uint64_t n0_ = 0, zeros0_ = 0;
    double min_ = std::numeric_limits<double>::infinity();
    double max_ = -std::numeric_limits<double>::infinity();
};

}  // namespace dbpoolsim::sim::stats
