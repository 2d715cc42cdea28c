"""Request by request: a measured run against its trace replay, matched by trace index.

The replay (simulate.replay) writes one trace line per measured request, in `replay_order`
(acquire start, then the request's trace `id` for ties), and dbpoolsim numbers the requests
of a trace in file order (`Result.requests.request`, docs/scenario.md "Request records"). So
replayed request i is the i-th measured request in that order; `match` pairs them and checks
every pair's arrival time against the acquire start it was given, so a pairing that is off
by one fails loudly instead of comparing strangers.

Per library and case (`compare`):
  requests            requests matched (all of them: the replay has one per measured request);
  outcome_agrees      fraction whose outcome class agrees: served (`ok` / `completed`),
                      acquire timeout, or another failure;
  waited_agrees       fraction, among those served in both, where both waited more than
                      WAITED_MS or neither did;
  wait_corr           Pearson correlation of the measured and replayed acquire waits of the
                      requests served in both (NaN when either side does not vary);
  wait_abs_err_median_ms, wait_abs_err_p95_ms
                      median and 95th percentile of |replayed - measured| acquire wait;
  wait_diff_mean_ms   mean of replayed - measured acquire wait (the bias);
  latency_abs_err_median_ms
                      median |replayed - measured| latency (acquire start to release).
The measured wait here is the library's own acquire wait (acquired - acquire start) and the
replayed one the pool's (`wait_s`), also behind PgBouncer in transaction mode, where
PgBouncer's queue shows in the latency instead (the summary table's derived wait is not a
per-request quantity dbpoolsim records).
"""

from __future__ import annotations

import math

WAITED_MS = 1.0          # "waited": longer than the library's own CPU per acquire
ARRIVAL_TOL_S = 1e-5     # the replay trace is written with 6 decimals
FIGURES = ["requests", "outcome_agrees", "waited_agrees", "wait_corr", "wait_abs_err_median_ms",
           "wait_abs_err_p95_ms", "wait_diff_mean_ms", "latency_abs_err_median_ms"]


def replay_start(r: dict) -> float:
    """The time (from t0) a measured request arrives in the replay: its acquire start."""
    return max(0.0, r["acquire_start_s"])


def replay_order(requests: list[dict]) -> list[dict]:
    """The measured requests in the order of the replay's trace file."""
    return sorted(requests, key=lambda r: (replay_start(r), int(r["id"])))


def _outcome(measured: str | None = None, replayed: str | None = None) -> str:
    o = measured if measured is not None else replayed
    if o in ("ok", "completed"):
        return "served"
    return "timeout" if o == "acquire_timeout" else "failed"


def match(requests: list[dict], replayed: list[dict], lead_s: float) -> list[tuple[dict, dict]]:
    """(measured, replayed) pairs. `replayed`: the replay's request records of one
    replication (dicts with `request`, `arrival_s`, `wait_s`, `outcome`, `latency_s`), in any
    order. Raises ValueError when the two do not line up."""
    order = replay_order(requests)
    recs = sorted(replayed, key=lambda r: int(r["request"]))
    if len(recs) != len(order):
        raise ValueError(f"{len(order)} measured requests but {len(recs)} replayed ones")
    pairs = []
    for i, (m, r) in enumerate(zip(order, recs)):
        if int(r["request"]) != i:
            raise ValueError(f"replayed request numbers skip {i} (got {r['request']})")
        if abs(float(r["arrival_s"]) - (lead_s + replay_start(m))) > ARRIVAL_TOL_S:
            raise ValueError(f"replayed request {i} arrives at {float(r['arrival_s']):.6f} s, but measured "
                             f"request id {m['id']} starts at {lead_s + replay_start(m):.6f} s")
        pairs.append((m, r))
    return pairs


def _corr(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 2:
        return math.nan
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else math.nan


def compare(pairs: list[tuple[dict, dict]]) -> dict:
    """The per-request figures (module docstring) of matched pairs."""
    from measure import percentile     # here: measure imports simulate, which imports this module
    agree = sum(_outcome(measured=m["outcome"]) == _outcome(replayed=r["outcome"]) for m, r in pairs)
    served = [(m, r) for m, r in pairs if m["outcome"] == "ok" and r["outcome"] == "completed"]
    mw = [1e3 * (m["acquired_s"] - m["acquire_start_s"]) for m, _ in served]
    rw = [1e3 * float(r["wait_s"]) for _, r in served]
    dw = [b - a for a, b in zip(mw, rw)]
    dl = [abs(1e3 * float(r["latency_s"]) - 1e3 * (m["released_s"] - m["acquire_start_s"]))
          for m, r in served]
    n = len(pairs)
    return {
        "requests": n,
        "outcome_agrees": agree / n if n else math.nan,
        "waited_agrees": (sum((a > WAITED_MS) == (b > WAITED_MS) for a, b in zip(mw, rw)) / len(mw)
                          if mw else math.nan),
        "wait_corr": _corr(mw, rw),
        "wait_abs_err_median_ms": percentile([abs(d) for d in dw], 0.5),
        "wait_abs_err_p95_ms": percentile([abs(d) for d in dw], 0.95),
        "wait_diff_mean_ms": sum(dw) / len(dw) if dw else math.nan,
        "latency_abs_err_median_ms": percentile(dl, 0.5),
    }
