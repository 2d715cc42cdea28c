"""dbpoolsim.theory.fit_usl / usl_throughput: the Universal Scalability Law from Python.

The fit itself is tested in C++ (tests/cpp/models/test_usl.cpp); here: the acceptance data set,
the dict returned, and that bad input raises ScenarioError (a ValueError) with the message.
"""

from __future__ import annotations

import math

import pytest

import dbpoolsim
from dbpoolsim import theory

N = [1, 5, 10, 15, 20, 25, 30]
X = [955.16, 4315.54, 7867.61, 9645.37, 10798.52, 12075.41, 12118.04]


def test_reference_data_set_is_reproduced_by_the_fitted_model():
    fit = theory.fit_usl(N, X)
    assert set(fit) == {"lambda", "sigma", "kappa", "r_squared", "rmse", "peak_concurrency",
                        "iterations"}
    # least squares on throughput (checked against scipy.optimize.least_squares)
    assert fit["lambda"] == pytest.approx(1001.1026, rel=1e-6)
    assert fit["sigma"] == pytest.approx(0.0273462, rel=1e-5)
    assert fit["kappa"] == pytest.approx(7.70356e-4, rel=1e-5)
    assert fit["peak_concurrency"] == pytest.approx(35.5331, rel=1e-5)
    assert fit["r_squared"] > 0.997
    assert fit["rmse"] == pytest.approx(180.6464, rel=1e-6)
    # every point within 5 % (worst: +4.81 % at N = 1)
    for n, x in zip(N, X):
        model = theory.usl_throughput(fit["lambda"], fit["sigma"], fit["kappa"], n)
        assert abs(model / x - 1) < 0.05, (n, x, model)


def test_fit_accepts_numpy_arrays_and_recovers_exact_parameters():
    np = pytest.importorskip("numpy")
    n = np.array([2.0, 4, 8, 16, 32, 64])
    x = np.array([theory.usl_throughput(lambda_=250.0, sigma=0.04, kappa=0.001, n=v) for v in n])
    fit = theory.fit_usl(n, x)
    assert fit["lambda"] == pytest.approx(250.0, rel=1e-9)
    assert fit["sigma"] == pytest.approx(0.04, rel=1e-8)
    assert fit["kappa"] == pytest.approx(0.001, rel=1e-8)


def test_amdahl_data_has_no_peak():
    x = [theory.usl_throughput(100.0, 0.1, 0.0, n) for n in N]
    fit = theory.fit_usl(N, x)
    assert fit["kappa"] == 0.0
    assert math.isinf(fit["peak_concurrency"])


@pytest.mark.parametrize(
    ("n", "x", "message"),
    [
        ([1, 2, 3], [1.0, 2.0], "fit_usl: n and x must have the same length, got 3 and 2"),
        ([1, 2], [1.0, 2.0], "fit_usl: need at least 3 points, got 2"),
        ([1, 2, 0.5], [1.0, 2.0, 3.0], "fit_usl: n[2] must be finite and >= 1, got 0.5"),
        ([1, 2, 3], [1.0, -5.0, 3.0], "fit_usl: x[1] must be finite and > 0, got -5"),
        ([1, 2, 3], [math.nan, 2.0, 3.0], "fit_usl: x[0] must be finite and > 0, got nan"),
        ([1, 1, 2], [1.0, 1.0, 2.0], "fit_usl: need at least 3 distinct values of n, got 2"),
    ],
)
def test_fit_usl_rejects_bad_input(n, x, message):
    with pytest.raises(dbpoolsim.ScenarioError) as info:
        theory.fit_usl(n, x)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_usl_throughput_checks_its_arguments():
    assert theory.usl_throughput(1000.0, 0.1, 0.01, 10) == pytest.approx(10000 / 2.8, rel=1e-15)
    with pytest.raises(ValueError, match=r"^usl_params: sigma must be finite and in \[0, 1\), got 1$"):
        theory.usl_throughput(1000.0, 1.0, 0.01, 10)
    with pytest.raises(dbpoolsim.ScenarioError, match=r"^usl_throughput: n must be finite and >= 0, got -1$"):
        theory.usl_throughput(1000.0, 0.1, 0.01, -1)
