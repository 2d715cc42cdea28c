// Specification of sim/stats: accumulator, time_average, log_histogram and time_series.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sim/error.hpp"
#include "sim/random.hpp"
#include "sim/stats/accumulator.hpp"
#include "sim/stats/histogram.hpp"
#include "sim/stats/time_series.hpp"

using dbpoolsim::internal_error;
using dbpoolsim::sim::random_stream;
using dbpoolsim::sim::stats::accumulator;
using dbpoolsim::sim::stats::log_histogram;
using dbpoolsim::sim::stats::log_histogram_window;
using dbpoolsim::sim::stats::running_mean;
using dbpoolsim::sim::stats::time_average;
using dbpoolsim::sim::stats::time_series;

namespace {

double rel_diff(double a, double b) { return std::abs(a - b) / std::max(std::abs(a), std::abs(b)); }

// Exact order statistic of rank max(1, ceil(q n)) (1-based), the quantity the histogram's
// quantile() approximates. `sorted` must be sorted.
double order_statistic(const std::vector<double>& sorted, double q) {
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    if (rank < 1) rank = 1;
    return sorted[rank - 1];
}

std::vector<double> lognormal_samples(std::size_t n, double mu, double sigma, const char* name) {
    random_stream s(1234, 0, name);
    std::vector<double> v(n);
    for (auto& x : v) x = std::exp(mu + sigma * s.normal());
    return v;
}

}  // namespace

// ---------------------------------------------------------------- accumulator

TEST_CASE("accumulator: count, mean, sample variance, min, max of a small data set",
          "[stats][accumulator]") {
    // {2, 4, 4, 4, 5, 5, 7, 9}: sum 40, mean 5, sum of squared deviations 32
    accumulator a;
    for (double x : {2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0}) a.add(x);
    CHECK(a.count() == 8u);
    CHECK(a.mean() == 5.0);
    CHECK(a.variance() == Approx(32.0 / 7.0).epsilon(1e-15));  // n-1 denominator
    CHECK(a.stddev() == Approx(std::sqrt(32.0 / 7.0)).epsilon(1e-15));
    CHECK(a.sum() == 40.0);
    CHECK(a.min() == 2.0);
    CHECK(a.max() == 9.0);
}

TEST_CASE("accumulator: the variance is numerically stable for a large common offset",
          "[stats][accumulator]") {
    // The classic example: 1e9 + {4, 7, 13, 16} has variance 30 (naive sum of squares loses it).
    accumulator a;
    for (double x : {4.0, 7.0, 13.0, 16.0}) a.add(1e9 + x);
    CHECK(a.mean() == 1e9 + 10.0);
    CHECK(a.variance() == Approx(30.0).epsilon(1e-12));
}

TEST_CASE("accumulator: empty and single-value accumulators give NaN where undefined",
          "[stats][accumulator]") {
    accumulator a;
    CHECK(a.count() == 0u);
    CHECK(std::isnan(a.mean()));
    CHECK(std::isnan(a.variance()));
    CHECK(std::isnan(a.stddev()));
    CHECK(std::isnan(a.min()));
    CHECK(std::isnan(a.max()));
    CHECK(a.sum() == 0.0);

    a.add(3.5);
    CHECK(a.count() == 1u);
    CHECK(a.mean() == 3.5);
    CHECK(std::isnan(a.variance()));  // needs two values
    CHECK(a.min() == 3.5);
    CHECK(a.max() == 3.5);
    CHECK(a.sum() == 3.5);

    a.add(5.5);
    CHECK(a.variance() == 2.0);

    a.reset();
    CHECK(a.count() == 0u);
    CHECK(std::isnan(a.mean()));
    CHECK(std::isnan(a.min()));
}

TEST_CASE("accumulator: merging two halves equals one accumulator over all values",
          "[stats][accumulator]") {
    random_stream s(77, 0, "acc");
    std::vector<double> v(1001);
    for (auto& x : v) x = 10.0 + s.exponential(3.0);

    accumulator all, first, second;
    for (double x : v) all.add(x);
    // unequal halves, so the pairwise formula's weights matter
    for (std::size_t i = 0; i < 300; ++i) first.add(v[i]);
    for (std::size_t i = 300; i < v.size(); ++i) second.add(v[i]);
    accumulator merged = first;
    merged.merge(second);

    CHECK(merged.count() == all.count());
    CHECK(rel_diff(merged.mean(), all.mean()) <= 1e-12);
    CHECK(rel_diff(merged.variance(), all.variance()) <= 1e-12);
    CHECK(merged.min() == all.min());
    CHECK(merged.max() == all.max());
    CHECK(rel_diff(merged.sum(), all.sum()) <= 1e-12);

    SECTION("merge order does not matter") {
        accumulator other = second;
        other.merge(first);
        CHECK(rel_diff(other.mean(), all.mean()) <= 1e-12);
        CHECK(rel_diff(other.variance(), all.variance()) <= 1e-12);
    }
    SECTION("merging with an empty accumulator is the identity, both ways") {
        accumulator empty, copy = all;
        copy.merge(empty);
        CHECK(copy.count() == all.count());
        CHECK(copy.mean() == all.mean());
        CHECK(copy.variance() == all.variance());
        empty.merge(all);
        CHECK(empty.count() == all.count());
        CHECK(empty.mean() == all.mean());
        CHECK(empty.variance() == all.variance());
        CHECK(empty.min() == all.min());
        CHECK(empty.max() == all.max());
    }
    SECTION("merging single values one by one") {
        accumulator m;
        for (double x : v) {
            accumulator one;
            one.add(x);
            m.merge(one);
        }
        CHECK(rel_diff(m.mean(), all.mean()) <= 1e-12);
        CHECK(rel_diff(m.variance(), all.variance()) <= 1e-12);
    }
}

// ---------------------------------------------------------------- time_average

TEST_CASE("time_average: mean and integral of a piecewise-constant signal", "[stats][time_average]") {
    // signal: 0 on [0,1), 2 on [1,3), 5 on [3,4), 1 from 4 on
    time_average ta;
    ta.set(1.0, 2.0);
    ta.set(3.0, 5.0);
    ta.set(4.0, 1.0);
    // integral over [0,10] = 0*1 + 2*2 + 5*1 + 1*6 = 15
    CHECK(ta.integral(10.0) == 15.0);
    CHECK(ta.mean(10.0) == 1.5);
    // at the last change point: over [0, 4] = 9
    CHECK(ta.integral(4.0) == 9.0);
    CHECK(ta.mean(4.0) == 2.25);
    CHECK(ta.value() == 1.0);
    CHECK(ta.max() == 5.0);

    SECTION("add() changes the value by a delta") {
        time_average q;
        q.add(0.0, 1.0);  // 1 on [0,2)
        q.add(2.0, 2.0);  // 3 on [2,3)
        q.add(3.0, -3.0);  // 0 on [3,5]
        CHECK(q.integral(5.0) == 5.0);
        CHECK(q.mean(5.0) == 1.0);
        CHECK(q.value() == 0.0);
        CHECK(q.max() == 3.0);
    }
    SECTION("several changes at the same time count only the last value") {
        time_average q;
        q.set(1.0, 100.0);
        q.set(1.0, 4.0);
        q.set(2.0, 0.0);
        CHECK(q.integral(2.0) == 4.0);
        CHECK(q.max() == 100.0);  // the maximum is over values set, however briefly
    }
}

TEST_CASE("time_average: reset(t) restarts the window at t keeping the current value",
          "[stats][time_average]") {
    // warm-up deletion: the signal is 10 during warm-up [0, 5), then 1 from t=5; reset at 6
    time_average ta;
    ta.set(0.0, 10.0);
    ta.set(5.0, 1.0);
    ta.reset(6.0);
    CHECK(ta.value() == 1.0);          // current value kept
    CHECK(ta.max() == 1.0);            // maximum restarts from the current value
    CHECK(ta.mean(6.0) == 1.0);        // empty window: the current value
    CHECK(ta.integral(6.0) == 0.0);
    ta.set(8.0, 3.0);                  // 1 on [6,8), 3 on [8,10]
    CHECK(ta.integral(10.0) == 8.0);
    CHECK(ta.mean(10.0) == 2.0);       // 8 over a 4-unit window, not 10
    CHECK(ta.max() == 3.0);

    SECTION("a fresh time_average over an empty window reports its value") {
        time_average z;
        CHECK(z.mean(0.0) == 0.0);
        CHECK(z.integral(0.0) == 0.0);
        CHECK(z.mean(7.0) == 0.0);
    }
}

// ---------------------------------------------------------------- log_histogram

TEST_CASE("log_histogram: the stated error bound is 1/256", "[stats][histogram]") {
    CHECK(log_histogram::relative_error == 1.0 / 256.0);
    CHECK(log_histogram::bucket_count == 51 * 128);
}

TEST_CASE("log_histogram: every bucket's midpoint is within relative_error of every value in it",
          "[stats][histogram]") {
    bool ok = true;
    for (int i = 0; i < log_histogram::bucket_count; ++i) {
        const double mid = log_histogram::midpoint(i);
        const int e = i / log_histogram::sub_buckets + log_histogram::min_exponent;
        const int sub = i % log_histogram::sub_buckets;
        const double lo = std::ldexp(1.0 + static_cast<double>(sub) / 128, e);
        const double hi_excl = std::nextafter(std::ldexp(1.0 + static_cast<double>(sub + 1) / 128, e), 0.0);
        ok = ok && log_histogram::index(mid) == i && log_histogram::index(lo) == i &&
             log_histogram::index(hi_excl) == i;
        ok = ok && std::abs(mid - lo) / lo <= log_histogram::relative_error &&
             std::abs(mid - hi_excl) / hi_excl <= log_histogram::relative_error;
        if (!ok) FAIL("bucket " << i);
    }
    CHECK(ok);
    // out-of-range values go to the first and last buckets
    CHECK(log_histogram::index(1e-300) == 0);
    CHECK(log_histogram::index(std::numeric_limits<double>::denorm_min()) == 0);
    CHECK(log_histogram::index(1e300) == log_histogram::bucket_count - 1);
    CHECK(log_histogram::index(std::numeric_limits<double>::infinity()) ==
          log_histogram::bucket_count - 1);
}

TEST_CASE("log_histogram: an empty histogram reports NaN", "[stats][histogram]") {
    log_histogram h;
    CHECK(h.count() == 0u);
    CHECK(std::isnan(h.quantile(0.5)));
    CHECK(std::isnan(h.mean()));
    CHECK(std::isnan(h.min()));
    CHECK(std::isnan(h.max()));
    CHECK(std::isnan(h.fraction_above(1.0)));
}

TEST_CASE("log_histogram: zeros are counted apart and reported exactly as 0", "[stats][histogram]") {
    log_histogram h;
    h.add(0.0);
    h.add(0.0);
    h.add(-0.0);
    h.add(1.0);
    CHECK(h.count() == 4u);
    CHECK(h.zeros() == 3u);
    CHECK(h.min() == 0.0);
    CHECK(h.max() == 1.0);
    CHECK(h.quantile(0.0) == 0.0);
    CHECK(h.quantile(0.5) == 0.0);
    CHECK(h.quantile(0.75) == 0.0);  // rank 3: still a zero
    CHECK(h.quantile(0.76) == 1.0);  // rank 4: the bucket midpoint clamped to max = 1 exactly
    CHECK(h.quantile(1.0) == 1.0);
    CHECK(h.fraction_above(0.0) == 0.25);
    CHECK(h.mean() == 0.25);

    SECTION("all zeros") {
        log_histogram z;
        for (int i = 0; i < 10; ++i) z.add(0.0);
        for (double q : {0.0, 0.5, 1.0}) CHECK(z.quantile(q) == 0.0);
        CHECK(z.fraction_above(0.0) == 0.0);
    }
}

TEST_CASE("log_histogram: min, max, sum and mean are exact", "[stats][histogram]") {
    log_histogram h;
    const double values[] = {0.0123, 7.25, 0.5, 3e-5, 1000.125};
    double sum = 0;
    for (double x : values) {
        h.add(x);
        sum += x;
    }
    CHECK(h.min() == 3e-5);
    CHECK(h.max() == 1000.125);
    CHECK(h.sum() == sum);
    CHECK(h.mean() == sum / 5);
    // the extreme quantiles are the buckets of min and max (within the bound, never outside)
    CHECK(h.quantile(0.0) >= 3e-5);
    CHECK(h.quantile(0.0) <= 3e-5 * (1 + log_histogram::relative_error));
    CHECK(h.quantile(1.0) <= 1000.125);
    CHECK(h.quantile(1.0) >= 1000.125 * (1 - log_histogram::relative_error));
}

TEST_CASE("log_histogram: quantiles of 1e5 lognormal samples are within relative_error of the "
          "exact order statistics",
          "[stats][histogram]") {
    // lognormal with median 4 ms and sigma 1.2 (a query-time-like distribution)
    auto v = lognormal_samples(100'000, std::log(0.004), 1.2, "hist-lognormal");
    log_histogram h;
    for (double x : v) h.add(x);
    std::sort(v.begin(), v.end());

    for (double q : {0.01, 0.5, 0.9, 0.99, 0.999, 1.0}) {
        const double exact = order_statistic(v, q);
        const double got = h.quantile(q);
        CAPTURE(q, exact, got);
        CHECK(std::abs(got - exact) / exact <= log_histogram::relative_error);
    }
    CHECK(h.min() == v.front());
    CHECK(h.max() == v.back());
}

TEST_CASE("log_histogram: the bound holds for values spanning 1e-9 .. 1e5", "[stats][histogram]") {
    // log-uniform over 14 decades, every quantile on a 0.001 grid
    random_stream s(99, 0, "hist-span");
    std::vector<double> v(100'000);
    for (auto& x : v) x = 1e-9 * std::pow(10.0, 14.0 * s.uniform());
    v.push_back(1e-9);
    v.push_back(1e5);
    log_histogram h;
    for (double x : v) h.add(x);
    std::sort(v.begin(), v.end());

    double worst = 0;
    for (int k = 0; k <= 1000; ++k) {
        const double q = k / 1000.0;
        const double exact = order_statistic(v, q);
        worst = std::max(worst, std::abs(h.quantile(q) - exact) / exact);
    }
    CAPTURE(worst);
    CHECK(worst <= log_histogram::relative_error);
}

TEST_CASE("log_histogram: merged histograms equal the histogram of the concatenated data",
          "[stats][histogram]") {
    auto a = lognormal_samples(30'000, std::log(0.01), 1.0, "hist-a");
    auto b = lognormal_samples(50'000, std::log(0.002), 2.0, "hist-b");
    for (std::size_t i = 0; i < a.size(); i += 7) a[i] = 0.0;  // some zeros too

    log_histogram ha, hb, hall;
    for (double x : a) {
        ha.add(x);
        hall.add(x);
    }
    for (double x : b) {
        hb.add(x);
        hall.add(x);
    }
    ha.merge(hb);
    CHECK(ha.count() == hall.count());
    CHECK(ha.zeros() == hall.zeros());
    CHECK(ha.min() == hall.min());
    CHECK(ha.max() == hall.max());
    CHECK(ha.sum() == Approx(hall.sum()).epsilon(1e-12));
    bool identical = true;
    for (int k = 0; k <= 1000; ++k) {
        const double q = k / 1000.0;
        identical = identical && ha.quantile(q) == hall.quantile(q);
    }
    CHECK(identical);
    for (double x : {0.0, 1e-4, 0.003, 0.1, 10.0})
        CHECK(ha.fraction_above(x) == hall.fraction_above(x));

    SECTION("merging into an empty histogram copies; merging an empty one changes nothing") {
        log_histogram e;
        e.merge(hall);
        log_histogram empty;
        e.merge(empty);
        CHECK(e.count() == hall.count());
        CHECK(e.min() == hall.min());
        CHECK(e.max() == hall.max());
        for (double q : {0.0, 0.1, 0.5, 0.99, 1.0}) CHECK(e.quantile(q) == hall.quantile(q));
    }
}

TEST_CASE("log_histogram: reset clears everything", "[stats][histogram]") {
    log_histogram h;
    for (double x : {0.0, 1e-3, 2.0, 5e4}) h.add(x);
    h.reset();
    CHECK(h.count() == 0u);
    CHECK(h.zeros() == 0u);
    CHECK(h.sum() == 0.0);
    CHECK(std::isnan(h.quantile(0.5)));
    CHECK(std::isnan(h.min()));
    CHECK(std::isnan(h.max()));

    // afterwards it behaves exactly like a fresh histogram
    log_histogram fresh;
    for (double x : {0.5, 0.25, 3.0}) {
        h.add(x);
        fresh.add(x);
    }
    for (double q : {0.0, 0.34, 0.5, 0.67, 1.0}) CHECK(h.quantile(q) == fresh.quantile(q));
    CHECK(h.fraction_above(1e-3) == fresh.fraction_above(1e-3));  // no stale count at 1e-3
    CHECK(h.fraction_above(1.0) == Approx(1.0 / 3.0));
    CHECK(h.min() == 0.25);
    CHECK(h.max() == 3.0);
}

TEST_CASE("log_histogram: values outside [2^-30, 2^21) are clamped into [min, max]",
          "[stats][histogram]") {
    SECTION("a single tiny value is reported exactly") {
        log_histogram h;
        h.add(1e-12);
        CHECK(h.quantile(0.5) == 1e-12);
    }
    SECTION("a single huge value is reported exactly") {
        log_histogram h;
        h.add(1e7);
        CHECK(h.quantile(0.5) == 1e7);
        CHECK(h.quantile(1.0) == 1e7);
    }
    SECTION("mixed: every reported quantile lies in [min, max]") {
        log_histogram h;
        for (double x : {1e-15, 1e-12, 1e-3, 3e6, 1e7, 1e9}) h.add(x);
        for (int k = 0; k <= 100; ++k) {
            const double got = h.quantile(k / 100.0);
            CHECK(got >= h.min());
            CHECK(got <= h.max());
        }
        // out-of-range values keep only the resolution of the edge buckets: the reported
        // extremes are the edge buckets' midpoints, not the exact values
        CHECK(h.quantile(0.0) == log_histogram::midpoint(0));
        CHECK(h.quantile(1.0) == log_histogram::midpoint(log_histogram::bucket_count - 1));
    }
}

// ---------------------------------------------------------------- time_series

TEST_CASE("running_mean: the same mean as accumulator, bit for bit", "[stats][accumulator]") {
    // The world's sojourn_avg_ms uses running_mean where it used accumulator (issue 9).
    random_stream s(7, 0, "running_mean");
    accumulator a;
    running_mean m;
    CHECK(std::isnan(m.mean()));
    for (int i = 0; i < 10000; ++i) {
        const double x = s.exponential(0.01) + (i % 7 == 0 ? 5.0 : 0.0);
        a.add(x);
        m.add(x);
        REQUIRE(m.mean() == a.mean());
    }
    CHECK(m.count() == a.count());
}

TEST_CASE("log_histogram_window: the same quantiles and max as a second histogram reset at each "
          "restart, bit for bit", "[stats][histogram]") {
    // The time series' per-interval wait percentiles (models/world/metrics.cpp) come from a
    // window on the run's wait histogram; they must equal what a histogram of the interval's
    // values alone reports. Windows here: empty, zeros only, one value, mixed, wide ranges.
    random_stream s(99, 0, "window");
    log_histogram all, interval;
    log_histogram_window window(all);
    const std::array<double, 5> qs{0.0, 0.5, 0.9, 0.99, 1.0};
    auto add = [&](double x) {
        all.add(x);
        window.note(x);
        interval.add(x);
    };
    auto check_and_restart = [&] {
        const auto got = window.quantiles<5>(qs);
        for (std::size_t k = 0; k < qs.size(); ++k) {
            const double want = interval.quantile(qs[k]);
            INFO("q = " << qs[k]);
            CHECK((std::isnan(want) ? std::isnan(got[k]) : got[k] == want));
        }
        CHECK(window.count() == interval.count());
        CHECK((interval.count() == 0 ? std::isnan(window.max()) : window.max() == interval.max()));
        window.restart();
        interval.reset();
    };
    check_and_restart();  // empty
    for (int i = 0; i < 5; ++i) add(0.0);
    check_and_restart();  // zeros only
    add(0.003);
    check_and_restart();  // one value
    for (int w = 0; w < 200; ++w) {
        const int n = static_cast<int>(s.below(300));
        const double scale = std::exp(-8 + 10 * s.uniform());
        for (int i = 0; i < n; ++i) add(s.uniform() < 0.4 ? 0.0 : scale * s.exponential(1.0));
        check_and_restart();
    }
    CHECK(all.count() > 20000);
}

TEST_CASE("time_series: rows are appended in order and read back by (row, column)",
          "[stats][time_series]") {
    time_series ts({"t", "busy", "queue"});
    CHECK(ts.columns() == std::vector<std::string>{"t", "busy", "queue"});
    CHECK(ts.rows() == 0u);
    ts.append({0.0, 1.0, 2.0});
    ts.append({1.0, 3.0, 0.0});
    CHECK(ts.rows() == 2u);
    CHECK(ts.at(0, 0) == 0.0);
    CHECK(ts.at(0, 2) == 2.0);
    CHECK(ts.at(1, 1) == 3.0);
    CHECK(ts.data() == std::vector<double>{0.0, 1.0, 2.0, 1.0, 3.0, 0.0});  // row-major

    SECTION("a row of the wrong width throws internal_error and is not appended") {
        CHECK_THROWS_AS(ts.append({1.0, 2.0}), internal_error);
        CHECK_THROWS_AS(ts.append({1.0, 2.0, 3.0, 4.0}), internal_error);
        CHECK_THROWS_WITH(ts.append({}), Catch::Matchers::Contains("time_series row width"));
        CHECK(ts.rows() == 2u);
        CHECK(ts.data().size() == 6u);
    }
    SECTION("a default-constructed series has no columns and no rows") {
        time_series empty;
        CHECK(empty.rows() == 0u);
        CHECK(empty.columns().empty());
        CHECK_THROWS_AS(empty.append({1.0}), internal_error);
    }
}
