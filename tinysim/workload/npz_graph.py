"""A complete Graph as a YAML header plus a `.npz` of its arrays: how tinysim writes a network it changed.

The layer-list YAML front end seeds synthetic weights; a compressed (or otherwise edited) network
needs its real weights back, so this format keeps everything: every tensor (name, shape, dtype,
quantization, constant data) and every op (kind, operands, attributes). `load_workload` reads it
when a `.yaml` file says `format: graph-npz`.

    version: 1
    format: graph-npz
    name: ad_autoencoder_int8
    weights: ad_c.npz            # beside the YAML; keys t<i> (data), t<i>.scale, t<i>.zero_point
    inputs: [0]
    outputs: [30]
    tensors:
      - {name: input_1, shape: [1, 640], dtype: int8, quant_axis: 0}
      - {name: dense/weights, shape: [128, 640], dtype: int8, quant_axis: 0, constant: true}
    ops:
      - {kind: FULLY_CONNECTED, name: dense, inputs: [0, 1, 2], outputs: [3], attrs: {activation: RELU}}
    compression: {...}           # optional: what was applied and the encoded sizes

When `compression.layers` lists per-layer sizes (as `tinysim compress` writes them, one per
weighted layer in execution order), each layer's weight tensor gets `stored_bytes` (its encoded
size, `final_bytes`) and `stored_encoding` ('huffman', 'shared', 'quantized' or 'sparse'), so a
cost model can price the encoded weights where the architecture declares a decoder.

Quantization scales and zero points live in the `.npz` (float64 / int64, exact), so the YAML stays
readable however many channels a layer has.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tinysim.errors import WorkloadError
from tinysim.ops import MAC_OPS, OpKind
from tinysim.schema.fields import Where
from tinysim.schema.yamlio import load_yaml
from tinysim.workload.graph import Activation, DType, Graph, Op, OpAttrs, Padding, Quantization, Tensor
from tinysim.workload.layer_ops import INT32_MAX, MAX_ELEMENTS, _is_int
from tinysim.workload.validate import check_graph

FORMAT = "graph-npz"
FORMAT_VERSION = 1
_ENUMS = {"padding": Padding, "activation": Activation}


def is_graph_npz(path: str | Path) -> bool:
    """Whether a YAML file declares `format: graph-npz` (a cheap look at its top-level lines)."""
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("format:"):
                    return line.split(":", 1)[1].split("#", 1)[0].strip().strip("'\"") == FORMAT
    except (OSError, UnicodeDecodeError):
        return False
    return False


def save_graph_npz(graph: Graph, path: str | Path, *, extra: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Write `path` (YAML) and its `.npz` beside it; `extra` adds top-level keys (e.g. `compression`)."""
    path = Path(path)
    npz_path = path.with_suffix(".npz")
    arrays: dict[str, np.ndarray] = {}
    tensors = []
    for i, t in enumerate(graph.tensors):
        entry: dict[str, Any] = {"name": t.name, "shape": list(t.shape), "dtype": t.dtype.value}
        if t.quant is not None:
            entry["quant_axis"] = t.quant.axis
            arrays[f"t{i}.scale"] = np.asarray(t.quant.scale, np.float64)
            arrays[f"t{i}.zero_point"] = np.asarray(t.quant.zero_point, np.int64)
        if t.data is not None:
            entry["constant"] = True
            arrays[f"t{i}"] = np.asarray(t.data)
        tensors.append(entry)
    header = {
        "version": FORMAT_VERSION,
        "format": FORMAT,
        "name": graph.name,
        "source": graph.source,
        "weights": npz_path.name,
        "inputs": list(graph.inputs),
        "outputs": list(graph.outputs),
        **(extra or {}),
        "tensors": tensors,
        "ops": [_op_entry(op) for op in graph.ops],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(npz_path, **arrays)  # type: ignore[arg-type]  # mypy also matches **arrays to allow_pickle
    path.write_text(yaml.safe_dump(header, sort_keys=False, default_flow_style=None, width=120), encoding="utf-8")
    return path, npz_path


def _op_entry(op: Op) -> dict[str, Any]:
    default = OpAttrs()
    attrs = {}
    for f in fields(OpAttrs):
        value = getattr(op.attrs, f.name)
        if value != getattr(default, f.name):
            attrs[f.name] = (
                value.value if f.name in _ENUMS else (value.item() if isinstance(value, np.generic) else value)
            )
    return {
        "kind": op.kind.value,
        "name": op.name,
        "inputs": list(op.inputs),
        "outputs": list(op.outputs),
        "attrs": attrs,
    }


def load_graph_npz(path: str | Path) -> Graph:
    """Read a graph written by `save_graph_npz`; any inconsistency is a WorkloadError naming the file."""
    file = str(path)
    top = load_yaml(path, error=WorkloadError)
    try:
        if top.get("version") != FORMAT_VERSION or top.get("format") != FORMAT:
            raise WorkloadError(f"expected version: {FORMAT_VERSION} and format: {FORMAT}", file=file, line=1)
        npz_path = Path(path).parent / str(top["weights"])
        try:
            with np.load(npz_path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as err:
            raise WorkloadError(f"cannot read the weight file {npz_path}: {err}", file=file, field="weights") from err
        where = Where(file, error=WorkloadError)
        tensors = tuple(
            _tensor(i, entry, arrays, file, where.key(top, "tensors").item(top["tensors"], i))
            for i, entry in enumerate(top["tensors"])
        )
        ops = tuple(_op(entry) for entry in top["ops"])
        tensors = _with_stored_sizes(tensors, ops, top.get("compression"), file)
        graph = Graph(
            str(top["name"]),
            tensors,
            ops,
            tuple(int(i) for i in top["inputs"]),
            tuple(int(i) for i in top["outputs"]),
            source=str(top.get("source") or file),
        )
    except WorkloadError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise WorkloadError(f"malformed graph-npz file: {type(err).__name__}: {err}", file=file) from err
    check_graph(graph, file)
    return graph


def _tensor(i: int, entry: dict, arrays: dict[str, np.ndarray], file: str, where: Where) -> Tensor:
    shape = _shape(entry, where)
    dtype = DType(entry["dtype"])
    quant = None
    if "quant_axis" in entry:
        quant = Quantization(
            tuple(float(s) for s in arrays[f"t{i}.scale"]),
            tuple(int(z) for z in arrays[f"t{i}.zero_point"]),
            int(entry["quant_axis"]),
        )
    data = None
    if entry.get("constant"):
        data = np.ascontiguousarray(arrays[f"t{i}"])
        if data.dtype != dtype.numpy or data.shape != shape:
            raise WorkloadError(
                f"tensor {i} '{entry['name']}': weight file holds {data.dtype} {list(data.shape)}, "
                f"header says {dtype.value} {list(shape)}",
                file=file,
                field=f"tensors[{i}]",
            )
        data.setflags(write=False)
    return Tensor(str(entry["name"]), shape, dtype, quant, data)


def _shape(entry: dict, where: Where) -> tuple[int, ...]:
    """A tensor's dimensions: int32 whole numbers (as in a .tflite), at most MAX_ELEMENTS in all — checked
    before anything is sized from them."""
    value = entry["shape"]
    ok = isinstance(value, list) and len(value) <= 8 and all(_is_int(d) and d >= 0 for d in value)
    if not ok or math.prod(value) > MAX_ELEMENTS:
        raise where.key(entry, "shape").fail(
            f"expected a shape: up to 8 whole numbers in 0..{INT32_MAX}, at most {MAX_ELEMENTS:,} elements in all, "
            f"got {value!r:.80}"
        )
    return tuple(int(d) for d in value)


def _with_stored_sizes(tensors: tuple[Tensor, ...], ops: tuple[Op, ...], block: Any, file: str) -> tuple[Tensor, ...]:
    """Tensors with `stored_bytes`/`stored_encoding` set from a `compression:` block's per-layer sizes."""
    if not isinstance(block, dict) or not block.get("layers"):
        return tensors
    options = block.get("options") or {}
    weights = _weighted_tensors(tensors, ops)
    layers = block["layers"]
    if len(layers) != len(weights):
        raise WorkloadError(
            f"compression.layers lists {len(layers)} layers, the graph has {len(weights)} weighted layers",
            file=file,
            field="compression.layers",
        )
    out = list(tensors)
    for k, (index, record) in enumerate(zip(weights, layers)):
        tensor = tensors[index]
        if int(record["weights"]) != tensor.size:
            raise WorkloadError(
                f"layer {record.get('layer')}: {record['weights']} weights, tensor '{tensor.name}' has {tensor.size}",
                file=file,
                field=f"compression.layers[{k}]",
            )
        encoding = _encoding(record, options)
        if encoding is not None:
            out[index] = replace(tensor, stored_bytes=int(record["final_bytes"]), stored_encoding=encoding)
    return tuple(out)


def _weighted_tensors(tensors: tuple[Tensor, ...], ops: tuple[Op, ...]) -> list[int]:
    """Weight tensor indices of the MAC ops with constant int8 weights, in execution order, each once
    (the order `tinysim.compress` lists its layers in)."""
    found: list[int] = []
    for op in ops:
        if op.kind in MAC_OPS and len(op.inputs) > 1 and op.inputs[1] >= 0 and op.inputs[1] not in found:
            w = tensors[op.inputs[1]]
            if w.is_constant and w.dtype is DType.INT8:
                found.append(op.inputs[1])
    return found


def _encoding(record: dict, options: dict) -> str | None:
    """How a layer's weights are stored: the last stage that changed them; None when stored as int8."""
    if options.get("huffman"):
        return "huffman"
    if int(record.get("index_bits", 8)) < 8:
        return "shared" if options.get("share") else "quantized"
    return "sparse" if record.get("sparse") else None


def _op(entry: dict) -> Op:
    attrs: dict[str, Any] = {k: _ENUMS[k](v) if k in _ENUMS else v for k, v in dict(entry.get("attrs") or {}).items()}
    return Op(
        OpKind(entry["kind"]),
        str(entry["name"]),
        tuple(int(i) for i in entry["inputs"]),
        tuple(int(i) for i in entry["outputs"]),
        OpAttrs(**attrs),
    )


def read_header_key(path: str | Path, key: str) -> Any:
    """One top-level entry of a graph-npz header (e.g. `compression`), None when absent."""
    top = load_yaml(path, error=WorkloadError)
    return top.get(key) if isinstance(top, dict) else None
