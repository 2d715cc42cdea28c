"""results.md and plots/ from the rows run.py collected."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

HEADLINE = ["wait_time_avg_ms", "wait_time_p95_ms", "timeout_rate", "connections_opened_library",
            "time_to_recover_s"]
LABEL = {"wait_time_avg_ms": "mean wait (ms)", "wait_time_p95_ms": "p95 wait (ms)",
         "timeout_rate": "timeout rate", "connections_opened_library": "connections opened",
         "time_to_recover_s": "time to recover (s)", "latency_avg_ms": "mean latency (ms)",
         "failed_connect_error": "connect errors", "failed_query_error": "query errors",
         "pooler_servers_used": "PgBouncer servers used"}


# A replay "agrees" within 10 % of the measured figure, or within this absolute amount (waits
# under a millisecond are the library's own CPU per acquire, which dbpoolsim does not model).
# The time to recover is counted on 1 s intervals on every side (simulate.RECOVERY_GRID_S), so
# measured and replayed differ by whole intervals: half of one means the same interval (the
# replay's figure is a mean over seeds, so a part of its seeds may recover one later).
FLOOR = {"wait_time_avg_ms": 1.0, "wait_time_p95_ms": 1.0, "timeout_rate": 0.005,
         "connections_opened_library": 1.0, "time_to_recover_s": 0.5}


def agrees(metric: str, measured, model, sd=None) -> bool | None:
    """Within 10 % or the floor; for the statistical model also within 2 run-to-run standard
    deviations (one measured run is one sample path of the process the model describes)."""
    try:
        m, r = float(measured), float(model)
    except (TypeError, ValueError):
        return None
    if math.isnan(m) or math.isnan(r):
        return None
    spread = 2 * float(sd) if sd not in (None, "") and not math.isnan(float(sd)) else 0.0
    return abs(r - m) <= max(0.10 * abs(m), FLOOR.get(metric, 0.0), spread)


def agreement(rows: list[dict]) -> list[str]:
    lines = ["| figure | trace replay agrees | statistical model agrees (or within 2 sd of its replications) |",
             "|---|---|---|"]
    for metric in HEADLINE:
        for_rows = [r for r in rows if r["metric"] == metric]
        rep = [agrees(metric, r["measured"], r.get("replay")) for r in for_rows]
        st = [agrees(metric, r["measured"], r.get("statistical"), r.get("statistical_sd")) for r in for_rows]
        rep, st = [x for x in rep if x is not None], [x for x in st if x is not None]
        if rep:
            lines.append(f"| {LABEL[metric]} (10 % or {FLOOR[metric]:g}) | {sum(rep)} of {len(rep)} | "
                         f"{sum(st)} of {len(st)} |")
    return lines


def misses(rows: list[dict]) -> list[str]:
    """Every headline cell where the replay does not agree, largest relative error first;
    the causes are in experiments/reality/README.md ("Where the replay misses, and why")."""
    out = []
    rank = {(r["case"], r["library"]): r for r in rows if r["metric"] == "wait_p95_rank"}
    for r in rows:
        if r["metric"] in HEADLINE and agrees(r["metric"], r["measured"], r.get("replay")) is False:
            rel = float(r.get("replay_rel_err") or math.nan)
            where = ""
            k = rank.get((r["case"], r["library"]))
            if r["metric"] == "wait_time_p95_ms" and k is not None:
                # Extra information, not a criterion: the replayed p95's percentile rank among
                # the measured waits, and the measured q94 and q96 around the p95.
                where = (f"; the replayed p95 is at rank {float(k['replay']):.1f} % of the measured waits "
                         f"(measured q94 {fmt(k['measured'], 'wait_time_p95_ms')}, "
                         f"q96 {fmt(k['statistical'], 'wait_time_p95_ms')} ms)")
            out.append((-abs(rel) if not math.isnan(rel) else 0.0,
                        f"- {r['case']} / {r['library']}: {LABEL[r['metric']]} {fmt(r['measured'], r['metric'])} "
                        f"measured, {fmt(r['replay'], r['metric'])} replayed{err(rel)}{where}"))
    if not out:
        return ["Every headline cell agrees."]
    return (["The cells where the trace replay misses (10 % and the floor), largest first; each one's "
             "cause, with its evidence, is in experiments/reality/README.md, \"Where the replay "
             "misses, and why\".", ""] + [line for _, line in sorted(out, key=lambda x: x[0])])


def seeds_text(rows: list[dict]) -> str:
    n = {r.get("replay_seeds") for r in rows if r.get("replay_seeds") not in (None, "")}
    return f"seeds 1-{max(n)}" if n else "one seed"


def fmt(x, metric: str = "") -> str:
    if x is None or x == "" or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if metric == "timeout_rate":
        return f"{100 * float(x):.1f} %"
    x = float(x)
    return f"{x:.0f}" if abs(x) >= 100 or x == int(x) else f"{x:.3g}" if abs(x) < 1 else f"{x:.1f}"


def err(x) -> str:
    if x is None or x == "" or (isinstance(x, float) and math.isnan(x)):
        return ""
    x = float(x)
    return " (inf)" if math.isinf(x) else f" ({100 * x:+.0f} %)"


def table(rows: list[dict], metrics: list[str]) -> list[str]:
    by = defaultdict(dict)
    for r in rows:
        by[(r["case"], r["library"])][r["metric"]] = r
    lines = ["| case | library | " + " | ".join(LABEL.get(m, m) + ": measured / replay / statistical"
                                                  for m in metrics) + " |",
             "|---|---|" + "---|" * len(metrics)]
    for (case, lib), ms in by.items():
        if "compared_with" in ms:
            lib = f"{lib} (vs the {ms['compared_with']['measured']} policy)"
        cells = []
        for m in metrics:
            r = ms.get(m)
            if r is None or r.get("replay", "") == "":
                cells.append("-")
                continue
            sd = r.get("statistical_sd")
            st = r.get("statistical")
            no_stat = st is None or st == "" or math.isnan(float(st))
            # Identical replications (every login a measured one) leave an sd of rounding
            # noise (1e-14): not a spread.
            spread = (f" ± {fmt(sd, m)}" if not no_stat and sd not in (None, "") and not math.isnan(float(sd))
                      and float(sd) > 1e-9 * max(1.0, abs(float(st))) else "")
            # The replay is a mean over its seeds (run.py --replay-seeds): their sd where the
            # pool draws (Go's waiter, logins past the measured ones, HikariCP's checks).
            rsd = r.get("replay_sd")
            rspread = (f" ± {fmt(rsd, m)}" if rsd not in (None, "") and not math.isnan(float(rsd))
                       and float(rsd) > 1e-9 * max(1.0, abs(float(r["replay"]))) else "")
            cells.append(f"{fmt(r['measured'], m)} / {fmt(r['replay'], m)}{rspread}{err(r.get('replay_rel_err'))}"
                         f" / {fmt(r['statistical'], m)}{spread}{err(r.get('statistical_rel_err'))}")
        lines.append(f"| {case} | {lib} | " + " | ".join(cells) + " |")
    return lines


def per_request_table(rows: list[dict]) -> list[str]:
    """The request-by-request comparison (per_request.py), one line per case and library."""
    sel = [r for r in rows if r["metric"] == "per_request"]
    if not sel:
        return []
    pct = lambda x: "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f} %"
    lines = ["| case | library | requests | outcome agrees | waited (> 1 ms) agrees | wait correlation | "
             "abs. wait error median / p95 (ms) | mean wait difference, replay - measured (ms) | "
             "abs. latency error median (ms) |", "|---|---|" + "---|" * 7]
    for r in sel:
        corr = r["wait_corr"]
        lines.append(f"| {r['case']} | {r['library']} | {r['requests']} | {pct(r['outcome_agrees'])} | "
                     f"{pct(r['waited_agrees'])} | {'-' if math.isnan(corr) else f'{corr:.2f}'} | "
                     f"{fmt(r['wait_abs_err_median_ms'])} / {fmt(r['wait_abs_err_p95_ms'])} | "
                     f"{fmt(r['wait_diff_mean_ms'])} | {fmt(r['latency_abs_err_median_ms'])} |")
    return lines


def noise_table(rows: list[dict]) -> list[str]:
    keys = ["noise_dispatch_lag_p99_ms", "overhead_ms", "handoff_median_ms", "connect_time_mean_ms", "noise_cpu_user_s",
            "noise_gc_pause_max_ms", "noise_loadavg_1m_end", "connections_distinct_pids",
            "connections_pg_sessions"]
    by = defaultdict(dict)
    for r in rows:
        if r["metric"] in keys:
            by[(r["case"], r["library"])][r["metric"]] = r["measured"]
    lines = ["| case | library | dispatch lag p99 (ms) | hold overhead (ms) | hand-off median (ms) | "
             "connect (ms) | loadgen CPU (s) | longest GC pause (ms) | load average | "
             "distinct backend pids | pg_stat_database.sessions |", "|---|---|" + "---|" * 9]
    for (case, lib), ms in by.items():
        lines.append(f"| {case} | {lib} | " + " | ".join(fmt(ms.get(k)) for k in keys) + " |")
    return lines


def plots(rows: list[dict], out: Path) -> list[str]:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    (out / "plots").mkdir(exist_ok=True)
    made = []
    for metric in ("wait_time_avg_ms", "wait_time_p95_ms", "connections_opened_library"):
        pts = [r for r in rows if r["metric"] == metric and r.get("replay", "") != ""
               and not math.isnan(float(r["measured"])) and not math.isnan(float(r["replay"]))]
        if not pts:
            continue
        fig, ax = plt.subplots(figsize=(5, 5))
        for lib in sorted({r["library"] for r in pts}):
            sel = [r for r in pts if r["library"] == lib]
            ax.scatter([float(r["measured"]) for r in sel], [float(r["replay"]) for r in sel], label=lib)
        hi = max(max(float(r["measured"]), float(r["replay"])) for r in pts) * 1.1 or 1
        ax.plot([0, hi], [0, hi], "k-", lw=0.8)
        ax.fill_between([0, hi], [0, 0.9 * hi], [0, 1.1 * hi], color="0.85", label="within 10 %",
                        zorder=0)
        ax.set_xlabel(f"measured {LABEL[metric]}")
        ax.set_ylabel(f"dbpoolsim trace replay {LABEL[metric]}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        name = f"plots/replay_vs_measured_{metric}.png"
        fig.savefig(out / name, dpi=90)
        plt.close(fig)
        made.append(name)
    made += timelines(out, plt)
    return made


def timelines(out: Path, plt) -> list[str]:
    """Pool size over time, measured (the library's own counters every 100 ms) against the
    replay, for the cases where the pool grows and shrinks."""
    import pandas as pd
    made = []
    for case in ("bursty", "overflow", "cold_spike", "restart"):
        runs = sorted(p for p in (out / "runs" / case).glob("*")
                      if (p / "samples.csv").exists() and (p / "replay_timeseries.csv").exists())
        if not runs:
            continue
        fig, axes = plt.subplots(len(runs), 1, figsize=(7, 1.6 * len(runs)), sharex=True, squeeze=False)
        for ax, run in zip(axes[:, 0], runs):
            meas = pd.read_csv(run / "samples.csv")
            rep = pd.read_csv(run / "replay_timeseries.csv")
            ax.plot(meas["t_s"], meas["total"], label="measured", lw=1)
            ax.plot(rep["t_s"], rep["total_connections"], label="dbpoolsim replay", lw=1, ls="--")
            ax.set_ylabel(run.name, rotation=0, ha="right", fontsize=8)
        axes[0, 0].legend(fontsize=8, loc="upper right")
        axes[0, 0].set_title(f"{case}: connections in the pool")
        axes[-1, 0].set_xlabel("time since t0 (s)")
        fig.tight_layout()
        name = f"plots/pool_size_{case}.png"
        fig.savefig(out / name, dpi=80)
        plt.close(fig)
        made.append(name)
    return made


def write(rows: list[dict], out: Path, command: str, machine: str, seconds: float,
          resimulated: bool = False) -> None:
    made = plots(rows, out)
    when = ("dbpoolsim's side redone from the raw files with `--resimulate` "
            f"({seconds:.0f} s)" if resimulated else f"Wall time: {seconds / 60:.1f} min")
    text = ["# Reality check: measured vs dbpoolsim", "",
            f"{command}  ", f"Machine: {machine}  ", when, "",
            "Each cell: measured / trace replay, mean ± standard deviation over its seeds "
            f"({seeds_text(rows)}; no ± where every seed gives the same figure) (relative error "
            "of the mean) / statistical model, mean ± standard deviation of its replications "
            "(relative error of the mean). The request-by-request comparison is the replay of seed 1. "
            "Definitions: experiments/reality/README.md.", "",
            *agreement(rows), "",
            *table(rows, HEADLINE), "", "## Where the replay misses", "", *misses(rows), "",
            "## Other figures", "",
            *table(rows, ["latency_avg_ms", "failed_connect_error", "failed_query_error",
                          "pooler_servers_used"]), "",
            "## Request by request", "",
            "Each measured request against its own replay, matched by trace index "
            "(experiments/reality/per_request.py; `per_request.csv`): outcome classes served, "
            "acquire timeout, other failure; waits and latencies of the requests served in both.", "",
            *per_request_table(rows), "",
            "## The harness's own noise and the three connection counts", "",
            *noise_table(rows), ""]
    failed = [r for r in rows if r["metric"] == "loadgen_failed"]
    if failed:
        text += ["## Load generators that failed", ""]
        text += [f"- {r['case']} / {r['library']}: {r['measured']}" for r in failed] + [""]
    text += [f"![{m}]({m})" for m in made]
    (out / "results.md").write_text("\n".join(text) + "\n")
