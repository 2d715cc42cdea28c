// Tests for models/theory: exact queueing formulas used as oracles.
//
// Reference values were computed independently of theory.cpp (direct Erlang sums with Python
// integers/fractions, brute-force birth-death sums, numerical integration of the M/M/c+D
// waiting-time density) and cross-checked with a throwaway FCFS simulation.
#include <catch2/catch.hpp>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <stdexcept>

#include "models/theory.hpp"

namespace th = dbpoolsim::models::theory;
using Catch::Matchers::Message;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();
}  // namespace

TEST_CASE("Erlang B matches known values from the literature", "[theory]") {
    // sum formula B = (a^c / c!) / sum_{k<=c} a^k / k!
    CHECK(th::erlang_b(10, 5.0) == Approx(0.018384570336648136).margin(1e-15));
    CHECK(th::erlang_b(9, 9.0) == Approx(0.22429995030009867).margin(1e-15));
    CHECK(th::erlang_b(2, 1.0) == Approx(0.2).margin(1e-15));
    CHECK(th::erlang_b(1, 3.0) == Approx(0.75).margin(1e-15));  // a / (1 + a)
    CHECK(th::erlang_b(0, 3.0) == 1.0);
    CHECK(th::erlang_b(5, 0.0) == 0.0);
    // exact rational recursion in Python
    CHECK(th::erlang_b(100, 80.0) == Approx(0.003992028604553197).margin(1e-14));
}

TEST_CASE("Erlang B stays accurate for a thousand servers where factorials overflow", "[theory]") {
    CHECK(th::erlang_b(1000, 1000.0) == Approx(0.02481191764616041).margin(1e-13));
    const double tiny = th::erlang_b(1000, 1.0);
    CHECK(tiny >= 0.0);
    CHECK(tiny < 1e-300);
}

TEST_CASE("Erlang C matches known values", "[theory]") {
    CHECK(th::erlang_c(10, 9.0) == Approx(0.668731524107697).margin(1e-14));
    CHECK(th::erlang_c(9, 8.0) == Approx(0.6533269282651051).margin(1e-14));
    CHECK(th::erlang_c(2, 1.0) == Approx(1.0 / 3.0).margin(1e-15));
    CHECK(th::erlang_c(1, 0.7) == Approx(0.7).margin(1e-15));  // M/M/1: P(wait) = rho
    CHECK(th::erlang_c(4, 0.0) == 0.0);
}

TEST_CASE("M/M/c mean wait, queue length and utilization follow Erlang C", "[theory]") {
    const auto r = th::mmc(900.0, 100.0, 10);
    CHECK(r.p_wait == Approx(0.668731524107697).margin(1e-14));
    CHECK(r.mean_wait == Approx(0.00668731524107697).margin(1e-15));  // C / (c mu - lambda)
    CHECK(r.mean_queue_length == Approx(900.0 * 0.00668731524107697).margin(1e-12));
    CHECK(r.utilization == Approx(0.9).margin(1e-15));

    const auto m1 = th::mmc(50.0, 100.0, 1);  // M/M/1: Wq = rho / (mu - lambda)
    CHECK(m1.mean_wait == Approx(0.01).margin(1e-15));
    CHECK(m1.mean_queue_length == Approx(0.5).margin(1e-14));
}

TEST_CASE("M/M/c+D reproduces the acceptance values of the project issue", "[theory]") {
    // 900/s arrivals, 10 ms mean hold, 9 connections, 50 ms acquire timeout (lambda = c mu).
    const auto r = th::mmc_deterministic_patience(900.0, 100.0, 9, 0.050);
    CHECK(r.p_timeout == Approx(0.020219).margin(1e-6));
    CHECK(r.mean_wait_all == Approx(0.023757).margin(1e-6));
    // full-precision values (numerical integration of the density, Python)
    CHECK(r.p_timeout == Approx(0.02021904678594736).margin(1e-13));
    CHECK(r.mean_wait_all == Approx(0.023757379973488146).margin(1e-13));
    CHECK(r.p_wait == Approx(0.9300761521535785).margin(1e-12));
    CHECK(r.throughput == Approx(900.0 * (1.0 - 0.02021904678594736)).margin(1e-9));
    CHECK(r.utilization == Approx(1.0 - 0.02021904678594736).margin(1e-12));
    // served customers wait < tau, timed-out ones exactly tau
    CHECK(r.mean_wait_all ==
          Approx((1.0 - r.p_timeout) * r.mean_wait_served + r.p_timeout * 0.050).margin(1e-15));
    CHECK(r.mean_wait_served < 0.050);
}

TEST_CASE("M/M/c+D is continuous through the critical load lambda = c mu", "[theory]") {
    // d p_timeout / d lambda is about 5e-4 s here, d mean_wait_all / d lambda about 2.5e-4 s^2
    const auto at = th::mmc_deterministic_patience(900.0, 100.0, 9, 0.05);
    for (double eps : {1e-3, -1e-3, 1e-7, -1e-7}) {
        const auto near = th::mmc_deterministic_patience(900.0 + eps, 100.0, 9, 0.05);
        const double margin = 1e-3 * std::abs(eps) + 1e-14;
        CHECK(near.p_timeout == Approx(at.p_timeout).margin(margin));
        CHECK(near.mean_wait_all == Approx(at.mean_wait_all).margin(margin));
        CHECK(near.p_wait == Approx(at.p_wait).margin(margin));
    }
    // and across the switch between power series and closed form at |(c mu - lambda) tau| = 1/2
    for (double edge : {890.0, 910.0}) {
        const auto lo = th::mmc_deterministic_patience(edge - 1e-9, 100.0, 9, 0.05);
        const auto hi = th::mmc_deterministic_patience(edge + 1e-9, 100.0, 9, 0.05);
        CHECK(lo.p_timeout == Approx(hi.p_timeout).margin(1e-13));
        CHECK(lo.mean_wait_all == Approx(hi.mean_wait_all).margin(1e-13));
        CHECK(lo.mean_wait_served == Approx(hi.mean_wait_served).margin(1e-13));
        CHECK(lo.p_wait == Approx(hi.p_wait).margin(1e-13));
    }
}

TEST_CASE("M/M/c+D matches independent values under and over load", "[theory]") {
    // numerical integration of the density (Python) and a 2e7-arrival simulation agree
    const auto two = th::mmc_deterministic_patience(300.0, 100.0, 2, 0.02);
    CHECK(two.p_wait == Approx(0.9577846469045675).margin(1e-9));
    CHECK(two.p_timeout == Approx(0.3509230637906056).margin(1e-9));
    CHECK(two.mean_wait_all == Approx(0.014986767996187552).margin(1e-10));

    const auto over = th::mmc_deterministic_patience(1000.0, 100.0, 9, 0.05);
    CHECK(over.p_wait == Approx(0.9981998711401762).margin(1e-9));
    CHECK(over.p_timeout == Approx(0.10042900389120689).margin(1e-9));
    CHECK(over.mean_wait_all == Approx(0.04123679327146886).margin(1e-10));
}

TEST_CASE("M/M/c+D throughput equals mean busy servers times the service rate", "[theory]") {
    // Conservation: lambda (1 - p_timeout) / mu = a P0 (1 - B(c-1, a)) + c (1 - P0).
    struct case_t { double lambda, mu; int c; double tau; };
    for (const case_t k : {case_t{900, 100, 9, 0.05}, case_t{300, 100, 2, 0.02},
                           case_t{50, 10, 8, 0.3}, case_t{5000, 100, 20, 0.01},
                           case_t{120, 100, 1, 1.0}}) {
        const auto r = th::mmc_deterministic_patience(k.lambda, k.mu, k.c, k.tau);
        const double a = k.lambda / k.mu;
        const double p0 = 1.0 - r.p_wait;
        const double busy = a * p0 * (1.0 - th::erlang_b(k.c - 1, a)) + k.c * (1.0 - p0);
        CHECK(r.throughput / k.mu == Approx(busy).margin(1e-9 * k.c));
        CHECK(r.utilization == Approx(busy / k.c).margin(1e-12));
    }
}

TEST_CASE("M/M/c+D tends to Erlang C as patience grows", "[theory]") {
    const auto c = th::mmc(800.0, 100.0, 9);
    const auto big = th::mmc_deterministic_patience(800.0, 100.0, 9, 10.0);
    CHECK(big.p_wait == Approx(c.p_wait).margin(1e-12));
    CHECK(big.mean_wait_all == Approx(c.mean_wait).margin(1e-12));
    CHECK(big.p_timeout == Approx(0.0).margin(1e-12));

    const auto infinite = th::mmc_deterministic_patience(800.0, 100.0, 9, inf);
    CHECK(infinite.p_wait == Approx(c.p_wait).margin(1e-15));
    CHECK(infinite.mean_wait_all == Approx(c.mean_wait).margin(1e-15));
    CHECK(infinite.mean_wait_served == Approx(c.mean_wait).margin(1e-15));
    CHECK(infinite.p_timeout == 0.0);
    CHECK(infinite.throughput == 800.0);
}

TEST_CASE("M/M/c+D with patience going to zero is the Erlang B loss system", "[theory]") {
    const double b = th::erlang_b(9, 9.0);
    const auto zero = th::mmc_deterministic_patience(900.0, 100.0, 9, 0.0);
    CHECK(zero.p_timeout == Approx(b).margin(1e-15));
    CHECK(zero.p_wait == Approx(b).margin(1e-15));
    CHECK(zero.mean_wait_all == 0.0);
    CHECK(zero.utilization == Approx(1.0 - b).margin(1e-15));  // a (1 - B) / c with a = c

    const auto tiny = th::mmc_deterministic_patience(900.0, 100.0, 9, 1e-9);
    CHECK(tiny.p_timeout == Approx(b).margin(1e-6));
    CHECK(tiny.mean_wait_all == Approx(0.0).margin(1e-9));
}

TEST_CASE("M/M/c+D under heavy overload times out the excess and stays finite", "[theory]") {
    // Long patience and lambda = 3 c mu: p_timeout -> 1 - c mu / lambda, wait ~ patience.
    const auto r = th::mmc_deterministic_patience(3000.0, 100.0, 10, 1e6);
    CHECK(r.p_timeout == Approx(2.0 / 3.0).margin(1e-9));
    CHECK(r.p_wait == Approx(1.0).margin(1e-12));
    CHECK(std::isfinite(r.mean_wait_all));
    CHECK(r.mean_wait_all > 0.9 * 1e6 * 2.0 / 3.0);
    CHECK(r.utilization == Approx(1.0).margin(1e-9));

    const auto none = th::mmc_deterministic_patience(0.0, 100.0, 10, 0.05);
    CHECK(none.p_wait == 0.0);
    CHECK(none.throughput == 0.0);
}

TEST_CASE("Erlang A matches a brute-force birth-death sum", "[theory]") {
    // Python: sum of the chain truncated at 20000 queued customers
    const auto r = th::erlang_a(900.0, 100.0, 9, 10.0);
    CHECK(r.p_wait == Approx(0.779626493015132).margin(1e-12));
    CHECK(r.p_abandon == Approx(0.0637227839334126).margin(1e-12));
    CHECK(r.mean_wait_all == Approx(0.006372278393341261).margin(1e-14));

    const auto two = th::erlang_a(300.0, 100.0, 2, 50.0);
    CHECK(two.p_wait == Approx(0.8770582477521778).margin(1e-12));
    CHECK(two.p_abandon == Approx(0.3845590634365925).margin(1e-12));
    CHECK(two.mean_wait_all == Approx(0.00769118126873185).margin(1e-14));
}

TEST_CASE("Erlang A with abandon rate equal to service rate is the M/M/infinity queue",
          "[theory]") {
    // theta = mu: N is Poisson(a); P(wait) = P(N >= c), E[queue] = E[(N - c)^+].
    const auto r = th::erlang_a(900.0, 100.0, 9, 100.0);
    CHECK(r.p_wait == Approx(0.5443473956775812).margin(1e-12));
    CHECK(r.mean_wait_all == Approx(1.1858007600857043 / 900.0).margin(1e-14));
    CHECK(r.p_abandon == Approx(100.0 * 1.1858007600857043 / 900.0).margin(1e-12));
}

TEST_CASE("Erlang A tends to Erlang C as the abandon rate goes to zero", "[theory]") {
    const auto c = th::mmc(800.0, 100.0, 9);
    const auto small = th::erlang_a(800.0, 100.0, 9, 1e-9);
    CHECK(small.p_wait == Approx(c.p_wait).margin(1e-9));
    CHECK(small.mean_wait_all == Approx(c.mean_wait).margin(1e-9));
    CHECK(small.p_abandon == Approx(0.0).margin(1e-9));

    const auto zero = th::erlang_a(800.0, 100.0, 9, 0.0);
    CHECK(zero.p_wait == Approx(c.p_wait).margin(1e-15));
    CHECK(zero.mean_wait_all == Approx(c.mean_wait).margin(1e-15));
    CHECK(zero.p_abandon == 0.0);
}

TEST_CASE("Erlang A under heavy overload abandons the excess without overflow", "[theory]") {
    // lambda = 20000, capacity 900: about (lambda - c mu) / lambda abandon.
    const auto r = th::erlang_a(20000.0, 100.0, 9, 0.01);
    CHECK(r.p_wait == Approx(1.0).margin(1e-12));
    CHECK(r.p_abandon == Approx(1.0 - 900.0 / 20000.0).margin(1e-6));
    CHECK(r.mean_wait_all == Approx(r.p_abandon / 0.01).margin(1e-9));  // Little: Q = lambda W
}

TEST_CASE("Pollaczek-Khinchine gives M/M/1 and M/D/1 mean waits", "[theory]") {
    // exponential service: variance = mean^2, must equal M/M/1
    CHECK(th::mg1_mean_wait(50.0, 0.01, 1e-4) ==
          Approx(th::mmc(50.0, 100.0, 1).mean_wait).margin(1e-15));
    // deterministic service: half the M/M/1 wait, rho / (2 mu (1 - rho)) = 0.8 / (2*100*0.2)
    CHECK(th::mg1_mean_wait(80.0, 0.01, 0.0) == Approx(0.02).margin(1e-15));
    CHECK(th::mg1_mean_wait(0.0, 0.01, 1.0) == 0.0);
}

TEST_CASE("Server sizing returns the smallest count meeting the mean wait target", "[theory]") {
    // Wq(10) = 6.69 ms, Wq(11) = 2.15 ms, Wq(12) = 0.887 ms
    CHECK(th::erlang_c_servers_for_wait(900.0, 100.0, 0.001) == 12);
    CHECK(th::erlang_c_servers_for_wait(900.0, 100.0, 0.0022) == 11);
    CHECK(th::erlang_c_servers_for_wait(900.0, 100.0, 0.00668731524107697 * (1 + 1e-12)) == 10);
    CHECK(th::erlang_c_servers_for_wait(900.0, 100.0, inf) == 10);  // smallest stable
    CHECK(th::erlang_c_servers_for_wait(850.0, 100.0, inf) == 9);
    CHECK(th::erlang_c_servers_for_wait(0.0, 100.0, 1.0) == 1);
    for (double target : {1e-2, 1e-3, 1e-5, 1e-9}) {
        const int c = th::erlang_c_servers_for_wait(4321.0, 10.0, target);
        CHECK(th::mmc(4321.0, 10.0, c).mean_wait <= target);
        if (c - 1 > 432) CHECK(th::mmc(4321.0, 10.0, c - 1).mean_wait > target);
    }
}

TEST_CASE("Square-root staffing rounds a + beta sqrt(a) up", "[theory]") {
    CHECK(th::square_root_staffing(100.0, 1.0) == 110);
    CHECK(th::square_root_staffing(100.0, 0.5) == 105);
    CHECK(th::square_root_staffing(9.0, 1.0) == 12);
    CHECK(th::square_root_staffing(9.5, 0.0) == 10);
    CHECK(th::square_root_staffing(0.0, 1.0) == 1);
    CHECK(th::square_root_staffing(4.0, -5.0) == 1);
}

TEST_CASE("Invalid inputs throw invalid_argument naming the parameter and value", "[theory]") {
    using std::invalid_argument;
    CHECK_THROWS_MATCHES(th::erlang_b(-1, 1.0), invalid_argument,
                         Message("erlang_b: servers must be >= 0, got -1"));
    CHECK_THROWS_MATCHES(th::erlang_b(3, -1.0), invalid_argument,
                         Message("erlang_b: offered load must be finite and >= 0, got -1"));
    CHECK_THROWS_MATCHES(th::erlang_b(3, nan_value), invalid_argument,
                         Message("erlang_b: offered load must be finite and >= 0, got nan"));
    CHECK_THROWS_MATCHES(th::erlang_c(0, 1.0), invalid_argument,
                         Message("erlang_c: servers must be >= 1, got 0"));
    CHECK_THROWS_MATCHES(th::erlang_c(10, 12.0), invalid_argument,
                         Message("erlang_c: offered load 12 must be < servers 10 for a stable "
                                 "queue"));
    CHECK_THROWS_MATCHES(th::erlang_c(10, 10.0), invalid_argument,
                         Message("erlang_c: offered load 10 must be < servers 10 for a stable "
                                 "queue"));
    CHECK_THROWS_MATCHES(th::mmc(-5.0, 100.0, 3), invalid_argument,
                         Message("mmc: arrival rate must be finite and >= 0, got -5"));
    CHECK_THROWS_MATCHES(th::mmc(5.0, 0.0, 3), invalid_argument,
                         Message("mmc: service rate must be finite and > 0, got 0"));
    CHECK_THROWS_MATCHES(th::mmc(1200.0, 100.0, 10), invalid_argument,
                         Message("mmc: offered load 12 (arrival rate 1200 / service rate 100) must "
                                 "be < servers 10 for a stable queue"));
    CHECK_THROWS_MATCHES(th::mmc_deterministic_patience(900.0, 100.0, 9, -0.5), invalid_argument,
                         Message("mmc_deterministic_patience: patience must be >= 0, got -0.5"));
    CHECK_THROWS_MATCHES(th::mmc_deterministic_patience(900.0, 100.0, 9, nan_value),
                         invalid_argument,
                         Message("mmc_deterministic_patience: patience must be >= 0, got nan"));
    CHECK_THROWS_MATCHES(th::mmc_deterministic_patience(900.0, 100.0, 0, 0.05), invalid_argument,
                         Message("mmc_deterministic_patience: servers must be >= 1, got 0"));
    CHECK_THROWS_MATCHES(th::mmc_deterministic_patience(900.0, 100.0, 9, inf), invalid_argument,
                         Message("mmc_deterministic_patience: offered load 9 (arrival rate 900 / "
                                 "service rate 100) must be < servers 9 for a stable queue when "
                                 "patience is infinite"));
    CHECK_THROWS_MATCHES(th::mmc_deterministic_patience(inf, 100.0, 9, 0.05), invalid_argument,
                         Message("mmc_deterministic_patience: arrival rate must be finite and >= "
                                 "0, got inf"));
    CHECK_THROWS_MATCHES(th::erlang_a(900.0, 100.0, 9, -1.0), invalid_argument,
                         Message("erlang_a: abandon rate must be finite and >= 0, got -1"));
    CHECK_THROWS_MATCHES(th::erlang_a(900.0, 100.0, 9, 0.0), invalid_argument,
                         Message("erlang_a: offered load 9 (arrival rate 900 / service rate 100) "
                                 "must be < servers 9 for a stable queue when abandon rate is 0"));
    CHECK_THROWS_MATCHES(th::mg1_mean_wait(12.0, 0.1, 0.0), invalid_argument,
                         Message("mg1_mean_wait: load 1.2000000000000002 (arrival rate 12 * "
                                 "service mean 0.1) must be < 1 for a stable queue"));
    CHECK_THROWS_MATCHES(th::mg1_mean_wait(1.0, 0.0, 0.0), invalid_argument,
                         Message("mg1_mean_wait: service mean must be finite and > 0, got 0"));
    CHECK_THROWS_MATCHES(th::mg1_mean_wait(1.0, 0.1, -1.0), invalid_argument,
                         Message("mg1_mean_wait: service variance must be finite and >= 0, "
                                 "got -1"));
    CHECK_THROWS_MATCHES(th::erlang_c_servers_for_wait(900.0, 100.0, 0.0), invalid_argument,
                         Message("erlang_c_servers_for_wait: max mean wait must be > 0, got 0"));
    CHECK_THROWS_MATCHES(th::square_root_staffing(-1.0, 1.0), invalid_argument,
                         Message("square_root_staffing: offered load must be finite and >= 0, "
                                 "got -1"));
    CHECK_THROWS_MATCHES(th::square_root_staffing(9.0, inf), invalid_argument,
                         Message("square_root_staffing: beta must be finite, got inf"));
}
