"""Two full runs of the same traces, side by side (no servers): how reproducible the real
libraries are from one run to the next, against the replay's 10 % criterion.

    python experiments/reality/two_runs.py                       # results/ against results/quiet/
    python experiments/reality/two_runs.py A B --cells            # every cell, not only the summary

Each full run measures every case and library on the same trace files (arrival times and
`pg_sleep` times; cases.py writes them from fixed seeds), so two runs differ only by the
machine, the libraries' own timing and the harness. For every headline cell (case x library x
mean wait, p95 wait, timeout rate, connections opened, time to recover) this prints both
measured figures, run 2's relative difference from run 1, each run's replay error, and the two
replays' difference (each replay is fed its own run's measured holds, connects and order, so
they differ too). The summary counts, per figure, the cells where the two measurements differ
by more than the replay's criterion (report.agrees: 10 % of run 1's figure or the floor) and by
more than 10 % without the floor; the cells where each replay agrees with its own run; and
the cells where run 1's replay agrees with run 2's measurement (a replay as good as its inputs,
judged against another run of the same trace). Last, the runs' conditions: the load average,
dispatch lag, hold overhead beyond `pg_sleep` and mean login of each, as medians over the runs.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import FLOOR, HEADLINE, LABEL, agrees, fmt  # noqa: E402


def read(results: Path) -> dict[tuple[str, str, str], dict]:
    """results.csv's headline rows by (case, library, metric)."""
    with open(results / "results.csv", newline="") as f:
        return {(r["case"], r["library"], r["metric"]): r for r in csv.DictReader(f)
                if r["metric"] in HEADLINE}


def rel(new, ref) -> float:
    """(new - ref) / ref; 0 when both are 0, infinite when only ref is."""
    a, b = float(new), float(ref)
    if b == 0:
        return 0.0 if a == 0 else math.inf
    return (a - b) / abs(b)


def compare(run1: Path, run2: Path) -> list[dict]:
    """One row per headline cell present in both runs, in run 1's order."""
    one, two = read(run1), read(run2)
    rows = []
    for key, a in one.items():
        b = two.get(key)
        if b is None or a["measured"] == "" or b["measured"] == "":
            continue
        case, lib, metric = key
        rows.append({
            "case": case, "library": lib, "metric": metric,
            "measured_1": float(a["measured"]), "measured_2": float(b["measured"]),
            "measured_diff": rel(b["measured"], a["measured"]),
            "measured_differ": not agrees(metric, a["measured"], b["measured"]),
            "measured_differ_10pct": abs(rel(b["measured"], a["measured"])) > 0.10,
            "replay_1": float(a["replay"]), "replay_2": float(b["replay"]),
            "replay_err_1": rel(a["replay"], a["measured"]), "replay_err_2": rel(b["replay"], b["measured"]),
            "replay_agrees_1": bool(agrees(metric, a["measured"], a["replay"])),
            "replay_agrees_2": bool(agrees(metric, b["measured"], b["replay"])),
            "replay_diff": rel(b["replay"], a["replay"]),
            "replays_differ": not agrees(metric, a["replay"], b["replay"]),
            # Run 1's replay judged against run 2's measurement of the same trace.
            "replay_1_agrees_2": bool(agrees(metric, b["measured"], a["replay"])),
        })
    return rows


NOISE = {"noise_loadavg_1m_end": "load average at the run's end", "noise_dispatch_lag_p99_ms":
         "dispatch lag p99 (ms)", "overhead_ms": "hold beyond pg_sleep (ms)",
         "connect_time_mean_ms": "mean login (ms)"}


def noise(results: Path) -> dict[str, list[float]]:
    """Per NOISE metric, its measured value in each run of results.csv."""
    out: dict[str, list[float]] = {k: [] for k in NOISE}
    with open(results / "results.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["metric"] in NOISE and r["measured"] not in ("", "nan"):
                out[r["metric"]].append(float(r["measured"]))
    return out


def noise_lines(run1: Path, run2: Path) -> list[str]:
    a, b = noise(run1), noise(run2)
    med = (lambda xs: statistics.median(xs) if xs else math.nan)
    return [f"- {label}: median {med(a[k]):.3g} ({min(a[k], default=math.nan):.3g} to "
            f"{max(a[k], default=math.nan):.3g}) / {med(b[k]):.3g} ({min(b[k], default=math.nan):.3g} to "
            f"{max(b[k], default=math.nan):.3g})" for k, label in NOISE.items()]


def pct(x: float) -> str:
    return "inf" if math.isinf(x) else f"{100 * x:+.0f} %"


def summary(rows: list[dict]) -> list[str]:
    lines = ["| figure | cells | measured run 2 vs run 1: beyond 10 % or the floor | beyond 10 % | "
             "replays 2 vs 1: beyond 10 % or the floor | replay agrees with run 1 / run 2 / both | "
             "run 1's replay agrees with run 2 |",
             "|---|---|---|---|---|---|---|"]
    total = [0] * 8
    for metric in HEADLINE:
        sel = [r for r in rows if r["metric"] == metric]
        if not sel:
            continue
        n = [len(sel), sum(r["measured_differ"] for r in sel), sum(r["measured_differ_10pct"] for r in sel),
             sum(r["replays_differ"] for r in sel), sum(r["replay_agrees_1"] for r in sel),
             sum(r["replay_agrees_2"] for r in sel),
             sum(r["replay_agrees_1"] and r["replay_agrees_2"] for r in sel),
             sum(r["replay_1_agrees_2"] for r in sel)]
        total = [t + x for t, x in zip(total, n)]
        lines.append(f"| {LABEL[metric]} (10 % or {FLOOR[metric]:g}) | {n[0]} | {n[1]} | {n[2]} | {n[3]} | "
                     f"{n[4]} / {n[5]} / {n[6]} | {n[7]} |")
    lines.append(f"| all | {total[0]} | {total[1]} | {total[2]} | {total[3]} | "
                 f"{total[4]} / {total[5]} / {total[6]} | {total[7]} |")
    return lines


def cell_lines(rows: list[dict], only_differ: bool) -> list[str]:
    lines = ["| case | library | figure | measured 1 / 2 (difference) | replay error 1 / 2 | "
             "replay 1 / 2 (difference) |", "|---|---|---|---|---|---|"]
    for r in rows:
        if only_differ and not (r["measured_differ"] or not r["replay_agrees_1"] or not r["replay_agrees_2"]):
            continue
        m = r["metric"]
        flag = lambda ok: "" if ok else " miss"
        lines.append(
            f"| {r['case']} | {r['library']} | {LABEL[m]} | {fmt(r['measured_1'], m)} / {fmt(r['measured_2'], m)} "
            f"({pct(r['measured_diff'])}{' beyond' if r['measured_differ'] else ''}) | "
            f"{pct(r['replay_err_1'])}{flag(r['replay_agrees_1'])} / {pct(r['replay_err_2'])}{flag(r['replay_agrees_2'])} | "
            f"{fmt(r['replay_1'], m)} / {fmt(r['replay_2'], m)} ({pct(r['replay_diff'])}"
            f"{' beyond' if r['replays_differ'] else ''}) |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run1", nargs="?", default=str(HERE / "results"), help="a full run's --out (default results/)")
    ap.add_argument("run2", nargs="?", default=str(HERE / "results" / "quiet"),
                    help="another full run's --out (default results/quiet/)")
    ap.add_argument("--cells", action="store_true",
                    help="every cell (default: the cells where the runs differ or a replay misses)")
    a = ap.parse_args(argv)
    for d in (a.run1, a.run2):
        if not (Path(d) / "results.csv").exists():
            print(f"two_runs.py: error: no results.csv in {d}", file=sys.stderr)
            return 2
    rows = compare(Path(a.run1), Path(a.run2))
    if not rows:
        print(f"two_runs.py: error: no headline cell in both {a.run1} and {a.run2}", file=sys.stderr)
        return 2
    print(f"run 1: {a.run1}\nrun 2: {a.run2}\n")
    print("\n".join(summary(rows)))
    print("\nThe runs' conditions, over their runs (run 1 / run 2):")
    print("\n".join(noise_lines(Path(a.run1), Path(a.run2))))
    print("\n" + ("Every cell:" if a.cells else
                  "The cells where the two measurements differ beyond 10 % or the floor, or a replay misses:"))
    print("\n".join(cell_lines(rows, only_differ=not a.cells)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
