// Tests for models/ctmc: the numerical CTMC solver against every closed form it can reproduce,
// to 1e-9 (absolute on probabilities, relative on means). The closed forms are written out
// here independently (product forms, Engset, two-state transient, Poisson counts), or taken
// from models/theory (Erlang B/C, M/M/c, Erlang A), which has its own literature-value tests.
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "models/ctmc.hpp"
#include "models/theory.hpp"

namespace ctmc = dbpoolsim::models::ctmc;
namespace th = dbpoolsim::models::theory;
using Catch::Matchers::Message;

namespace {

/// M/M/c/K product form: p_n proportional to a^n / n! (n <= c), a^c / c! rho^(n - c) beyond.
std::vector<double> mmck_product_form(double lam, double mu, int c, int k) {
    std::vector<double> w(static_cast<std::size_t>(k + 1));
    double term = 1.0;
    for (int n = 0; n <= k; ++n) {
        if (n > 0) term *= (lam / mu) / std::min(n, c);
        w[static_cast<std::size_t>(n)] = term;
    }
    const double s = std::accumulate(w.begin(), w.end(), 0.0);
    for (auto& x : w) x /= s;
    return w;
}

double binomial(int n, int k) {
    double r = 1.0;
    for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
    return r;
}

}  // namespace

TEST_CASE("ctmc: M/M/c/K stationary distribution equals the product form to 1e-9", "[ctmc]") {
    for (auto [lam, mu, c, k] : {std::tuple{9.0, 1.0, 10, 30}, std::tuple{900.0, 100.0, 9, 20},
                                 std::tuple{30.0, 2.0, 8, 8}, std::tuple{5.0, 1.0, 1, 50}}) {
        const auto r = ctmc::mmck(lam, mu, c, k);
        const auto expect = mmck_product_form(lam, mu, c, k);
        REQUIRE(r.p.size() == expect.size());
        for (std::size_t n = 0; n < expect.size(); ++n) CHECK(r.p[n] == Approx(expect[n]).margin(1e-9));
        CHECK(r.p_block == Approx(expect.back()).margin(1e-9));
        CHECK(r.throughput == Approx(lam * (1 - expect.back())).epsilon(1e-9));
    }
}

TEST_CASE("ctmc: M/M/c/c blocking is Erlang B and a deep M/M/c/K is M/M/c", "[ctmc]") {
    for (auto [a, c] : {std::pair{5.0, 10}, std::pair{9.0, 9}, std::pair{80.0, 100}}) {
        CHECK(ctmc::mmck(a, 1.0, c, c).p_block == Approx(th::erlang_b(c, a)).margin(1e-9));
    }
    // rho = 0.9: rho^(K - c) < 1e-25 at K = c + 560, far below 1e-9.
    for (auto [lam, mu, c] : {std::tuple{9.0, 1.0, 10}, std::tuple{900.0, 100.0, 10},
                              std::tuple{45.0, 1.0, 50}}) {
        const auto r = ctmc::mmck(lam, mu, c, c + 600);
        const auto m = th::mmc(lam, mu, c);
        CHECK(r.p_wait == Approx(m.p_wait).margin(1e-9));
        CHECK(r.p_wait == Approx(th::erlang_c(c, lam / mu)).margin(1e-9));
        CHECK(r.mean_wait == Approx(m.mean_wait).epsilon(1e-9));
        CHECK(r.utilization == Approx(m.utilization).epsilon(1e-9));
    }
}

TEST_CASE("ctmc: Erlang A on the truncated chain equals theory::erlang_a to 1e-9", "[ctmc]") {
    for (auto [lam, mu, c, theta] :
         {std::tuple{900.0, 100.0, 9, 20.0}, std::tuple{900.0, 100.0, 10, 1.0},
          std::tuple{2000.0, 100.0, 10, 50.0}, std::tuple{50.0, 1.0, 60, 0.5}}) {
        const auto r = ctmc::erlang_a(lam, mu, c, theta);
        const auto e = th::erlang_a(lam, mu, c, theta);
        CHECK(r.p_wait == Approx(e.p_wait).margin(1e-9));
        CHECK(r.p_abandon == Approx(e.p_abandon).margin(1e-9));
        CHECK(r.mean_wait_all == Approx(e.mean_wait_all).epsilon(1e-9));
    }
}

TEST_CASE("ctmc: a finite-source loss pool reproduces the Engset formula", "[ctmc]") {
    // Call congestion E(N, c, beta) = C(N-1, c) beta^c / sum_k<=c C(N-1, k) beta^k, beta = nu/mu.
    for (auto [users, nu, mu, c] : {std::tuple{20, 0.1, 1.0, 5}, std::tuple{200, 2.0, 50.0, 10},
                                    std::tuple{12, 1.0, 1.0, 11}}) {
        const double beta = nu / mu;
        double den = 0.0;
        for (int k = 0; k <= c; ++k) den += binomial(users - 1, k) * std::pow(beta, k);
        const double engset = binomial(users - 1, c) * std::pow(beta, c) / den;
        const auto r = ctmc::finite_source(users, nu, mu, c, false);
        CHECK(r.p_block == Approx(engset).margin(1e-9));
        CHECK(r.p_wait == 0.0);
    }
}

TEST_CASE("ctmc: a finite-source queueing pool equals the M/M/c//N product form", "[ctmc]") {
    // p_j proportional to N! / (N - j)! beta^j / (j! for j <= c, c! c^(j-c) beyond).
    const int users = 40, c = 6;
    const double nu = 0.5, mu = 4.0;
    std::vector<double> w(users + 1);
    double term = 1.0;
    for (int j = 0; j <= users; ++j) {
        if (j > 0) term *= (users - j + 1) * (nu / mu) / std::min(j, c);
        w[static_cast<std::size_t>(j)] = term;
    }
    const double s = std::accumulate(w.begin(), w.end(), 0.0);
    double busy = 0.0, lq = 0.0;
    for (int j = 0; j <= users; ++j) {
        w[static_cast<std::size_t>(j)] /= s;
        busy += std::min(j, c) * w[static_cast<std::size_t>(j)];
        lq += std::max(j - c, 0) * w[static_cast<std::size_t>(j)];
    }
    const auto r = ctmc::finite_source(users, nu, mu, c, true);
    for (int j = 0; j <= users; ++j)
        CHECK(r.p[static_cast<std::size_t>(j)] == Approx(w[static_cast<std::size_t>(j)]).margin(1e-9));
    CHECK(r.throughput == Approx(mu * busy).epsilon(1e-9));
    CHECK(r.mean_wait == Approx(lq / (mu * busy)).epsilon(1e-9));
    // Response time law of the closed loop: N = X (Z + R), R = W + 1/mu.
    CHECK(users == Approx(r.throughput * (1 / nu + r.mean_wait + 1 / mu)).epsilon(1e-9));
}

TEST_CASE("ctmc: transient solutions match the two-state and pure-birth closed forms", "[ctmc]") {
    SECTION("on/off chain: p1(t) = l/(l+m) (1 - exp(-(l+m) t))") {
        const double l = 3.0, m = 7.0;
        ctmc::chain ch(2);
        ch.add(0, 1, l);
        ch.add(1, 0, m);
        for (double t : {0.0, 0.01, 0.1, 0.5, 3.0, 100.0}) {
            const auto p = ch.transient({1.0, 0.0}, t);
            CHECK(p[1] == Approx(l / (l + m) * (1 - std::exp(-(l + m) * t))).margin(1e-9));
        }
    }
    SECTION("pure birth at rate 40 for 5 s (200 expected, several uniformisation steps)") {
        const int n = 400;
        const double lam = 40.0, t = 5.0;
        ctmc::chain ch(n);
        for (int k = 0; k + 1 < n; ++k) ch.add(k, k + 1, lam);
        std::vector<double> p0(n, 0.0);
        p0[0] = 1.0;
        const auto p = ch.transient(p0, t);
        double logw = -lam * t;  // log Poisson(k; 200)
        for (int k = 0; k < n - 1; ++k) {
            CHECK(p[static_cast<std::size_t>(k)] == Approx(std::exp(logw)).margin(1e-9));
            logw += std::log(lam * t) - std::log(k + 1.0);
        }
    }
}

TEST_CASE("ctmc: the creation-limited pool", "[ctmc]") {
    const ctmc::creation_limited_model m{900.0, 100.0, 20.0, 12, 40, 0.0};
    SECTION("without closing, its stationary requests are M/M/c/K with c = max connections") {
        const auto r = ctmc::creation_limited_measures(m, ctmc::creation_limited_chain(m).steady_state());
        CHECK(r.mean_connections == Approx(12.0).epsilon(1e-9));
        const auto e = ctmc::mmck(900.0, 100.0, 12, 40);
        CHECK(r.p_block == Approx(e.p_block).margin(1e-9));
        CHECK(r.mean_in_system == Approx(e.mean_in_system).epsilon(1e-9));
    }
    SECTION("from a cold start it grows at most one login at a time and reaches steady state") {
        const auto tr = ctmc::creation_limited_transient(m, {0.0, 0.1, 0.5, 2.0, 60.0});
        CHECK(tr[0].mean_connections == 0.0);
        // Serial logins at rate 20/s: E[K(t)] <= E[Poisson(20 t)] = 20 t.
        CHECK(tr[1].mean_connections <= 2.0 + 1e-12);
        CHECK(tr[2].mean_connections <= 10.0 + 1e-12);
        CHECK(tr[2].mean_connections < tr[3].mean_connections);
        CHECK(tr[4].mean_connections == Approx(12.0).margin(1e-6));
    }
    SECTION("with idle closing the chain is irreducible and transient converges to steady state") {
        const ctmc::creation_limited_model mc{300.0, 100.0, 20.0, 8, 30, 0.5};
        const auto ch = ctmc::creation_limited_chain(mc);
        const auto ss = ctmc::creation_limited_measures(mc, ch.steady_state());
        const auto late = ctmc::creation_limited_transient(mc, {200.0});
        CHECK(late[0].mean_connections == Approx(ss.mean_connections).epsilon(1e-9));
        CHECK(late[0].mean_waiting == Approx(ss.mean_waiting).epsilon(1e-7));
    }
}

TEST_CASE("ctmc: bad input names the function, the parameter and the value", "[ctmc]") {
    CHECK_THROWS_MATCHES(ctmc::chain(0), std::invalid_argument,
                         Message("ctmc: states must be in 1..10000000, got 0"));
    ctmc::chain ch(3);
    CHECK_THROWS_MATCHES(ch.add(0, 3, 1.0), std::invalid_argument,
                         Message("ctmc: transition to state 3 outside 0..2"));
    CHECK_THROWS_MATCHES(ch.add(0, 1, -1.0), std::invalid_argument,
                         Message("ctmc: transition rate must be finite and >= 0, got -1"));
    CHECK_THROWS_MATCHES(ch.transient({0.5, 0.0, 0.0}, 1.0), std::invalid_argument,
                         Message("ctmc: initial probabilities must sum to 1, got 0.5"));
    CHECK_THROWS_MATCHES(ctmc::mmck(1.0, 1.0, 5, 4), std::invalid_argument,
                         Message("ctmc_mmck: capacity must be in 5..9999999, got 4"));
    CHECK_THROWS_MATCHES(ctmc::finite_source(10, 0.0, 1.0, 2, true), std::invalid_argument,
                         Message("ctmc_finite_source: think rate must be finite and > 0, got 0"));
    // Two absorbing states: no unique stationary distribution.
    ctmc::chain two(3);
    two.add(1, 0, 1.0);
    two.add(1, 2, 1.0);
    CHECK_THROWS_MATCHES(two.steady_state(), std::invalid_argument,
                         Message("ctmc: the chain has no unique stationary distribution "
                                 "(singular system)"));
}
