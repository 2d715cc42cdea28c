"""dbpoolsim.compare: several scenarios side by side, with paired differences against a
baseline. Replication k of each scenario sees the same arrivals and query times when the
seeds agree (common random numbers), so the paired difference's CI is much narrower than
the two CIs suggest."""

from __future__ import annotations

import json
import math
from typing import Any, Mapping, Optional

from ._lazy import pd

from . import _core
from .analysis import confidence_interval
from .execute import NONDETERMINISTIC, run_units
from .scenario import ScenarioLike, load_scenario, scenario_base_dir
from .slo import error

__all__ = ["compare"]


def compare(scenarios: Mapping[str, ScenarioLike], *, replications: Optional[int] = None,
            baseline: Optional[str] = None, threads: Optional[int] = None,
            client: Any = None) -> pd.DataFrame:
    """Every metric of every scenario with its paired difference against ``baseline``.

    Returns a DataFrame indexed by (scenario, metric) with columns ``mean``, ``ci95``,
    ``diff`` (scenario minus baseline, replication by replication), ``diff_ci95`` and
    ``diff_pct`` (diff over the baseline's mean, in %). ``baseline`` defaults to the first
    scenario; ``replications`` to each scenario's own (all must then agree).
    """
    if not isinstance(scenarios, Mapping) or len(scenarios) < 1:
        raise error("compare: expected {name: scenario, ...} with at least one scenario")
    names = list(scenarios)
    baseline = names[0] if baseline is None else baseline
    if baseline not in scenarios:
        raise error(f"compare: baseline {baseline!r} is not one of {names}")
    texts, dirs, reps = [], set(), set()
    for name in names:
        try:
            data = json.loads(load_scenario(scenarios[name]))
            if replications is not None:
                data.setdefault("run", {})["replications"] = int(replications)
            text = json.dumps(data)
            base_dir = scenario_base_dir(scenarios[name])
            resolved = json.loads(_core.resolve_scenario(text, base_dir))
        except (OSError, ValueError, TypeError) as exc:
            probs = getattr(exc, "problems", None) or [str(exc)]
            raise error(f"scenario {name!r}: {'; '.join(probs)}") from None
        texts.append(text)
        dirs.add(base_dir)
        reps.add(int(resolved["run"]["replications"]))
    if len(reps) != 1:
        raise error(f"compare: the scenarios have different run.replications {sorted(reps)}; "
                    f"give replications=")
    n = reps.pop()
    per: dict[str, dict[int, dict[str, float]]] = {name: {} for name in names}
    units = [(i, k) for i in range(len(names)) for k in range(n)]

    def on_done(u: int, m: dict[str, float]) -> None:
        i, k = units[u]
        per[names[i]][k] = m

    if len(dirs) == 1:
        run_units(texts, units, base_dir=dirs.pop(), threads=threads, client=client, on_done=on_done)
    else:  # relative trace paths resolve against one directory per batch
        for i, name in enumerate(names):
            sub = [(0, k) for k in range(n)]

            def one(u: int, m: dict[str, float], name: str = name) -> None:
                per[name][sub[u][1]] = m

            run_units([texts[i]], sub, base_dir=scenario_base_dir(scenarios[name]),
                      threads=threads, client=client, on_done=one)
    base = per[baseline]
    rows = []
    for name in names:
        for metric in base[0]:
            if metric in NONDETERMINISTIC:
                continue
            xs = [per[name][k][metric] for k in range(n)]
            mean, half = confidence_interval(xs)
            diffs = [per[name][k][metric] - base[k][metric] for k in range(n)]
            dmean, dhalf = confidence_interval(diffs)
            bmean = confidence_interval(base[k][metric] for k in range(n))[0]
            pct = 100 * dmean / bmean if bmean and not math.isnan(bmean) else math.nan
            rows.append({"scenario": name, "metric": metric, "mean": mean, "ci95": half,
                         "diff": dmean, "diff_ci95": dhalf, "diff_pct": pct})
    return pd.DataFrame(rows).set_index(["scenario", "metric"])
