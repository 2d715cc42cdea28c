"""Scenarios in YAML: read into the same JSON the core checks, with the YAML line beside every
JSON path in the error messages.

YAML 1.1 (PyYAML's dialect) turns some plain words into other things than a JSON reader would;
each of those is an error here, never a silently different scenario:
- ``yes``/``no``/``on``/``off``/``y``/``n`` (booleans in YAML 1.1): write ``true``/``false``,
  or quote the word;
- duplicate keys (YAML loaders keep the last one silently);
- anchors, aliases and ``<<`` merge keys (one value in two places, hard to review);
- keys that are not strings (``1:``, ``true:``, ``null:``);
- sexagesimal (``1:30`` = 90) and leading-zero octal (``010`` = 8) numbers, ``.inf``/``.nan``,
  dates and timestamps, binary and other tagged values;
- a document that is not a mapping, or several documents in one file.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Optional

from ._errors import scenario_error

__all__ = ["yaml_to_scenario_json", "load_yaml_scenario"]

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_NULL_TAG = "tag:yaml.org,2002:null"
_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


def _pointer(path: list[str]) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path) if path else "/"


class _Converter:
    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: dict[str, int] = {}
        self.problems: list[str] = []

    def fail(self, path: list[str], node: Any, message: str) -> None:
        self.problems.append(f"{_pointer(path)}: {message} ({self.name} line {node.start_mark.line + 1})")

    def convert(self, node: Any, path: list[str]) -> Any:
        import yaml

        self.lines.setdefault(_pointer(path), node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP_TAG:
                self.fail(path, node, f"tag {node.tag} is not supported")
                return None
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.fail(path, key_node, "merge keys (<<) are not supported: write the fields out")
                    continue
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                    shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a " + type(key_node).__name__
                    self.fail(path, key_node, f"key {shown!r} is not a string (YAML reads it as "
                                              f"{key_node.tag.rsplit(':', 1)[-1]}); quote it")
                    continue
                key = key_node.value
                if key in out:
                    self.fail(path + [key], key_node, f"duplicate key {key!r} (first at line "
                                                      f"{self.lines.get(_pointer(path + [key]), '?')})")
                    continue
                self.lines[_pointer(path + [key])] = key_node.start_mark.line + 1
                out[key] = self.convert(value_node, path + [key])
            return out
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                self.fail(path, node, f"tag {node.tag} is not supported")
                return None
            return [self.convert(item, path + [str(i)]) for i, item in enumerate(node.value)]
        return self.scalar(node, path)

    def scalar(self, node: Any, path: list[str]) -> Any:
        v, tag, plain = node.value, node.tag, node.style is None
        if tag == _STR_TAG:
            return v
        if tag == _NULL_TAG:
            return None
        if tag == _BOOL_TAG:
            if v.lower() in ("true", "false"):
                return v.lower() == "true"
            self.fail(path, node, f"{v!r} is a YAML 1.1 boolean, not the word: write true or false, or quote it")
            return None
        if tag == _INT_TAG and plain:
            text = v.replace("_", "")
            if ":" in text:
                self.fail(path, node, f"{v!r} is a sexagesimal number in YAML 1.1; quote it or write the number")
                return None
            if re.fullmatch(r"[-+]?0[0-9]+", text) or re.fullmatch(r"[-+]?0[xXoObB][0-9a-fA-F]+", text):
                self.fail(path, node, f"{v!r} is an octal, hex or binary number in YAML 1.1; write it in decimal")
                return None
            return int(text)
        if tag == _FLOAT_TAG and plain:
            text = v.replace("_", "")
            if ":" in text:
                self.fail(path, node, f"{v!r} is a sexagesimal number in YAML 1.1; quote it or write the number")
                return None
            try:
                f = float(text)
            except ValueError:
                f = math.nan
            if not math.isfinite(f):
                self.fail(path, node, f"{v!r} is not a finite number (JSON has no infinity or NaN)")
                return None
            return f
        self.fail(path, node, f"{v!r} reads as {tag.rsplit(':', 1)[-1]} in YAML, which a scenario cannot hold; quote it")
        return None


def _check_events(text: str, name: str) -> list[str]:
    """Anchors, aliases and document count, which the composed tree no longer shows."""
    import yaml

    problems = []
    docs = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.DocumentStartEvent):
            docs += 1
            if docs == 2:
                problems.append(f"/: a scenario file holds one YAML document, found a second ({name} line {line})")
        elif getattr(event, "anchor", None) and not isinstance(event, yaml.AliasEvent):
            # Every alias needs an anchor (else the parser fails), so refusing anchors refuses both.
            problems.append(f"anchor &{event.anchor}: anchors and aliases are not supported: write the "
                            f"value out ({name} line {line})")
    return problems


def yaml_to_scenario_json(text: str, name: str = "<yaml>", base_dir: str = "") -> str:
    """The scenario in ``text`` (YAML) as JSON text, checked by the core like any scenario.

    Raises ScenarioError listing every problem: YAML syntax (with line and column), the traps
    above, and the core's checks, each "/json/path: message (<name> line N)".
    """
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is a dependency
        raise scenario_error([f"{name}: reading YAML needs PyYAML (pip install pyyaml)"]) from None
    from . import _core
    from ._core import ScenarioError

    try:
        problems = _check_events(text, name)
        root = None if problems else yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" ({name} line {mark.line + 1}, column {mark.column + 1})" if mark else f" ({name})"
        raise scenario_error([f"/: not valid YAML: {getattr(exc, 'problem', None) or exc}{where}"]) from None
    if problems:
        raise scenario_error(problems)
    if root is None:
        raise scenario_error([f"/: the YAML document is empty; a scenario is a mapping ({name})"])
    conv = _Converter(name)
    if not isinstance(root, yaml.MappingNode):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else f"the scalar {root.value!r}"
        raise scenario_error([f"/: a scenario must be a mapping, got {kind} ({name} line {root.start_mark.line + 1})"])
    data = conv.convert(root, [])
    if conv.problems:
        raise scenario_error(conv.problems)
    out = json.dumps(data)
    try:
        _core.resolve_scenario(out, base_dir)
    except ScenarioError as exc:
        raise scenario_error([_with_line(p, conv.lines, name) for p in getattr(exc, "problems", [str(exc)])]) from None
    return out


def _with_line(problem: str, lines: dict[str, int], name: str) -> str:
    """Append the YAML line of the longest JSON path that starts the message."""
    path = problem.split(":", 1)[0] if problem.startswith("/") else ""
    while path:
        if path in lines:
            return f"{problem} ({name} line {lines[path]})"
        path = path.rsplit("/", 1)[0]
    return problem


def load_yaml_scenario(source: str, base_dir: Optional[str] = None) -> dict[str, Any]:
    """A YAML scenario (a path to a .yaml/.yml file, or the YAML text) as a dict, checked."""
    from pathlib import Path

    if "\n" not in source and Path(source).is_file():
        path = Path(source)
        return dict(json.loads(yaml_to_scenario_json(path.read_text(), str(path),
                                                     str(path.parent) if base_dir is None else base_dir)))
    return dict(json.loads(yaml_to_scenario_json(source, "<yaml>", base_dir or "")))
