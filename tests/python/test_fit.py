"""dbpoolsim.fit: distributions from percentiles (least squares on logs) and from samples
(maximum likelihood, AIC, Kolmogorov-Smirnov), checked against known distributions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import dbpoolsim
from dbpoolsim import fit

KNOWN = [
    ("lognormal", stats.lognorm(0.8, scale=0.004), {"sigma": 0.8, "median_s": 0.004}),
    ("gamma", stats.gamma(2.5, scale=0.003), {"shape": 2.5, "scale_s": 0.003}),
    ("weibull", stats.weibull_min(0.7, scale=0.010), {"shape": 0.7, "scale_s": 0.010}),
]


def _validates(dist):
    """The distribution is accepted by the core as a query time."""
    dbpoolsim.resolve_scenario({"workload": {"transactions": [{"query_time": dist}]}})


@pytest.mark.parametrize("kind, frozen, params", KNOWN, ids=[k for k, _, _ in KNOWN])
def test_exact_percentiles_of_a_known_distribution_recover_its_family_and_parameters(kind, frozen, params):
    q = frozen.ppf([0.5, 0.95, 0.99])
    f = fit.from_percentiles(p50=q[0], p95=q[1], p99=q[2])
    assert f.kind == kind
    assert f.max_error < 1e-6  # exact quantiles: the right family fits them exactly
    for name, value in params.items():
        assert f.params[name] == pytest.approx(value, rel=1e-6)
    assert list(f.table.index) == ["p50", "p95", "p99"]
    _validates(f.distribution)


@pytest.mark.parametrize("kind, frozen, params", KNOWN, ids=[k for k, _, _ in KNOWN])
def test_one_percentile_and_the_mean_are_enough_for_a_named_family(kind, frozen, params):
    f = fit.from_percentiles(p99=frozen.ppf(0.99) * 1000, mean=frozen.mean() * 1000, kind=kind, unit="ms")
    for name, value in params.items():
        assert f.params[name] == pytest.approx(value, rel=1e-6)
    assert f.table.loc["mean", "given"] == pytest.approx(frozen.mean() * 1000)


def test_the_scenario_distribution_has_the_fitted_quantiles():
    f = fit.from_percentiles(p50=0.004, p95=0.02, p99=0.045, kind="lognormal")
    d = f.distribution
    assert d["kind"] == "lognormal"
    assert d["median_s"] == pytest.approx(f.table.loc["p50", "fitted"], rel=1e-6)
    assert d["p99_s"] == pytest.approx(f.table.loc["p99", "fitted"], rel=1e-6)
    # extra percentiles come in as probabilities or as percents
    g = fit.from_percentiles(p50=0.004, percentiles={90: 0.012, 0.999: 0.08}, kind="lognormal")
    assert list(g.table.index) == ["p50", "p90", "p99.9"]


def test_noisy_dashboard_percentiles_fit_within_the_tolerance_and_say_how_far():
    # p95 5 % above a lognormal's: no family is exact, every statistic is within 10 %.
    q = stats.lognorm(0.9, scale=0.005).ppf([0.5, 0.95, 0.99]) * [1, 1.05, 1]
    f = fit.from_percentiles(p50=q[0], p95=q[1], p99=q[2])
    assert 0.001 < f.max_error < 0.10
    assert f.max_error == pytest.approx(f.table["error"].abs().max())


@pytest.mark.parametrize("kwargs, message", [
    ({"p50": 0.02, "p95": 0.01}, "p95: must be > p50 (0.02 s), got 0.01: percentiles must increase"),
    ({"p50": 0.01, "p95": 0.01, "p99": 0.05}, "p95: must be > p50"),
    ({"p50": -1, "p99": 0.05}, "p50: must be a number > 0 and finite, got -1"),
    ({"p50": float("nan"), "p99": 0.05}, "p50: must be a number > 0 and finite"),
    ({"p99": 0.05}, "give at least two statistics"),
    ({"p50": 0.01, "p99": 0.05, "kind": "pareto"}, "kind: must be one of lognormal, gamma, weibull"),
    ({"p50": 0.01, "p99": 0.05, "unit": "min"}, "unit: must be one of s, ms, us"),
])
def test_bad_percentiles_are_scenario_errors_naming_the_statistic(kwargs, message):
    with pytest.raises(dbpoolsim.ScenarioError) as err:
        fit.from_percentiles(**kwargs)
    assert message in str(err.value)
    assert all(isinstance(p, str) for p in err.value.problems)


def test_percentiles_no_family_can_produce_are_an_error_naming_each_family():
    # A flat tail: p99 barely above p95 after a long climb from p50; no two-parameter family does that.
    with pytest.raises(dbpoolsim.ScenarioError) as err:
        fit.from_percentiles(p50=1, p95=50, p99=51, unit="ms")
    text = str(err.value)
    for fam in ("lognormal", "gamma", "weibull"):
        assert f"cannot come from a {fam} distribution within 10 %" in text


def test_a_mean_below_the_median_cannot_come_from_a_lognormal():
    with pytest.raises(dbpoolsim.ScenarioError, match="mean: cannot come from a lognormal"):
        fit.from_percentiles(p50=10, p99=50, mean=5, unit="ms", kind="lognormal")
    # A Weibull with a large shape has its mean below its median: that one fits.
    w = stats.weibull_min(6.0, scale=10.0)
    f = fit.from_percentiles(p50=w.median(), p99=w.ppf(0.99), mean=w.mean(), unit="ms")
    assert f.kind == "weibull"


# Sample fits: 3000 draws at a fixed seed. The MLE's relative standard error is about
# 1.5-3 % for these parameters, so 10 % is about 4 standard errors (false failure < 1e-4 if
# the seed varied); the seed is fixed, so the test is deterministic.
SAMPLED = [
    ("exponential", stats.expon(scale=0.006), {"mean_s": 0.006}),
    ("lognormal", stats.lognorm(0.8, scale=0.004), {"sigma": 0.8, "median_s": 0.004}),
    ("gamma", stats.gamma(2.5, scale=0.003), {"shape": 2.5, "scale_s": 0.003}),
    ("weibull", stats.weibull_min(0.6, scale=0.010), {"shape": 0.6, "scale_s": 0.010}),
]


@pytest.mark.parametrize("kind, frozen, params", SAMPLED, ids=[k for k, _, _ in SAMPLED])
def test_samples_from_each_family_are_recognised_by_aic_with_a_passing_ks(kind, frozen, params):
    x = frozen.rvs(size=3000, random_state=np.random.default_rng(42))
    f = fit.from_samples(x)
    assert f.kind == kind, f.table
    for name, value in params.items():
        assert f.params[name] == pytest.approx(value, rel=0.10)
    assert f.ks_pvalue > 0.01 and f.ks_statistic < 0.03
    assert set(f.table.index) == {"exponential", "lognormal", "gamma", "weibull"}
    assert f.table["aic"].idxmin() == kind
    _validates(f.distribution)


def test_samples_no_family_fits_give_an_empirical_distribution():
    rng = np.random.default_rng(1)
    # Two modes: cache hits at 1 ms and misses at 40 ms.
    x = np.concatenate([rng.normal(0.001, 0.0001, 2000), rng.normal(0.040, 0.002, 500)])
    f = fit.from_samples(x)
    assert f.kind == "empirical"
    assert "no family fits" in f.note and "rejected by the KS test" in f.note
    assert len(f.distribution["samples_s"]) == 1000  # 2500 samples reduced to 1000 quantiles
    assert f.ks_statistic < 0.01  # the empirical follows the samples
    _validates(f.distribution)


def test_zeros_in_samples_give_an_empirical_distribution_and_say_why():
    f = fit.from_samples([0, 1, 2, 2, 3, 5, 8], unit="ms")
    assert f.kind == "empirical"
    assert "1 of the samples are 0" in f.note
    assert f.distribution["samples_s"] == [0.0, 0.001, 0.002, 0.002, 0.003, 0.005, 0.008]


@pytest.mark.parametrize("values, message", [
    ([1.0, -2.0, 3.0], "values/1: must be >= 0 and finite, got -2.0"),
    ([1.0, float("inf")], "values/1: must be >= 0 and finite"),
    ([1.0], "values: need at least 2 samples, got 1"),
    (["a", "b"], "values: must be numbers"),
])
def test_bad_samples_are_scenario_errors(values, message):
    with pytest.raises(dbpoolsim.ScenarioError, match=message.replace("(", r"\(")):
        fit.from_samples(values)
