// dbpoolsim models: the Universal Scalability Law (see usl.hpp for the contract and sources).
#include "models/usl.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

#include "sim/error.hpp"

namespace dbpoolsim::models::usl {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

/// Largest sigma allowed: the largest double below 1 (sigma < 1 keeps the peak meaningful).
constexpr double sigma_max = 1.0 - std::numeric_limits<double>::epsilon() / 2.0;

/// Shortest round-trip decimal form of `v` ("12", "0.05", "inf", "nan").
std::string fmt(double v) {
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

[[noreturn]] void fail(std::string_view fn, const std::string& what) {
    throw dbpoolsim::error(std::string(fn) + ": " + what);
}

/// 1 + sigma (n - 1) + kappa n (n - 1): the USL's denominator.
double denominator(double sigma, double kappa, double n) {
    return 1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0);
}

// ---------------------------------------------------------------------------------------------
// Fitting. Internally throughput is divided by s = max x, so residuals are O(1) whatever the
// units; the parameter vector is p = (lambda / s, sigma, kappa).

using vec3 = Eigen::Vector3d;
using mat3 = Eigen::Matrix3d;

struct data {
    Eigen::ArrayXd n;   ///< concurrency
    Eigen::ArrayXd xs;  ///< throughput / s
    double s = 1.0;     ///< scale
};

struct lm_result {
    vec3 p;
    double cost;  ///< 0.5 * sum of squared scaled residuals
    int iterations;
};

Eigen::ArrayXd model(const data& d, const vec3& p) {
    const Eigen::ArrayXd den = 1.0 + p[1] * (d.n - 1.0) + p[2] * d.n * (d.n - 1.0);
    return p[0] * d.n / den;
}

/// Jacobian of the model with respect to p (rows: points; columns: lambda, sigma, kappa).
Eigen::MatrixX3d jacobian(const data& d, const vec3& p) {
    const Eigen::ArrayXd den = 1.0 + p[1] * (d.n - 1.0) + p[2] * d.n * (d.n - 1.0);
    const Eigen::ArrayXd g = d.n / den;           // dX/dlambda
    const Eigen::ArrayXd h = -p[0] * g / den;     // common factor of dX/dsigma, dX/dkappa
    Eigen::MatrixX3d j(d.n.size(), 3);
    j.col(0) = g.matrix();
    j.col(1) = (h * (d.n - 1.0)).matrix();
    j.col(2) = (h * d.n * (d.n - 1.0)).matrix();
    return j;
}

vec3 project(vec3 p) {
    p[1] = std::clamp(p[1], 0.0, sigma_max);
    p[2] = std::max(p[2], 0.0);
    return p;
}

/// Bound-constrained Levenberg-Marquardt (Marquardt's diagonal scaling, projected steps, an
/// active set for parameters held at a bound by the gradient). `fixed` parameters never move.
/// Stops when the gradient is orthogonal to the residual to 1e-13 (MINPACK's gtol test), when
/// the residual is zero, or when no damped step lowers the cost any more (converged to working
/// precision).
lm_result levenberg_marquardt(const data& d, vec3 p, const std::array<bool, 3>& fixed) {
    constexpr int max_iterations = 500;
    constexpr double gtol = 1e-13;
    constexpr double mu_max = 1e20;
    const std::array<double, 3> lower{0.0, 0.0, 0.0};
    const std::array<double, 3> upper{inf, sigma_max, inf};

    p = project(p);
    Eigen::ArrayXd r = model(d, p) - d.xs;
    double cost = 0.5 * r.matrix().squaredNorm();
    double mu = 1e-3;
    int it = 0;
    for (; it < max_iterations; ++it) {
        const double rnorm = r.matrix().norm();
        if (rnorm == 0.0) break;
        const Eigen::MatrixX3d j = jacobian(d, p);
        const mat3 h = j.transpose() * j;
        const vec3 g = j.transpose() * r.matrix();

        std::array<bool, 3> active{};
        double cosine = 0.0;
        for (int k = 0; k < 3; ++k) {
            active[k] = fixed[k] || (p[k] <= lower[k] && g[k] > 0.0) ||
                        (p[k] >= upper[k] && g[k] < 0.0);
            if (!active[k] && h(k, k) > 0.0)
                cosine = std::max(cosine, std::abs(g[k]) / (std::sqrt(h(k, k)) * rnorm));
        }
        if (cosine <= gtol) break;

        const double diag_floor = 1e-30 * std::max(1.0, h.diagonal().maxCoeff());
        bool improved = false;
        while (mu <= mu_max) {
            mat3 a = h;
            vec3 rhs = -g;
            for (int k = 0; k < 3; ++k) {
                if (active[k]) {
                    a.row(k).setZero();
                    a.col(k).setZero();
                    a(k, k) = 1.0;
                    rhs[k] = 0.0;
                } else {
                    a(k, k) += mu * std::max(h(k, k), diag_floor);
                }
            }
            const vec3 candidate = project(p + a.ldlt().solve(rhs));
            if (candidate.allFinite() && candidate[0] > 0.0 && candidate != p) {
                const Eigen::ArrayXd rc = model(d, candidate) - d.xs;
                const double cc = 0.5 * rc.matrix().squaredNorm();
                if (cc < cost) {
                    p = candidate;
                    r = rc;
                    cost = cc;
                    mu = std::max(mu / 3.0, 1e-12);
                    improved = true;
                    break;
                }
            }
            mu *= 4.0;
        }
        if (!improved) break;
    }
    return {p, cost, it};
}

/// Starting point from Gunther's linearisation (Guerrilla Capacity Planning, sec. 5.5): with
/// C(N) = X(N) / X(1), the deviation from linear scaling y = N / C - 1 = sigma (N - 1) +
/// kappa N (N - 1) is linear in (sigma, kappa); solved by least squares with sigma, kappa >= 0.
/// X(1) is the mean throughput measured at n = 1, or, without such points, max x / n (a lower
/// bound on lambda under the USL, tightest at the smallest n).
vec3 linearised_start(const data& d, bool sigma_zero, bool kappa_zero) {
    double lambda = 0.0;
    const Eigen::Array<bool, Eigen::Dynamic, 1> at_one = d.n == 1.0;
    if (at_one.any())
        lambda = at_one.select(d.xs, 0.0).sum() / static_cast<double>(at_one.count());
    else
        lambda = (d.xs / d.n).maxCoeff();

    const Eigen::VectorXd y = (lambda * d.n / d.xs - 1.0).matrix();
    const Eigen::VectorXd a1 = (d.n - 1.0).matrix();
    const Eigen::VectorXd a2 = (d.n * (d.n - 1.0)).matrix();
    // one-column least squares through the origin, clamped at 0
    auto single = [&](const Eigen::VectorXd& a) { return std::max(0.0, a.dot(y) / a.dot(a)); };

    double sigma = 0.0;
    double kappa = 0.0;
    if (sigma_zero && kappa_zero) {
        // nothing to estimate
    } else if (sigma_zero) {
        kappa = single(a2);
    } else if (kappa_zero) {
        sigma = single(a1);
    } else {
        Eigen::MatrixX2d a(d.n.size(), 2);
        a.col(0) = a1;
        a.col(1) = a2;
        const Eigen::Vector2d sk = a.colPivHouseholderQr().solve(y);
        sigma = sk[0];
        kappa = sk[1];
        if (sigma < 0.0 || kappa < 0.0) {  // the two one-sided solutions; keep the better one
            const double s_only = single(a1);
            const double k_only = single(a2);
            if ((y - s_only * a1).squaredNorm() <= (y - k_only * a2).squaredNorm()) {
                sigma = s_only;
                kappa = 0.0;
            } else {
                sigma = 0.0;
                kappa = k_only;
            }
        }
    }
    return vec3(lambda, std::min(sigma, 0.99), kappa);
}

void check_inputs(const std::vector<double>& n, const std::vector<double>& x) {
    constexpr std::string_view fn = "fit_usl";
    if (n.size() != x.size())
        fail(fn, "n and x must have the same length, got " + std::to_string(n.size()) + " and " +
                     std::to_string(x.size()));
    if (n.size() < 3) fail(fn, "need at least 3 points, got " + std::to_string(n.size()));
    for (std::size_t i = 0; i < n.size(); ++i)
        if (!(std::isfinite(n[i]) && n[i] >= 1.0))
            fail(fn, "n[" + std::to_string(i) + "] must be finite and >= 1, got " + fmt(n[i]));
    for (std::size_t i = 0; i < x.size(); ++i)
        if (!(std::isfinite(x[i]) && x[i] > 0.0))
            fail(fn, "x[" + std::to_string(i) + "] must be finite and > 0, got " + fmt(x[i]));
    std::vector<double> levels = n;
    std::sort(levels.begin(), levels.end());
    const auto distinct = std::unique(levels.begin(), levels.end()) - levels.begin();
    if (distinct < 3)
        fail(fn, "need at least 3 distinct values of n, got " + std::to_string(distinct));
}

}  // namespace

// ---------------------------------------------------------------------------------------------

double usl_params::throughput(double n) const {
    return lambda * n / denominator(sigma, kappa, n);
}

double usl_params::peak_concurrency() const {
    if (kappa == 0.0) return inf;
    return std::sqrt((1.0 - sigma) / kappa);
}

double usl_params::speed_factor(double n) const {
    return 1.0 / denominator(sigma, kappa, n);
}

void validate(const usl_params& p) {
    constexpr std::string_view fn = "usl_params";
    if (!(std::isfinite(p.lambda) && p.lambda > 0.0))
        fail(fn, "lambda must be finite and > 0, got " + fmt(p.lambda));
    if (!(std::isfinite(p.sigma) && p.sigma >= 0.0 && p.sigma < 1.0))
        fail(fn, "sigma must be finite and in [0, 1), got " + fmt(p.sigma));
    if (!(std::isfinite(p.kappa) && p.kappa >= 0.0))
        fail(fn, "kappa must be finite and >= 0, got " + fmt(p.kappa));
}

double usl_throughput(const usl_params& p, double n) {
    validate(p);
    if (!(std::isfinite(n) && n >= 0.0))
        fail("usl_throughput", "n must be finite and >= 0, got " + fmt(n));
    return p.throughput(n);
}

usl_fit fit_usl(const std::vector<double>& n, const std::vector<double>& x) {
    check_inputs(n, x);
    const auto m = static_cast<Eigen::Index>(n.size());
    data d;
    d.n = Eigen::Map<const Eigen::ArrayXd>(n.data(), m);
    const Eigen::ArrayXd xa = Eigen::Map<const Eigen::ArrayXd>(x.data(), m);
    d.s = xa.maxCoeff();
    d.xs = xa / d.s;

    // Full model from the linearised start, then the two sub-models with a coefficient pinned at
    // its bound (Amdahl: kappa = 0; pure coherency: sigma = 0). A sub-model wins when it fits as
    // well to within rounding, so a coefficient that the data do not need is exactly 0. The full
    // model is also restarted from the better sub-model, a second start against local minima.
    const lm_result full = levenberg_marquardt(d, linearised_start(d, false, false), {});
    const lm_result amdahl =
        levenberg_marquardt(d, linearised_start(d, false, true), {false, false, true});
    const lm_result coherency =
        levenberg_marquardt(d, linearised_start(d, true, false), {false, true, false});
    const lm_result& better_sub = amdahl.cost <= coherency.cost ? amdahl : coherency;
    const lm_result restarted = levenberg_marquardt(d, better_sub.p, {});
    const lm_result& best_full = restarted.cost < full.cost ? restarted : full;

    // rounding level of the cost: 0.5 * m * (64 eps)^2 in scaled units, plus 1e-10 relative
    const double eps = std::numeric_limits<double>::epsilon();
    const double slack =
        1e-10 * best_full.cost + 0.5 * static_cast<double>(m) * (64.0 * eps) * (64.0 * eps);
    const lm_result& chosen = better_sub.cost <= best_full.cost + slack ? better_sub : best_full;

    usl_fit out{};
    out.params = usl_params{chosen.p[0] * d.s, chosen.p[1], chosen.p[2]};
    out.iterations = chosen.iterations;
    const Eigen::ArrayXd resid = model(d, chosen.p) * d.s - xa;
    const double ss_res = resid.matrix().squaredNorm();
    const double ss_tot = (xa - xa.mean()).matrix().squaredNorm();
    out.r_squared = ss_tot > 0.0 ? 1.0 - ss_res / ss_tot : nan_value;
    out.rmse = std::sqrt(ss_res / static_cast<double>(m));
    return out;
}

}  // namespace dbpoolsim::models::usl
