"""The sweep results store: schema, round trip, INSERT OR IGNORE, resume checks."""

from __future__ import annotations

import sqlite3

import pytest

from tinysim.explore.store import PointRow, ResultRow, ResultStore, StoreError, point_id, read_sweep


def test_point_id_is_stable_and_order_free():
    assert point_id({"a": 1, "b": 2.5}) == point_id({"b": 2.5, "a": 1})
    assert point_id({"a": 1}) != point_id({"a": 2})
    assert len(point_id({})) == 16


def test_round_trip_and_ignore_duplicates(tmp_path):
    path = tmp_path / "r.sqlite"
    params = {"memories.sram.size": 262144, "operating_point": "fast"}
    pid = point_id(params)
    ok = ResultRow(
        pid, "kws", "ok", None, "fast", 1e-3, 2e-6, 3e-6, 1000.0, 4096, 8000, 1, None, None, {"compute": 1e-6}
    )
    with ResultStore.create(path, {"sweep_name": "t", "objectives": '["latency"]'}) as store:
        store.add_points([PointRow(pid, 0, params)])
        store.add_results([ok, ResultRow(pid, "vww", "invalid", "x.yaml:3: too big")])
        store.add_results([ResultRow(pid, "kws", "invalid", "should be ignored")])
        assert store.done() == {(pid, "kws"), (pid, "vww")}
    sweep = read_sweep(path)
    assert sweep.meta["schema_version"] == "3" and sweep.meta["sweep_name"] == "t"
    assert sweep.points == (PointRow(pid, 0, params),)
    assert sweep.results[0] == ok
    assert sweep.results[1].status == "invalid" and sweep.results[1].latency_s is None
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_open_rejects_other_files(tmp_path):
    with pytest.raises(StoreError, match="no such results file"):
        ResultStore.open(tmp_path / "missing.sqlite")
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE meta(key TEXT, value TEXT)").connection.commit()
    with pytest.raises(StoreError, match="schema version missing"):
        read_sweep(other)


def test_create_is_one_transaction_and_empty_files_count_as_new(tmp_path):
    path = tmp_path / "r.sqlite"
    sqlite3.connect(path).close()  # what a kill right after opening the file leaves
    assert ResultStore.is_empty(path)
    meta = {"sweep_name": "it's", "sweep_yaml": "a: 'b'\n"}
    with ResultStore.create(path, meta) as store:
        assert store.meta()["sweep_name"] == "it's" and store.meta()["sweep_yaml"] == "a: 'b'\n"
    assert not ResultStore.is_empty(path)
