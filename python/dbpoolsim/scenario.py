"""Scenario loading: dicts, JSON text, files and built-in scenarios; validation in C++."""

from __future__ import annotations

import copy
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Union

from . import _core

ScenarioLike = Union[Mapping[str, Any], str, "os.PathLike[str]"]

_BUILTIN_DIR = "scenarios"
DEFAULT_SCENARIO = "medium-application"


def builtin_scenarios() -> dict[str, str]:
    """Built-in scenario names and their one-line descriptions."""
    out = {}
    for entry in sorted(resources.files(__package__).joinpath(_BUILTIN_DIR).iterdir()):
        if entry.name.endswith(".json"):
            data = json.loads(entry.read_text())
            out[entry.name[: -len(".json")]] = data.get("description", "")
    return out


def _builtin_text(name: str) -> str | None:
    entry = resources.files(__package__).joinpath(_BUILTIN_DIR, f"{name}.json")
    if entry.is_file():
        return entry.read_text()
    return None


def _plain(value: Any) -> Any:
    """numpy scalars and arrays (as from a sweep grid) become plain JSON values."""
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _read_file(path: Path) -> str:
    """A scenario file's JSON text; a .yaml/.yml file is read as YAML (yaml_scenario.py)."""
    if path.suffix.lower() in (".yaml", ".yml"):
        from .yaml_scenario import yaml_to_scenario_json

        return yaml_to_scenario_json(path.read_text(), str(path), str(path.parent))
    return path.read_text()


def load_scenario(scenario: ScenarioLike) -> str:
    """Return the scenario as JSON text (not yet validated).

    Accepts a dict, a JSON string, a path to a JSON or YAML (.yaml, .yml) file, or a built-in
    scenario name. A YAML file is checked as it is read (ScenarioError with YAML line numbers).
    """
    if isinstance(scenario, Mapping):
        try:
            return json.dumps(scenario, default=_plain, allow_nan=False)
        except ValueError as exc:  # NaN or infinity somewhere
            raise ValueError(f"scenario holds a NaN or infinite number, which JSON cannot carry ({exc})") from None
    if isinstance(scenario, os.PathLike):
        return _read_file(Path(scenario))
    if isinstance(scenario, str):
        text = scenario.strip()
        if text.startswith("{"):
            return text
        builtin = _builtin_text(text)
        if builtin is not None:
            return builtin
        path = Path(text)
        if path.is_file():
            return _read_file(path)
        raise FileNotFoundError(
            f"scenario {scenario!r} is neither a JSON object, a file, nor a built-in scenario "
            f"({', '.join(builtin_scenarios())})"
        )
    raise TypeError(f"scenario must be a dict, JSON string, path or built-in name, got {type(scenario).__name__}")


def scenario_base_dir(scenario: ScenarioLike) -> str:
    """The directory of the scenario file that relative paths in it (trace files) are
    resolved against: the file's own directory, or "" (the current directory) when the
    scenario is not a file."""
    if isinstance(scenario, os.PathLike):
        return str(Path(scenario).parent)
    if isinstance(scenario, str):
        text = scenario.strip()
        if not text.startswith("{") and _builtin_text(text) is None and Path(text).is_file():
            return str(Path(text).parent)
    return ""


def resolve_scenario(scenario: ScenarioLike) -> dict[str, Any]:
    """Validate and return the scenario with every default filled in.

    Raises ScenarioError (a ValueError) whose ``problems`` attribute lists every problem as
    "/json/path: message".
    """
    return json.loads(_core.resolve_scenario(load_scenario(scenario), scenario_base_dir(scenario)))


def default_scenario() -> dict[str, Any]:
    """The built-in default scenario (the seeds' medium application), resolved."""
    return resolve_scenario(DEFAULT_SCENARIO)


def pool_kinds() -> dict[str, str]:
    """Registered pool kinds and what each models."""
    return dict(_core.pool_kinds())


def set_path(data: Any, dotted: str, value: Any) -> None:
    """Set ``data[a][b][0][c] = value`` for the dotted path ``"a.b.0.c"`` (in place).

    A missing object along the way is created; a number indexes a list (which must already
    hold that item). Errors name the path: ValueError for a step that cannot be taken."""
    node = data
    parts = dotted.split(".")
    if not dotted or any(not p for p in parts):
        raise ValueError(f"override path {dotted!r}: empty step (expected e.g. pool.max_connections)")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ValueError(f"override {dotted}: {where} is not an item of a list of {len(node)}")
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ValueError(f"override {dotted}: {parts[i - 1]} is not an object, got {node!r}")


def with_overrides(scenario: ScenarioLike, **overrides: Any) -> dict[str, Any]:
    """A copy of the scenario with dotted-path overrides, e.g.
    ``with_overrides(s, **{"pool.max_connections": 20, "run.replications": 3})``; a number in
    the path indexes a list (``workload.transactions.0.query_time.mean_s``)."""
    data = copy.deepcopy(json.loads(load_scenario(scenario)))
    for dotted, value in overrides.items():
        set_path(data, dotted, value)
    return data
