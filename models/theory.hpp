// dbpoolsim models: exact queueing-theory formulas.
//
// These are closed forms (or exactly summed birth-death chains) for the textbook queues that a
// connection pool reduces to when its assumptions hold: Poisson arrivals, exponential hold times,
// `servers` connections, FCFS acquire queue, optionally an acquire timeout (patience). They serve
// as test oracles for the simulator and as instant estimates before a run.
//
// Conventions: rates are per second, times in seconds, "offered load" a = arrival_rate /
// service_rate (in Erlangs). Every function validates its inputs and throws
// std::invalid_argument with a message naming the function, the parameter and the value, e.g.
// "erlang_c: servers must be >= 1, got 0". Results are doubles accurate to a few ulps of the
// underlying formula (no simulation, no asymptotics).
#pragma once

namespace dbpoolsim::models::theory {

/// Erlang B blocking probability B(c, a) of the M/M/c/c loss system (also M/G/c/c).
/// Source: Erlang (1917); computed with the stable recursion B(0)=1, B(n)=a B(n-1)/(n + a B(n-1)).
/// servers >= 0 (B(0, a) = 1), offered_load finite and >= 0.
double erlang_b(int servers, double offered_load);

/// Erlang C probability of waiting C(c, a) in M/M/c, requires a < c.
/// Source: C = B / (1 - (a/c)(1 - B)) with B = erlang_b(c, a) (e.g. Kleinrock, Queueing Systems
/// Vol. 1, eq. 3.40 rewritten in terms of B).
double erlang_c(int servers, double offered_load);

/// Steady-state M/M/c measures.
struct mmc_result {
    double p_wait;             ///< P(an arrival has to wait) = C(c, a)
    double mean_wait;          ///< Wq: mean time in queue over ALL arrivals, C / (c mu - lambda)
    double mean_queue_length;  ///< Lq = lambda Wq (Little)
    double utilization;        ///< rho = a / c, fraction of busy servers
};

/// M/M/c with unlimited patience; requires arrival_rate < servers * service_rate.
/// Source: Wq = C(c, a) / (c mu - lambda), Lq = lambda Wq (Kleinrock Vol. 1, sec. 3.5).
mmc_result mmc(double arrival_rate, double service_rate, int servers);

/// Steady-state M/M/c+D measures (deterministic patience tau = pool acquire timeout).
struct mmc_patience_result {
    double p_wait;            ///< P(arrival finds all servers busy) = P(V > 0)
    double p_timeout;         ///< P(arrival abandons: offered wait exceeds tau) = P(V > tau)
    double mean_wait_all;     ///< E[min(V, tau)]: mean time waited over ALL arrivals
    double mean_wait_served;  ///< E[V | V <= tau]: mean wait of arrivals that get served
    double throughput;        ///< served arrivals per second, lambda (1 - p_timeout)
    double utilization;       ///< fraction of busy servers, throughput / (c mu)
};

/// M/M/c+D: FCFS M/M/c whose waiting customers abandon when their wait reaches `patience`.
/// Exact closed form via the offered (virtual) waiting time V: atom P0 = P(V = 0) and density
///   v(x) = lambda pi_{c-1} exp(-(c mu - lambda) x)            for 0 < x < tau,
///   v(x) = lambda pi_{c-1} exp(-(c mu - lambda) tau - c mu (x - tau))  for x > tau,
/// where pi_{c-1} = P0 * B(c-1, a) (the idle-server states have the Erlang shape), and P0 follows
/// from normalisation. Source: Baccelli & Hebuterne, "On queues with impatient customers",
/// Performance '81 (1981); Zeltyn & Mandelbaum, Queueing Systems 51 (2005), sec. 2 (M/M/n+G with
/// G = point mass at tau). Stable for every arrival rate (overload included) when patience is
/// finite; patience = +infinity reduces to mmc() (and then requires arrival_rate < c mu);
/// patience = 0 is the Erlang loss system (p_timeout = erlang_b(c, a)).
mmc_patience_result mmc_deterministic_patience(double arrival_rate, double service_rate,
                                               int servers, double patience);

/// Steady-state M/M/c+M (Erlang A) measures.
struct erlang_a_result {
    double p_wait;         ///< P(N >= c) seen by arrivals (PASTA)
    double p_abandon;      ///< abandon_rate * E[queue] / arrival_rate
    double mean_wait_all;  ///< E[queue] / arrival_rate (Little), over ALL arrivals
};

/// Erlang A: M/M/c whose waiting customers abandon at exponential rate `abandon_rate`.
/// Exact: the birth-death chain (birth lambda, death min(n,c) mu + max(n-c,0) theta) summed to
/// relative truncation error 1e-16; states below c are summed in closed form through B(c, a).
/// Source: Palm (1943); Garnett, Mandelbaum & Reiman, MSOM 4 (2002), sec. 2.
/// abandon_rate = 0 reduces to mmc() (and then requires arrival_rate < c mu).
erlang_a_result erlang_a(double arrival_rate, double service_rate, int servers,
                         double abandon_rate);

/// Pollaczek-Khinchine mean wait in queue of M/G/1, requires rho = lambda E[S] < 1.
/// Source: Wq = lambda E[S^2] / (2 (1 - rho)), E[S^2] = Var[S] + E[S]^2.
double mg1_mean_wait(double arrival_rate, double service_mean, double service_variance);

/// Smallest c with mmc(arrival_rate, service_rate, c).mean_wait <= max_mean_wait (M/M/c sizing).
/// max_mean_wait > 0 (may be +infinity: smallest stable c). Returns 1 when arrival_rate = 0.
int erlang_c_servers_for_wait(double arrival_rate, double service_rate, double max_mean_wait);

/// Square-root staffing (Halfin & Whitt 1981): ceil(a + beta sqrt(a)), at least 1. Values within
/// 1e-9 (relative) above an integer are treated as that integer, to absorb rounding.
int square_root_staffing(double offered_load, double beta);

}  // namespace dbpoolsim::models::theory
