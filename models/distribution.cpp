#include "models/distribution.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "sim/error.hpp"
#include "sim/format.hpp"

namespace dbpoolsim::models {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
// Standard normal quantile at 0.99.
constexpr double z99 = 2.3263478740408408;

[[noreturn]] void bad(const std::string& param, const std::string& rule, double got) {
    throw error(param + ": must be " + rule + ", got " + sim::format_number(got));
}
void require_positive(const char* name, double v) {
    if (!(v > 0.0) || std::isinf(v)) bad(name, "> 0 and finite", v);
}
void require_non_negative(const char* name, double v) {
    if (!(v >= 0.0) || std::isinf(v)) bad(name, ">= 0 and finite", v);
}

// Samples must stay finite (a time of inf or NaN cannot be scheduled): the distribution's
// upper quantile at about 1 - 4e-18 (the largest a 64-bit uniform draw reaches; -ln of it is
// at most 40, a standard normal at most 8.5) must be at most max_sample_s. `log_upper` is
// the log of that quantile; `param`/`got` name the parameter that makes it too large.
constexpr double max_sample_s = 1e300;
void require_finite_samples(const char* param, double got, double log_upper, const std::string& given = "") {
    if (!(log_upper <= std::log(max_sample_s)))
        bad(param, "small enough" + (given.empty() ? "" : " for " + given) +
                       " that samples stay below 1e+300 s (docs/limits.md)", got);
}

}  // namespace

distribution distribution::constant(double value_s) {
    require_non_negative("value_s", value_s);
    distribution d;
    d.kind_ = dist_kind::constant;
    d.a_ = value_s;
    d.mean_ = value_s;
    d.variance_ = 0.0;
    d.given_ = {{"value_s", value_s}};
    return d;
}

distribution distribution::exponential(double mean_s) {
    require_positive("mean_s", mean_s);
    require_finite_samples("mean_s", mean_s, std::log(mean_s) + std::log(40.0));
    distribution d;
    d.kind_ = dist_kind::exponential;
    d.a_ = mean_s;
    d.mean_ = mean_s;
    d.variance_ = mean_s * mean_s;
    d.given_ = {{"mean_s", mean_s}};
    return d;
}

distribution distribution::lognormal_mean_sd(double mean_s, double sd_s) {
    require_positive("mean_s", mean_s);
    require_positive("sd_s", sd_s);
    distribution d;
    d.kind_ = dist_kind::lognormal;
    const double cv = sd_s / mean_s;
    const double s2 = std::log1p(cv * cv);
    d.b_ = std::sqrt(s2);
    d.a_ = std::log(mean_s) - s2 / 2;
    require_finite_samples("sd_s", sd_s, d.a_ + 8.5 * d.b_, "mean_s " + sim::format_number(mean_s));
    d.mean_ = mean_s;
    d.variance_ = sd_s * sd_s;
    d.given_ = {{"mean_s", mean_s}, {"sd_s", sd_s}};
    return d;
}

distribution distribution::lognormal_median_p99(double median_s, double p99_s) {
    require_positive("median_s", median_s);
    require_positive("p99_s", p99_s);
    if (!(p99_s > median_s)) bad("p99_s", "> median_s (" + sim::format_number(median_s) + ")", p99_s);
    distribution d;
    d.kind_ = dist_kind::lognormal;
    d.a_ = std::log(median_s);
    d.b_ = (std::log(p99_s) - d.a_) / z99;
    require_finite_samples("p99_s", p99_s, d.a_ + 8.5 * d.b_, "median_s " + sim::format_number(median_s));
    const double s2 = d.b_ * d.b_;
    d.mean_ = std::exp(d.a_ + s2 / 2);
    d.variance_ = std::expm1(s2) * std::exp(2 * d.a_ + s2);
    d.given_ = {{"median_s", median_s}, {"p99_s", p99_s}};
    return d;
}

distribution distribution::gamma(double shape, double scale_s) {
    require_positive("shape", shape);
    require_positive("scale_s", scale_s);
    // Upper quantile bound: shape + 10 sqrt(shape) + 40 scales (Chernoff, generously).
    require_finite_samples("scale_s", scale_s, std::log(scale_s) + std::log(shape + 10 * std::sqrt(shape) + 40),
                           "shape " + sim::format_number(shape));
    distribution d;
    d.kind_ = dist_kind::gamma;
    d.a_ = shape;
    d.b_ = scale_s;
    d.mean_ = shape * scale_s;
    d.variance_ = shape * scale_s * scale_s;
    d.given_ = {{"shape", shape}, {"scale_s", scale_s}};
    return d;
}

distribution distribution::weibull(double shape, double scale_s) {
    require_positive("shape", shape);
    require_positive("scale_s", scale_s);
    require_finite_samples("shape", shape, std::log(scale_s) + std::log(40.0) / shape,
                           "scale_s " + sim::format_number(scale_s));
    distribution d;
    d.kind_ = dist_kind::weibull;
    d.a_ = shape;
    d.b_ = scale_s;
    const double g1 = std::tgamma(1 + 1 / shape), g2 = std::tgamma(1 + 2 / shape);
    d.mean_ = scale_s * g1;
    d.variance_ = scale_s * scale_s * (g2 - g1 * g1);
    d.given_ = {{"shape", shape}, {"scale_s", scale_s}};
    return d;
}

distribution distribution::pareto(double shape, double scale_s) {
    require_positive("shape", shape);
    require_positive("scale_s", scale_s);
    require_finite_samples("shape", shape, std::log(scale_s) + 40.0 / shape, "scale_s " + sim::format_number(scale_s));
    distribution d;
    d.kind_ = dist_kind::pareto;
    d.a_ = shape;
    d.b_ = scale_s;
    d.mean_ = shape > 1 ? shape * scale_s / (shape - 1) : inf;
    d.variance_ = shape > 2 ? scale_s * scale_s * shape / ((shape - 1) * (shape - 1) * (shape - 2))
                            : inf;
    d.given_ = {{"shape", shape}, {"scale_s", scale_s}};
    return d;
}

distribution distribution::uniform(double low_s, double high_s) {
    require_non_negative("low_s", low_s);
    require_non_negative("high_s", high_s);
    if (!(high_s >= low_s)) bad("high_s", ">= low_s (" + sim::format_number(low_s) + ")", high_s);
    distribution d;
    d.kind_ = dist_kind::uniform;
    d.a_ = low_s;
    d.b_ = high_s;
    d.mean_ = (low_s + high_s) / 2;
    d.variance_ = (high_s - low_s) * (high_s - low_s) / 12;
    d.given_ = {{"low_s", low_s}, {"high_s", high_s}};
    return d;
}

distribution distribution::empirical(std::vector<double> samples_s) {
    if (samples_s.empty()) throw error("samples_s: must hold at least one value, got none");
    if (samples_s.size() > max_empirical_samples)
        throw error("samples_s: must hold at most " + std::to_string(max_empirical_samples) +
                    " values (docs/limits.md; fit a distribution to a longer log), got " +
                    std::to_string(samples_s.size()));
    for (std::size_t i = 0; i < samples_s.size(); ++i)
        if (!(samples_s[i] >= 0.0) || std::isinf(samples_s[i]))  // the name only when needed
            require_non_negative(("samples_s/" + std::to_string(i)).c_str(), samples_s[i]);
    distribution d;
    d.kind_ = dist_kind::empirical;
    const double n = static_cast<double>(samples_s.size());
    d.mean_ = std::accumulate(samples_s.begin(), samples_s.end(), 0.0) / n;
    double m2 = 0;
    for (double x : samples_s) m2 += (x - d.mean_) * (x - d.mean_);
    d.variance_ = m2 / n;  // the empirical distribution's own variance
    d.samples_ = std::move(samples_s);
    d.given_.clear();
    return d;
}

distribution distribution::mixture(std::vector<std::pair<double, distribution>> components) {
    if (components.empty()) throw error("components: must hold at least one component, got none");
    double total = 0;
    for (std::size_t i = 0; i < components.size(); ++i) {
        const double w = components[i].first;
        if (!(w > 0.0) || std::isinf(w))
            bad("components/" + std::to_string(i) + "/weight", "> 0 and finite", w);
        if (components[i].second.is_sequence())
            throw error("components/" + std::to_string(i) +
                        "/dist: must not be a sequence (a mixture's draws are not counted), got sequence");
        total += w;
    }
    distribution d;
    d.kind_ = dist_kind::mixture;
    double acc = 0, mean = 0, second = 0;
    for (auto& [w, c] : components) {
        acc += w / total;
        d.cumulative_.push_back(acc);
        mean += w / total * c.mean();
        second += w / total * (c.variance() + c.mean() * c.mean());
    }
    d.cumulative_.back() = 1.0;
    d.mean_ = mean;
    d.variance_ = std::isinf(second) ? inf : second - mean * mean;
    d.components_ = std::move(components);
    d.given_.clear();
    return d;
}

void distribution::sequence_sampled() {
    throw internal_error("distribution: sample() of a sequence, whose draws are numbered (sample_nth)");
}

distribution distribution::sequence(std::vector<double> values_s, const distribution* then) {
    if (values_s.empty()) throw error("values_s: must hold at least one value, got none");
    if (values_s.size() > max_empirical_samples)
        throw error("values_s: must hold at most " + std::to_string(max_empirical_samples) +
                    " values (docs/limits.md), got " + std::to_string(values_s.size()));
    for (std::size_t i = 0; i < values_s.size(); ++i)
        if (!(values_s[i] >= 0.0) || std::isinf(values_s[i]))
            require_non_negative(("values_s/" + std::to_string(i)).c_str(), values_s[i]);
    // The values' own mean and variance (the long run when it cycles; the first draws with `then`).
    distribution d = empirical(values_s);
    d.kind_ = dist_kind::sequence;
    if (then) d.components_.emplace_back(1.0, *then);
    return d;
}

const char* distribution::kind_name() const noexcept {
    switch (kind_) {
        case dist_kind::constant: return "constant";
        case dist_kind::exponential: return "exponential";
        case dist_kind::lognormal: return "lognormal";
        case dist_kind::gamma: return "gamma";
        case dist_kind::weibull: return "weibull";
        case dist_kind::pareto: return "pareto";
        case dist_kind::uniform: return "uniform";
        case dist_kind::empirical: return "empirical";
        case dist_kind::mixture: return "mixture";
        case dist_kind::sequence: return "sequence";
    }
    return "?";
}

std::string distribution::describe() const {
    std::string s = kind_name();
    s += '(';
    if (kind_ == dist_kind::empirical) {
        s += std::to_string(samples_.size()) + " samples";
    } else if (kind_ == dist_kind::sequence) {
        s += std::to_string(samples_.size()) + " values in order, then " +
             (then() ? then()->describe() : std::string("again"));
    } else if (kind_ == dist_kind::mixture) {
        for (std::size_t i = 0; i < components_.size(); ++i) {
            if (i) s += ", ";
            s += sim::format_number(components_[i].first) + "*" + components_[i].second.describe();
        }
    } else {
        for (std::size_t i = 0; i < given_.size(); ++i) {
            if (i) s += ", ";
            s += given_[i].first + "=" + sim::format_number(given_[i].second);
        }
    }
    return s + ')';
}

}  // namespace dbpoolsim::models
