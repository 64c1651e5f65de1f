"""Pareto fronts: the fast kernels against an all-pairs dominance twin, on random and hand-made data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinysim.errors import TinysimError
from tinysim.explore.pareto import front_2d, front_indices, front_nd, front_rows, resolve_objective


def naive_front(values: np.ndarray) -> np.ndarray:
    """Slow and obviously correct: keep i unless some j is <= everywhere and < somewhere."""
    keep = []
    for i, p in enumerate(values):
        beaten_by = np.all(values <= p, axis=1) & np.any(values < p, axis=1)  # row j vs row i, every j
        if not beaten_by.any():
            keep.append(i)
    return np.asarray(keep, dtype=np.int64)


# Small integer grids force many ties and duplicates, the cases sweeps produce (same latency, other energy).
def _arrays(k: int):
    return (
        st.integers(0, 60)
        .flatmap(lambda n: st.lists(st.lists(st.integers(0, 6), min_size=k, max_size=k), min_size=n, max_size=n))
        .map(lambda rows: np.asarray(rows, dtype=np.float64).reshape(-1, k))
    )


@settings(max_examples=120, deadline=None)
@given(_arrays(2))
def test_front_2d_matches_all_pairs(values):
    np.testing.assert_array_equal(front_2d(values), naive_front(values))


@settings(max_examples=80, deadline=None)
@given(_arrays(3))
def test_front_3d_matches_all_pairs(values):
    expected = naive_front(values)
    np.testing.assert_array_equal(front_nd(values), expected)
    np.testing.assert_array_equal(front_nd(values, block=5), expected)  # many blocks: the cross-block filter
    np.testing.assert_array_equal(front_nd(values, block=1), expected)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("seed", range(5))
def test_continuous_random_data(k, seed):
    rng = np.random.default_rng(seed)
    values = rng.lognormal(size=(300, k))
    np.testing.assert_array_equal(front_nd(values), naive_front(values))
    if k == 2:
        np.testing.assert_array_equal(front_2d(values), naive_front(values))
        # anti-correlated objectives (the usual latency/energy trade-off) give a long front
        values[:, 1] = 1.0 / values[:, 0] + 0.01 * rng.random(300)
        np.testing.assert_array_equal(front_2d(values), naive_front(values))


def test_hand_made_cases():
    values = np.array([[1, 5], [2, 3], [2, 3], [3, 3], [4, 1], [1, 6], [5, 0.5], [5, 0.5]], dtype=float)
    # duplicates (#1, #2 and #6, #7) both stay; [3,3] is beaten by [2,3]; [1,6] by [1,5]
    assert front_2d(values).tolist() == [0, 1, 2, 4, 6, 7]
    assert front_indices(values).tolist() == front_2d(values).tolist()
    assert front_2d(np.zeros((0, 2))).tolist() == []
    assert front_nd(np.array([[1.0, 2.0, 3.0]])).tolist() == [0]
    with pytest.raises(ValueError, match="finite"):
        front_2d(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="shape"):
        front_2d(np.zeros((3, 3)))


def test_front_2d_is_fast_on_a_large_sweep():
    values = np.random.default_rng(0).random((200_000, 2))
    front = front_2d(values)
    assert 1 <= len(front) < 100
    assert np.all(np.diff(values[front[np.argsort(values[front, 0])], 1]) < 0)  # a staircase


def _row(i, workload="kws", status="ok", **cols):
    return {"point_index": i, "point_id": f"p{i}", "workload": workload, "status": status, "params": {"a": i}, **cols}


def test_front_rows_filters_workload_status_constraints_and_missing_values():
    rows = [
        _row(0, latency_s=1.0, energy_j=4.0, fits=1, meets_deadline=None),
        _row(1, latency_s=2.0, energy_j=2.0, fits=1, meets_deadline=1),
        _row(2, latency_s=0.5, energy_j=0.5, fits=0, meets_deadline=1),  # would dominate all, does not fit
        _row(3, status="invalid", latency_s=0.1, energy_j=0.1),
        _row(4, workload="vww", latency_s=0.1, energy_j=0.1, fits=1),
        _row(5, latency_s=3.0, energy_j=None, fits=1),  # no energy: not a candidate
        _row(6, latency_s=4.0, energy_j=1.0, fits=1, meets_deadline=0),  # misses the deadline
        _row(7, latency_s=3.0, energy_j=3.0, fits=1),  # dominated by #1
    ]
    got = front_rows(rows, ["latency", "energy"], workload="kws", constraints=("fits", "meets_deadline"))
    assert [r["point_index"] for r in got] == [0, 1]
    got = front_rows(rows, ["latency", "energy"], workload="kws")
    assert [r["point_index"] for r in got] == [2]
    # a design parameter works as an objective too, and three objectives are allowed
    got = front_rows(rows, ["a", "energy_j", "latency_s"], workload="kws", constraints=("fits",))
    assert [r["point_index"] for r in got] == [0, 1, 6]


def test_objective_names():
    assert resolve_objective("latency") == "latency_s"
    assert resolve_objective("power") == "average_power_w"
    assert resolve_objective("compute.npu.macs_per_cycle") == "compute.npu.macs_per_cycle"
    with pytest.raises(TinysimError, match="two or three"):
        front_rows([], ["latency"])
    with pytest.raises(TinysimError, match="repeat"):
        front_rows([], ["latency", "latency_s"])
