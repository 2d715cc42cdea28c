// dbpoolsim models: exact queueing-theory formulas (see theory.hpp for contracts and sources).
#include "models/theory.hpp"

#include "models/theory_errors.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dbpoolsim::models::theory {

namespace {

using detail::fail;
using detail::fmt;

void require_servers(std::string_view fn, int servers, int minimum) {
    if (servers < minimum)
        fail(fn, "servers must be >= " + std::to_string(minimum) + ", got " +
                     std::to_string(servers));
}

/// finite and > 0
void require_positive(std::string_view fn, std::string_view name, double value) {
    if (!(std::isfinite(value) && value > 0.0))
        fail(fn, std::string(name) + " must be finite and > 0, got " + fmt(value));
}

/// finite and >= 0
void require_non_negative(std::string_view fn, std::string_view name, double value) {
    if (!(std::isfinite(value) && value >= 0.0))
        fail(fn, std::string(name) + " must be finite and >= 0, got " + fmt(value));
}

/// Erlang B by the recursion B(n) = a B(n-1) / (n + a B(n-1)), B(0) = 1. Every step is a ratio
/// of positive numbers, so there is no cancellation and no overflow; O(servers).
double erlang_b_unchecked(int servers, double a) {
    double b = 1.0;
    for (int n = 1; n <= servers; ++n) {
        const double ab = a * b;
        b = ab / (static_cast<double>(n) + ab);
    }
    return b;
}

/// C(c, a) from B(c, a): C = B / (1 - rho (1 - B)), rho = a / c < 1.
double erlang_c_from_b(int servers, double a, double b) {
    const double rho = a / static_cast<double>(servers);
    return b / (1.0 - rho * (1.0 - b));
}

/// log(exp(x) + exp(y)) without overflow; handles infinities.
double log_add_exp(double x, double y) {
    const double hi = std::max(x, y);
    const double lo = std::min(x, y);
    if (std::isinf(hi)) return hi;  // +inf dominates; both -inf gives -inf
    return hi + std::log1p(std::exp(lo - hi));
}

mmc_result mmc_checked(std::string_view fn, double arrival_rate, double service_rate, int servers,
                       std::string_view stability_suffix) {
    require_non_negative(fn, "arrival rate", arrival_rate);
    require_positive(fn, "service rate", service_rate);
    require_servers(fn, servers, 1);
    const double a = arrival_rate / service_rate;
    const double c = static_cast<double>(servers);
    if (!(a < c) || !(arrival_rate < c * service_rate))
        fail(fn, "offered load " + fmt(a) + " (arrival rate " + fmt(arrival_rate) +
                     " / service rate " + fmt(service_rate) + ") must be < servers " +
                     std::to_string(servers) + " for a stable queue" +
                     std::string(stability_suffix));
    const double p_wait = erlang_c_from_b(servers, a, erlang_b_unchecked(servers, a));
    const double wq = p_wait / (c * service_rate - arrival_rate);
    return {p_wait, wq, arrival_rate * wq, a / c};
}

}  // namespace

double erlang_b(int servers, double offered_load) {
    require_servers("erlang_b", servers, 0);
    require_non_negative("erlang_b", "offered load", offered_load);
    return erlang_b_unchecked(servers, offered_load);
}

double erlang_c(int servers, double offered_load) {
    require_servers("erlang_c", servers, 1);
    require_non_negative("erlang_c", "offered load", offered_load);
    if (!(offered_load < static_cast<double>(servers)))
        fail("erlang_c", "offered load " + fmt(offered_load) + " must be < servers " +
                             std::to_string(servers) + " for a stable queue");
    return erlang_c_from_b(servers, offered_load, erlang_b_unchecked(servers, offered_load));
}

mmc_result mmc(double arrival_rate, double service_rate, int servers) {
    return mmc_checked("mmc", arrival_rate, service_rate, servers, "");
}

// Derivation (level crossing on the offered waiting time V, FCFS, patience tau):
//  * States with an idle server have V = 0; among them the cut between j and j+1 busy servers
//    gives lambda pi_j = (j+1) mu pi_{j+1}, so pi_j is proportional to a^j / j! (j < c) and
//    pi_{c-1} = P0 * B(c-1, a) where P0 = P(V = 0) = sum_{j<c} pi_j.
//  * V jumps up only at an arrival that will be served (V < tau) or that takes the last idle
//    server, by an Exp(c mu) amount; it drifts down at unit rate. Down-crossings of x equal
//    up-crossings: v(x) = lambda pi_{c-1} e^{-c mu x} + lambda int_0^{min(x,tau)} v(y)
//    e^{-c mu (x-y)} dy, whence v(x) = lambda pi_{c-1} e^{(lambda - c mu) x} on (0, tau) and
//    v(x) = v(tau) e^{-c mu (x - tau)} beyond tau.
//  * With delta = c mu - lambda, z = delta tau, u = lambda B(c-1, a), and (per unit P0)
//      I1 = int_0^tau e^{-delta x} dx,  I2 = int_0^tau x e^{-delta x} dx,  tail = e^{-z} / (c mu):
//      D = 1 + u (I1 + tail),  P0 = 1/D,  p_timeout = u tail / D,
//      E[min(V, tau)] = u (I2 + tau tail) / D,  E[V; V <= tau] = u I2 / D.
//  * For z < 0 (overload) every term is multiplied by e^{z} (so tail -> 1/(c mu), 1 -> e^{z})
//    to avoid overflow; for |z| <= 1/2 I1 and I2 come from their power series (no cancellation).
mmc_patience_result mmc_deterministic_patience(double arrival_rate, double service_rate,
                                               int servers, double patience) {
    constexpr std::string_view fn = "mmc_deterministic_patience";
    require_non_negative(fn, "arrival rate", arrival_rate);
    require_positive(fn, "service rate", service_rate);
    require_servers(fn, servers, 1);
    if (!(patience >= 0.0)) fail(fn, "patience must be >= 0, got " + fmt(patience));

    const double c = static_cast<double>(servers);
    const double capacity = c * service_rate;
    if (std::isinf(patience)) {
        const mmc_result r =
            mmc_checked(fn, arrival_rate, service_rate, servers, " when patience is infinite");
        return {r.p_wait, 0.0, r.mean_wait, r.mean_wait, arrival_rate, r.utilization};
    }
    if (arrival_rate == 0.0) return {0.0, 0.0, 0.0, 0.0, 0.0, 0.0};

    const double a = arrival_rate / service_rate;
    const double u = arrival_rate * erlang_b_unchecked(servers - 1, a);
    const double delta = capacity - arrival_rate;
    const double tau = patience;
    const double z = delta * tau;

    double scale = 1.0;      // weight of the atom at V = 0 (1, or e^{z} when rescaled)
    double tail_exp = 1.0;   // e^{-z} (or 1 when rescaled)
    double i1 = 0.0;
    double i2 = 0.0;
    if (std::abs(z) <= 0.5) {
        // I1 = tau sum_k (-z)^k / (k+1)!,  I2 = tau^2 sum_k (-z)^k / (k! (k+2)).
        double term = 1.0;  // (-z)^k / k!
        double s1 = 0.0;
        double s2 = 0.0;
        for (int k = 0; k < 30; ++k) {
            s1 += term / static_cast<double>(k + 1);
            s2 += term / static_cast<double>(k + 2);
            term *= -z / static_cast<double>(k + 1);
        }
        i1 = tau * s1;
        i2 = tau * (tau * s2);
        tail_exp = std::exp(-z);
    } else if (z > 0.0) {
        const double e = std::exp(-z);
        const double one_minus_e = -std::expm1(-z);
        i1 = one_minus_e / delta;
        i2 = (one_minus_e - z * e) / (delta * delta);
        tail_exp = e;
    } else {
        // Overloaded by more than 1/(2 tau): rescale by e^{z} < 1.
        scale = std::exp(z);
        const double em1 = std::expm1(z);
        i1 = em1 / delta;                     // e^{z} * int_0^tau e^{-delta x} dx
        i2 = (em1 - z) / (delta * delta);     // e^{z} * int_0^tau x e^{-delta x} dx
        tail_exp = 1.0;
    }

    const double tail = tail_exp / capacity;
    const double denom = scale + u * (i1 + tail);
    const double p_wait = u * (i1 + tail) / denom;
    const double p_timeout = u * tail / denom;
    const double served_wait_mass = u * i2 / denom;  // E[V ; V <= tau]
    const double mean_wait_all = served_wait_mass + tau * p_timeout;
    const double p_served = (scale + u * i1) / denom;
    const double throughput = arrival_rate * p_served;
    return {p_wait, p_timeout, mean_wait_all, served_wait_mass / p_served, throughput,
            throughput / capacity};
}

erlang_a_result erlang_a(double arrival_rate, double service_rate, int servers,
                         double abandon_rate) {
    constexpr std::string_view fn = "erlang_a";
    require_non_negative(fn, "arrival rate", arrival_rate);
    require_positive(fn, "service rate", service_rate);
    require_servers(fn, servers, 1);
    require_non_negative(fn, "abandon rate", abandon_rate);
    if (abandon_rate == 0.0) {
        const mmc_result r =
            mmc_checked(fn, arrival_rate, service_rate, servers, " when abandon rate is 0");
        return {r.p_wait, 0.0, r.mean_wait};
    }
    if (arrival_rate == 0.0) return {0.0, 0.0, 0.0};

    const double a = arrival_rate / service_rate;
    const double capacity = static_cast<double>(servers) * service_rate;
    constexpr long long max_states = 100'000'000;
    if ((arrival_rate - capacity) / abandon_rate > static_cast<double>(max_states))
        fail(fn, "abandon rate " + fmt(abandon_rate) + " is too small for arrival rate " +
                     fmt(arrival_rate) + " > capacity " + fmt(capacity) + " (more than " +
                     std::to_string(max_states) + " queue states to sum)");

    // Weights relative to pi_c = 1: t_k = pi_{c+k} / pi_c = prod_{i<=k} lambda / (c mu + i theta).
    // Sums: T = sum_{k>=1} t_k, M = sum_{k>=1} k t_k (queue length). Stored values are scaled by
    // e^{-log_scale} to stay finite under heavy overload.
    constexpr double rescale_at = 1e250;
    const double log_rescale = std::log(rescale_at);
    double log_scale = 0.0;
    double t = 1.0;
    double sum_t = 0.0;
    double sum_kt = 0.0;
    for (long long k = 1;; ++k) {
        if (k > max_states)
            fail(fn, "more than " + std::to_string(max_states) +
                         " queue states needed (abandon rate " + fmt(abandon_rate) +
                         " too small for this load)");
        const double kd = static_cast<double>(k);
        const double ratio = arrival_rate / (capacity + kd * abandon_rate);
        t *= ratio;
        sum_t += t;
        sum_kt += kd * t;
        if (t > rescale_at) {
            t /= rescale_at;
            sum_t /= rescale_at;
            sum_kt /= rescale_at;
            log_scale += log_rescale;
        }
        if (ratio < 1.0) {
            // Ratios only decrease from here on, so the remaining tail is bounded by a geometric
            // series with ratio `ratio`.
            const double g = ratio / (1.0 - ratio);
            const double tail_t = t * g;
            const double tail_kt = t * (kd * g + g / (1.0 - ratio));
            const double one = std::exp(-log_scale);  // pi_c in stored units
            if (tail_t <= 1e-16 * (one + sum_t) && tail_kt <= 1e-16 * sum_kt) break;
        }
    }

    // States below c: sum_{n<c} pi_n / pi_c = 1/B - 1 = (1 - B) / B with B = B(c, a).
    const double b = erlang_b_unchecked(servers, a);
    const double log_low = std::log1p(-b) - std::log(b);                     // may be +inf
    const double log_high = log_scale + std::log(sum_t + std::exp(-log_scale));  // log(1 + T)
    const double log_total = log_add_exp(log_low, log_high);
    const double p_wait = std::exp(log_high - log_total);
    const double mean_queue = std::exp(log_scale + std::log(sum_kt) - log_total);
    return {p_wait, abandon_rate * mean_queue / arrival_rate, mean_queue / arrival_rate};
}

double mg1_mean_wait(double arrival_rate, double service_mean, double service_variance) {
    constexpr std::string_view fn = "mg1_mean_wait";
    require_non_negative(fn, "arrival rate", arrival_rate);
    require_positive(fn, "service mean", service_mean);
    require_non_negative(fn, "service variance", service_variance);
    const double rho = arrival_rate * service_mean;
    if (!(rho < 1.0))
        fail(fn, "load " + fmt(rho) + " (arrival rate " + fmt(arrival_rate) + " * service mean " +
                     fmt(service_mean) + ") must be < 1 for a stable queue");
    const double second_moment = service_variance + service_mean * service_mean;
    return arrival_rate * second_moment / (2.0 * (1.0 - rho));
}

int erlang_c_servers_for_wait(double arrival_rate, double service_rate, double max_mean_wait) {
    constexpr std::string_view fn = "erlang_c_servers_for_wait";
    require_non_negative(fn, "arrival rate", arrival_rate);
    require_positive(fn, "service rate", service_rate);
    if (!(max_mean_wait > 0.0)) fail(fn, "max mean wait must be > 0, got " + fmt(max_mean_wait));
    const double a = arrival_rate / service_rate;
    constexpr int max_servers = std::numeric_limits<int>::max();
    if (!(a < static_cast<double>(max_servers) - 1.0))
        fail(fn, "offered load " + fmt(a) + " needs more than " + std::to_string(max_servers) +
                     " servers");
    if (arrival_rate == 0.0) return 1;

    // Smallest stable c, then walk up (Wq decreases in c) updating B(c, a) incrementally.
    int c = static_cast<int>(std::floor(a)) + 1;
    while (!(arrival_rate < static_cast<double>(c) * service_rate)) ++c;  // rounding guard
    double b = erlang_b_unchecked(c, a);
    for (;;) {
        const double cd = static_cast<double>(c);
        const double wq = erlang_c_from_b(c, a, b) / (cd * service_rate - arrival_rate);
        if (wq <= max_mean_wait) return c;
        if (c == max_servers)
            fail(fn, "no server count up to " + std::to_string(max_servers) +
                         " meets max mean wait " + fmt(max_mean_wait));
        ++c;
        const double ab = a * b;
        b = ab / (static_cast<double>(c) + ab);
    }
}

int square_root_staffing(double offered_load, double beta) {
    constexpr std::string_view fn = "square_root_staffing";
    require_non_negative(fn, "offered load", offered_load);
    if (!std::isfinite(beta)) fail(fn, "beta must be finite, got " + fmt(beta));
    const double x = offered_load + beta * std::sqrt(offered_load);
    const double n = std::ceil(x - 1e-9 * std::max(1.0, std::abs(x)));
    if (!(n <= static_cast<double>(std::numeric_limits<int>::max())))
        fail(fn, "result " + fmt(n) + " does not fit in int");
    return std::max(1, static_cast<int>(n));
}

}  // namespace dbpoolsim::models::theory
