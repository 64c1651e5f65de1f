"""Per-inference time of tinysim's engine vs LiteRT (builtin and XNNPACK) and TFLite Micro.

    python benchmarks/engine.py [--models DIR] [--repeat 200]

All single-threaded, after warm-up, in the same run; median per inference. Also: tinysim's
first-call compile time (a fresh process with an empty Numba cache) and the start time of a
second process with the cache warm (import + load + prepare + first inference).
Benchmark-only: needs ai-edge-litert and tflite-micro.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MODELS = ["kws_ref_model_int8", "vww_96_int8", "ic_resnet8_int8", "ad_autoencoder_int8",
          # the public corpus (legacy uint8 MobileNet v2 and DeepLab, the int8 LSTM); TFLM has no uint8 kernels
          "corpus/coral/mobilenet_v2_1.0_224_quant", "corpus/coral/deeplabv3_mnv2_dm05_pascal_quant",
          "corpus/coral/keras_lstm_mnist_ptq"]
BUDGET_S = 3.0  # per timed loop: large models get fewer repeats (at least 5)
START = """
import time; t0 = time.perf_counter()
from tinysim.workload.tflite_import import load_tflite
from tinysim.engine import run_graph, random_input
g = load_tflite({path!r}); run_graph(g, random_input(g, 0))
print(time.perf_counter() - t0)
"""


def median_us(fn, repeat: int) -> float:
    t = time.perf_counter()
    fn()
    repeat = max(5, min(repeat, int(BUDGET_S / max(time.perf_counter() - t, 1e-9))))
    for _ in range(max(2, repeat // 10)):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e6


def subprocess_seconds(code: str, cache_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=str(Path(__file__).resolve().parents[2] / "shared" / "models"))
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()

    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from tflite_micro.python.tflite_micro import runtime

    from tinysim.engine import prepare, random_input, run_graph
    from tinysim.workload.tflite_import import load_tflite

    with tempfile.TemporaryDirectory() as cache:
        first = {m: 0.0 for m in MODELS}
        first[MODELS[0]] = subprocess_seconds(
            START.format(path=f"{args.models}/{MODELS[0]}.tflite"), cache
        )  # cold cache
        warm = {m: subprocess_seconds(START.format(path=f"{args.models}/{m}.tflite"), cache) for m in MODELS}

    rows = []
    for m in MODELS:
        path = f"{args.models}/{m}.tflite"
        g = load_tflite(path)
        prep = prepare(g)
        x = random_input(g, 0)
        t_sim = median_us(lambda prep=prep, x=x: run_graph(prep, x), args.repeat)
        t_sim_nc = median_us(lambda prep=prep, x=x: run_graph(prep, x, count_events=False), args.repeat)
        lite = {}
        for label, resolver in (
            ("builtin", OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES),
            ("xnnpack", OpResolverType.AUTO),
        ):
            it = Interpreter(model_path=path, num_threads=1, experimental_op_resolver_type=resolver)
            it.allocate_tensors()
            idx = it.get_input_details()[0]["index"]

            def run_lite(it=it, idx=idx, x=x):
                it.set_tensor(idx, x[0])
                it.invoke()


            lite[label] = median_us(run_lite, args.repeat)
        def run_tflm(tm, x=x):
            tm.set_input(x[0], 0)
            tm.invoke()

        try:
            tm = runtime.Interpreter.from_file(path, arena_size=16 * 1024 * 1024)
            run_tflm(tm)
        except Exception:  # noqa: BLE001 -- TFLM refuses uint8 models (it dropped those kernels)
            tm = None

        t_tflm = median_us(lambda tm=tm: run_tflm(tm), max(20, args.repeat // 10)) if tm is not None else float("nan")
        rows.append((m, t_sim, t_sim_nc, lite["builtin"], lite["xnnpack"], t_tflm))

    head = f"{'model':40s} {'tinysim':>9s} {'no-count':>9s} {'LiteRT':>9s} {'XNNPACK':>9s} {'TFLM':>9s}"
    head += f" {'/LiteRT':>8s} {'/XNNPACK':>9s} {'/TFLM':>6s} {'2nd start':>10s}"
    print("median us per inference, single thread; ratios use tinysim with event counting")
    print(head)
    for m, s, snc, lb, lx, tf in rows:
        print(
            f"{m.split('/')[-1]:40s} {s:9.1f} {snc:9.1f} {lb:9.1f} {lx:9.1f} {tf:9.1f} {s / lb:8.2f} {s / lx:9.2f} {s / tf:6.3f} {warm[m]:9.2f}s"
        )
    print(f"first call with a cold Numba cache (compile all kernels, {MODELS[0]}): {first[MODELS[0]]:.1f} s")


if __name__ == "__main__":
    main()
