"""pandas and numpy, imported on first use.

``import dbpoolsim`` must stay light: pandas 3 imports pyarrow whenever pyarrow is installed
(the project installs it for Parquet output), and the two together add about 65 MB of RSS and
half a second to an import. ``dbpoolsim.run`` needs neither (its summary is plain Python); a
DataFrame is built when first asked for. The modules that use pandas or numpy write
``from ._lazy import pd`` (or ``np``) instead of ``import pandas as pd``: the name is a stand-in
that imports the real module at its first attribute access. tests/python/test_import.py
checks, in a fresh interpreter, that ``import dbpoolsim`` and a run leave the heavy modules
unimported.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _OnFirstUse:
    """Stands in for the module ``name``; every attribute comes from the real module."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<{self._name}, imported on first use ({state})>"


pd: Any = _OnFirstUse("pandas")
np: Any = _OnFirstUse("numpy")
