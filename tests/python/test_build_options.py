"""Build options that matter for speed (models/CMakeLists.txt, experiments/bench/README.md,
"Fifth speed pass")."""

from __future__ import annotations

import ctypes

from dbpoolsim import _core

# Mangled names of functions of the C++ core called on every simulated request.
HOT_FUNCTIONS = [
    "_ZN9dbpoolsim6models9pool_base9set_stateERNS0_10connectionENS0_10conn_stateE",
    "_ZN9dbpoolsim6models11world_parts5world11start_queryEj",
]


def test_the_core_library_is_not_exported_from_the_module():
    # Exported (default visibility), each call between the core's files inside the module
    # went through the PLT; the core is built with hidden visibility so that they are direct.
    lib = ctypes.CDLL(_core.__file__)
    for name in HOT_FUNCTIONS:
        assert not hasattr(lib, name), name
    assert hasattr(lib, "PyInit__core")  # the module's one entry point stays exported
