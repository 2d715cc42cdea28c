// Specification of sim/random.hpp: named random streams and the keyed engine.
//
// Golden values: the first numbers of a few streams are pinned as exact literals (hex floats
// are exact). They were computed once by running the code, and the seeds were cross-checked
// with an independent Python implementation of splitmix64 / FNV-1a. They guard against silent
// changes in Boost.Random's algorithms or in our seed derivation: if one of them changes,
// every published result changes, so the change must be deliberate (update the values here
// and say so in the changelog).
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "sim/random.hpp"

using dbpoolsim::sim::fnv1a64;
using dbpoolsim::sim::keyed_engine;
using dbpoolsim::sim::mix64;
using dbpoolsim::sim::random_stream;
using dbpoolsim::sim::stream_seed;

namespace {

std::vector<std::uint64_t> raw(random_stream s, int n) {
    std::vector<std::uint64_t> out;
    for (int i = 0; i < n; ++i) out.push_back(s.engine()());
    return out;
}

// High 64 bits of the 128-bit product a * b, from 32-bit halves (no __int128).
std::uint64_t mul_high(std::uint64_t a, std::uint64_t b) {
    const std::uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32;
    const std::uint64_t b_lo = b & 0xffffffffu, b_hi = b >> 32;
    const std::uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi;
    const std::uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
    return a_hi * b_hi + (hi_lo >> 32) + (cross >> 32);
}

}  // namespace

// The seed derivation is usable at compile time.
static_assert(stream_seed(42, 0, "arrivals") == 0x7a33c6c093a2f94cULL);
static_assert(std::uniform_random_bit_generator<keyed_engine>);

TEST_CASE("The building blocks of the seed derivation match their reference definitions",
          "[random]") {
    // splitmix64: first output of a generator with state 0 (Vigna's reference code)
    CHECK(mix64(0) == 0xe220a8397b1dcdafULL);
    // FNV-1a 64 test vectors
    CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
    CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
    CHECK(fnv1a64("foobar") == 0x85944171f73967e8ULL);
    // mix64 is a bijection: no collisions on a sample of consecutive inputs
    std::set<std::uint64_t> seen;
    for (std::uint64_t i = 0; i < 10'000; ++i) seen.insert(mix64(i));
    CHECK(seen.size() == 10'000u);
}

TEST_CASE("Golden values: stream (seed 42, replication 0, \"arrivals\")", "[random]") {
    CHECK(stream_seed(42, 0, "arrivals") == 0x7a33c6c093a2f94cULL);

    SECTION("the engine is the standard MT19937-64 seeded with stream_seed") {
        random_stream s(42, 0, "arrivals");
        std::mt19937_64 reference(0x7a33c6c093a2f94cULL);  // fixed by the C++ standard
        CHECK(s.engine()() == 0xff1ad78543231fcdULL);
        CHECK(reference() == 0xff1ad78543231fcdULL);
        CHECK(s.engine()() == 0x6276bfb7b0cd4369ULL);
        CHECK(s.engine()() == 0x4e620b53fdfd175cULL);
        reference();
        reference();  // now both engines have produced 3 numbers
        bool same = true;
        for (int i = 0; i < 10'000; ++i) same = same && s.engine()() == reference();
        CHECK(same);
    }
    SECTION("uniform()") {
        random_stream s(42, 0, "arrivals");
        CHECK(s.uniform() == 0x1.fe35af0a86464p-1);  // 0.99650332454178825
        CHECK(s.uniform() == 0x1.89dafedec3351p-2);  // 0.38462446436533521
        CHECK(s.uniform() == 0x1.39882d4ff7f46p-2);  // 0.30618353653516228
        CHECK(s.uniform() == 0x1.4a2905cbf5e6cp-7);  // 0.010075691061430102
        CHECK(s.uniform() == 0x1.8f1af995a4e92p-2);  // 0.38975133872848133
    }
    SECTION("exponential(1.0) on a fresh stream") {
        random_stream s(42, 0, "arrivals");
        CHECK(s.exponential(1.0) == 0x1.54e12e1b80c3bp-1);  // 0.66578048787813005
        CHECK(s.exponential(1.0) == 0x1.078598d5165ep-6);   // 0.016084098101009192
        CHECK(s.exponential(1.0) == 0x1.8c2ba6a9500cap-2);  // 0.38688526543047586
        CHECK(s.exponential(1.0) == 0x1.c5dad893f284ep-3);  // 0.22160882188319636
        CHECK(s.exponential(1.0) == 0x1.dc5ff62201958p-5);  // 0.058151226738163586
    }
    SECTION("exponential(mean) scales the unit draw") {
        random_stream s(42, 0, "arrivals");
        CHECK(s.exponential(0.5) == 0x1.54e12e1b80c3bp-2);  // exactly half (power of two)
    }
    SECTION("normal() on a fresh stream") {
        random_stream s(42, 0, "arrivals");
        CHECK(s.normal() == -0x1.189e52eccfde2p-1);  // -0.54808291569491652
        CHECK(s.normal() == -0x1.ecc05da4a1754p-7);  // -0.01503758022705496
        CHECK(s.normal() == -0x1.bfbf4249fd4b2p-2);  // -0.43725303246112468
        CHECK(s.normal() == 0x1.e295caa628845p-3);   //  0.23563726729941173
        CHECK(s.normal() == -0x1.10cbeda78db92p-5);  // -0.033300365609128538
    }
}

TEST_CASE("Golden values: keyed_engine(stream 123, key 7)", "[random]") {
    keyed_engine k(123, 7);
    CHECK(k() == 0x21c07eb3e573835dULL);
    CHECK(k() == 0x600e9aad2bc6e51bULL);
    CHECK(k() == 0xf2dec72e28ae920fULL);
    CHECK(keyed_engine::min() == 0u);
    CHECK(keyed_engine::max() == ~std::uint64_t{0});
}

TEST_CASE("The same (seed, replication, name) gives the same sequence", "[random]") {
    random_stream a(7, 3, "service"), b(7, 3, "service");
    CHECK(raw(a, 1000) == raw(b, 1000));
    // and a copy continues from the same point
    a.uniform();
    random_stream c = a;
    CHECK(a.normal() == c.normal());
    CHECK(a.exponential(2.0) == c.exponential(2.0));
}

TEST_CASE("Different names, replications or seeds give different sequences", "[random]") {
    const auto base = raw(random_stream(1, 0, "arrivals"), 4);
    CHECK(raw(random_stream(1, 0, "service"), 4) != base);
    CHECK(raw(random_stream(1, 0, "arrivals2"), 4) != base);
    CHECK(raw(random_stream(1, 0, "Arrivals"), 4) != base);
    CHECK(raw(random_stream(1, 0, ""), 4) != base);
    CHECK(raw(random_stream(1, 1, "arrivals"), 4) != base);
    CHECK(raw(random_stream(2, 0, "arrivals"), 4) != base);
    CHECK(raw(random_stream(0, 0, "arrivals"), 4) != base);

    // seed and replication are not interchangeable
    CHECK(stream_seed(1, 2, "x") != stream_seed(2, 1, "x"));
    // no collisions over a grid of seeds x replications x names
    std::set<std::uint64_t> seeds;
    const char* names[] = {"arrivals", "service", "think", "db", "pool", ""};
    for (std::uint64_t s = 0; s < 20; ++s)
        for (std::uint64_t r = 0; r < 20; ++r)
            for (const char* n : names) seeds.insert(stream_seed(s, r, n));
    CHECK(seeds.size() == 20u * 20u * 6u);
}

TEST_CASE("Creating and drawing from another stream does not change an existing stream",
          "[random]") {
    std::vector<double> alone;
    {
        random_stream a(9, 2, "arrivals");
        for (int i = 0; i < 100; ++i) alone.push_back(a.exponential(1.0));
    }
    std::vector<double> with_others;
    {
        random_stream before(9, 2, "service");  // created before
        random_stream a(9, 2, "arrivals");
        for (int i = 0; i < 100; ++i) {
            before.normal();
            with_others.push_back(a.exponential(1.0));
            random_stream during(9, 2, "stream" + std::to_string(i));  // created in between
            during.uniform();
            during.gamma(2.0, 1.0);
        }
    }
    CHECK(with_others == alone);
}

TEST_CASE("uniform() is in [0, 1) and uniform(a, b) in [a, b)", "[random]") {
    random_stream s(5, 0, "u");
    bool ok01 = true, okab = true;
    double lo = 1, hi = 0;
    for (int i = 0; i < 100'000; ++i) {
        const double u = s.uniform();
        ok01 = ok01 && u >= 0.0 && u < 1.0;
        lo = std::min(lo, u);
        hi = std::max(hi, u);
        const double v = s.uniform(2.0, 3.5);
        okab = okab && v >= 2.0 && v < 3.5;
    }
    CHECK(ok01);
    CHECK(okab);
    CHECK(lo < 1e-4);
    CHECK(hi > 1 - 1e-4);
}

TEST_CASE("below(n) is in [0, n) and uniform over the bins", "[random]") {
    SECTION("range, including extreme n") {
        random_stream s(11, 0, "below");
        for (std::uint64_t n : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{3},
                                std::uint64_t{7}, std::uint64_t{1000},
                                (std::uint64_t{1} << 63) + 1, ~std::uint64_t{0}}) {
            CAPTURE(n);
            bool ok = true;
            for (int i = 0; i < 10'000; ++i) ok = ok && s.below(n) < n;
            CHECK(ok);
        }
        for (int i = 0; i < 100; ++i) CHECK(s.below(1) == 0u);
    }
    SECTION("below(n) is the high word of the 128-bit product engine() * n") {
        random_stream s(11, 0, "below"), copy(11, 0, "below");
        for (std::uint64_t n : {std::uint64_t{10}, std::uint64_t{12345}, ~std::uint64_t{0}}) {
            CAPTURE(n);
            CHECK(s.below(n) == mul_high(copy.engine()(), n));
        }
    }
    SECTION("chi-square goodness of fit, 10 bins, 100000 draws") {
        // Pearson's statistic has 9 degrees of freedom; its 0.999 quantile is 27.877. For a
        // free seed this bound would fail 0.1% of the time; with the fixed seed used here the
        // test is deterministic (it passes or fails the same way on every run).
        random_stream s(2024, 0, "chi-square");
        std::array<std::uint64_t, 10> counts{};
        const int n = 100'000;
        for (int i = 0; i < n; ++i) ++counts[s.below(10)];
        const double expected = n / 10.0;
        double chi2 = 0;
        for (auto c : counts) chi2 += (c - expected) * (c - expected) / expected;
        CAPTURE(chi2);
        CHECK(chi2 < 27.877);
    }
}

TEST_CASE("keyed_engine: the numbers for (stream, key) depend on nothing else", "[random]") {
    auto first = [](std::uint64_t stream, std::uint64_t key) {
        keyed_engine e(stream, key);
        std::vector<std::uint64_t> v;
        for (int i = 0; i < 8; ++i) v.push_back(e());
        return v;
    };
    CHECK(first(5, 17) == first(5, 17));
    CHECK(first(5, 17) != first(5, 18));
    CHECK(first(5, 17) != first(6, 17));
    // the keys of one stream do not produce overlapping starts
    std::set<std::uint64_t> starts;
    for (std::uint64_t key = 0; key < 10'000; ++key) starts.insert(keyed_engine(1, key)());
    CHECK(starts.size() == 10'000u);
    // usable with Boost.Random distributions, deterministically
    keyed_engine a(3, 4), b(3, 4);
    CHECK(boost::random::normal_distribution<double>(0.0, 1.0)(a) ==
          boost::random::normal_distribution<double>(0.0, 1.0)(b));
}
