"""What every config importer returns, and the checks they share."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .._errors import scenario_error

_SECRET = re.compile(r"pass(word)?|secret|token|credential|sslkey|private", re.I)


def shown(key: str, value: Any) -> Any:
    """The value as the report shows it: secrets are never echoed."""
    return "<redacted>" if _SECRET.search(key) else value


@dataclass
class ImportedConfig:
    """A configuration read from a library's own file or arguments.

    - ``section``: the scenario section, ``{"pool": {...}}`` (or ``{"pooler": {...}}`` for
      PgBouncer), with the library's own names and units; it validates through dbpoolsim;
    - ``unsupported``: every setting that was given but is not in the section, as
      ``{"setting", "value", "reason"}`` (secrets redacted): nothing is dropped silently;
    - ``notes``: how a value was read where that is not obvious (defaults, overrides).
    """

    library: str
    section: dict[str, Any]
    unsupported: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def skip(self, setting: str, value: Any, reason: str) -> None:
        self.unsupported.append({"setting": setting, "value": shown(setting, value), "reason": reason})

    def to_json(self, indent: int = 2) -> str:
        """The section as JSON text, ready to paste into a scenario."""
        return json.dumps(self.section, indent=indent)

    def scenario(self, base: Any = None) -> dict[str, Any]:
        """``base`` (a scenario: dict, path or built-in name; default: empty) with this section
        in place of its pool (or pooler)."""
        from ..scenario import load_scenario

        data = {} if base is None else json.loads(load_scenario(base))
        if "pool" in self.section:
            data.pop("pools", None)
        data.update(self.section)
        return data

    def check(self) -> "ImportedConfig":
        """Validate the section through the core; ScenarioError names the path if it fails."""
        from ..scenario import resolve_scenario

        resolve_scenario(self.scenario())
        return self


def keyword_section(library: str, kind: str, kwargs: Mapping[str, Any], modelled: Iterable[str],
                    not_modelled: Mapping[str, str], unknown: str) -> tuple[ImportedConfig, dict[str, Any]]:
    """An ImportedConfig for keyword arguments: the modelled ones go into the pool section
    as given (the core checks them), the others are listed with their reason."""
    out = ImportedConfig(library=library, section={})
    pool: dict[str, Any] = {"kind": kind}
    names = set(modelled)
    for k, v in kwargs.items():
        if k in names:
            pool[k] = v
        elif k in not_modelled:
            out.skip(k, v, f"{library} argument not modelled: {not_modelled[k]}")
        else:
            out.skip(k, v, unknown)
    out.section = {"pool": pool}
    return out, pool


def number(setting: str, value: Any, *, integer: bool = False, unit: str = "") -> Any:
    """A number from a config value (text or number); ScenarioError naming the setting if not."""
    if isinstance(value, bool):
        raise scenario_error([f"{setting}: must be a number{unit}, got {value!r}"])
    if isinstance(value, (int, float)):
        if integer and isinstance(value, float) and not value.is_integer():
            raise scenario_error([f"{setting}: must be an integer{unit}, got {value!r}"])
        return int(value) if integer else value
    text = str(value).strip()
    try:
        return int(text) if integer else (int(text) if re.fullmatch(r"[-+]?\d+", text) else float(text))
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise scenario_error([f"{setting}: must be {kind}{unit}, got {value!r}"]) from None


def boolean(setting: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise scenario_error([f"{setting}: must be a boolean (true/false, 1/0), got {value!r}"])
