"""One self-contained HTML file per run, for an incident review or a capacity ticket: the
report, the health verdict, the plots (PNG inlined as data: URIs) and the resolved scenario.

Nothing in the file points outside it: no scripts, fonts, style sheets or images are loaded
from anywhere, so it reads the same offline, attached to a ticket or opened years later.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any, Optional

__all__ = ["render_html", "write_html"]

_STATUS_COLOURS = {"healthy": "#2ca02c", "underused": "#1f77b4", "warning": "#ff7f0e", "critical": "#d62728"}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px;
       padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.meta { color: #666; font-size: 0.9em; }
.verdict { border-left: 6px solid var(--c); background: #fafafa; padding: 0.6em 1em; margin: 1em 0; }
.verdict .status { font-weight: bold; color: var(--c); font-size: 1.2em; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
"""


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def render_html(result: Any, title: Optional[str] = None) -> str:
    """The HTML text of the report for ``result`` (a dbpoolsim.Result)."""
    from .plot.timeline import fault_windows, timeline, wait_distribution
    from .report import health_verdict, render_report

    sc = result.scenario
    name = title or f"dbpoolsim: {sc.get('name', 'scenario')}"
    verdict = health_verdict(result.summary)
    colour = _STATUS_COLOURS.get(verdict["status"], "#444")
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # No request may leave the page: a strict policy that allows only inline styles and data: images.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(name)}</h1>",
        f'<p class="meta">{len(result.replications)} replication(s) of {sc["run"]["horizon_s"]:g} s simulated, '
        f'seed {sc["run"]["seed"]}; {result.wall_seconds:.2f} s wall on {result.threads} thread(s).</p>',
        f'<section class="verdict" id="verdict" style="--c: {colour}">',
        f'<div class="status">health: {esc(verdict["status"].upper())}</div><ul>',
    ]
    findings = verdict["findings"] or ["all indicators within the seeds' thresholds"]
    parts += [f"<li>{esc(f)}</li>" for f in findings]
    parts.append("</ul>")
    if verdict["recommendations"]:
        parts.append("<div>recommendations:</div><ul>")
        parts += [f"<li>{esc(r)}</li>" for r in verdict["recommendations"]]
        parts.append("</ul>")
    parts.append("</section>")
    faults = fault_windows(sc)
    fault_text = ("; faults shaded: " + ", ".join(f"{k} at {a:g} s" + (f" for {b - a:g} s" if b > a else "")
                                                  for k, a, b in faults)) if faults else ""
    parts.append("<h2>Plots</h2>")
    if not result.timeseries.empty:
        parts.append(f'<figure id="timeline"><img alt="timeline: connections by state, waiters, backends, '
                     f'logins per second" src="{_png(timeline(result))}"><figcaption>Connections by state, '
                     f'requests waiting, database backends and logins per second{esc(fault_text)}.'
                     "</figcaption></figure>")
    parts.append(f'<figure id="waits"><img alt="acquire-wait distribution" src="{_png(wait_distribution(result))}">'
                 "<figcaption>Acquire wait: quantiles per replication and pooled, and per interval over time."
                 "</figcaption></figure>")
    parts.append('<h2>Report</h2><pre id="report">' + esc(render_report(result)) + "</pre>")
    parts.append('<h2>Resolved scenario</h2><pre id="scenario">' + esc(json.dumps(sc, indent=2)) + "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_html(result: Any, path: str | Path, title: Optional[str] = None) -> Path:
    """Write the report to ``path`` and return it."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_html(result, title), encoding="utf-8")
    return p
