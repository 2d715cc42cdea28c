"""dbpoolsim.sweep(client=...) on a Dask LocalCluster with 2 worker processes: the same
bits as a local run (each unit is run_replication(scenario, k) wherever it runs)."""

from __future__ import annotations

import pandas as pd
import pytest

import dbpoolsim
from dbpoolsim.execute import NONDETERMINISTIC

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def test_dask_sweep_is_bit_identical_to_local(tiny, client, tmp_path):
    grid = {"pool.max_connections": [3, 4, 5, 6], "workload.arrivals.rate_per_s": [150, 200]}
    local = dbpoolsim.sweep(tiny, grid, replications=3, threads=2, progress=False)
    remote = dbpoolsim.sweep(tiny, grid, replications=3, client=client, out=tmp_path / "d",
                             progress=False)
    drop = list(NONDETERMINISTIC)
    pd.testing.assert_frame_equal(local.runs.drop(columns=drop), remote.runs.drop(columns=drop),
                                  check_exact=True)
    assert len(list((tmp_path / "d" / "points").glob("*.parquet"))) == 8
    # Both workers took part.
    assert len(client.scheduler_info()["workers"]) == 2


def test_dask_recommend_and_compare_agree_with_local(tiny, client):
    a = dbpoolsim.recommend(tiny, "pool.max_connections", "timeout_rate <= 0.02", lo=2, hi=16,
                            progress=False)
    b = dbpoolsim.recommend(tiny, "pool.max_connections", "timeout_rate <= 0.02", lo=2, hi=16,
                            client=client, progress=False)
    assert (a.value, a.why) == (b.value, b.why)
    bigger = dbpoolsim.with_overrides(tiny, **{"pool.max_connections": 8})
    pd.testing.assert_frame_equal(dbpoolsim.compare({"a": tiny, "b": bigger}),
                                  dbpoolsim.compare({"a": tiny, "b": bigger}, client=client))
