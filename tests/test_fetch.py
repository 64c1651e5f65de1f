"""Model download against a local HTTP server laid out like the upstream repository."""

from __future__ import annotations

import functools
import hashlib
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import require_model

from tinysim.errors import FetchError
from tinysim.workload.fetch import DEFAULT_BASE_URL, REFERENCE_MODELS, UPSTREAM_COMMIT, fetch_models


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep test output clean
        pass


@pytest.fixture
def mirror(tmp_path):
    """A served copy of the upstream tree (real model files copied into tmp_path); yields (root, base_url)."""
    root = tmp_path / "mirror"
    for model in REFERENCE_MODELS:
        target = root / model.upstream_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(require_model(model.name), target)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_table_matches_shared_models():
    assert DEFAULT_BASE_URL.endswith(UPSTREAM_COMMIT) and len(REFERENCE_MODELS) == 4
    for model in REFERENCE_MODELS:
        path = require_model(model.name)
        assert (path.stat().st_size, _sha256(path)) == (model.size_bytes, model.sha256)


def test_fetch_all(mirror, tmp_path):
    _, url = mirror
    seen = []
    paths = fetch_models(tmp_path / "out", base_url=url, progress=lambda n, d, t: seen.append((n, d, t)))
    assert [p.name for p in paths] == [m.name for m in REFERENCE_MODELS]
    for path, model in zip(paths, REFERENCE_MODELS, strict=True):
        assert _sha256(path) == model.sha256
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(m.name for m in REFERENCE_MODELS)
    assert seen[-1] == (REFERENCE_MODELS[-1].name, REFERENCE_MODELS[-1].size_bytes, REFERENCE_MODELS[-1].size_bytes)


def test_present_files_are_not_downloaded_again(mirror, tmp_path):
    root, url = mirror
    out = tmp_path / "out"
    fetch_models(out, base_url=url)
    shutil.rmtree(root)  # the server now 404s everything: a second fetch must not need it
    assert len(fetch_models(out, base_url=url)) == 4


def test_subset_and_unknown_names(mirror, tmp_path):
    _, url = mirror
    (path,) = fetch_models(tmp_path, base_url=url, names=["ad_autoencoder_int8.tflite"])
    assert path.name == "ad_autoencoder_int8.tflite"
    with pytest.raises(FetchError, match="unknown model 'resnet50.tflite'; known: kws_ref_model_int8.tflite"):
        fetch_models(tmp_path, base_url=url, names=["resnet50.tflite"])


def test_tampered_file_is_refused_and_nothing_is_left(mirror, tmp_path):
    root, url = mirror
    model = REFERENCE_MODELS[0]
    served = root / model.upstream_path
    data = bytearray(served.read_bytes())
    data[1000] ^= 0xFF
    served.write_bytes(bytes(data))
    out = tmp_path / "out"
    with pytest.raises(FetchError) as info:
        fetch_models(out, base_url=url, names=[model.name])
    message = str(info.value)
    assert message.startswith(str(out / model.name) + ": sha256 mismatch")
    assert model.sha256 in message and hashlib.sha256(bytes(data)).hexdigest() in message
    assert list(out.iterdir()) == []


def test_wrong_local_file_is_replaced(mirror, tmp_path):
    _, url = mirror
    model = REFERENCE_MODELS[0]
    (tmp_path / model.name).write_bytes(b"stale")
    (path,) = fetch_models(tmp_path, base_url=url, names=[model.name])
    assert _sha256(path) == model.sha256


def test_http_404(mirror, tmp_path):
    root, url = mirror
    (root / REFERENCE_MODELS[1].upstream_path).unlink()
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_models(tmp_path / "out", base_url=url, names=[REFERENCE_MODELS[1].name])
    assert list((tmp_path / "out").iterdir()) == []


def test_unreachable_server(tmp_path):
    # Port 9 on localhost (discard) is closed on test machines: connection refused, no hang.
    with pytest.raises(FetchError, match="download failed"):
        fetch_models(tmp_path, base_url="http://127.0.0.1:9", names=[REFERENCE_MODELS[0].name])
    assert list(tmp_path.iterdir()) == []


def test_malformed_url(tmp_path):
    with pytest.raises(FetchError, match="bad URL"):
        fetch_models(tmp_path, base_url="nonsense", names=[REFERENCE_MODELS[0].name])


def test_cli_fetch_then_run_the_fetched_model(mirror, tmp_path):
    """`tinysim models fetch --base-url` end to end, then `tinysim run` on what it fetched."""
    import subprocess
    import sys

    _, url = mirror
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "tinysim.cli.main"]
    proc = subprocess.run([*cmd, "models", "fetch", "--dir", str(tmp_path / "m"), "--base-url", url],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("sha256 verified") == 4
    proc = subprocess.run([*cmd, "run", str(root / "archs" / "stm32l4r5.yaml"),
                           str(tmp_path / "m" / "ad_autoencoder_int8.tflite"), "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"macs": 264192' in proc.stdout


def test_cli_fetch_refuses_tampered_file(mirror, tmp_path):
    import subprocess
    import sys

    root, url = mirror
    target = root / REFERENCE_MODELS[0].upstream_path
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    proc = subprocess.run([sys.executable, "-m", "tinysim.cli.main", "models", "fetch", "--dir",
                           str(tmp_path / "m"), "--base-url", url], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "sha256" in proc.stderr and REFERENCE_MODELS[0].name in proc.stderr
    assert not (tmp_path / "m" / REFERENCE_MODELS[0].name).exists()
