"""Build options that matter for speed (python/CMakeLists.txt, experiments/bench/README.md,
"Fifth speed pass")."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dbpoolsim import _core

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs readelf (binutils)")
def test_the_module_calls_the_core_directly_not_through_the_plt():
    # Linked without -Bsymbolic-functions, every call between the core's files inside the
    # module (pool_base::set_state, world::grant, ... several per simulated request) has a
    # PLT slot: a JUMP_SLOT relocation naming the core's function.
    relocs = subprocess.run(["readelf", "--relocs", "--wide", _core.__file__],
                            capture_output=True, text=True, check=True).stdout
    slots = [line for line in relocs.splitlines() if "JUMP_SLOT" in line]
    assert slots, "expected PLT slots for the C/C++ runtime"
    core = [line.split()[-1] for line in slots if "_ZN9dbpoolsim" in line]
    assert core == [], core[:5]


def test_the_module_is_built_with_profile_feedback():
    # pyproject.toml turns DBPOOLSIM_PGO on for every wheel; cmake/pgo.cmake trains an
    # instrumented core and fails the build when the counts for the hot files are missing
    # (cmake/pgo_check.cmake). The bench's figures are this build's.
    assert _core.profile_guided is True


def test_the_training_list_is_the_bench_standard_case_and_every_example_scenario():
    training = json.loads((ROOT / "experiments/bench/pgo_training.json").read_text())
    sys.path.insert(0, str(ROOT / "experiments/bench"))
    try:
        import bench
    finally:
        sys.path.pop(0)
    assert training["standard_case"]["pools"] == list(bench.POLICIES.values())
    for d in training["scenario_dirs"]:
        folder = (ROOT / "experiments/bench" / d).resolve()
        assert sorted(folder.glob("*.json")), f"no scenarios in {folder}"
