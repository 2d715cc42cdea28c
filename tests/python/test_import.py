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


# pandas 3 imports pyarrow whenever it is installed: together about 65 MB of RSS, which put
# the benchmark's memory test over its 100 MB limit. Nothing heavy loads until it is used.
HEAVY = ("pandas", "numpy", "pyarrow", "scipy", "matplotlib", "dask", "distributed", "yaml")

_PROBE = """
import json, sys
import dbpoolsim
seen = {"import": [m for m in HEAVY if m in sys.modules]}
from dbpoolsim.cli import build_parser
build_parser()  # every subcommand's module: `dbpoolsim run` starts simulating without pandas
seen["cli"] = [m for m in HEAVY if m in sys.modules]
result = dbpoolsim.run(SCENARIO, threads=1, progress=False)
assert result.summary["offered"] > 0
seen["run"] = [m for m in HEAVY if m in sys.modules]
result.replications
seen["replications"] = [m for m in HEAVY if m in sys.modules]
print(json.dumps(seen))
"""


def test_import_and_run_leave_the_heavy_modules_unimported(tiny):
    import json
    import subprocess
    import sys

    code = f"HEAVY = {HEAVY!r}\nSCENARIO = {tiny!r}\n" + _PROBE
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["import"] == []
    assert seen["cli"] == []  # a CLI Ctrl-C in the first seconds must find the run started
    assert seen["run"] == []
    assert "pandas" in seen["replications"]  # the probe can see an import: it is not vacuous


def test_summary_without_pandas_equals_summarize(tiny):
    # Result.summary is computed in plain Python; analysis.summarize over the DataFrame is
    # the reference (same means and half-widths, same order).
    result = dbpoolsim.run(tiny, threads=1, progress=False)
    stats = dbpoolsim.summarize(result.replications)
    expected = {str(m): float(row["mean"]) for m, row in stats.iterrows()}
    expected.update({f"{m}_ci95": float(row["ci95"]) for m, row in stats.iterrows()})
    expected.update({f"pooled_{k}": v for k, v in result.pooled.items()})
    got = result.summary
    assert list(got) == list(expected)
    same = [k for k in expected if got[k] == expected[k] or (got[k] != got[k] and expected[k] != expected[k])]
    assert same == list(expected)
