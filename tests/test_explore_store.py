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
    with pytest.raises(StoreError, match="not a tinysim sweep results file"):
        read_sweep(other)


def test_a_foreign_database_is_refused_and_left_byte_for_byte_unchanged(tmp_path):
    """Another program's SQLite file (here with its own `meta` table, even a schema_version row) must not be
    switched to WAL or otherwise touched: refused in one line, its bytes as they were."""
    other = tmp_path / "history.sqlite"
    con = sqlite3.connect(other)
    con.executescript(
        "CREATE TABLE meta(key TEXT, value TEXT); INSERT INTO meta VALUES ('schema_version', '3');"
        "CREATE TABLE visits(url TEXT); INSERT INTO visits VALUES ('https://example.org');"
    )
    con.close()
    before = other.read_bytes()
    with pytest.raises(StoreError, match="not a tinysim sweep results file") as err:
        ResultStore.open(other)
    assert "\n" not in str(err.value)
    assert other.read_bytes() == before and not (tmp_path / "history.sqlite-wal").exists()


@pytest.mark.parametrize("name", ["r#1.sqlite", "r?x=1.sqlite", "r%41.sqlite"])
def test_result_paths_are_plain_file_names(tmp_path, name):
    """'#', '?' and '%' are name characters, not URI syntax: no stray files, no mixing of two sweeps."""
    path = tmp_path / name
    with ResultStore.create(path, {"sweep_name": "t"}) as store:
        assert store.meta()["sweep_name"] == "t"
    assert ResultStore.is_empty(path) is False and read_sweep(path).meta["sweep_name"] == "t"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [name]


def test_a_damaged_results_file_is_one_line(tmp_path):
    path = tmp_path / "r.sqlite"
    with ResultStore.create(path, {"sweep_name": "t"}):
        pass
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # garble the first page's b-tree
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as err:
        read_sweep(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize(
    ("column", "value"), [("cycles", float("inf")), ("cycles", "many"), ("energy_breakdown_json", "{not json")]
)
def test_a_result_value_no_sweep_writes_is_one_line(tmp_path, column, value):
    """Fuzz seed 496 (issue 14): a results file edited to hold cycles = inf was an internal error in `report`."""
    path = tmp_path / "r.sqlite"
    pid = point_id({})
    with ResultStore.create(path, {"sweep_name": "t"}) as store:
        store.add_points([PointRow(pid, 0, {})])
        store.add_results([ResultRow(pid, "kws", "ok", None, "fast", 1e-3, 2e-6, 3e-6, 1000.0)])
    with sqlite3.connect(path) as con:
        con.execute(f"UPDATE results SET {column} = ?", (value,))
    con.close()
    with pytest.raises(StoreError, match="damaged results file") as err:
        read_sweep(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_create_is_one_transaction_and_empty_files_count_as_new(tmp_path):
    path = tmp_path / "r.sqlite"
    sqlite3.connect(path).close()  # what a kill right after opening the file leaves
    assert ResultStore.is_empty(path)
    meta = {"sweep_name": "it's", "sweep_yaml": "a: 'b'\n"}
    with ResultStore.create(path, meta) as store:
        assert store.meta()["sweep_name"] == "it's" and store.meta()["sweep_yaml"] == "a: 'b'\n"
    assert not ResultStore.is_empty(path)
