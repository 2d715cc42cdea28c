// dbpoolsim models: an exact continuous-time Markov chain solver and the finite pool models
// built on it (M/M/c/K, finite-source pools, Erlang A, creation-rate-limited pools).
//
// These are the oracles for models with no closed form (or with one, as a cross-check): the
// chain is solved numerically on Eigen sparse matrices, so its answers are exact up to
// floating-point rounding and, for infinite chains (Erlang A), a stated truncation. Knows
// nothing of the simulator. Errors: std::invalid_argument naming the function, the parameter
// and the value (as theory.hpp), e.g. "ctmc: transition from state 7 outside 0..4".
#pragma once

#include <cstddef>
#include <vector>

namespace dbpoolsim::models::ctmc {

/// One transition of a chain: from state `from` to state `to` at `rate` per second.
struct transition {
    int from;
    int to;
    double rate;
};

/// A finite CTMC on states 0..states-1 given by its transitions (duplicates add up,
/// self-loops are ignored). Holds no Eigen type, so the header stays light.
class chain {
public:
    /// states >= 1.
    explicit chain(int states);
    /// Adds a transition; rate must be finite and >= 0 (a zero rate is dropped).
    void add(int from, int to, double rate);
    int size() const { return states_; }
    const std::vector<transition>& transitions() const { return transitions_; }
    /// Largest total exit rate of a state (the uniformisation constant).
    double max_exit_rate() const;

    /// Stationary distribution pi (pi Q = 0, sum pi = 1) by a sparse LU solve of Q^T with one
    /// balance equation replaced by the normalisation. Requires one recurrent class (throws
    /// "ctmc: the chain has no unique stationary distribution" when the system is singular).
    std::vector<double> steady_state() const;

    /// Distribution at time t >= 0 from `initial` (a probability vector of size()), by
    /// uniformisation (Jensen 1953; Stewart, Introduction to the Numerical Solution of Markov
    /// Chains, 1994, sec. 8.5): p(t) = sum_k Poisson(k; L t) p0 P^k with P = I + Q / L.
    /// t is cut into steps with L dt <= 64 so the Poisson weights never underflow; each step
    /// stops when the weights left are below 1e-15. Cost: about L t + 64 sqrt(L t) sparse
    /// products, so keep L t below ~10^7.
    std::vector<double> transient(const std::vector<double>& initial, double t) const;

private:
    int states_;
    std::vector<transition> transitions_;
};

/// M/M/c/K: Poisson arrivals, exponential service, c servers, at most K in the system
/// (K - c waiting places), FCFS, arrivals that find K are lost. Kleinrock vol. 1, sec. 3.6.
struct mmck_result {
    std::vector<double> p;    ///< P(N = n), n = 0..K
    double p_block;           ///< P(arrival lost) = p[K] (PASTA)
    double p_wait;            ///< P(an accepted arrival waits) = P(c <= N < K) / (1 - p[K])
    double mean_wait;         ///< mean wait of accepted arrivals, Lq / (lambda (1 - p_block))
    double mean_in_system;    ///< L
    double throughput;        ///< lambda (1 - p_block)
    double utilization;       ///< throughput / (c mu)
};
/// servers >= 1, capacity >= servers (and <= 10^7), rates finite, lambda >= 0, mu > 0.
mmck_result mmck(double arrival_rate, double service_rate, int servers, int capacity);

/// Finite-source pool: `users` closed-loop users, each thinks Exp(think_rate) then asks for one
/// of `servers` connections, holds it Exp(service_rate), releases it and thinks again. With
/// `queue` true waiting requests queue FCFS (the machine-repairman model M/M/c//N; Kleinrock
/// vol. 1, sec. 3.9); with `queue` false a request that finds every connection busy is lost
/// and its user thinks again (the Engset loss system). State = requests holding or waiting.
struct finite_source_result {
    std::vector<double> p;    ///< P(J = j), j = 0..users (0..servers without a queue)
    double throughput;        ///< completed requests per second, mu E[min(J, c)]
    double p_wait;            ///< queue: P(an arriving request waits) (arrival theorem)
    double p_block;           ///< no queue: call congestion, P(an arriving request is lost)
    double mean_wait;         ///< queue: mean wait per request, E[J - c]^+ / throughput
    double mean_in_system;    ///< E[J]
    double utilization;       ///< E[min(J, c)] / c
};
finite_source_result finite_source(int users, double think_rate, double service_rate,
                                   int servers, bool queue);

/// Erlang A (M/M/c+M) on the chain truncated at the smallest n where the stationary
/// probability ratio p(n) / p(c) falls below 1e-18; compare theory::erlang_a. Needs
/// abandon_rate > 0 (else the chain is infinite and M/M/c applies).
struct erlang_a_ctmc_result {
    double p_wait;            ///< P(N >= c)
    double p_abandon;         ///< theta E[queue] / lambda
    double mean_wait_all;     ///< E[queue] / lambda
    int truncated_at;         ///< the largest state kept
};
erlang_a_ctmc_result erlang_a(double arrival_rate, double service_rate, int servers,
                              double abandon_rate);

/// A pool that opens connections one login at a time, as PgBouncer opens server connections
/// (docs/pools.md, "pgbouncer"): a login starts when a request waits (more requests than
/// connections), none is in progress and the pool is below `max_connections`; it lasts
/// Exp(create_rate) and completes even if the demand has gone meanwhile; the next starts at
/// once if requests still wait. Poisson arrivals, exponential holds, FCFS, at most `capacity`
/// requests in the system (later arrivals lost), idle connections closed at rate
/// `idle_close_rate` each (0 = kept forever). State (k connections, l in {0, 1} logins in
/// progress, j requests), index (2 k + l) (capacity + 1) + j.
struct creation_limited_result {
    double mean_connections;  ///< E[K]
    double p_creating;        ///< P(a login is in progress)
    double mean_in_system;    ///< E[J]
    double mean_waiting;      ///< E[(J - K)^+]
    double p_block;           ///< P(J = capacity)
    double mean_wait;         ///< waiting per accepted request (Little), stationary only
};
struct creation_limited_model {
    double arrival_rate;
    double service_rate;
    double create_rate;
    int max_connections;
    int capacity;
    double idle_close_rate = 0.0;
};
/// The chain of the model (for steady_state or transient).
chain creation_limited_chain(const creation_limited_model& m);
/// Measures of a distribution over the chain's states (stationary or at some time t).
creation_limited_result creation_limited_measures(const creation_limited_model& m,
                                                  const std::vector<double>& p);
/// Transient measures at each time of `times` (ascending, >= 0) from a cold start (no
/// connections, no requests at t = 0).
std::vector<creation_limited_result> creation_limited_transient(const creation_limited_model& m,
                                                                const std::vector<double>& times);

}  // namespace dbpoolsim::models::ctmc
