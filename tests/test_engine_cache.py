"""The engine's Numba cache folder is keyed by a digest of ALL engine sources (Numba alone keys on one file)."""

from __future__ import annotations

from tinysim.engine import jit


def test_digest_changes_when_any_source_changes(tmp_path):
    (tmp_path / "ops").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "ops" / "b.py").write_text("y = 2\n")
    first = jit.cache_dir(tmp_path)
    assert first == jit.cache_dir(tmp_path)  # stable while sources are unchanged
    (tmp_path / "a.py").write_text("x = 3\n")  # a kernel in ANOTHER file changed
    second = jit.cache_dir(tmp_path)
    assert second != first and second.parent == first.parent


def test_old_cache_folders_are_removed_but_not_the_current(tmp_path):
    keep = tmp_path / "numba-aaaa"
    old = tmp_path / "numba-bbbb"
    for d in (keep, old):
        d.mkdir()
        (d / "k.nbi").write_bytes(b"x")
    jit.remove_other_caches(keep)
    assert keep.exists() and not old.exists()


def test_user_cache_dir_is_respected(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert jit.cache_dir() is None


def test_kernels_cache_in_the_digest_folder():
    import numba

    before = numba.config.CACHE_DIR
    from tinysim.engine.fixedpoint import requantize  # noqa: F401  (decorated through jit.kernel)

    assert numba.config.CACHE_DIR == before  # the global setting is restored after decoration
    if jit._CACHE_DIR is not None:
        assert jit._CACHE_DIR.name.startswith("numba-")


def test_no_vnni_switch_gets_its_own_cache_folder(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("x = 1\n")
    plain = jit.cache_dir(tmp_path)
    monkeypatch.setenv("TINYSIM_NO_VNNI", "1")
    portable = jit.cache_dir(tmp_path)
    assert portable != plain and portable.name.startswith(plain.name)
    for d in (plain, portable):
        d.mkdir(parents=True, exist_ok=True)
    jit.remove_other_caches(portable)
    assert plain.exists() and portable.exists()  # variants of the same sources are both kept
