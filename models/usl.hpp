// dbpoolsim models: the Universal Scalability Law (USL).
//
// Source: N. J. Gunther, "Guerrilla Capacity Planning", Springer (2007), ch. 4 (the model) and
// ch. 5 (fitting it to measurements, including the linearisation used here as a starting point).
//
// With N concurrent requests (clients, threads, active queries) the throughput is
//
//     X(N) = lambda N / (1 + sigma (N - 1) + kappa N (N - 1))
//
// lambda: throughput of a single request running alone (per second);
// sigma:  contention (serialisation, queueing for a shared resource), 0 <= sigma < 1;
// kappa:  coherency or crosstalk (pairwise exchange to keep shared data consistent), kappa >= 0.
// kappa = 0 is Amdahl's law (throughput grows to the asymptote lambda / sigma); kappa > 0 gives a
// peak at N* = sqrt((1 - sigma) / kappa), after which throughput falls (retrograde scaling).
//
// Errors (bad input to fit_usl, usl_throughput, validate) are dbpoolsim::error with a message that
// names the function, the argument and the bad value, e.g.
// "fit_usl: n[2] must be finite and >= 1, got 0.5".
#pragma once

#include <vector>

namespace dbpoolsim::models::usl {

/// USL coefficients. The member functions do no checking (they sit on the simulator's hot path):
/// call validate() once on parameters that come from a user.
struct usl_params {
    double lambda;  ///< single-request throughput (per second), finite and > 0
    double sigma;   ///< contention, in [0, 1)
    double kappa;   ///< coherency (crosstalk), finite and >= 0

    /// X(n) = lambda n / (1 + sigma (n - 1) + kappa n (n - 1)); X(0) = 0. Meant for n >= 0.
    double throughput(double n) const;

    /// N* = sqrt((1 - sigma) / kappa), the concurrency of maximum throughput; +infinity when
    /// kappa == 0 (Amdahl: throughput rises for ever towards lambda / sigma). May be < 1 when
    /// coherency dominates (then throughput falls from the first added request on).
    double peak_concurrency() const;

    /// X(n) / (lambda n) = 1 / (1 + sigma (n - 1) + kappa n (n - 1)), in (0, 1] for n >= 1:
    /// the speed of each of n concurrent requests relative to running alone (1 at n = 1). Use it
    /// to scale a per-request service rate with n requests active. Meant for n >= 1.
    double speed_factor(double n) const;
};

/// Throws dbpoolsim::error unless lambda is finite and > 0, sigma is finite and in [0, 1) and
/// kappa is finite and >= 0, e.g. "usl_params: sigma must be finite and in [0, 1), got 1".
void validate(const usl_params& p);

/// Checked X(n): validate(p), n finite and >= 0 ("usl_throughput: n must be finite and >= 0, got
/// -1"), then p.throughput(n).
double usl_throughput(const usl_params& p, double n);

/// Result of fit_usl.
struct usl_fit {
    usl_params params;  ///< least-squares coefficients (within the constraints above)
    double r_squared;   ///< 1 - SS_res / SS_tot on throughput; NaN when all x are equal
    double rmse;        ///< sqrt(SS_res / number of points), in units of x
    int iterations;     ///< Levenberg-Marquardt iterations of the returned fit
};

/// Fits the USL to measured (concurrency, throughput) pairs by nonlinear least squares on
/// throughput: minimises sum_i (X(n_i) - x_i)^2 subject to lambda > 0, 0 <= sigma < 1,
/// kappa >= 0 (a bound-constrained Levenberg-Marquardt, started from Gunther's linearisation).
/// When fixing sigma or kappa at 0 fits as well to within 1e-10 relative cost, that simpler
/// model is returned, so noise-free Amdahl data gives kappa == 0 exactly (infinite peak).
///
/// Requirements (else dbpoolsim::error): n and x of the same length, at least 3 points with at
/// least 3 distinct values of n, every n finite and >= 1, every x finite and > 0. n need not
/// contain 1 nor be sorted; repeated n (replicated measurements) are fine. Data that do not pin
/// down all three coefficients (e.g. every point far beyond the peak, where X ~ (lambda / kappa)
/// / n) still give the best curve found, but lambda and kappa individually can be very large.
usl_fit fit_usl(const std::vector<double>& n, const std::vector<double>& x);

}  // namespace dbpoolsim::models::usl
