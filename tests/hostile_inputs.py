"""The hostile inputs of issue 14's "Done when", each refused in one line: built here once for the regression
tests (tests/test_reliability*.py: refused, one line, the right reason) and for the benchmark that times them
as a user would (benchmarks/refusals.py: target 2 s, start-up included — a wall-clock bound is a benchmark's
job, not a unit test's, on a loaded CI machine)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tflite
from tflite_builder import INT32, Options, TensorSpec, single_op_model

ROOT = Path(__file__).resolve().parents[1]
REFUSAL_TARGET_S = 2.0  # issue 14: each refused in one line within 2 s


def fc_model(batch: int, n_in: int, n_out: int) -> bytes:
    """A one-op int8 fully connected model (x: batch x n_in -> y: batch x n_out)."""
    rng = np.random.default_rng(0)
    tensors = [
        TensorSpec("x", (batch, n_in), scale=(0.05,), zero_point=(-3,)),
        TensorSpec("w", (n_out, n_in), scale=(0.02,), zero_point=(0,), data=rng.integers(-127, 128, (n_out, n_in))),
        TensorSpec("b", (n_out,), INT32, scale=(0.001,), zero_point=(0,), data=rng.integers(-500, 500, n_out)),
        TensorSpec("y", (batch, n_out), scale=(0.1,), zero_point=(2,)),
    ]
    opts = Options("FullyConnectedOptions", {"FusedActivationFunction": 0})
    return single_op_model(
        tflite.BuiltinOperator.FULLY_CONNECTED, tensors, op_inputs=(0, 1, 2), op_outputs=(3,), options=opts
    )


def relu_model(shape: tuple[int, ...]) -> bytes:
    """A one-op int8 RELU model (x -> y)."""
    tensors = [
        TensorSpec("x", shape, scale=(0.5,), zero_point=(0,)),
        TensorSpec("y", shape, scale=(0.5,), zero_point=(0,)),
    ]
    return single_op_model(tflite.BuiltinOperator.RELU, tensors, op_inputs=(0,), op_outputs=(1,))


def billion_point_grid(tmp_path: Path) -> tuple[str, ...]:
    """A 9-axis x 10-value sweep grid: 10^9 design points."""

    def axis(key: str, unit: str) -> str:
        return f"  {key}: [{', '.join(f'{v} {unit}' for v in range(1, 11))}]"

    keys = [
        ("memories.sram.size", "KiB"),
        ("memories.sram.read_energy", "pJ"),
        ("memories.sram.write_energy", "pJ"),
        ("memories.sram.leakage", "uW"),
        ("memories.sram.bandwidth", "MB/s"),
        ("memories.flash.size", "MiB"),
        ("memories.flash.read_energy", "pJ"),
        ("memories.flash.leakage", "uW"),
        ("compute.cpu.energy_per_cycle", "pJ"),
    ]
    axes = "\n".join(axis(key, unit) for key, unit in keys)
    sweep = tmp_path / "huge.yaml"
    sweep.write_text(f"version: 1\nname: huge\nbase: stm32l4r5\naxes:\n{axes}\nworkloads: [kws]\n")
    return ("sweep", str(sweep), "-o", str(tmp_path / "r.sqlite"))


def huge_input(tmp_path: Path) -> tuple[str, ...]:
    """A layer list whose input is 100,000 x 100,000."""
    big = tmp_path / "big.yaml"
    big.write_text(
        "version: 1\nname: big\nseed: 0\ninput: {name: x, shape: [1, 100000, 100000, 1], scale: 0.5, "
        "zero_point: 0}\nlayers:\n  - {name: dw1, op: depthwise_conv2d, kernel: 3, padding: same}\n"
    )
    return ("run", "stm32l4r5", str(big))


def batch_macs(tmp_path: Path) -> tuple[str, ...]:
    """A .tflite of batch 100,000 past the MAC limit (1024 x 1024 MACs per row)."""
    path = tmp_path / "batch.tflite"
    path.write_bytes(fc_model(100_000, 1024, 1024))
    return ("run", "stm32l4r5", str(path))


def batch_activations(tmp_path: Path) -> tuple[str, ...]:
    """A .tflite of batch 100,000 past the activation limit (3.05 GiB in + 3.05 GiB out)."""
    path = tmp_path / "batch.tflite"
    path.write_bytes(relu_model((100_000, 128, 128, 2)))
    return ("run", "stm32l4r5", str(path))


def long_duration(tmp_path: Path) -> tuple[str, ...]:
    return ("always-on", str(ROOT / "workloads" / "scenarios" / "kws_always_on.yaml"), "--duration", "1e12 s")


def long_duration_in_file(tmp_path: Path) -> tuple[str, ...]:
    path = tmp_path / "s.yaml"
    text = (ROOT / "workloads" / "scenarios" / "kws_always_on.yaml").read_text()
    path.write_text(
        text.replace("duration: 60 s", "duration: 1e12 s")
        .replace("../../archs/", str(ROOT / "archs") + "/")
        .replace("../kws_fc.yaml", str(ROOT / "workloads" / "kws_fc.yaml"))
    )
    return ("always-on", str(path))


def dev_zero(tmp_path: Path) -> tuple[str, ...]:
    link = tmp_path / "zero.tflite"
    link.symlink_to("/dev/zero")
    return ("run", "stm32l4r5", str(link))


def fifo(tmp_path: Path) -> tuple[str, ...]:
    path = tmp_path / "model.tflite"
    os.mkfifo(path)
    return ("run", "stm32l4r5", str(path))


# (id, the command's arguments in a fresh folder, what its one line must say)
DONE_WHEN: list[tuple[str, Callable[[Path], tuple[str, ...]], str]] = [
    ("grid-1e9", billion_point_grid, "1e+09 design points"),
    ("input-100000x100000", huge_input, "GiB of activations"),
    ("tflite-batch-100000-macs", batch_macs, "running it needs ~1.05e+11 MACs"),
    ("tflite-batch-100000-activations", batch_activations, "running it needs ~6.1 GiB of activations"),
    ("duration-1e12-flag", long_duration, "--duration: expected a time"),
    ("duration-1e12-file", long_duration_in_file, "duration: expected a time"),
    ("dev-zero", dev_zero, "not a regular file"),
    ("fifo", fifo, "not a regular file"),
]
