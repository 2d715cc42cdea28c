"""The package imports, exposes exactly its public names, and runs as `python -m dbpoolsim`."""

from __future__ import annotations

import importlib.metadata

import dbpoolsim


def test_every_name_in_all_is_importable():
    for name in dbpoolsim.__all__:
        assert getattr(dbpoolsim, name) is not None, name
    namespace: dict[str, object] = {}
    exec("from dbpoolsim import *", namespace)
    assert set(dbpoolsim.__all__) <= set(namespace)


def test_dir_lists_the_public_names():
    assert dir(dbpoolsim) == sorted(dbpoolsim.__all__)


def test_version_matches_the_distribution_metadata():
    assert dbpoolsim.__version__ == "0.1.0"
    assert importlib.metadata.version("dbpoolsim") == dbpoolsim.__version__


def test_scenario_error_is_a_value_error():
    assert issubclass(dbpoolsim.ScenarioError, ValueError)


def test_theory_is_a_submodule_with_the_formulas():
    for fn in ("erlang_b", "erlang_c", "mmc", "mmc_deterministic_patience", "erlang_a",
               "mg1_mean_wait", "erlang_c_servers_for_wait", "square_root_staffing"):
        assert callable(getattr(dbpoolsim.theory, fn)), fn


def test_python_dash_m_help_works(cli):
    proc = cli("--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: dbpoolsim")
    for command in ("run", "validate", "scenarios", "pools"):
        assert command in proc.stdout


def test_no_command_is_a_usage_error(cli):
    proc = cli()
    assert proc.returncode == 2
    assert "usage: dbpoolsim" in proc.stderr
