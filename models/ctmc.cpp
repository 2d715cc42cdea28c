// dbpoolsim models: CTMC solver and finite pool models (contracts and sources in ctmc.hpp).
#include "models/ctmc.hpp"

#include "models/theory_errors.hpp"

#include <Eigen/Sparse>
#include <Eigen/SparseLU>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dbpoolsim::models::ctmc {

namespace {

using theory::detail::fail;
using theory::detail::fmt;

void require_rate(std::string_view fn, std::string_view name, double v, bool strictly_positive) {
    const bool ok = std::isfinite(v) && (strictly_positive ? v > 0.0 : v >= 0.0);
    if (!ok)
        fail(fn, std::string(name) + " must be finite and " + (strictly_positive ? "> 0" : ">= 0") +
                     ", got " + fmt(v));
}

void require_count(std::string_view fn, std::string_view name, int v, int lo, int hi) {
    if (v < lo || v > hi)
        fail(fn, std::string(name) + " must be in " + std::to_string(lo) + ".." +
                     std::to_string(hi) + ", got " + std::to_string(v));
}

constexpr int max_states = 10'000'000;

using sparse = Eigen::SparseMatrix<double>;

/// Q^T as a sparse matrix (column i = transitions out of state i), diagonal included.
sparse generator_transposed(const chain& ch) {
    const int n = ch.size();
    std::vector<Eigen::Triplet<double>> t;
    std::vector<double> exit(static_cast<std::size_t>(n), 0.0);
    t.reserve(ch.transitions().size() + static_cast<std::size_t>(n));
    for (const auto& tr : ch.transitions()) {
        t.emplace_back(tr.to, tr.from, tr.rate);
        exit[static_cast<std::size_t>(tr.from)] += tr.rate;
    }
    for (int i = 0; i < n; ++i) t.emplace_back(i, i, -exit[static_cast<std::size_t>(i)]);
    sparse q(n, n);
    q.setFromTriplets(t.begin(), t.end());
    return q;
}

}  // namespace

chain::chain(int states) : states_(states) {
    require_count("ctmc", "states", states, 1, max_states);
}

void chain::add(int from, int to, double rate) {
    if (from < 0 || from >= states_)
        fail("ctmc", "transition from state " + std::to_string(from) + " outside 0.." +
                         std::to_string(states_ - 1));
    if (to < 0 || to >= states_)
        fail("ctmc", "transition to state " + std::to_string(to) + " outside 0.." +
                         std::to_string(states_ - 1));
    require_rate("ctmc", "transition rate", rate, false);
    if (rate == 0.0 || from == to) return;
    transitions_.push_back({from, to, rate});
}

double chain::max_exit_rate() const {
    std::vector<double> exit(static_cast<std::size_t>(states_), 0.0);
    for (const auto& tr : transitions_) exit[static_cast<std::size_t>(tr.from)] += tr.rate;
    return states_ > 0 ? *std::max_element(exit.begin(), exit.end()) : 0.0;
}

std::vector<double> chain::steady_state() const {
    const int n = states_;
    if (n == 1) return {1.0};
    // Q^T pi = 0 with the last equation replaced by sum(pi) = 1.
    sparse a = generator_transposed(*this);
    std::vector<Eigen::Triplet<double>> t;
    t.reserve(static_cast<std::size_t>(a.nonZeros() + n));
    for (int k = 0; k < a.outerSize(); ++k)
        for (sparse::InnerIterator it(a, k); it; ++it)
            if (it.row() != n - 1) t.emplace_back(static_cast<int>(it.row()), k, it.value());
    for (int k = 0; k < n; ++k) t.emplace_back(n - 1, k, 1.0);
    sparse m(n, n);
    m.setFromTriplets(t.begin(), t.end());
    m.makeCompressed();
    Eigen::SparseLU<sparse> lu;
    lu.compute(m);
    if (lu.info() != Eigen::Success)
        fail("ctmc", "the chain has no unique stationary distribution (singular system)");
    Eigen::VectorXd b = Eigen::VectorXd::Zero(n);
    b[n - 1] = 1.0;
    const Eigen::VectorXd x = lu.solve(b);
    if (lu.info() != Eigen::Success || !x.allFinite())
        fail("ctmc", "the chain has no unique stationary distribution (singular system)");
    std::vector<double> p(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) p[static_cast<std::size_t>(i)] = std::max(0.0, x[i]);
    return p;
}

std::vector<double> chain::transient(const std::vector<double>& initial, double t) const {
    const int n = states_;
    if (static_cast<int>(initial.size()) != n)
        fail("ctmc", "initial distribution has " + std::to_string(initial.size()) +
                         " entries, the chain has " + std::to_string(n) + " states");
    double total = 0.0;
    for (double v : initial) {
        if (!(std::isfinite(v) && v >= 0.0))
            fail("ctmc", "initial probabilities must be finite and >= 0, got " + fmt(v));
        total += v;
    }
    if (std::abs(total - 1.0) > 1e-9)
        fail("ctmc", "initial probabilities must sum to 1, got " + fmt(total));
    if (!(std::isfinite(t) && t >= 0.0)) fail("ctmc", "time must be finite and >= 0, got " + fmt(t));

    const double big_l = max_exit_rate();
    Eigen::VectorXd p = Eigen::Map<const Eigen::VectorXd>(initial.data(), n);
    if (big_l == 0.0 || t == 0.0) return initial;
    // P^T = I + Q^T / L
    sparse pt = generator_transposed(*this) / big_l;
    for (int i = 0; i < n; ++i) pt.coeffRef(i, i) += 1.0;
    pt.makeCompressed();

    constexpr double step_mass = 64.0;
    const double lt = big_l * t;
    const auto steps = static_cast<long long>(std::ceil(lt / step_mass));
    const double x = lt / static_cast<double>(steps);
    Eigen::VectorXd term(n), acc(n);
    for (long long s = 0; s < steps; ++s) {
        double w = std::exp(-x);
        double cum = w;
        term = p;
        acc = w * term;
        for (int k = 1; 1.0 - cum > 1e-15 || k <= static_cast<int>(x); ++k) {
            term = pt * term;
            w *= x / static_cast<double>(k);
            cum += w;
            acc += w * term;
            if (k > 10'000) break;  // unreachable for x <= 64; a guard, not a tolerance
        }
        p = acc / acc.sum();  // the truncated mass (< 1e-15) is spread proportionally
    }
    std::vector<double> out(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = std::max(0.0, p[i]);
    return out;
}

mmck_result mmck(double arrival_rate, double service_rate, int servers, int capacity) {
    constexpr std::string_view fn = "ctmc_mmck";
    require_rate(fn, "arrival rate", arrival_rate, false);
    require_rate(fn, "service rate", service_rate, true);
    require_count(fn, "servers", servers, 1, max_states - 1);
    require_count(fn, "capacity", capacity, servers, max_states - 1);
    chain ch(capacity + 1);
    for (int n = 0; n < capacity; ++n) {
        ch.add(n, n + 1, arrival_rate);
        ch.add(n + 1, n, std::min(n + 1, servers) * service_rate);
    }
    mmck_result r{};
    r.p = ch.steady_state();
    double lq = 0.0, l = 0.0, busy = 0.0, waits = 0.0;
    for (int n = 0; n <= capacity; ++n) {
        const double pn = r.p[static_cast<std::size_t>(n)];
        l += n * pn;
        lq += std::max(n - servers, 0) * pn;
        busy += std::min(n, servers) * pn;
        if (n >= servers && n < capacity) waits += pn;
    }
    r.p_block = r.p[static_cast<std::size_t>(capacity)];
    const double accepted = 1.0 - r.p_block;
    r.p_wait = accepted > 0.0 ? waits / accepted : 0.0;
    r.throughput = arrival_rate * accepted;
    r.mean_wait = r.throughput > 0.0 ? lq / r.throughput : 0.0;
    r.mean_in_system = l;
    r.utilization = busy / servers;
    return r;
}

finite_source_result finite_source(int users, double think_rate, double service_rate,
                                   int servers, bool queue) {
    constexpr std::string_view fn = "ctmc_finite_source";
    require_count(fn, "users", users, 1, max_states - 1);
    require_rate(fn, "think rate", think_rate, true);
    require_rate(fn, "service rate", service_rate, true);
    require_count(fn, "servers", servers, 1, max_states - 1);
    const int top = queue ? users : std::min(users, servers);
    chain ch(top + 1);
    for (int j = 0; j < top; ++j) {
        ch.add(j, j + 1, (users - j) * think_rate);
        ch.add(j + 1, j, std::min(j + 1, servers) * service_rate);
    }
    finite_source_result r{};
    r.p = ch.steady_state();
    double busy = 0.0, l = 0.0, lq = 0.0, arrivals = 0.0, arrivals_wait = 0.0;
    for (int j = 0; j <= top; ++j) {
        const double pj = r.p[static_cast<std::size_t>(j)];
        busy += std::min(j, servers) * pj;
        l += j * pj;
        lq += std::max(j - servers, 0) * pj;
        const double rate = (users - j) * think_rate * pj;  // arrivals seen in state j
        arrivals += rate;
        if (j >= servers) arrivals_wait += rate;
    }
    r.throughput = service_rate * busy;
    r.mean_in_system = l;
    r.utilization = busy / servers;
    r.p_wait = queue && arrivals > 0.0 ? arrivals_wait / arrivals : 0.0;
    r.p_block = !queue && arrivals > 0.0 ? arrivals_wait / arrivals : 0.0;
    r.mean_wait = r.throughput > 0.0 ? lq / r.throughput : 0.0;
    return r;
}

erlang_a_ctmc_result erlang_a(double arrival_rate, double service_rate, int servers,
                              double abandon_rate) {
    constexpr std::string_view fn = "ctmc_erlang_a";
    require_rate(fn, "arrival rate", arrival_rate, false);
    require_rate(fn, "service rate", service_rate, true);
    require_count(fn, "servers", servers, 1, 1'000'000);
    require_rate(fn, "abandon rate", abandon_rate, true);
    // Truncation: beyond c the ratio p(n+1)/p(n) = lambda / (c mu + (n+1-c) theta) eventually
    // falls below 1; stop once the product since c is below 1e-18.
    double ratio = 1.0;
    int top = servers;
    while (top < max_states - 1) {
        ratio *= arrival_rate / (servers * service_rate + (top + 1 - servers) * abandon_rate);
        ++top;
        if (ratio < 1e-18 && arrival_rate < servers * service_rate + (top - servers) * abandon_rate)
            break;
    }
    chain ch(top + 1);
    for (int n = 0; n < top; ++n) {
        ch.add(n, n + 1, arrival_rate);
        ch.add(n + 1, n,
               std::min(n + 1, servers) * service_rate + std::max(n + 1 - servers, 0) * abandon_rate);
    }
    const auto p = ch.steady_state();
    double pw = 0.0, lq = 0.0;
    for (int n = servers; n <= top; ++n) {
        pw += p[static_cast<std::size_t>(n)];
        lq += (n - servers) * p[static_cast<std::size_t>(n)];
    }
    erlang_a_ctmc_result r{};
    r.p_wait = pw;
    r.mean_wait_all = arrival_rate > 0.0 ? lq / arrival_rate : 0.0;
    r.p_abandon = arrival_rate > 0.0 ? abandon_rate * lq / arrival_rate : 0.0;
    r.truncated_at = top;
    return r;
}

namespace {
void check_model(const creation_limited_model& m) {
    constexpr std::string_view fn = "ctmc_creation_limited";
    require_rate(fn, "arrival rate", m.arrival_rate, false);
    require_rate(fn, "service rate", m.service_rate, true);
    require_rate(fn, "create rate", m.create_rate, true);
    require_rate(fn, "idle close rate", m.idle_close_rate, false);
    require_count(fn, "max connections", m.max_connections, 1, 100'000);
    require_count(fn, "capacity", m.capacity, 1, 100'000);
    const double states = (m.max_connections + 1.0) * 2.0 * (m.capacity + 1.0);
    if (states > max_states)
        fail(fn, "(max connections + 1) x 2 x (capacity + 1) = " + fmt(states) +
                     " states, above " + std::to_string(max_states));
}

/// State index of (k connections, l logins in progress, j requests).
struct cl_index {
    int jj;
    int operator()(int k, int l, int j) const { return (k * 2 + l) * (jj + 1) + j; }
};
}  // namespace

chain creation_limited_chain(const creation_limited_model& m) {
    check_model(m);
    const int kk = m.max_connections, jj = m.capacity;
    const cl_index idx{jj};
    // After an arrival or a login's end: a login starts if requests wait (j > k), none is in
    // progress and the pool is below its maximum.
    auto settle = [kk](int k, int l, int j) { return (l == 0 && j > k && k < kk) ? 1 : l; };
    chain ch((kk + 1) * 2 * (jj + 1));
    for (int k = 0; k <= kk; ++k)
        for (int l = 0; l <= 1; ++l)
            for (int j = 0; j <= jj; ++j) {
                const int from = idx(k, l, j);
                // Unreachable states (a login in progress at the maximum; requests waiting with
                // no login) get one way out, so they cannot form closed classes of their own.
                if (k == kk && l == 1) {
                    ch.add(from, idx(k, 0, j), 1.0);
                    continue;
                }
                if (l == 0 && j > k && k < kk) {
                    ch.add(from, idx(k, 1, j), 1.0);
                    continue;
                }
                if (j < jj) ch.add(from, idx(k, settle(k, l, j + 1), j + 1), m.arrival_rate);
                if (j > 0) ch.add(from, idx(k, l, j - 1), std::min(j, k) * m.service_rate);
                if (l == 1) ch.add(from, idx(k + 1, settle(k + 1, 0, j), j), m.create_rate);
                if (k > j) ch.add(from, idx(k - 1, l, j), (k - j) * m.idle_close_rate);
            }
    return ch;
}

creation_limited_result creation_limited_measures(const creation_limited_model& m,
                                                  const std::vector<double>& p) {
    check_model(m);
    const int kk = m.max_connections, jj = m.capacity;
    const std::size_t n = static_cast<std::size_t>((kk + 1) * 2 * (jj + 1));
    if (p.size() != n)
        fail("ctmc_creation_limited", "distribution has " + std::to_string(p.size()) +
                                          " entries, the model has " + std::to_string(n) +
                                          " states");
    const cl_index idx{jj};
    creation_limited_result r{};
    for (int k = 0; k <= kk; ++k)
        for (int l = 0; l <= 1; ++l)
            for (int j = 0; j <= jj; ++j) {
                const double q = p[static_cast<std::size_t>(idx(k, l, j))];
                r.mean_connections += k * q;
                r.mean_in_system += j * q;
                r.mean_waiting += std::max(j - k, 0) * q;
                if (j == jj) r.p_block += q;
                if (l == 1) r.p_creating += q;
            }
    const double accepted = m.arrival_rate * (1.0 - r.p_block);
    r.mean_wait = accepted > 0.0 ? r.mean_waiting / accepted : 0.0;
    return r;
}

std::vector<creation_limited_result> creation_limited_transient(
    const creation_limited_model& m, const std::vector<double>& times) {
    const chain ch = creation_limited_chain(m);
    std::vector<double> p(static_cast<std::size_t>(ch.size()), 0.0);
    p[0] = 1.0;
    std::vector<creation_limited_result> out;
    double now = 0.0;
    for (double t : times) {
        if (!(std::isfinite(t) && t >= now))
            fail("ctmc_creation_limited", "times must be finite, >= 0 and ascending, got " + fmt(t));
        p = ch.transient(p, t - now);
        now = t;
        out.push_back(creation_limited_measures(m, p));
    }
    return out;
}

}  // namespace dbpoolsim::models::ctmc
