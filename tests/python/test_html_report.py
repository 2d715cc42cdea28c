"""Result.to_html / `run --html`: one self-contained file, checked in real headless Chromium
(Debian's `chromium`, installed by the Makefile for this test): it renders, the plots are
there, and nothing reaches the network. Also Parquet outputs beside the CSVs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dbpoolsim

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def fault_result(tiny_result):
    """The tiny scenario with a restart, so the plots have a fault window to shade."""
    s = json.loads(json.dumps(tiny_result.scenario))
    s["faults"] = [{"kind": "restart", "at_s": 15, "duration_s": 4}]
    return dbpoolsim.run(s, threads=2, progress=False)


def test_the_html_holds_verdict_plots_report_and_scenario_and_points_nowhere(fault_result):
    text = fault_result.to_html()
    assert text.startswith("<!DOCTYPE html>")
    assert 'id="verdict"' in text and "health: " in text
    images = re.findall(r'<img [^>]*src="([^"]+)"', text)
    assert len(images) == 2 and all(src.startswith("data:image/png;base64,") for src in images)
    assert 'id="report"' in text and "acquire wait p99" in text
    scenario = re.search(r'<pre id="scenario">(.*?)</pre>', text, re.S).group(1)
    import html

    assert json.loads(html.unescape(scenario)) == fault_result.scenario
    assert "faults shaded: restart at 15 s for 4 s" in text
    # Self-contained: no URL of any scheme but data:, no script, no external reference at all.
    assert not re.search(r"(https?|ftp|file)://", text)
    assert not re.search(r"<(script|link|iframe|object|embed)\b", text)
    assert not re.search(r'(src|href)="(?!data:)', text)


def test_run_html_writes_the_report_beside_the_results(cli, tiny_file, out_dir):
    proc = cli("run", tiny_file, "--out", out_dir, "--quiet", "--html")
    assert proc.returncode == 0, proc.stderr
    assert f"HTML report: {out_dir / 'report.html'}" in proc.stdout
    assert (out_dir / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_parquet_outputs_hold_the_same_tables_as_the_csvs(cli, tiny_file, out_dir):
    proc = cli("run", tiny_file, "--out", out_dir, "--quiet", "--parquet")
    assert proc.returncode == 0, proc.stderr
    assert "replications.parquet, timeseries.parquet" in proc.stdout
    for name in ("replications", "timeseries"):
        pq = pd.read_parquet(out_dir / f"{name}.parquet")
        csv = pd.read_csv(out_dir / f"{name}.csv")
        pd.testing.assert_frame_equal(pq, csv, check_dtype=False)


def _colour_pixels(png: Path, hex_colour: str, tol: float = 0.06) -> int:
    from matplotlib import image

    img = image.imread(str(png))[..., :3]
    want = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return int(np.sum(np.all(np.abs(img - want) < tol, axis=-1)))


def _chromium(page: Path, out: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Open `page` in headless Chromium; return the run and the http(s) URLs the page asked for.

    Every request goes to a proxy on a closed loopback port, so nothing can leave, and the
    network log records each attempt. Chromium also makes its own background requests
    (update and time checks, initiator "not an origin"); the page's requests are the ones made
    on behalf of the file:// document (its network isolation key)."""
    netlog = out / f"netlog-{page.stem}-{len(extra)}.json"
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
             "--disable-background-networking", "--disable-component-update", "--no-first-run",
             "--disable-sync", "--disable-default-apps", "--disable-extensions",
             f"--log-net-log={netlog}", "--net-log-capture-mode=Default",
             f"--user-data-dir={out / 'profile'}", "--window-size=1200,2600", *extra, page.as_uri()]
    proc = subprocess.run(flags, check=True, capture_output=True, text=True, timeout=120)
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = [e["params"]["url"] for e in log["events"]
            if e["type"] == start_job and "file://" in e["params"].get("network_isolation_key", "")
            and not e["params"]["url"].startswith(("file:", "data:"))]
    return proc, urls


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (the Makefile's "
                                               "build/stamps/browser step installs it for this test)")
def test_chromium_renders_the_plots_offline_and_requests_nothing(fault_result, tmp_path):
    page = tmp_path / "report.html"
    fault_result.to_html(page)
    shot = tmp_path / "shot.png"
    _, shot_urls = _chromium(page, tmp_path, f"--screenshot={shot}")
    proc, dom_urls = _chromium(page, tmp_path, "--dump-dom")
    dom = proc.stdout
    # The DOM holds the verdict, both plots and the scenario.
    assert dom.count('src="data:image/png;base64,') == 2
    assert "health: " in dom and '"horizon_s": 30' in dom
    # The screenshot shows the plots: the backends line (#17becf) and the logins line (#e377c2)
    # are drawn only inside the timeline image.
    assert _colour_pixels(shot, "#17becf") > 200
    assert _colour_pixels(shot, "#e377c2") > 200
    # The page asked for nothing beyond itself.
    assert shot_urls == [] and dom_urls == []
    # Control: the same check catches a page that does reach out (so it can fail). The
    # report's Content-Security-Policy would block the image, so the control drops it too.
    leaky = tmp_path / "leaky.html"
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text())
    leaky.write_text(text.replace("</body>", '<img src="https://example.invalid/x.png"></body>'))
    _, leaked = _chromium(leaky, tmp_path, "--dump-dom")
    assert leaked == ["https://example.invalid/x.png"]
