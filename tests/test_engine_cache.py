"""The Numba cache is dropped whenever any engine source changes (Numba alone keys on one file)."""

from __future__ import annotations

from tinysim.engine.jit import drop_stale_cache


def test_cache_dropped_when_any_source_changes(tmp_path):
    (tmp_path / "ops").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "ops" / "b.py").write_text("y = 2\n")
    cached = tmp_path / "ops" / "__pycache__" / "b.f-1.py311.nbi"
    cached.parent.mkdir()
    cached.write_bytes(b"old")
    assert drop_stale_cache(tmp_path) is True and not cached.exists()

    cached.write_bytes(b"fresh")
    assert drop_stale_cache(tmp_path) is False and cached.exists()  # sources unchanged: keep the cache

    (tmp_path / "a.py").write_text("x = 3\n")  # a kernel in ANOTHER file changed
    assert drop_stale_cache(tmp_path) is True and not cached.exists()
