"""Build options that matter for speed (python/CMakeLists.txt, experiments/bench/README.md,
"Fifth speed pass")."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from dbpoolsim import _core


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
