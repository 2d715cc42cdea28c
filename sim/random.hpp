// dbpoolsim kernel: named random streams.
//
// Every model component draws from its own stream. A stream's seed is a pure function of
// (master seed, replication index, stream name):
//
//     seed = mix(mix(mix(master) ^ replication_tag(replication)) ^ fnv1a64(name))
//
// where mix is the splitmix64 finaliser. Streams are identified by name, never by creation
// order, so adding a stream never shifts another, and the same replication gives the same
// arrivals whatever pool is simulated (common random numbers). The engine is Boost.Random's
// mt19937_64 and every variate comes from a Boost.Random distribution, whose algorithms are
// header code: a seed gives the same numbers with any compiler (golden values are pinned in
// tests/cpp/sim/test_random.cpp). std::*_distribution is never used: its output is
// implementation-defined.
#pragma once

#include <cstdint>
#include <string_view>

#include <boost/random/exponential_distribution.hpp>
#include <boost/random/gamma_distribution.hpp>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <boost/random/weibull_distribution.hpp>

namespace dbpoolsim::sim {

/// splitmix64 finaliser: a bijective 64-bit mix.
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// FNV-1a 64-bit hash of a stream name.
constexpr std::uint64_t fnv1a64(std::string_view s) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

/// The seed of stream `name` in replication `replication` of a run with master seed `seed`.
constexpr std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t replication,
                                    std::string_view name) noexcept {
    return mix64(mix64(mix64(seed) ^ mix64(replication ^ 0x5851f42d4c957f2dULL)) ^
                 fnv1a64(name));
}

/// One independent random stream.
class random_stream {
public:
    using engine_type = boost::random::mt19937_64;

    random_stream() : engine_(stream_seed(0, 0, "default")) {}
    random_stream(std::uint64_t seed, std::uint64_t replication, std::string_view name)
        : engine_(stream_seed(seed, replication, name)) {}

    /// Uniform on [0, 1).
    double uniform() { return boost::random::uniform_01<double>()(engine_); }
    /// Uniform on [a, b).
    double uniform(double a, double b) { return a + (b - a) * uniform(); }
    /// Exponential with the given mean (mean > 0).
    double exponential(double mean) {
        return boost::random::exponential_distribution<double>(1.0)(engine_) * mean;
    }
    /// Standard normal.
    double normal() { return boost::random::normal_distribution<double>(0.0, 1.0)(engine_); }
    /// Gamma with shape k and scale theta.
    double gamma(double shape, double scale) {
        return boost::random::gamma_distribution<double>(shape, scale)(engine_);
    }
    /// Weibull with shape k and scale lambda.
    double weibull(double shape, double scale) {
        return boost::random::weibull_distribution<double>(shape, scale)(engine_);
    }
    /// Uniform integer on [0, n) (n >= 1), by rejection-free multiply-shift of 64 bits.
    std::uint64_t below(std::uint64_t n) {
        __extension__ using u128 = unsigned __int128;
        return static_cast<std::uint64_t>((static_cast<u128>(engine_()) * n) >> 64);
    }
    engine_type& engine() noexcept { return engine_; }

private:
    engine_type engine_;
};

}  // namespace dbpoolsim::sim

namespace dbpoolsim::sim {

/// A counter-based engine for per-entity draws: the numbers for (stream, key) depend on
/// nothing else. Used so that request k's query times are the same under every pool
/// configuration, whatever order the queries happen to start in (common random numbers all
/// the way down, not only for arrivals). splitmix64 sequence; satisfies
/// UniformRandomBitGenerator, so Boost.Random distributions accept it.
class keyed_engine {
public:
    using result_type = std::uint64_t;
    keyed_engine(std::uint64_t stream, std::uint64_t key) noexcept
        : state_(mix64(stream ^ mix64(key + 0x632be59bd9b4e019ULL))) {}
    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return ~result_type{0}; }
    result_type operator()() noexcept {
        state_ += 0x9e3779b97f4a7c15ULL;
        return mix64(state_);
    }

private:
    std::uint64_t state_;
};

}  // namespace dbpoolsim::sim
