// dbpoolsim models: probability distributions of durations (seconds).
//
// A `distribution` is a copyable value: built (and validated) once from its parameters, then
// sampled with any engine (sim::random_stream's engine or a sim::keyed_engine). Every draw
// uses Boost.Random distributions or an explicit inverse transform, never std::*_distribution.
// mean() and variance() are analytic (infinity where the moment does not exist).
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/random/exponential_distribution.hpp>
#include <boost/random/gamma_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <boost/random/weibull_distribution.hpp>

namespace dbpoolsim::models {

enum class dist_kind : std::uint8_t {
    constant,
    exponential,
    lognormal,
    gamma,
    weibull,
    pareto,
    uniform,
    empirical,
    mixture,
    sequence
};

/// The most values an empirical distribution holds (docs/limits.md): the resolved scenario
/// and result.json carry them all.
inline constexpr std::size_t max_empirical_samples = 100'000;

class distribution {
public:
    /// A named parameter as the user gave it (kept for the resolved scenario JSON).
    using param = std::pair<std::string, double>;

    distribution() = default;  // constant 0

    // Validating factories: throw dbpoolsim::error("<param> must be ..., got <value>").
    static distribution constant(double value_s);
    static distribution exponential(double mean_s);
    static distribution lognormal_mean_sd(double mean_s, double sd_s);
    static distribution lognormal_median_p99(double median_s, double p99_s);
    static distribution gamma(double shape, double scale_s);
    static distribution weibull(double shape, double scale_s);
    static distribution pareto(double shape, double scale_s);
    static distribution uniform(double low_s, double high_s);
    static distribution empirical(std::vector<double> samples_s);
    static distribution mixture(std::vector<std::pair<double, distribution>> components);
    /// The given values in the order of the draws (sample_nth): draw k is values_s[k]; past
    /// the end, `then` (drawn with the engine, its own draws counted from 0) or, without it,
    /// values_s again from the start. A mixture component cannot be one (nothing counts its
    /// draws); only a field that counts its draws takes one (field_table.hpp, `in_order`).
    static distribution sequence(std::vector<double> values_s, const distribution* then = nullptr);

    dist_kind kind() const noexcept { return kind_; }
    const char* kind_name() const noexcept;
    /// Parameters as given (names as in the scenario JSON, e.g. {"median_s", 0.004}).
    const std::vector<param>& params() const noexcept { return given_; }
    const std::vector<double>& samples() const noexcept { return samples_; }
    const std::vector<std::pair<double, distribution>>& components() const noexcept {
        return components_;
    }

    double mean() const noexcept { return mean_; }
    double variance() const noexcept { return variance_; }
    /// e.g. "lognormal(median_s=0.004, p99_s=0.04)".
    std::string describe() const;
    /// True when every draw returns the same value (lets callers skip the engine).
    bool is_constant() const noexcept { return kind_ == dist_kind::constant; }
    /// True when this is a sequence: its draws depend on how many came before (sample_nth).
    bool is_sequence() const noexcept { return kind_ == dist_kind::sequence; }
    /// A sequence's fallback after its values (null: it cycles).
    const distribution* then() const noexcept {
        return kind_ == dist_kind::sequence && !components_.empty() ? &components_[0].second : nullptr;
    }

    /// Draw number k (from 0) of a consumer that counts its draws: a sequence's k-th value
    /// (no engine draw while it has one); any other kind ignores k and draws as sample().
    template <class Engine>
    double sample_nth(std::uint64_t k, Engine& eng) const {
        if (kind_ != dist_kind::sequence) return sample(eng);
        const std::uint64_t n = samples_.size();
        if (k < n) return samples_[static_cast<std::size_t>(k)];
        if (components_.empty()) return samples_[static_cast<std::size_t>(k % n)];
        return components_[0].second.sample_nth(k - n, eng);
    }

    template <class Engine>
    double sample(Engine& eng) const {
        switch (kind_) {
            case dist_kind::constant:
                return a_;
            case dist_kind::exponential:
                return boost::random::exponential_distribution<double>(1.0)(eng) * a_;
            case dist_kind::lognormal:
                return std::exp(a_ + b_ * boost::random::normal_distribution<double>(0.0, 1.0)(eng));
            case dist_kind::gamma:
                return boost::random::gamma_distribution<double>(a_, b_)(eng);
            case dist_kind::weibull:
                return boost::random::weibull_distribution<double>(a_, b_)(eng);
            case dist_kind::pareto: {
                // inverse transform on U in (0, 1]: x_m * U^(-1/alpha)
                const double u = 1.0 - boost::random::uniform_01<double>()(eng);
                return b_ * std::pow(u, -1.0 / a_);
            }
            case dist_kind::uniform:
                return a_ + (b_ - a_) * boost::random::uniform_01<double>()(eng);
            case dist_kind::empirical: {
                const double u = boost::random::uniform_01<double>()(eng);
                auto i = static_cast<std::size_t>(u * static_cast<double>(samples_.size()));
                if (i >= samples_.size()) i = samples_.size() - 1;
                return samples_[i];
            }
            case dist_kind::mixture: {
                const double u = boost::random::uniform_01<double>()(eng);
                std::size_t i = 0;
                while (i + 1 < cumulative_.size() && u >= cumulative_[i]) ++i;
                return components_[i].second.sample(eng);
            }
            case dist_kind::sequence:
                // Validation keeps sequences where draws are counted (sample_nth): a sample()
                // here would be a silently wrong draw, so it is an internal error.
                sequence_sampled();
        }
        return 0.0;
    }

private:
    [[noreturn, gnu::cold]] static void sequence_sampled();
    dist_kind kind_ = dist_kind::constant;
    double a_ = 0.0, b_ = 0.0;  // internal parameters (see the factories)
    double mean_ = 0.0, variance_ = 0.0;
    std::vector<param> given_{{"value_s", 0.0}};
    std::vector<double> samples_;
    std::vector<std::pair<double, distribution>> components_;
    std::vector<double> cumulative_;
};

}  // namespace dbpoolsim::models
