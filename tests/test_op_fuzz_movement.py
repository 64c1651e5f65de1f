"""Differential fuzz of the data-movement ops: random single-op models, LiteRT against tinysim, bit for bit.

PAD, PADV2, STRIDED_SLICE, SLICE, TRANSPOSE, PACK, UNPACK, GATHER, GATHER_ND, RESHAPE, SQUEEZE,
EXPAND_DIMS, CONCATENATION, SPLIT, SPLIT_V over int8, uint8, int16, int32 and float32 (one byte-moving
kernel per op, so the dtypes share each op's cases). A `Case` rebuilds its model: `Case("PAD", {...}).build()`.
STRIDED_SLICE's output shape is LiteRT's own (it resizes the output from the constant begin/end/strides),
read from a first run. All outputs of multi-output ops (UNPACK, SPLIT) are compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import tflite
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from naive import naive_gather, naive_gather_nd, naive_pad, naive_strided_slice
from tflite_builder import FLOAT32, INT8, INT16, INT32, INT64, UINT8, Options, TensorSpec, single_op_model

from tinysim.engine import run_graph
from tinysim.errors import UnsupportedOpError
from tinysim.workload.tflite_import import parse_tflite

Op = tflite.BuiltinOperator
EXAMPLES = 200
CODES = {"int8": INT8, "uint8": UINT8, "int16": INT16, "int32": INT32, "float32": FLOAT32}
DTYPES = tuple(CODES)


@dataclass(frozen=True)
class Case:
    """One generated model: the op kind and the keyword parameters of its builder."""

    op: str
    params: dict[str, Any]

    def build(self) -> tuple[bytes, list[np.ndarray]]:
        return BUILDERS[self.op](**self.params)


def _spec(name, shape, dtype, q=(0.5, 0), data=None) -> TensorSpec:
    quant = {} if dtype in ("int32", "float32") else {"scale": (q[0],), "zero_point": (q[1],)}
    return TensorSpec(name, tuple(shape), CODES[dtype], data=data, **quant)


def _values(seed: int, dtype: str, shape) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "float32":
        return rng.standard_normal(shape).astype(np.float32)
    info = np.iinfo(dtype) if dtype != "int32" else np.iinfo(np.int16)
    return rng.integers(info.min, info.max + 1, size=shape).astype(dtype)


def _const(name, values, code=INT32) -> TensorSpec:
    arr = np.asarray(values, np.int64 if code == INT64 else np.int32)
    return TensorSpec(name, arr.shape, code, data=arr)


def _model(op, tensors, ins, outs, options=None) -> bytes:
    return single_op_model(op, tensors, op_inputs=ins, op_outputs=outs, options=options)


# --- builders: parameters -> (.tflite bytes, inputs) -------------------------------------------------


def build_pad(kind, dtype, shape, pads, value, q, seed):
    out = tuple(d + a + b for d, (a, b) in zip(shape, pads))
    tensors = [_spec("x", shape, dtype, q), _const("pads", pads), _spec("y", out, dtype, q)]
    ins = (0, 1)
    if kind == "PADV2" and value is not None:
        tensors.append(_spec("v", (1,), dtype, q, data=np.asarray([value], dtype)))
        ins = (0, 1, 3)
    options = Options("PadV2Options" if kind == "PADV2" else "PadOptions")
    return _model(getattr(Op, kind), tensors, ins, (2,), options), [_values(seed, dtype, shape)]


def build_strided_slice(dtype, shape, begin, end, strides, masks, q, seed, out=None):
    if out is None:  # LiteRT resizes the output itself: take its shape
        model, inputs = build_strided_slice(dtype, shape, begin, end, strides, masks, q, seed, out=(1,))
        out = run_litert(model, inputs)[0].shape
    tensors = [_spec("x", shape, dtype, q), _const("b", begin), _const("e", end), _const("s", strides),
               _spec("y", out, dtype, q)]  # fmt: skip
    options = Options("StridedSliceOptions", dict(masks))
    return _model(Op.STRIDED_SLICE, tensors, (0, 1, 2, 3), (4,), options), [_values(seed, dtype, shape)]


def build_slice(dtype, shape, begin, size, index64, q, seed):
    code = INT64 if index64 else INT32
    out = tuple(d - b if n == -1 else n for d, b, n in zip(shape, begin, size))
    tensors = [
        _spec("x", shape, dtype, q),
        _const("b", begin, code),
        _const("n", size, code),
        _spec("y", out, dtype, q),
    ]
    return _model(Op.SLICE, tensors, (0, 1, 2), (3,), Options("SliceOptions")), [_values(seed, dtype, shape)]


def build_transpose(dtype, shape, perm, q, seed):
    out = tuple(shape[a] for a in perm)
    tensors = [_spec("x", shape, dtype, q), _const("perm", perm), _spec("y", out, dtype, q)]
    return _model(Op.TRANSPOSE, tensors, (0, 1), (2,), Options("TransposeOptions")), [_values(seed, dtype, shape)]


def build_pack(dtype, shape, n, axis, constant_first, q, seed):
    out = list(shape)
    out.insert(axis % (len(shape) + 1), n)
    parts = [_values(seed + k, dtype, shape) for k in range(n)]
    tensors = [_spec(f"x{k}", shape, dtype, q, data=parts[0] if k == 0 and constant_first else None) for k in range(n)]
    tensors.append(_spec("y", out, dtype, q))
    options = Options("PackOptions", {"ValuesCount": n, "Axis": axis})
    model = _model(Op.PACK, tensors, tuple(range(n)), (n,), options)
    return model, parts[1:] if constant_first else parts


def build_unpack(dtype, shape, axis, q, seed):
    n = shape[axis]
    part = tuple(d for a, d in enumerate(shape) if a != axis % len(shape))
    tensors = [_spec("x", shape, dtype, q)] + [_spec(f"y{k}", part, dtype, q) for k in range(n)]
    options = Options("UnpackOptions", {"Num": n, "Axis": axis})
    return _model(Op.UNPACK, tensors, (0,), tuple(range(1, n + 1)), options), [_values(seed, dtype, shape)]


def _indices(seed, shape, high, index64):
    rng = np.random.default_rng(seed + 7)
    return rng.integers(0, high, size=shape).astype(np.int64 if index64 else np.int32)


def build_gather(dtype, shape, axis, batch_dims, idx_shape, index64, constant, q, seed):
    idx = _indices(seed, idx_shape, shape[axis], index64)
    out = tuple(shape[:axis]) + tuple(idx_shape[batch_dims:]) + tuple(shape[axis + 1 :])
    code = INT64 if index64 else INT32
    tensors = [_spec("x", shape, dtype, q), TensorSpec("i", tuple(idx_shape), code, data=idx if constant else None),
               _spec("y", out, dtype, q)]  # fmt: skip
    options = Options("GatherOptions", {"Axis": axis, "BatchDims": batch_dims})
    inputs = [_values(seed, dtype, shape)] + ([] if constant else [idx])
    return _model(Op.GATHER, tensors, (0, 1), (2,), options), inputs


def build_gather_nd(dtype, shape, idx_shape, index64, constant, q, seed):
    nd = idx_shape[-1]
    rng = np.random.default_rng(seed + 7)
    idx = np.stack([rng.integers(0, shape[j], size=idx_shape[:-1]) for j in range(nd)], axis=-1)
    idx = idx.astype(np.int64 if index64 else np.int32)
    out = tuple(idx_shape[:-1]) + tuple(shape[nd:])
    code = INT64 if index64 else INT32
    tensors = [_spec("x", shape, dtype, q), TensorSpec("i", tuple(idx_shape), code, data=idx if constant else None),
               _spec("y", out, dtype, q)]  # fmt: skip
    inputs = [_values(seed, dtype, shape)] + ([] if constant else [idx])
    return _model(Op.GATHER_ND, tensors, (0, 1), (2,), Options("GatherNdOptions")), inputs


def build_reshape_like(kind, dtype, shape, arg, q, seed):
    if kind == "SQUEEZE":
        out = tuple(d for a, d in enumerate(shape) if not (d == 1 and (not arg or a in arg)))
        tensors = [_spec("x", shape, dtype, q), _spec("y", out, dtype, q)]
        return _model(Op.SQUEEZE, tensors, (0,), (1,), Options("SqueezeOptions", {"SqueezeDims": list(arg)})), [
            _values(seed, dtype, shape)]  # fmt: skip
    if kind == "EXPAND_DIMS":
        out = list(shape)
        out.insert(arg if arg >= 0 else len(shape) + 1 + arg, 1)
        tensors = [_spec("x", shape, dtype, q), _const("a", [arg]), _spec("y", out, dtype, q)]
        return _model(Op.EXPAND_DIMS, tensors, (0, 1), (2,), Options("ExpandDimsOptions")), [
            _values(seed, dtype, shape)
        ]
    tensors = [_spec("x", shape, dtype, q), _const("shape", list(arg)), _spec("y", arg, dtype, q)]
    options = Options("ReshapeOptions", {"NewShape": list(arg)})
    return _model(Op.RESHAPE, tensors, (0, 1), (2,), options), [_values(seed, dtype, shape)]


def build_concat(dtype, shapes, axis, constant_first, q, seed):
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    parts = [_values(seed + k, dtype, s) for k, s in enumerate(shapes)]
    n = len(shapes)
    tensors = [_spec(f"x{k}", s, dtype, q, data=parts[0] if k == 0 and constant_first else None)
               for k, s in enumerate(shapes)] + [_spec("y", out, dtype, q)]  # fmt: skip
    options = Options("ConcatenationOptions", {"Axis": axis, "FusedActivationFunction": 0})
    model = _model(Op.CONCATENATION, tensors, tuple(range(n)), (n,), options)
    return model, parts[1:] if constant_first else parts


def build_split(kind, dtype, shape, axis, sizes, q, seed):
    n = len(sizes)
    parts = [tuple(s if a == axis else d for a, d in enumerate(shape)) for s in sizes]
    outs = [_spec(f"y{k}", p, dtype, q) for k, p in enumerate(parts)]
    if kind == "SPLIT":
        tensors = [_const("axis", [axis]), _spec("x", shape, dtype, q), *outs]
        model = _model(Op.SPLIT, tensors, (0, 1), tuple(range(2, 2 + n)), Options("SplitOptions", {"NumSplits": n}))
    else:
        tensors = [_spec("x", shape, dtype, q), _const("sizes", list(sizes)), _const("axis", [axis]), *outs]
        model = _model(
            Op.SPLIT_V, tensors, (0, 1, 2), tuple(range(3, 3 + n)), Options("SplitVOptions", {"NumSplits": n})
        )
    return model, [_values(seed, dtype, shape)]


BUILDERS = {"PAD": build_pad, "STRIDED_SLICE": build_strided_slice, "SLICE": build_slice, "TRANSPOSE": build_transpose,
            "PACK": build_pack, "UNPACK": build_unpack, "GATHER": build_gather, "GATHER_ND": build_gather_nd,
            "RESHAPE": build_reshape_like, "CONCATENATION": build_concat, "SPLIT": build_split}  # fmt: skip


# --- strategies --------------------------------------------------------------------------------------

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)
seeds = st.integers(0, 2**16)


@st.composite
def quant(draw, dtype, int16_zp=True):
    if dtype == "int16":  # LiteRT's int16 CONCATENATION and EXPAND_DIMS require zero point 0
        return (draw(st.sampled_from([0.01, 0.5, 3.0])), draw(st.sampled_from([0, 0, -5, 7])) if int16_zp else 0)
    lo, hi = (0, 255) if dtype == "uint8" else (-128, 127)
    return (draw(st.sampled_from([0.01, 0.5, 3.0])), draw(st.integers(lo, hi)))


@st.composite
def pad_cases(draw, kind):
    dtype, shape = draw(st.sampled_from(DTYPES)), draw(shapes)
    pads = [[draw(st.integers(0, 2)), draw(st.integers(0, 2))] for _ in shape]
    value = None
    if kind == "PADV2" and draw(st.booleans()):
        value = float(draw(st.integers(-3, 3))) * 1.5 if dtype == "float32" else draw(st.integers(0, 100))
    return Case("PAD", {"kind": kind, "dtype": dtype, "shape": shape, "pads": pads, "value": value, "q": draw(quant(dtype)),
                            "seed": draw(seeds)})  # fmt: skip


@st.composite
def strided_slice_cases(draw):
    dtype, shape = draw(st.sampled_from(DTYPES)), draw(st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple))
    n = draw(st.integers(1, len(shape)))
    begin = [draw(st.integers(-6, 6)) for _ in range(n)]
    end = [draw(st.integers(-6, 6)) for _ in range(n)]
    strides = [draw(st.sampled_from([1, 1, 2, 3, -1, -2])) for _ in range(n)]
    bits = st.integers(0, (1 << n) - 1)
    masks = {"BeginMask": draw(bits), "EndMask": draw(bits), "ShrinkAxisMask": draw(bits)}
    if draw(st.booleans()):
        masks["EllipsisMask"] = 1 << draw(st.integers(0, n - 1))
    if draw(st.booleans()):
        masks["NewAxisMask"] = draw(bits)
    if len(shape) + masks.get("NewAxisMask", 0).bit_count() > 5:
        masks.pop("NewAxisMask")
    return Case("STRIDED_SLICE", {"dtype": dtype, "shape": shape, "begin": begin, "end": end, "strides": strides, "masks": masks,
                                      "q": draw(quant(dtype)), "seed": draw(seeds)})  # fmt: skip


@st.composite
def slice_cases(draw):
    dtype, shape = draw(st.sampled_from(DTYPES)), draw(shapes)
    begin = [draw(st.integers(0, d - 1)) for d in shape]
    size = [draw(st.sampled_from([-1, draw(st.integers(1, d - b))])) for d, b in zip(shape, begin)]
    return Case("SLICE", {"dtype": dtype, "shape": shape, "begin": begin, "size": size, "index64": draw(st.booleans()),
                              "q": draw(quant(dtype)), "seed": draw(seeds)})  # fmt: skip


@st.composite
def transpose_cases(draw):
    dtype, shape = draw(st.sampled_from(DTYPES)), draw(st.lists(st.integers(1, 4), min_size=1, max_size=6).map(tuple))
    perm = draw(st.permutations(range(len(shape))))
    return Case(
        "TRANSPOSE", {"dtype": dtype, "shape": shape, "perm": list(perm), "q": draw(quant(dtype)), "seed": draw(seeds)}
    )


@st.composite
def pack_cases(draw, kind):
    dtype, shape = draw(st.sampled_from(DTYPES)), draw(shapes)
    if kind == "PACK":
        axis = draw(st.integers(-len(shape) - 1, len(shape)))
        return Case("PACK", {"dtype": dtype, "shape": shape, "n": draw(st.integers(1, 4)), "axis": axis,
                                 "constant_first": draw(st.booleans()), "q": draw(quant(dtype)), "seed": draw(seeds)})  # fmt: skip
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return Case("UNPACK", {"dtype": dtype, "shape": shape, "axis": axis, "q": draw(quant(dtype)), "seed": draw(seeds)})


@st.composite
def gather_cases(draw, kind):
    dtype, shape = draw(st.sampled_from(DTYPES)), draw(shapes)
    index64, constant, q, seed = draw(st.booleans()), draw(st.booleans()), draw(quant(dtype)), draw(seeds)
    if kind == "GATHER":
        axis = draw(st.integers(0, len(shape) - 1))
        batch_dims = draw(st.integers(0, axis))
        idx_shape = tuple(shape[:batch_dims]) + draw(st.lists(st.integers(1, 3), max_size=2).map(tuple))
        return Case("GATHER", {"dtype": dtype, "shape": shape, "axis": axis, "batch_dims": batch_dims, "idx_shape": idx_shape,
                                   "index64": index64, "constant": constant, "q": q, "seed": seed})  # fmt: skip
    idx_shape = draw(st.lists(st.integers(1, 3), max_size=2).map(tuple)) + (draw(st.integers(1, len(shape))),)
    return Case("GATHER_ND", {"dtype": dtype, "shape": shape, "idx_shape": idx_shape, "index64": index64, "constant": constant,
                                  "q": q, "seed": seed})  # fmt: skip


@st.composite
def reshape_cases(draw, kind):
    dtype, shape = draw(st.sampled_from(DTYPES)), draw(shapes)
    if kind == "SQUEEZE":
        ones = [a for a, d in enumerate(shape) if d == 1]
        arg = tuple(draw(st.lists(st.sampled_from(ones), unique=True))) if ones else ()
    elif kind == "EXPAND_DIMS":
        arg = draw(st.integers(-len(shape) - 1, len(shape)))
    else:
        arg = (math.prod(shape),) if draw(st.booleans()) else tuple(reversed(shape))
    return Case(
        "RESHAPE",
        {
            "kind": kind,
            "dtype": dtype,
            "shape": shape,
            "arg": arg,
            "q": draw(quant(dtype, kind != "EXPAND_DIMS")),
            "seed": draw(seeds),
        },
    )


@st.composite
def concat_cases(draw, kind):
    dtype, shape = draw(st.sampled_from(DTYPES)), draw(shapes)
    axis = draw(st.integers(0, len(shape) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=4))
    q, seed = draw(quant(dtype, kind != "CONCATENATION")), draw(seeds)
    if kind == "CONCATENATION":
        shapes_ = [tuple(s if a == axis else d for a, d in enumerate(shape)) for s in sizes]
        return Case("CONCATENATION", {"dtype": dtype, "shapes": shapes_, "axis": axis, "constant_first": draw(st.booleans()),
                                          "q": q, "seed": seed})  # fmt: skip
    if kind == "SPLIT":
        sizes = [sizes[0]] * len(sizes)
    whole = tuple(sum(sizes) if a == axis else d for a, d in enumerate(shape))
    return Case(
        "SPLIT", {"kind": kind, "dtype": dtype, "shape": whole, "axis": axis, "sizes": sizes, "q": q, "seed": seed}
    )


STRATEGIES = {"STRIDED_SLICE": strided_slice_cases(), "SLICE": slice_cases(), "TRANSPOSE": transpose_cases()}
for _family, _kinds in ((pad_cases, ("PAD", "PADV2")), (pack_cases, ("PACK", "UNPACK")),
                        (gather_cases, ("GATHER", "GATHER_ND")), (reshape_cases, ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")),
                        (concat_cases, ("CONCATENATION", "SPLIT", "SPLIT_V"))):  # fmt: skip
    STRATEGIES.update({k: _family(k) for k in _kinds})


# --- checks ------------------------------------------------------------------------------------------


def run_litert(model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    interpreter.allocate_tensors()
    for detail, x in zip(interpreter.get_input_details(), inputs):
        interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


# Variants tinysim refuses on purpose (the refusal's text): LiteRT's loop writes nothing for an axis shrunk
# with a negative stride or past its end, so its output there is whatever the buffer held.
REFUSED = ("shrunk axis",)


def check_case(case: Case) -> None:
    model, inputs = case.build()
    expected = run_litert(model, inputs)
    graph = parse_tflite(model, file=f"{case.op}.tflite")
    try:
        got = run_graph(graph, inputs, count_events=True).outputs
    except UnsupportedOpError as e:
        assume(not any(r in str(e) for r in REFUSED))
        raise
    for e, g in zip(expected, got, strict=True):
        if e.dtype != g.dtype or e.shape != g.shape or e.tobytes() != g.tobytes():
            pytest.fail(f"tinysim != LiteRT ({g.dtype}{g.shape} vs {e.dtype}{e.shape}); rebuild with {case!r}")


@pytest.mark.parametrize("op", sorted(STRATEGIES))
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_op_matches_litert(op, data):
    check_case(data.draw(STRATEGIES[op], label="case"))


def _engine(case: Case) -> tuple[list[np.ndarray], list[np.ndarray]]:
    model, inputs = case.build()
    return run_graph(parse_tflite(model), inputs).outputs, inputs


def test_kernels_match_naive_twins():
    q = (0.5, 3)
    (got,), (x,) = _engine(Case("PAD", {"kind": "PADV2", "dtype": "int16", "shape": (2, 3), "pads": [[1, 0], [2, 1]],
                                            "value": 7, "q": (0.5, 0), "seed": 1}))  # fmt: skip
    assert np.array_equal(got, naive_pad(x, [[1, 0], [2, 1]], 7))
    (got,), (x,) = _engine(Case("PAD", {"kind": "PAD", "dtype": "uint8", "shape": (3,), "pads": [[2, 1]], "value": None, "q": q,
                                            "seed": 2}))  # fmt: skip
    assert np.array_equal(got, naive_pad(x, [[2, 1]], 3))  # the uint8 zero point, not 0
    args = {"begin": [4, 0], "end": [0, 3], "strides": [-2, 1], "masks": {"EndMask": 2}}
    (got,), (x,) = _engine(Case("STRIDED_SLICE", dict(dtype="float32", shape=(5, 4), q=q, seed=3, **args)))
    assert np.array_equal(got, naive_strided_slice(x, [4, 0], [0, 3], [-2, 1], end_mask=2))
    case = Case("GATHER", {"dtype": "int8", "shape": (2, 3, 4), "axis": 2, "batch_dims": 1, "idx_shape": (2, 5), "index64": True,
                               "constant": False, "q": q, "seed": 4})  # fmt: skip
    (got,), (x, idx) = _engine(case)
    assert np.array_equal(got, naive_gather(x, idx, axis=2, batch_dims=1))
    case = Case("GATHER_ND", {"dtype": "int32", "shape": (3, 4, 2), "idx_shape": (5, 2), "index64": False, "constant": False,
                                  "q": q, "seed": 5})  # fmt: skip
    (got,), (x, idx) = _engine(case)
    assert np.array_equal(got, naive_gather_nd(x, idx))


def test_copy_events_count_bytes_only():
    model, inputs = build_pad("PAD", "int16", (2, 3), [[1, 0], [0, 2]], None, (0.5, 0), 0)
    e = run_graph(parse_tflite(model), inputs).events[0]
    assert (e.act_bytes_read, e.act_bytes_written, e.act_bytes_unique_read, e.elementwise) == (12, 30, 12, 0)
    assert e.output_zeros >= 15 - 6  # the padding is all zero points


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            Case(
                "STRIDED_SLICE",
                {
                    "dtype": "int8",
                    "shape": (3,),
                    "begin": [2],
                    "end": [2],
                    "strides": [-2],
                    "out": (),
                    "masks": {"BeginMask": 1, "ShrinkAxisMask": 1},
                    "q": (3.0, 0),
                    "seed": 0,
                },
            ),
            "shrunk axis",
        ),
        (
            Case(
                "STRIDED_SLICE",
                {
                    "dtype": "int8",
                    "shape": (3, 2),
                    "begin": [0, 0],
                    "end": [1, 2],
                    "strides": [1, 1],
                    "out": (1, 2),
                    "masks": {"Offset": True},
                    "q": (3.0, 0),
                    "seed": 0,
                },
            ),
            "Offset",
        ),
    ],
)
def test_refusals(case, message):
    model, _ = case.build()
    with pytest.raises(UnsupportedOpError, match=message):
        run_graph(parse_tflite(model), case.build()[1])


def test_refuses_requantizing_copy():
    tensors = [_spec("x", (2, 3), "int8", (0.5, 1)), _const("perm", [1, 0]), _spec("y", (3, 2), "int8", (0.25, 1))]
    model = _model(Op.TRANSPOSE, tensors, (0, 1), (2,), Options("TransposeOptions"))
    with pytest.raises(UnsupportedOpError, match="quantized differently"):
        run_graph(parse_tflite(model), [np.zeros((2, 3), np.int8)])
