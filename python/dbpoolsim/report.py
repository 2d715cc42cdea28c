"""The readable report and the health verdict with the seeds' thresholds.

Thresholds (cited):
- utilisation: healthy 40-70 %, warning 70-85 %, critical above 85 % (seeds/000 "Utilization
  Thresholds"; seeds/004 "Pool Utilization"); below 30 % is over-provisioned (seeds/000
  "Low Utilization: If < 30%");
- acquire wait: above 50 ms is high (seeds/000 "High Wait Times: If > 50ms"); seeds/004 grades
  the average wait excellent < 1 ms, good 1-10 ms, poor > 10 ms;
- timeout rate: should be below 0.1 % of requests (seeds/004 "Timeout Rate");
- success rate: target above 99 % (seeds/001 "Key Metrics");
- connection errors: above 0 needs attention (seeds/000 "Connection Errors: If > 0").
"""

from __future__ import annotations

import math
from typing import Any

from .result import Result

_ROWS = [
    ("offered_per_s", "offered load", "req/s", 1),
    ("throughput_per_s", "throughput", "req/s", 1),
    ("success_rate", "success rate", "%", 100),
    ("timeout_rate", "timeout rate", "%", 100),
    ("wait_time_avg_ms", "acquire wait avg", "ms", 1),
    ("wait_time_p50_ms", "acquire wait p50", "ms", 1),
    ("wait_time_p95_ms", "acquire wait p95", "ms", 1),
    ("wait_time_p99_ms", "acquire wait p99", "ms", 1),
    ("wait_time_max_ms", "acquire wait max", "ms", 1),
    ("wait_time_all_p99_ms", "acquire wait p99, all", "ms", 1),
    ("p_wait_over_threshold", "P(wait > threshold)", "%", 100),
    ("latency_avg_ms", "latency avg", "ms", 1),
    ("latency_p99_ms", "latency p99", "ms", 1),
    ("total_connections", "total_connections", "", 1),
    ("active_connections", "active_connections", "", 1),
    ("idle_connections", "idle_connections", "", 1),
    ("utilization_percent", "utilization_percent", "%", 1),
    ("peak_connections", "peak connections", "", 1),
    ("connections_created", "connections created", "", 1),
    ("connection_errors", "connection_errors", "", 1),
    ("pooler_servers_avg", "PgBouncer servers", "", 1),
    ("pooler_peak_servers", "PgBouncer peak servers", "", 1),
    ("pooler_wait_avg_ms", "PgBouncer wait avg", "ms", 1),
    ("pooler_wait_p50_ms", "PgBouncer wait p50", "ms", 1),
    ("pooler_wait_p95_ms", "PgBouncer wait p95", "ms", 1),
    ("pooler_wait_p99_ms", "PgBouncer wait p99", "ms", 1),
    ("failed_pooler_timeout", "PgBouncer disconnects", "", 1),
    ("db_cpu_utilization_percent", "DB CPU utilisation", "%", 1),
    ("peak_backend_connections", "peak backend connections", "", 1),
]

# Incident rows: printed only when they are non-zero (faults, NAT drops, retries, fleets...).
_INCIDENT_ROWS = [
    ("time_to_recover_s", "time to recover", "s", 1),
    ("goodput_ratio", "goodput / offered", "%", 100),
    ("retry_amplification", "attempts per request", "", 1),
    ("breaker_open_fraction", "breaker open", "%", 100),
    ("logins_per_s_peak", "logins/s peak", "1/s", 1),
    ("rejected_logins", "rejected logins", "", 1),
    ("connections_broken", "connections broken", "", 1),
    ("nat_drops", "NAT drops", "", 1),
    ("idle_session_closes", "idle-session closes", "", 1),
    ("leaked_connections", "leaked connections", "", 1),
    ("instances_max", "instances (max)", "", 1),
    ("failed_query_error", "failed: query error", "", 1),
    ("failed_socket_timeout", "failed: socket timeout", "", 1),
    ("failed_statement_timeout", "failed: statement timeout", "", 1),
    ("failed_read_only", "failed: read-only", "", 1),
    ("failed_connect_error", "failed: connect error", "", 1),
    ("failed_deadline_exceeded", "failed: deadline", "", 1),
    ("failed_circuit_open", "failed: circuit open", "", 1),
    ("failed_abandoned", "failed: abandoned (patience)", "", 1),
]


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 0.01:
        return f"{v:.3f}"
    return f"{v:.2e}"


def health_verdict(summary: dict[str, float]) -> dict[str, Any]:
    """Status ('healthy', 'underused', 'warning', 'critical') with findings and recommendations."""
    findings: list[tuple[str, str]] = []  # (severity, text)
    recs: list[str] = []
    util = summary.get("utilization_percent", math.nan)
    if not math.isnan(util):
        if util > 85:
            findings.append(("critical", f"utilisation {util:.1f} % is above 85 % (critical)"))
            recs.append("increase max_connections or shorten transactions (seeds/000 Pool Exhaustion)")
        elif util > 70:
            findings.append(("warning", f"utilisation {util:.1f} % is in 70-85 % (warning)"))
            recs.append("plan headroom: utilisation above 70 % leaves little room for bursts")
        elif util < 30:
            findings.append(("underused", f"utilisation {util:.1f} % is below 30 % (over-provisioned)"))
            recs.append("decrease min_connections/max_connections or the idle timeout (seeds/000 Low Utilization)")
    wait = summary.get("wait_time_avg_ms", math.nan)
    if not math.isnan(wait) and wait > 50:
        findings.append(("warning", f"average acquire wait {wait:.1f} ms is above 50 ms"))
        recs.append("increase max_connections or optimise slow queries (seeds/000 High Wait Times)")
    def val(key: str) -> float:
        v = summary.get(key, math.nan)
        return math.nan if v is None else float(v)

    faulted = any(val(k) > 0 for k in ("connections_broken", "nat_drops", "idle_session_closes",
                                        "failed_socket_timeout", "failed_read_only"))
    tr = val("timeout_rate")
    if not math.isnan(tr) and tr > 0.001:
        findings.append(("critical", f"timeout rate {100 * tr:.3f} % is above 0.1 %"))
        if faulted:
            recs.append("the timeouts follow a fault: see the incident block (time to recover, "
                        "failures by reason) before resizing the pool")
        else:
            recs.append("the pool is undersized for this load (seeds/004 Timeout Rate)")
    hung = val("failed_socket_timeout")
    if hung > 0:
        findings.append(("critical", f"{hung:.0f} requests hung on silently dead connections until "
                                     "the socket timeout"))
        recs.append("set a driver socket timeout (network.socket_timeout_s) and a short connect "
                    "timeout; validate or keep alive idle connections below any NAT idle timeout")
    ttr = val("time_to_recover_s")
    if ttr > 0:
        findings.append(("warning", f"users saw the first fault for {ttr:.1f} s (time to recover)"))
    sr = summary.get("success_rate", math.nan)
    if not math.isnan(sr) and sr < 0.99:
        findings.append(("critical", f"success rate {100 * sr:.2f} % is below the 99 % target"))
    ce = summary.get("connection_errors", math.nan)
    if not math.isnan(ce) and ce > 0:
        findings.append(("warning", f"{ce:.0f} connection errors (logins refused or failed)"))
        recs.append("check the database's max_connections against every pool's maximum")
    # Status: the worst finding. Below 30 % utilisation the seeds do not call a pool healthy
    # (healthy is 40-70 %) but over-provisioned, an efficiency problem rather than a risk:
    # "underused" ranks above healthy and below warning.
    order = {"underused": 1, "warning": 2, "critical": 3}
    worst = max((order[s] for s, _ in findings), default=0)
    status = {0: "healthy", 1: "underused", 2: "warning", 3: "critical"}[worst]
    return {"status": status, "findings": [t for _, t in findings], "recommendations": recs}


def _scenario(result: Result) -> dict:
    """The scenario's settings without its long arrays (Result._brief: no parsing of millions
    of empirical samples to print a report)."""
    return getattr(result, "_brief", None) or result.scenario


def run_notes(result: Result) -> list[str]:
    """Lines on how the run ended and on overload (result.progress, result.overload)."""
    lines = []
    horizon = _scenario(result)["run"]["horizon_s"]

    def upto(progress: list) -> str:
        return ", ".join(f"{p['simulated_s']:.6g}" for p in progress[:10]) + (", ..." if len(progress) > 10 else "")

    if result.interrupted:
        lines.append(f"  INTERRUPTED: a partial result; {len(result.progress)} replication(s) started, "
                     f"simulated {upto(result.progress)} "
                     f"of {horizon:g} s")
    stopped = [p for p in result.progress if p.get("stopped") == "memory"]
    if stopped:
        budget = _scenario(result)["run"].get("max_memory_mb")
        lines.append(f"  STOPPED EARLY: {len(stopped)} replication(s) reached the memory budget "
                     f"(run.max_memory_mb {budget:g}) with requests piling up, at "
                     f"{upto(stopped)} of {horizon:g} s")
    o = result.overload
    if o.get("overloaded"):
        ratio = o.get("ratio")
        by = f" ({ratio:.3g}x)" if isinstance(ratio, (int, float)) else ""
        busy = (o.get("busy_percent") or {}).get(o.get("saturated"))
        at = f" at {busy:.0f} % busy" if isinstance(busy, (int, float)) else ""
        lines.append(f"  OVERLOAD: the offered load {_fmt(o.get('offered_per_s'))} req/s exceeds capacity: "
                     f"{_fmt(o.get('served_per_s'))} req/s served{by}; waiting requests grow without bound "
                     f"({o.get('replications')} replication(s)); saturated: {o.get('saturated')}{at}")
    return lines


def render_report(result: Result) -> str:
    """The report printed by `dbpoolsim run`: key metrics with 95 % CIs, then the verdict."""
    s = result.summary
    sc = _scenario(result)
    n = len(result.replications)
    pool = sc.get("pool") or {"kind": " + ".join(f"{name}: {p['kind']}" for name, p in sc["pools"].items())}
    lines = [
        f"dbpoolsim: {sc['name']}",
        f"  pool {pool['kind']}, {n} replication(s) x {sc['run']['horizon_s']:g} s "
        f"(warm-up {sc['run']['warmup_s']:g} s), seed {sc['run']['seed']}, "
        f"{result.wall_seconds:.2f} s wall on {result.threads} thread(s)",
        *run_notes(result),
        "",
        f"  {'metric':<26} {'mean':>12} {'95% CI +/-':>12}  unit",
        f"  {'-' * 26} {'-' * 12} {'-' * 12}  ----",
    ]
    for key, label, unit, scale in _ROWS:
        if key not in s or (key.startswith(("pooler_", "failed_pooler")) and not sc.get("pooler")):
            continue  # the PgBouncer rows only when there is a pooler tier
        if key == "p_wait_over_threshold":
            label = f"P(wait > {sc['run'].get('wait_threshold_s', 0.05) * 1e3:g} ms)"
        mean = s[key] * scale
        half = s.get(f"{key}_ci95", math.nan) * scale
        lines.append(f"  {label:<26} {_fmt(mean):>12} {_fmt(half):>12}  {unit}")
    incident = False
    for key, label, unit, scale in _INCIDENT_ROWS:
        v = s.get(key, math.nan)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        if v == 0 or (key == "retry_amplification" and v < 1.0005) or (key == "goodput_ratio" and v > 0.99):
            continue
        if key == "instances_max" and v == s.get("instances", v):
            continue
        if not incident:
            lines += ["", "  incident / client layer"]
            incident = True
        half = s.get(f"{key}_ci95", math.nan) * scale
        lines.append(f"  {label:<26} {_fmt(v * scale):>12} {_fmt(half):>12}  {unit}")
    v = health_verdict(s)
    lines += ["", f"  health: {v['status'].upper()}"]
    lines += [f"    - {f}" for f in v["findings"]] or ["    - all indicators within the seeds' thresholds"]
    if v["recommendations"]:
        lines.append("  recommendations:")
        lines += [f"    - {r}" for r in v["recommendations"]]
    return "\n".join(lines)
