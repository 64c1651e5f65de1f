"""Download the MLPerf Tiny int8 reference models from a pinned commit, verified by sha256.

Each file is streamed into a temporary file next to its destination and renamed into place only
after its size and sha256 match the table below, so a failed, tampered or interrupted download (an
error, Ctrl-C, SIGTERM) never leaves a file behind. Files already present with the right hash are not
downloaded again.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import signal
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tinysim.errors import FetchError

log = logging.getLogger(__name__)

UPSTREAM_COMMIT = "1afd2c9820f795965a6134facd0b4dfae41ef23f"  # github.com/mlcommons/tiny
DEFAULT_BASE_URL = f"https://raw.githubusercontent.com/mlcommons/tiny/{UPSTREAM_COMMIT}"
DEADLINE_S = 120.0  # overall limit on one file (the largest reference model is ~330 KB)
GRACE_S = 10.0  # before the minimum rate applies (connection set-up, a slow start)
MIN_RATE_BPS = 2000.0  # below this a ~300 KB model would take minutes: give up and say why
TIMEOUT_S = 30.0  # per connect / read: a stalled server fails instead of hanging
_CHUNK_BYTES = 64 * 1024

# progress(file name, bytes done, bytes total)
Progress = Callable[[str, int, int], None]


class Terminated(BaseException):
    """SIGTERM arrived during a download. Raised, like KeyboardInterrupt for SIGINT, so that the temporary file
    is removed on the way out; a BaseException, so no `except Exception` on the way swallows it."""


@dataclass(frozen=True)
class ReferenceModel:
    """One reference model: our file name, its path in the upstream repository, and its pinned checksum."""

    name: str
    upstream_path: str
    sha256: str
    size_bytes: int


REFERENCE_MODELS = (
    ReferenceModel(
        "kws_ref_model_int8.tflite",
        "benchmark/training/keyword_spotting/trained_models/kws_ref_model.tflite",
        "aeea436800704fce17b17292e4412630ad856e9d777c044c64ef748a880bd0ae",
        53936,
    ),
    ReferenceModel(
        "vww_96_int8.tflite",
        "benchmark/training/visual_wake_words/trained_models/vww_96_int8.tflite",
        "597a384c8c2c8a1276f04702f25013b7838f2f814f1ca7c174d295b73e3d6b7b",
        333288,
    ),
    ReferenceModel(
        "ic_resnet8_int8.tflite",
        "benchmark/training/image_classification/trained_models/pretrainedResnet_quant.tflite",
        "3c002613d1b2475eb51dd78dfb85a546c8ae658dee71cf6ade43b022fe205415",
        98496,
    ),
    ReferenceModel(
        "ad_autoencoder_int8.tflite",
        "benchmark/training/anomaly_detection/trained_models/ad01_int8.tflite",
        "87cf24194ef93d1d9b11a591d805526b98008e351655d29883c825c9c106ba24",
        276976,
    ),
)


def fetch_models(
    dest_dir: str | Path,
    *,
    base_url: str = DEFAULT_BASE_URL,
    names: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Make sure `dest_dir` holds the reference models (all, or those in `names`); returns their paths.

    `base_url` is the root of a tree laid out like the upstream repository (a mirror, a test server).
    """
    models = _select(names)
    dest = Path(dest_dir)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"cannot create directory: {exc.strerror or exc}", file=str(dest)) from None
    _remove_stale_parts(dest, models)
    paths = []
    for model in models:
        path = dest / model.name
        if path.is_file() and _sha256_of(path) == model.sha256:
            log.debug("%s already present with the pinned sha256", path)
        else:
            with _sigterm_raises():
                _download(model, f"{base_url.rstrip('/')}/{model.upstream_path}", path, progress)
        paths.append(path)
    return paths


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While a download runs, make SIGTERM raise `Terminated` instead of killing the process outright (which
    would leave the temporary file behind); the previous handler is restored afterwards. A handler the caller
    installed, an ignored SIGTERM, or a thread other than the main one (which cannot set handlers) is left as is."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _remove_stale_parts(dest: Path, models: list[ReferenceModel]) -> None:
    """Temporary files an earlier fetch left (killed with SIGKILL, or the machine went down) for these models:
    older than any live download can be (DEADLINE_S), so removing them cannot disturb a fetch running now."""
    now = time.time()
    for model in models:
        for part in dest.glob(f".{model.name}.*.part"):
            try:
                if now - part.stat().st_mtime > DEADLINE_S:
                    part.unlink()
            except OSError:
                pass  # another fetch removed it first, or it is not ours to remove


def _select(names: Iterable[str] | None) -> list[ReferenceModel]:
    by_name = {m.name: m for m in REFERENCE_MODELS}
    if names is None:
        return list(REFERENCE_MODELS)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise FetchError(f"unknown model {unknown[0]!r}; known: {', '.join(by_name)}")
    return [by_name[n] for n in names]


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(model: ReferenceModel, url: str, path: Path, progress: Progress | None) -> None:
    """Stream `url` to a temporary file beside `path`; rename it into place only if the checksum matches."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{model.name}.", suffix=".part", dir=path.parent)
    try:  # at once: an interrupt (KeyboardInterrupt, Terminated) from here on still removes the file
        with os.fdopen(fd, "wb") as out:
            got_sha, got_bytes = _stream(model, url, out, progress, str(path))
        if got_bytes != model.size_bytes or got_sha != model.sha256:
            raise FetchError(
                f"sha256 mismatch for {url}: expected {model.sha256} ({model.size_bytes} bytes), "
                f"got {got_sha} ({got_bytes} bytes); nothing was written",
                file=str(path),
            )
        os.replace(tmp_name, path)
    except OSError as exc:
        raise FetchError(f"cannot write: {exc.strerror or exc}", file=str(path)) from None
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def _check_pace(elapsed_s: float, done_bytes: int, url: str, file: str) -> None:
    """Give up on a download past the overall deadline, or slower than MIN_RATE_BPS after a grace period."""
    if elapsed_s > DEADLINE_S:
        raise FetchError(f"download failed: no complete file after {DEADLINE_S:g} s (deadline) for {url}", file=file)
    if elapsed_s > GRACE_S and done_bytes / elapsed_s < MIN_RATE_BPS:
        raise FetchError(
            f"download failed: {done_bytes / elapsed_s:.0f} B/s after {elapsed_s:.0f} s, below the "
            f"minimum {MIN_RATE_BPS:g} B/s, for {url}",
            file=file,
        )


def _stream(model: ReferenceModel, url: str, out, progress: Progress | None, file: str) -> tuple[str, int]:
    """Copy the body of `url` into `out`; returns (sha256, bytes). Stops one byte past the expected size."""
    digest, done = hashlib.sha256(), 0
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            # read1: returns what has arrived, so a server trickling bytes cannot hold one read past the deadline
            while chunk := response.read1(min(_CHUNK_BYTES, model.size_bytes + 1 - done)):
                _check_pace(time.monotonic() - start, done + len(chunk), url, file)
                digest.update(chunk)
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(model.name, done, model.size_bytes)
                if done > model.size_bytes:
                    break  # longer than the pinned file: the checksum will fail, stop downloading
    except urllib.error.HTTPError as exc:
        raise FetchError(f"download failed: HTTP {exc.code} {exc.reason} for {url}", file=file) from None
    except urllib.error.URLError as exc:
        raise FetchError(f"download failed: {exc.reason} for {url}", file=file) from None
    except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
        raise FetchError(f"download failed: {str(exc) or type(exc).__name__} for {url}", file=file) from None
    except ValueError as exc:  # urllib's word for a malformed URL
        raise FetchError(f"bad URL {url!r}: {exc}", file=file) from None
    return digest.hexdigest(), done
