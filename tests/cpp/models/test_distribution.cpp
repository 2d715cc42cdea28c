// Specification of models/distribution: analytic moments, sampling, validation, description.
//
// Reference moments are written from the textbook formulas (and, where marked, cross-checked
// with 30-digit mpmath values), not copied from distribution.cpp.
//
// Statistical checks use fixed seeds, so they are deterministic: they pass or fail the same way
// on every run. The bounds are chosen so that they would also be safe with a free seed, e.g.
// a 4-standard-error bound on a sample mean fails with probability ~6e-5 under the CLT.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "models/distribution.hpp"
#include "sim/error.hpp"
#include "sim/random.hpp"

using dbpoolsim::models::dist_kind;
using dbpoolsim::models::distribution;
using dbpoolsim::sim::keyed_engine;
using dbpoolsim::sim::random_stream;
using Catch::Matchers::Message;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double z99 = 2.3263478740408408;  // standard normal 0.99 quantile
constexpr int n_draws = 200'000;

struct named {
    std::string name;
    distribution d;
};

// A set of distributions with finite variance, covering every kind and both branches of
// Boost's gamma sampler (shape < 1 and > 1).
std::vector<named> finite_variance_set() {
    return {
        {"constant", distribution::constant(0.25)},
        {"exponential", distribution::exponential(0.005)},
        {"lognormal median/p99", distribution::lognormal_median_p99(0.004, 0.04)},
        {"lognormal mean/sd", distribution::lognormal_mean_sd(0.01, 0.02)},
        {"gamma shape 2.5", distribution::gamma(2.5, 0.004)},
        {"gamma shape 0.5", distribution::gamma(0.5, 0.01)},
        {"weibull shape 1.5", distribution::weibull(1.5, 0.01)},
        {"weibull shape 0.7", distribution::weibull(0.7, 0.002)},
        {"pareto shape 4.5", distribution::pareto(4.5, 0.002)},
        {"uniform", distribution::uniform(0.001, 0.003)},
        {"empirical", distribution::empirical({0.001, 0.002, 0.002, 0.010, 0.0})},
        {"mixture", distribution::mixture({{9.0, distribution::exponential(0.001)},
                                           {1.0, distribution::lognormal_median_p99(0.02, 0.2)}})},
    };
}

std::vector<double> draw(const distribution& d, const std::string& stream, int n = n_draws) {
    random_stream s(2024, 0, stream);
    std::vector<double> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = d.sample(s.engine());
    return v;
}

double mean_of(const std::vector<double>& v) {
    double m = 0;
    for (double x : v) m += x;
    return m / static_cast<double>(v.size());
}

double variance_of(const std::vector<double>& v) {
    const double m = mean_of(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return s / static_cast<double>(v.size() - 1);
}

}  // namespace

// ---------------------------------------------------------------- analytic moments

TEST_CASE("A default distribution is the constant 0", "[distribution]") {
    distribution d;
    CHECK(d.kind() == dist_kind::constant);
    CHECK(d.is_constant());
    CHECK(d.mean() == 0.0);
    CHECK(d.variance() == 0.0);
    random_stream s;
    CHECK(d.sample(s.engine()) == 0.0);
}

TEST_CASE("constant and exponential have their textbook moments", "[distribution]") {
    const auto c = distribution::constant(0.25);
    CHECK(c.mean() == 0.25);
    CHECK(c.variance() == 0.0);
    CHECK(c.is_constant());
    const auto e = distribution::exponential(0.005);
    CHECK(e.mean() == 0.005);
    CHECK(e.variance() == Approx(0.005 * 0.005).epsilon(1e-15));
    CHECK_FALSE(e.is_constant());
}

TEST_CASE("lognormal: median/p99 and mean/sd parametrisations give the lognormal moments",
          "[distribution]") {
    SECTION("median 4 ms, p99 40 ms") {
        // mu = ln(median), sigma = ln(p99 / median) / z_0.99
        const double mu = std::log(0.004), s = std::log(10.0) / z99;
        const auto d = distribution::lognormal_median_p99(0.004, 0.04);
        CHECK(d.kind() == dist_kind::lognormal);
        CHECK(d.mean() == Approx(std::exp(mu + s * s / 2)).epsilon(1e-13));
        CHECK(d.variance() ==
              Approx((std::exp(s * s) - 1) * std::exp(2 * mu + s * s)).epsilon(1e-12));
        // mpmath, 30 digits
        CHECK(d.mean() == Approx(0.0065282042220814054).epsilon(1e-13));
        CHECK(d.variance() == Approx(7.0897991861699289e-05).epsilon(1e-12));
    }
    SECTION("mean 10 ms, sd 20 ms") {
        const auto d = distribution::lognormal_mean_sd(0.01, 0.02);
        CHECK(d.mean() == Approx(0.01).epsilon(1e-15));
        CHECK(d.variance() == Approx(0.0004).epsilon(1e-15));
    }
}

TEST_CASE("gamma and weibull have their textbook moments", "[distribution]") {
    const auto g = distribution::gamma(2.5, 0.004);
    CHECK(g.mean() == Approx(2.5 * 0.004).epsilon(1e-15));
    CHECK(g.variance() == Approx(2.5 * 0.004 * 0.004).epsilon(1e-15));

    // weibull: mean = scale * Gamma(1 + 1/k), var = scale^2 (Gamma(1 + 2/k) - Gamma(1 + 1/k)^2)
    const auto w = distribution::weibull(1.5, 0.01);
    const double g1 = std::tgamma(1 + 1 / 1.5), g2 = std::tgamma(1 + 2 / 1.5);
    CHECK(w.mean() == Approx(0.01 * g1).epsilon(1e-14));
    CHECK(w.variance() == Approx(0.01 * 0.01 * (g2 - g1 * g1)).epsilon(1e-13));
    // mpmath, 30 digits
    CHECK(w.mean() == Approx(0.0090274529295093361).epsilon(1e-13));
    CHECK(w.variance() == Approx(3.7569028481393200e-05).epsilon(1e-12));
    const auto w07 = distribution::weibull(0.7, 0.002);
    CHECK(w07.mean() == Approx(0.0025316470121145666).epsilon(1e-13));
    CHECK(w07.variance() == Approx(1.3707342214612613e-05).epsilon(1e-12));
    // shape 1 is the exponential
    const auto w1 = distribution::weibull(1.0, 0.3);
    CHECK(w1.mean() == Approx(0.3).epsilon(1e-15));
    CHECK(w1.variance() == Approx(0.09).epsilon(1e-14));
}

TEST_CASE("pareto: mean infinite for shape <= 1, variance infinite for shape <= 2",
          "[distribution]") {
    // mean = shape x_m / (shape - 1), var = x_m^2 shape / ((shape - 1)^2 (shape - 2))
    const auto p3 = distribution::pareto(3.0, 0.001);
    CHECK(p3.mean() == Approx(0.0015).epsilon(1e-15));
    CHECK(p3.variance() == Approx(7.5e-7).epsilon(1e-14));
    const auto p45 = distribution::pareto(4.5, 0.002);
    CHECK(p45.mean() == Approx(4.5 * 0.002 / 3.5).epsilon(1e-15));
    CHECK(p45.variance() == Approx(0.002 * 0.002 * 4.5 / (3.5 * 3.5 * 2.5)).epsilon(1e-14));

    const auto p2 = distribution::pareto(2.0, 0.001);  // boundary: finite mean, infinite variance
    CHECK(p2.mean() == Approx(0.002).epsilon(1e-15));
    CHECK(p2.variance() == inf);
    const auto p15 = distribution::pareto(1.5, 0.001);
    CHECK(p15.mean() == Approx(0.003).epsilon(1e-15));
    CHECK(p15.variance() == inf);
    const auto p1 = distribution::pareto(1.0, 0.001);  // boundary: infinite mean
    CHECK(p1.mean() == inf);
    CHECK(p1.variance() == inf);
    const auto p05 = distribution::pareto(0.5, 0.001);
    CHECK(p05.mean() == inf);
    CHECK(p05.variance() == inf);
}

TEST_CASE("uniform and empirical have their own (population) moments", "[distribution]") {
    const auto u = distribution::uniform(1.0, 3.0);
    CHECK(u.mean() == 2.0);
    CHECK(u.variance() == Approx(4.0 / 12.0).epsilon(1e-15));
    const auto point = distribution::uniform(2.0, 2.0);  // degenerate but valid
    CHECK(point.mean() == 2.0);
    CHECK(point.variance() == 0.0);

    // {1, 2, 3, 4}: mean 2.5, population variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25
    const auto e = distribution::empirical({1.0, 2.0, 3.0, 4.0});
    CHECK(e.mean() == 2.5);
    CHECK(e.variance() == 1.25);
    CHECK(e.samples() == std::vector<double>{1.0, 2.0, 3.0, 4.0});
    const auto one = distribution::empirical({0.7});
    CHECK(one.mean() == 0.7);
    CHECK(one.variance() == 0.0);
}

TEST_CASE("mixture: weights are normalised; mean and variance by the law of total variance",
          "[distribution]") {
    // 1/4 exponential(1) + 3/4 constant(2), weights given as 1 and 3:
    // mean = 0.25 * 1 + 0.75 * 2 = 1.75
    // E[X^2] = 0.25 * (1 + 1) + 0.75 * 4 = 3.5, var = 3.5 - 1.75^2 = 0.4375
    const auto m = distribution::mixture(
        {{1.0, distribution::exponential(1.0)}, {3.0, distribution::constant(2.0)}});
    CHECK(m.kind() == dist_kind::mixture);
    CHECK(m.mean() == Approx(1.75).epsilon(1e-15));
    CHECK(m.variance() == Approx(0.4375).epsilon(1e-14));
    REQUIRE(m.components().size() == 2u);
    CHECK(m.components()[1].first == 3.0);  // weights kept as given

    SECTION("a component with infinite variance makes the variance infinite") {
        const auto h = distribution::mixture(
            {{1.0, distribution::exponential(1.0)}, {1.0, distribution::pareto(1.5, 1.0)}});
        CHECK(h.mean() == Approx(0.5 * 1.0 + 0.5 * 3.0).epsilon(1e-15));
        CHECK(h.variance() == inf);
    }
    SECTION("a component with infinite mean makes both infinite") {
        const auto h = distribution::mixture(
            {{1.0, distribution::exponential(1.0)}, {1.0, distribution::pareto(1.0, 1.0)}});
        CHECK(h.mean() == inf);
        CHECK(h.variance() == inf);
    }
    SECTION("a one-component mixture has the moments of its component") {
        const auto g = distribution::gamma(2.0, 3.0);
        const auto h = distribution::mixture({{0.3, g}});
        CHECK(h.mean() == Approx(g.mean()).epsilon(1e-15));
        CHECK(h.variance() == Approx(g.variance()).epsilon(1e-14));
    }
}

// ---------------------------------------------------------------- sampling

TEST_CASE("Sample means over 200000 draws agree with mean() within 4 standard errors",
          "[distribution]") {
    // With the fixed seed the test is deterministic; for a free seed the false-failure rate
    // of a 4-sigma bound would be ~6e-5 per distribution (normal approximation).
    for (const auto& [name, d] : finite_variance_set()) {
        const auto v = draw(d, "mean/" + name);
        const double m = mean_of(v);
        const double se = std::sqrt(d.variance() / n_draws);
        CAPTURE(name, d.describe(), d.mean(), m, se);
        if (d.variance() == 0.0)
            CHECK(m == d.mean());
        else
            CHECK(std::abs(m - d.mean()) <= 4 * se);
    }
}

TEST_CASE("Sample variances of light-tailed distributions agree with variance() within 3%",
          "[distribution]") {
    // The relative standard error of a sample variance is sqrt((kurtosis - 1) / n): 0.63% for
    // the exponential, less for the others here, so 3% is more than 4.5 standard errors.
    const std::vector<named> set = {
        {"exponential", distribution::exponential(0.005)},
        {"gamma shape 2.5", distribution::gamma(2.5, 0.004)},
        {"weibull shape 1.5", distribution::weibull(1.5, 0.01)},
        {"uniform", distribution::uniform(0.001, 0.003)},
        {"empirical", distribution::empirical({0.001, 0.002, 0.002, 0.010, 0.0})},
    };
    for (const auto& [name, d] : set) {
        const auto v = draw(d, "var/" + name);
        const double s2 = variance_of(v);
        CAPTURE(name, d.variance(), s2);
        CHECK(std::abs(s2 / d.variance() - 1) <= 0.03);
    }
}

TEST_CASE("lognormal(median, p99): the empirical median and p99 match within 2%",
          "[distribution]") {
    // Standard errors of the order statistics at n = 200000: ~0.3% (median) and ~0.8% (p99)
    // relative, so 2% is 2.4 standard errors at p99 for a free seed; with the fixed seed the
    // test is deterministic.
    const auto d = distribution::lognormal_median_p99(0.004, 0.04);
    auto v = draw(d, "quantiles");
    std::sort(v.begin(), v.end());
    const double median = v[n_draws / 2 - 1];         // rank ceil(0.5 n)
    const double p99 = v[n_draws / 100 * 99 - 1];     // rank ceil(0.99 n)
    CAPTURE(median, p99);
    CHECK(median == Approx(0.004).epsilon(0.02));
    CHECK(p99 == Approx(0.04).epsilon(0.02));
}

TEST_CASE("Draws stay in the support of their distribution", "[distribution]") {
    SECTION("pareto draws are >= the scale") {
        const auto p = distribution::pareto(1.2, 0.003);
        const auto v = draw(p, "support/pareto");
        CHECK(*std::min_element(v.begin(), v.end()) >= 0.003);
        CHECK(*std::min_element(v.begin(), v.end()) < 0.003 * 1.0001);
        CHECK(std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); }));
    }
    SECTION("uniform draws are in [low, high)") {
        const auto u = distribution::uniform(0.001, 0.003);
        const auto v = draw(u, "support/uniform");
        CHECK(*std::min_element(v.begin(), v.end()) >= 0.001);
        CHECK(*std::max_element(v.begin(), v.end()) < 0.003);
    }
    SECTION("empirical draws are the given samples, each with its share") {
        const auto e = distribution::empirical({0.5, 0.1, 0.5, 0.9});
        const auto v = draw(e, "support/empirical", 100'000);
        std::size_t c01 = 0, c05 = 0, c09 = 0;
        for (double x : v) {
            c01 += x == 0.1;
            c05 += x == 0.5;
            c09 += x == 0.9;
        }
        CHECK(c01 + c05 + c09 == v.size());
        // binomial standard errors ~137 (p = 1/4) and ~158 (p = 1/2): 5 sigma bounds
        CHECK(std::abs(static_cast<double>(c01) - 25'000) < 700);
        CHECK(std::abs(static_cast<double>(c05) - 50'000) < 800);
        CHECK(std::abs(static_cast<double>(c09) - 25'000) < 700);
    }
    SECTION("every draw of a non-negative distribution is >= 0 and finite") {
        for (const auto& [name, d] : finite_variance_set()) {
            CAPTURE(name);
            const auto v = draw(d, "support/" + name, 20'000);
            CHECK(std::all_of(v.begin(), v.end(),
                              [](double x) { return x >= 0.0 && std::isfinite(x); }));
        }
    }
    SECTION("a constant returns its value every time") {
        const auto c = distribution::constant(0.125);
        const auto v = draw(c, "support/constant", 1000);
        CHECK(std::all_of(v.begin(), v.end(), [](double x) { return x == 0.125; }));
    }
}

TEST_CASE("sample() with a keyed_engine gives the same value for the same key",
          "[distribution]") {
    for (const auto& [name, d] : finite_variance_set()) {
        CAPTURE(name);
        bool same = true, differs = false;
        for (std::uint64_t key = 0; key < 50; ++key) {
            keyed_engine a(17, key), b(17, key), other(17, key + 1000);
            const double x = d.sample(a);
            same = same && x == d.sample(b);
            differs = differs || x != d.sample(other);
        }
        CHECK(same);
        if (!d.is_constant()) CHECK(differs);
    }
    SECTION("and the value does not depend on what was drawn before with other keys") {
        const auto d = distribution::lognormal_median_p99(0.004, 0.04);
        keyed_engine fresh(3, 42);
        const double expected = d.sample(fresh);
        for (std::uint64_t k = 0; k < 10; ++k) {
            keyed_engine e(3, k);
            d.sample(e);
        }
        keyed_engine again(3, 42);
        CHECK(d.sample(again) == expected);
    }
}

// ---------------------------------------------------------------- validation

TEST_CASE("Invalid parameters throw dbpoolsim::error naming the parameter and the value",
          "[distribution]") {
    using dbpoolsim::error;
    const double nan = std::numeric_limits<double>::quiet_NaN();

    CHECK_THROWS_MATCHES(distribution::exponential(-1), error,
                         Message("mean_s: must be > 0 and finite, got -1"));
    CHECK_THROWS_MATCHES(distribution::exponential(0), error,
                         Message("mean_s: must be > 0 and finite, got 0"));
    CHECK_THROWS_MATCHES(distribution::exponential(inf), error,
                         Message("mean_s: must be > 0 and finite, got inf"));
    CHECK_THROWS_MATCHES(distribution::exponential(nan), error,
                         Message("mean_s: must be > 0 and finite, got nan"));

    CHECK_THROWS_MATCHES(distribution::constant(-0.5), error,
                         Message("value_s: must be >= 0 and finite, got -0.5"));
    CHECK_THROWS_MATCHES(distribution::constant(inf), error,
                         Message("value_s: must be >= 0 and finite, got inf"));

    CHECK_THROWS_MATCHES(distribution::lognormal_median_p99(0.04, 0.004), error,
                         Message("p99_s: must be > median_s (0.04), got 0.004"));
    CHECK_THROWS_MATCHES(distribution::lognormal_median_p99(0.04, 0.04), error,
                         Message("p99_s: must be > median_s (0.04), got 0.04"));
    CHECK_THROWS_MATCHES(distribution::lognormal_median_p99(0, 0.04), error,
                         Message("median_s: must be > 0 and finite, got 0"));
    CHECK_THROWS_MATCHES(distribution::lognormal_median_p99(0.004, -1), error,
                         Message("p99_s: must be > 0 and finite, got -1"));
    CHECK_THROWS_MATCHES(distribution::lognormal_mean_sd(0.01, 0), error,
                         Message("sd_s: must be > 0 and finite, got 0"));
    CHECK_THROWS_MATCHES(distribution::lognormal_mean_sd(-0.01, 0.02), error,
                         Message("mean_s: must be > 0 and finite, got -0.01"));

    CHECK_THROWS_MATCHES(distribution::gamma(0, 1), error,
                         Message("shape: must be > 0 and finite, got 0"));
    CHECK_THROWS_MATCHES(distribution::gamma(1, -2), error,
                         Message("scale_s: must be > 0 and finite, got -2"));
    CHECK_THROWS_MATCHES(distribution::weibull(-1.5, 1), error,
                         Message("shape: must be > 0 and finite, got -1.5"));
    CHECK_THROWS_MATCHES(distribution::weibull(1.5, inf), error,
                         Message("scale_s: must be > 0 and finite, got inf"));
    CHECK_THROWS_MATCHES(distribution::pareto(nan, 1), error,
                         Message("shape: must be > 0 and finite, got nan"));
    CHECK_THROWS_MATCHES(distribution::pareto(2, 0), error,
                         Message("scale_s: must be > 0 and finite, got 0"));

    CHECK_THROWS_MATCHES(distribution::uniform(2, 1), error,
                         Message("high_s: must be >= low_s (2), got 1"));
    CHECK_THROWS_MATCHES(distribution::uniform(-1, 1), error,
                         Message("low_s: must be >= 0 and finite, got -1"));
    CHECK_THROWS_MATCHES(distribution::uniform(0, inf), error,
                         Message("high_s: must be >= 0 and finite, got inf"));

    CHECK_THROWS_MATCHES(distribution::empirical({}), error,
                         Message("samples_s: must hold at least one value, got none"));
    CHECK_THROWS_MATCHES(distribution::empirical({0.1, -2}), error,
                         Message("samples_s/1: must be >= 0 and finite, got -2"));
    CHECK_THROWS_MATCHES(distribution::empirical({0.1, 0.2, nan}), error,
                         Message("samples_s/2: must be >= 0 and finite, got nan"));

    CHECK_THROWS_MATCHES(distribution::mixture({}), error,
                         Message("components: must hold at least one component, got none"));
    CHECK_THROWS_MATCHES(distribution::mixture({{0.0, distribution::exponential(1)}}), error,
                         Message("components/0/weight: must be > 0 and finite, got 0"));
    CHECK_THROWS_MATCHES(distribution::mixture({{1.0, distribution::exponential(1)},
                                                {-1.0, distribution::constant(1)}}),
                         error, Message("components/1/weight: must be > 0 and finite, got -1"));
    CHECK_THROWS_MATCHES(distribution::mixture({{inf, distribution::exponential(1)}}), error,
                         Message("components/0/weight: must be > 0 and finite, got inf"));

    // boundary values that are valid
    CHECK_NOTHROW(distribution::constant(0.0));
    CHECK_NOTHROW(distribution::uniform(0.0, 0.0));
    CHECK_NOTHROW(distribution::empirical({0.0}));
}

// ---------------------------------------------------------------- description

TEST_CASE("describe() shows the kind and the parameters as given", "[distribution]") {
    CHECK(distribution{}.describe() == "constant(value_s=0)");
    CHECK(distribution::constant(0.25).describe() == "constant(value_s=0.25)");
    CHECK(distribution::exponential(0.05).describe() == "exponential(mean_s=0.05)");
    CHECK(distribution::lognormal_median_p99(0.004, 0.04).describe() ==
          "lognormal(median_s=0.004, p99_s=0.04)");
    CHECK(distribution::lognormal_mean_sd(0.01, 0.02).describe() ==
          "lognormal(mean_s=0.01, sd_s=0.02)");
    CHECK(distribution::gamma(2.5, 0.004).describe() == "gamma(shape=2.5, scale_s=0.004)");
    CHECK(distribution::weibull(1.5, 0.01).describe() == "weibull(shape=1.5, scale_s=0.01)");
    CHECK(distribution::pareto(3, 0.001).describe() == "pareto(shape=3, scale_s=0.001)");
    CHECK(distribution::uniform(0.001, 0.003).describe() == "uniform(low_s=0.001, high_s=0.003)");
    CHECK(distribution::empirical({0.1, 0.2, 0.3}).describe() == "empirical(3 samples)");
    CHECK(distribution::mixture({{0.9, distribution::exponential(0.001)},
                                 {0.1, distribution::constant(0.5)}})
              .describe() == "mixture(0.9*exponential(mean_s=0.001), 0.1*constant(value_s=0.5))");
    // shortest round-trip formatting: 0.1 + 0.2 is not 0.3
    CHECK(distribution::exponential(0.1 + 0.2).describe() ==
          "exponential(mean_s=0.30000000000000004)");
}

TEST_CASE("kind(), kind_name() and params() report the construction", "[distribution]") {
    const auto d = distribution::lognormal_median_p99(0.004, 0.04);
    CHECK(d.kind() == dist_kind::lognormal);
    CHECK(std::string(d.kind_name()) == "lognormal");
    CHECK(d.params() == std::vector<distribution::param>{{"median_s", 0.004}, {"p99_s", 0.04}});
    CHECK(distribution::lognormal_mean_sd(1, 2).params() ==
          std::vector<distribution::param>{{"mean_s", 1.0}, {"sd_s", 2.0}});
    CHECK(distribution::empirical({1.0}).params().empty());

    const std::vector<std::pair<distribution, std::string>> kinds = {
        {distribution::constant(1), "constant"},
        {distribution::exponential(1), "exponential"},
        {distribution::lognormal_mean_sd(1, 1), "lognormal"},
        {distribution::gamma(1, 1), "gamma"},
        {distribution::weibull(1, 1), "weibull"},
        {distribution::pareto(1, 1), "pareto"},
        {distribution::uniform(0, 1), "uniform"},
        {distribution::empirical({1}), "empirical"},
        {distribution::mixture({{1, distribution::constant(1)}}), "mixture"},
    };
    for (const auto& [dist, name] : kinds) CHECK(dist.kind_name() == name);
}
