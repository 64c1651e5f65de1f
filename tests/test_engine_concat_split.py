"""CONCATENATION / SPLIT / SPLIT_V bit-exact against LiteRT's builtin kernels: the corpus model
(legacy uint8) and a fuzz of single-op models (int8 copies, uint8 requantizing concatenations)."""

from __future__ import annotations

import numpy as np
import pytest
import tflite
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import require_model
from tests.tflite_builder import INT8, INT32, UINT8, Options, TensorSpec, single_op_model
from tinysim.engine.interpreter import run_graph
from tinysim.errors import UnsupportedOpError
from tinysim.workload.tflite_import import parse_tflite


def _litert(model: bytes | str, arrays: dict[int, np.ndarray]) -> list[np.ndarray]:
    kw = {"model_content": model} if isinstance(model, bytes) else {"model_path": model}
    it = Interpreter(**kw, experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    for d in it.get_input_details():
        it.set_tensor(d["index"], arrays[d["index"]])
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


@pytest.mark.parametrize("seed", range(5))
def test_split_concat_model_is_bit_exact(seed):
    path = require_model("corpus/coral/split_concat.tflite")
    graph = parse_tflite(path.read_bytes(), file=str(path), name=path.stem)
    rng = np.random.default_rng(seed)
    arrays = {t: rng.integers(0, 256, graph.tensors[t].shape, dtype=np.uint8) for t in graph.inputs}
    ours = run_graph(graph, [arrays[t] for t in graph.inputs]).outputs
    ref = _litert(str(path), arrays)
    assert len(ours) == len(ref) == 5
    for a, b in zip(ours, ref):
        assert a.dtype == b.dtype and np.array_equal(a, b)


@st.composite
def _cases(draw):
    rank = draw(st.integers(1, 4))
    shape = [draw(st.integers(1, 5)) for _ in range(rank)]
    axis = draw(st.integers(-rank, rank - 1))
    kind = draw(st.sampled_from(["concat", "split", "split_v", "concat_u8"]))
    n = draw(st.integers(1, 3))
    along = [draw(st.integers(1, 4)) for _ in range(n)]
    if kind == "split":
        along = [along[0]] * n
    quant = (draw(st.floats(0.001, 1.0)), draw(st.integers(-128, 127)))
    per_part = [(draw(st.floats(0.001, 1.0)), draw(st.integers(0, 255))) for _ in range(n)]
    return rank, shape, axis % rank, axis, kind, along, quant, per_part, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_fuzz_concat_split_bit_exact(case):
    _rank, shape, ax, axis, kind, along, (s, z), per_part, seed = case
    parts = [tuple(shape[:ax] + [a] + shape[ax + 1 :]) for a in along]
    whole = tuple(shape[:ax] + [sum(along)] + shape[ax + 1 :])
    u8 = kind == "concat_u8"
    dtype, zp = (UINT8, z + 128) if u8 else (INT8, z)
    if kind.startswith("concat"):
        quants = per_part if u8 else [(s, z)] * len(parts)
        tensors = [
            TensorSpec(f"x{k}", p, dtype, (q[0],), (q[1] if u8 else z,)) for k, (p, q) in enumerate(zip(parts, quants))
        ]
        tensors.append(TensorSpec("y", whole, dtype, (s,), (zp,)))
        n = len(parts)
        model = single_op_model(tflite.BuiltinOperator.CONCATENATION, tensors, op_inputs=list(range(n)), op_outputs=[n],
                                options=Options("ConcatenationOptions", {"Axis": axis}))  # fmt: skip
    else:
        tensors = [TensorSpec("x", whole, dtype, (s,), (zp,))]
        tensors += [TensorSpec(f"y{k}", p, dtype, (s,), (zp,)) for k, p in enumerate(parts)]
        n = len(parts)
        if kind == "split":
            tensors.append(TensorSpec("axis", (), INT32, data=np.array(axis, np.int32)))
            model = single_op_model(tflite.BuiltinOperator.SPLIT, tensors, op_inputs=[n + 1, 0],
                                    op_outputs=list(range(1, n + 1)), options=Options("SplitOptions", {"NumSplits": n}))  # fmt: skip
        else:
            tensors.append(TensorSpec("sizes", (n,), INT32, data=np.array(along, np.int32)))
            tensors.append(TensorSpec("axis", (), INT32, data=np.array(axis, np.int32)))
            model = single_op_model(tflite.BuiltinOperator.SPLIT_V, tensors, op_inputs=[0, n + 1, n + 2],
                                    op_outputs=list(range(1, n + 1)), options=Options("SplitVOptions", {"NumSplits": n}))  # fmt: skip
    graph = parse_tflite(model)
    rng = np.random.default_rng(seed)
    np_dtype = np.uint8 if u8 else np.int8
    info = np.iinfo(np_dtype)
    arrays = {t: rng.integers(info.min, info.max + 1, graph.tensors[t].shape, dtype=np_dtype) for t in graph.inputs}
    ref = _litert(model, arrays)
    ours = run_graph(graph, [arrays[t] for t in graph.inputs]).outputs
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert a.dtype == b.dtype and np.array_equal(a, b), (a, b)


def test_int8_concat_of_differing_quantization_is_refused():
    tensors = [TensorSpec("a", (1, 2), INT8, (0.5,), (0,)), TensorSpec("b", (1, 2), INT8, (0.25,), (0,)),
               TensorSpec("y", (1, 4), INT8, (0.5,), (0,))]  # fmt: skip
    model = single_op_model(tflite.BuiltinOperator.CONCATENATION, tensors, op_inputs=[0, 1], op_outputs=[2],
                            options=Options("ConcatenationOptions", {"Axis": 1}))  # fmt: skip
    with pytest.raises(RuntimeError):  # LiteRT's int8 kernel refuses it too
        _litert(model, {0: np.zeros((1, 2), np.int8), 1: np.zeros((1, 2), np.int8)})
    with pytest.raises(UnsupportedOpError, match="quantized unlike the output"):
        run_graph(parse_tflite(model), [np.zeros((1, 2), np.int8)] * 2)
