"""dbpoolsim.theory's CTMC solver at the Python boundary (the solver is tested in C++)."""

from __future__ import annotations

import pytest

from dbpoolsim import theory


def test_generic_chain_steady_state_and_transient():
    tr = [(0, 1, 1.0), (1, 0, 3.0)]
    assert theory.ctmc_steady_state(2, tr) == pytest.approx([0.75, 0.25], abs=1e-12)
    late = theory.ctmc_transient(2, tr, [1.0, 0.0], 50.0)
    assert late == pytest.approx([0.75, 0.25], abs=1e-12)


def test_models_agree_with_closed_forms():
    assert theory.ctmc_mmck(5.0, 1.0, 10, 10)["p_block"] == pytest.approx(theory.erlang_b(10, 5.0), abs=1e-12)
    assert theory.ctmc_erlang_a(900, 100, 9, 20)["p_abandon"] == pytest.approx(
        theory.erlang_a(900, 100, 9, 20)["p_abandon"], abs=1e-12)
    fs = theory.ctmc_finite_source(40, 2.0, 20.0, 4)
    assert 40 == pytest.approx(fs["throughput"] * (0.5 + fs["mean_wait"] + 0.05), rel=1e-9)
    cold = theory.ctmc_creation_limited(150, 20, 20, 10, 300, times=[0.0, 60.0])
    assert cold[0]["mean_connections"] == 0 and cold[1]["mean_connections"] == pytest.approx(10)
    assert set(theory.ctmc_creation_limited(150, 20, 20, 10, 60)) == {
        "mean_connections", "p_creating", "mean_in_system", "mean_waiting", "p_block", "mean_wait"}


def test_bad_input_is_a_value_error_naming_the_parameter():
    with pytest.raises(ValueError, match=r"^ctmc_mmck: capacity must be in 5\.\.9999999, got 4$"):
        theory.ctmc_mmck(1.0, 1.0, 5, 4)
    with pytest.raises(ValueError, match="transition to state 2 outside 0..1"):
        theory.ctmc_steady_state(2, [(0, 2, 1.0)])
