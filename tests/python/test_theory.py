"""dbpoolsim.theory: a few tabulated values and the input checks (the formulas are tested in C++)."""

from __future__ import annotations

import math

import pytest

from dbpoolsim import theory


def test_mmc_deterministic_patience_standard_case():
    # The standard case: 900/s, 10 ms service (mu = 100/s), 9 connections, 50 ms timeout.
    r = theory.mmc_deterministic_patience(900, 100, 9, 0.05)
    assert set(r) == {"p_wait", "p_timeout", "mean_wait_all", "mean_wait_served", "throughput",
                      "utilization"}
    assert r["p_timeout"] == pytest.approx(0.020219, abs=1e-6)
    assert r["mean_wait_all"] == pytest.approx(0.023757, abs=1e-6)
    assert r["throughput"] == pytest.approx(900 * (1 - r["p_timeout"]), rel=1e-12)
    assert r["utilization"] == pytest.approx(r["throughput"] / (9 * 100), rel=1e-12)


def test_erlang_c_tabulated_value():
    assert theory.erlang_c(10, 9) == pytest.approx(0.668731524108, abs=1e-12)


def test_erlang_b_small_cases():
    assert theory.erlang_b(0, 3.0) == 1.0
    assert theory.erlang_b(1, 1.0) == pytest.approx(0.5)
    # B(2, 1) = (1/2) / (1 + 1 + 1/2)
    assert theory.erlang_b(2, 1.0) == pytest.approx(0.2)


def test_patience_limits_reduce_to_erlang_b_and_mmc():
    # zero patience: the loss system
    assert theory.mmc_deterministic_patience(900, 100, 10, 0)["p_timeout"] == pytest.approx(
        theory.erlang_b(10, 9), rel=1e-9)
    # infinite patience: plain M/M/c
    r = theory.mmc_deterministic_patience(900, 100, 10, math.inf)
    m = theory.mmc(900, 100, 10)
    assert r["p_timeout"] == 0
    assert r["mean_wait_all"] == pytest.approx(m["mean_wait"], rel=1e-9)
    assert m["p_wait"] == pytest.approx(theory.erlang_c(10, 9), rel=1e-12)


def test_sizing_helpers():
    assert theory.square_root_staffing(9, 1) == 12  # ceil(9 + 3)
    c = theory.erlang_c_servers_for_wait(900, 100, 0.001)
    assert theory.mmc(900, 100, c)["mean_wait"] <= 0.001 < theory.mmc(900, 100, c - 1)["mean_wait"]


@pytest.mark.parametrize("call, message", [
    (lambda: theory.erlang_c(0, 1), "erlang_c: servers must be >= 1, got 0"),
    (lambda: theory.erlang_c(10, 10), "erlang_c: offered load 10 must be < servers 10 for a stable queue"),
    (lambda: theory.erlang_b(-1, 1), "erlang_b: servers must be >= 0, got -1"),
    (lambda: theory.mmc(1, 0, 1), "mmc: service rate must be finite and > 0, got 0"),
    (lambda: theory.mmc_deterministic_patience(900, 100, 9, -1),
     "mmc_deterministic_patience: patience must be >= 0, got -1"),
])
def test_invalid_input_raises_value_error_naming_the_parameter(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


def test_theory_error_is_a_value_error():
    assert issubclass(theory.TheoryError, ValueError)
