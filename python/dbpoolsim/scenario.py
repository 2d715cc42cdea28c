"""Scenario loading: dicts, JSON text, files and built-in scenarios; validation in C++."""

from __future__ import annotations

import copy
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Union

from . import _core
from ._core import ScenarioError

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
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,100}", name):  # built-in names are plain words
        return None
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


# Limits (docs/limits.md): the C++ reader enforces the same nesting depth and text size.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64


def scenario_error(problem: str) -> ScenarioError:
    """A ScenarioError with one problem ("where: message"), as the C++ reader raises them."""
    exc = ScenarioError(problem)
    exc.problems = [problem]
    return exc


def _depth(value: Any) -> int:
    """Nesting depth of a JSON-like value (1 for a scalar; stops counting past MAX_DEPTH),
    level by level, without recursion."""
    nested = (Mapping, list, tuple)
    depth, level = 0, [value]
    while level and depth <= MAX_DEPTH:
        depth += 1
        below: list[Any] = []
        for node in level:
            children = node.values() if isinstance(node, Mapping) else node if isinstance(node, (list, tuple)) else ()
            below.extend(c for c in children if isinstance(c, nested))
        level = below
    return depth


def _check_depth(value: Any, where: str) -> None:
    if _depth(value) > MAX_DEPTH:
        raise scenario_error(f"{where}: nested deeper than {MAX_DEPTH} levels (the limit)")


def read_scenario_file(path: "os.PathLike[str] | str") -> str:
    """The text of a scenario file: UTF-8 (a byte-order mark is dropped), at most
    MAX_FILE_BYTES; other encodings, folders and oversized files are a ScenarioError."""
    p = Path(path)
    if p.is_dir():
        raise scenario_error(f"{p}: is a folder, not a scenario file")
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise scenario_error(f"{p}: is {size} bytes, more than the limit of {MAX_FILE_BYTES} bytes")
    data = p.read_bytes()
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                      (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if data.startswith(bom):
            raise scenario_error(f"{p}: is {name} text; scenario files must be UTF-8 (re-save the file as UTF-8)")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise scenario_error(f"{p}: is not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}, "
                             f"byte offset {exc.start}); re-save the file as UTF-8") from None


def shorten(text: str, limit: int = 60) -> str:
    """Text for a message: at most `limit` characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is(test: Any) -> bool:
    """path.is_file / is_dir that answer False for names the OS cannot take (too long, NUL)."""
    try:
        return bool(test())
    except (OSError, ValueError):
        return False


def _read_file(path: Path) -> str:
    """A scenario file's JSON text (read_scenario_file's checks); a .yaml/.yml file is read as
    YAML (yaml_scenario.py)."""
    text = read_scenario_file(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        from .yaml_scenario import yaml_to_scenario_json

        return yaml_to_scenario_json(text, str(path), str(path.parent))
    return text


def load_scenario(scenario: ScenarioLike) -> str:
    """Return the scenario as JSON text (not yet validated).

    Accepts a dict, a JSON string, a path to a JSON or YAML (.yaml, .yml) file, or a built-in
    scenario name. A YAML file is checked as it is read (ScenarioError with YAML line numbers).
    """
    if isinstance(scenario, Mapping):
        _check_depth(scenario, "/")
        try:
            return json.dumps(scenario, default=_plain, allow_nan=False)
        except ValueError as exc:  # NaN or infinity somewhere
            raise scenario_error(f"/: scenario holds a NaN or infinite number, which JSON cannot carry ({exc})") from None
    if isinstance(scenario, os.PathLike):
        return _read_file(Path(scenario))
    if isinstance(scenario, str):
        text = scenario.lstrip("\ufeff").strip()
        if text.startswith("{"):
            return text
        if "\x00" in text:
            raise scenario_error(f"{text[:60]!r}: a scenario name or path cannot hold a NUL character")
        builtin = _builtin_text(text)
        if builtin is not None:
            return builtin
        path = Path(text)
        if _is(path.is_dir):
            raise scenario_error(f"{text}: is a folder, not a scenario file")
        if _is(path.is_file):
            return _read_file(path)
        raise FileNotFoundError(
            f"scenario {shorten(scenario)!r} is neither a JSON object, a file, nor a built-in scenario "
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
        text = scenario.lstrip("\ufeff").strip()
        if not text.startswith("{") and _builtin_text(text) is None and _is(Path(text).is_file):
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
        raise ValueError(f"override {dotted!r}: expected a dotted path of field names, e.g. pool.max_connections")
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
    if not isinstance(data, dict):
        raise scenario_error(f"/: must be an object, got {type(data).__name__}")
    for dotted, value in overrides.items():
        _check_depth(value, f"override {dotted}")
        try:
            set_path(data, dotted, value)
        except ValueError as exc:
            raise scenario_error(str(exc)) from None
    return data
