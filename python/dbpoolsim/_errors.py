"""ScenarioError raised from Python: the same class and `problems` attribute as the core's."""

from __future__ import annotations

from typing import Iterable

from ._core import ScenarioError


def scenario_error(problems: Iterable[str]) -> ScenarioError:
    """A ScenarioError (a ValueError) whose ``problems`` lists one "where: what" line each."""
    lines = [str(p) for p in problems]
    exc = ScenarioError("; ".join(lines))
    exc.problems = tuple(lines)  # type: ignore[attr-defined]
    return exc
