"""experiments/published: each figure's claim, re-run with the script's --quick settings.

The full runs (longer horizons, more replications) are in experiments/published/results.md.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def published():
    spec = importlib.util.spec_from_file_location("published_run", ROOT / "experiments/published/run.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the file runs
    spec.loader.exec_module(mod)
    yield mod
    del sys.modules[spec.name]


def test_f1_response_time_falls_with_the_pool_and_throughput_is_n_over_z_plus_r(published):
    rows = {r.quantity: r for r in published.f1(quick=True)}
    r = {pool: rows[f"response time at pool {pool} (ms)"].value for pool in (2048, 96)}
    # The published fall is ~110 ms -> ~3 ms (the full run: 105 -> 8 ms); the quick run is
    # short and cold-started, so only a fourfold fall is asserted here.
    assert r[2048] > 4 * r[96]
    assert r[96] < 15
    for row in rows.values():  # the response time law N = X (Z + R), to 2 %
        x = float(row.note.split("throughput ")[1].split()[0])
        law = float(row.note.split("N/(Z+R) = ")[1].split("/s")[0])
        assert x == pytest.approx(law, rel=0.02)


def test_f4_ten_thousand_transactions_finish_sooner_a_few_at_a_time(published):
    makespan = {int(r.quantity.split(", ")[1].split()[0]): r.value for r in published.f4(quick=True)}
    assert max(makespan[5], makespan[10], makespan[20]) < makespan[500]


def test_f8_pgbouncer_one_thread_latency_grows_with_clients_beyond_saturation(published):
    p50 = {int(r.quantity.split(" at ")[1].split()[0].replace(",", "")): r.value
           for r in published.f8(quick=True)}
    assert p50[1] == pytest.approx(0.07, rel=0.05)
    assert p50[120] == pytest.approx(1.81, rel=0.05)      # published p50s, 120 and 500 clients
    assert p50[500] == pytest.approx(7.59, rel=0.05)
    assert p50[500] / p50[120] == pytest.approx(500 / 120, rel=0.05)  # R grows with N


def test_f9_one_login_per_333_ms_serves_about_18_of_64_and_25_ms_serves_all(published):
    served = [r.value for r in published.f9(quick=True)]
    hikari_333, pgbouncer_333, pgbouncer_25 = served
    assert 14 <= hikari_333 <= 18        # 5 s / 333 ms = 15 logins in time
    assert 14 <= pgbouncer_333 <= 18     # + PgBouncer's 1/3 s janitor granularity
    assert pgbouncer_25 == 64


def test_f10_accept_rate_sets_the_fleet_reconnect_time(published):
    (row,) = published.f10(quick=True)
    assert row.value == pytest.approx(50 * 70 / 1400, abs=0.3)  # 3,500 logins at 1,400/s


def test_seed003_before_line_throughput_is_reproducible_but_not_its_latency(published):
    rows = published.seed003(quick=True)
    before = rows[0]
    assert before.value == pytest.approx(4773, rel=0.08)   # pool-bound: 20 / 4.19 ms
    assert "timeouts 0 %" in before.note                   # not 79.5 %
    after_no_db, after_8_cores = rows[2].value, rows[3].value
    assert after_no_db > 1.6 * before.value                # the projected ~78 % gain
    assert after_8_cores < after_no_db                     # less when the DB saturates
