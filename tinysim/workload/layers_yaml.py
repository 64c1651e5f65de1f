"""Layer-list YAML: a network described by its layer shapes, built into an int8 `Graph`.

For networks you have no `.tflite` of, or want to vary. Shapes are real; weight values are seeded
synthetic int8 (see `synthetic.py`), quantized like the TFLite converter would, so the int8 engine
can run the graph and the cost model sees exactly the tensors a converted model would have.

    version: 1                       # required; the format version
    name: kws                        # required
    description: MLPerf Tiny KWS DS-CNN      # optional text
    source: "github.com/mlcommons/tiny @ 1afd2c98, .../kws_ref_model.tflite"   # optional provenance
    seed: 0                          # optional (default 0): seeds the synthetic weights
    input: {name: input_1, shape: [1, 49, 10, 1], scale: 0.5847, zero_point: 83}   # int8 input
    outputs: [softmax]               # optional: graph outputs (default: the last layer)
    layers:
      - {name: conv1, op: conv2d, filters: 64, kernel: [10, 4], stride: 2, padding: same, activation: relu}
      - {name: dw1, op: depthwise_conv2d, kernel: 3, padding: same, activation: relu}
      - {name: pool, op: avg_pool2d, pool: [25, 5]}
      - {name: flatten, op: reshape, shape: [1, 64]}
      - {name: fc, op: fully_connected, units: 12}
      - {name: softmax, op: softmax}

Each layer reads the previous layer's output unless it says `input: <layer or input name>`;
`op: add` takes `inputs: [a, b]` (equal shapes), which is how residual networks branch and join.
Sizes written `N` mean `[N, N]` (height, width). Keys per op (besides `name`, `op`, `input`):

    conv2d            filters, kernel; stride=1, dilation=1, padding=valid, activation=none
    depthwise_conv2d  kernel; depth_multiplier=1, stride=1, dilation=1, padding=valid, activation=none
    fully_connected   units; activation=none   (input rows x last dimension -> rows x units)
    avg_pool2d        pool; stride=pool, padding=valid, activation=none
    max_pool2d        pool; stride=pool, padding=valid, activation=none
    add               inputs: [a, b]; activation=none
    reshape           shape (one entry may be -1)
    softmax           beta=1.0

`padding` is `same` or `valid` (TFLite rules); `activation` is `none`, `relu`, `relu6` or
`relu_n1_to_1` (fused, as in TFLite). Layouts are TFLite's: NHWC activations, OHWI conv weights,
1HW(C*M) depthwise weights, (out, in) fully-connected weights, int32 biases. Any mistake is a
`WorkloadError` naming file, line and field, e.g. `kws.yaml:9: layers[2].kernel: ...`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tinysim.errors import WorkloadError
from tinysim.schema.collect import ErrorCollector
from tinysim.schema.fields import Where, block, closest, expect_list, expect_mapping, get_choice, get_str
from tinysim.schema.jsonschema import Block, Choice, Field, ListOf, Number, OneOf, Ref, Text, document
from tinysim.schema.yamlio import load_yaml
from tinysim.workload.graph import DType, Graph, Quantization, Tensor
from tinysim.workload.layer_ops import (
    _ACTIVATIONS,
    _PADDINGS,
    BUILDERS,
    LAYER_KEYS,
    GraphBuilder,
    LayerOp,
    Value,
    read_activation,
    read_float,
    read_int,
    read_pair,
    read_shape,
)
from tinysim.workload.synthetic import input_rms
from tinysim.workload.validate import FLOAT32_MAX, FLOAT32_MIN_NORMAL, check_graph

FORMAT_VERSION = 1
_WHOLE = Number(minimum=1, integer=True)
_PAIR = OneOf((_WHOLE, ListOf(_WHOLE, min_items=2, max_items=2)))  # read_pair: N or [height, width]
_INPUT = Block(
    {
        "name": Text(),
        "shape": ListOf(_WHOLE, min_items=1, max_items=6),
        "scale": Number(minimum=0, exclusive=True),
        "zero_point": Number(minimum=-128, maximum=127, integer=True),
    },
    required=("shape", "scale", "zero_point"),
)
_WORKLOAD = Block(
    {
        "version": Number(minimum=FORMAT_VERSION, maximum=FORMAT_VERSION, integer=True),
        "name": Text(),
        "description": Text(),
        "seed": Number(minimum=0, integer=True),
        "input": _INPUT,
        "outputs": ListOf(Text(), min_items=1),
        "layers": ListOf(Ref("layer"), min_items=1),
    },
    required=("version", "name", "input", "layers"),
)
_TOP_KEYS = _WORKLOAD.keys
# The type of each key a layer may have (which keys each op takes: layer_ops.LAYER_KEYS).
_LAYER_TYPES: dict[str, Field] = {
    "name": Text(),
    "op": Choice(tuple(o.value for o in LayerOp)),
    "input": Text(),
    "inputs": ListOf(Text(), min_items=2, max_items=2),
    "filters": _WHOLE,
    "units": _WHOLE,
    "depth_multiplier": _WHOLE,
    "kernel": _PAIR,
    "pool": _PAIR,
    "stride": _PAIR,
    "dilation": _PAIR,
    "padding": Choice(tuple(_PADDINGS)),
    "activation": Choice(tuple(_ACTIVATIONS)),
    "shape": ListOf(OneOf((_WHOLE, Number(minimum=-1, maximum=-1, integer=True))), min_items=1, max_items=6),
    "beta": Number(minimum=0, exclusive=True),
}


def load_layers_yaml(path: str | Path, *, errors: ErrorCollector | None = None) -> Graph:
    """Build the int8 graph a layer-list YAML file describes (format in the module docstring).

    Raises the first error; with a collecting `errors`, one error per bad layer (`CollectedErrors`)."""
    errors = errors or ErrorCollector()
    file = str(path)
    data = load_yaml(path, error=WorkloadError)
    where = Where(file=file, error=WorkloadError, line=1)
    top = block(data, where, allowed=_TOP_KEYS, required=_WORKLOAD.required, what="a mapping", errors=errors)
    with errors.part():
        version = read_int(top, "version", where, minimum=0)
        if version != FORMAT_VERSION:
            raise where.key(top, "version").fail(f"unsupported version {version}; this tinysim reads version 1")
    name = errors.value(get_str, top, "name", where)
    builder = GraphBuilder(errors.value(read_int, top, "seed", where, 0, 0) or 0)
    failed: set[Any] = set()  # layers in error, and those built on them: checked without their input
    input_name = errors.value(_read_input, builder, top, where) if "input" in top else None
    last = input_name
    if last is None:  # no usable input: every layer reading it is checked alone
        spec = top.get("input")
        last = _name(spec) or "input"
        failed.add(last)
    if "layers" in top:
        last = errors.value(_read_layers, builder, top, where, last, failed, errors)
    errors.check()
    assert input_name is not None and last is not None  # else an error was raised above
    input_index = builder.values[input_name].index
    outputs = _read_outputs(builder, top, where, last)
    source = top.get("source")
    if not isinstance(source, str):
        source = file
    graph = Graph(name, tuple(builder.tensors), tuple(builder.ops), (input_index,), outputs, source=source)
    check_graph(graph, file)  # the builder's own shapes, double-checked by the importer's rules
    return graph


def _read_layers(
    b: GraphBuilder, top: Mapping[str, Any], where: Where, last: str, failed: set[Any], errors: ErrorCollector
) -> str:
    """Add every layer (each one part: a bad layer, and the layers built on it, do not stop the others)."""
    layers = expect_list(top["layers"], where.key(top, "layers"), "a list of layers")
    if not layers:
        raise where.key(top, "layers").fail("expected at least one layer")
    for i, layer in enumerate(layers):
        at = where.key(top, "layers").item(layers, i)
        with errors.part():
            if _depends_on(layer, last, failed):
                failed.add(_name(layer))
                last = _name(layer) or last
                _check_alone(layer, at)
                continue
            try:
                last = _read_layer(b, layer, i, last, at)
            except WorkloadError:
                failed.add(_name(layer))
                last = _name(layer) or last
                raise
    return last


def _read_input(b: GraphBuilder, top: Mapping[str, Any], where: Where) -> str:
    """Add the int8 graph input; returns its name."""
    here = where.key(top, "input")
    spec = block(
        top["input"], here, allowed=_INPUT.keys, required=_INPUT.required, what="a mapping {shape, scale, zero_point}"
    )
    name = get_str(spec, "name", here, default="input")
    shape = read_shape(spec, "shape", here, allow_minus_one=False)
    scale = read_float(spec, "scale", here)
    if not FLOAT32_MIN_NORMAL <= scale <= FLOAT32_MAX:
        raise here.key(spec, "scale").fail(
            f"expected a quantization scale: a normal float32 in 1.2e-38..3.4e38, got {scale!r}"
        )
    zero_point = read_int(spec, "zero_point", here, minimum=-128)
    if zero_point > 127:
        raise here.key(spec, "zero_point").fail(f"an int8 zero point must be in -128..127, got {zero_point}")
    index = b.add(Tensor(name, shape, DType.INT8, Quantization((scale,), (zero_point,))))
    b.values[name] = Value(index, input_rms(scale, zero_point))
    return name


def _read_outputs(b: GraphBuilder, top: Mapping[str, Any], where: Where, last: str) -> tuple[int, ...]:
    if "outputs" not in top:
        return (b.values[last].index,)
    here = where.key(top, "outputs")
    names = expect_list(top["outputs"], here, "a list of layer names")
    if not names:
        raise here.fail("expected at least one output layer")
    return tuple(_ref(b, names, i, here.item(names, i)).index for i in range(len(names)))


def _read_layer(b: GraphBuilder, layer: Any, i: int, previous: str, where: Where) -> str:
    """Add layer `i` to the graph; returns its name."""
    layer = expect_mapping(layer, where, "a layer like {name: conv1, op: conv2d, ...}")
    op = LayerOp(get_choice(layer, "op", where, [o.value for o in LayerOp], "an op"))
    required, optional = LAYER_KEYS[op]
    block(layer, where, allowed=("name", "op", "input", *required, *optional), required=("name", "op", *required))
    name = get_str(layer, "name", where)
    if name in b.values:
        raise where.key(layer, "name").fail(f'duplicate name "{name}" (layer and input names must be unique)')
    if op is LayerOp.ADD:
        if "input" in layer:
            raise where.key(layer, "input").fail("an add layer takes `inputs: [a, b]`, not `input`")
        names = expect_list(layer["inputs"], where.key(layer, "inputs"), "a list of two layer names")
        if len(names) != 2:
            raise where.key(layer, "inputs").fail(f"an add layer takes exactly 2 inputs, got {len(names)}")
        sources = [_ref(b, names, k, where.key(layer, "inputs").item(names, k)) for k in range(2)]
    else:
        sources = [_ref(b, layer, "input", where.key(layer, "input")) if "input" in layer else b.values[previous]]
    b.values[name] = BUILDERS[op](b, layer, i, name, sources, where)
    return name


def _name(layer: Any) -> str | None:
    """The layer's (or input's) name as the key of a failed one: a name that is not text (`name: 1`, a list) is
    an error of its own, and becomes its repr so the layers after it still skip it instead of looking it up."""
    name = layer.get("name") if isinstance(layer, Mapping) else None
    return name if name is None or isinstance(name, str) else repr(name)


def _depends_on(layer: Any, previous: str, failed: set[Any]) -> bool:
    """Whether `layer` reads a layer in `failed` (its `input`, `inputs` or, by default, the previous layer)."""
    if not failed or not isinstance(layer, Mapping):
        return False
    inputs = layer.get("inputs") if layer.get("op") == LayerOp.ADD.value else layer.get("input", previous)
    names = inputs if isinstance(inputs, list) else [inputs]
    return any(isinstance(n, str) and n in failed for n in names)


_ALONE: dict[
    str, Callable[[Mapping, str, Where], Any]
] = {  # the shape-free readers of each layer key, for a layer whose input could not be built
    "filters": read_int,
    "units": read_int,
    "depth_multiplier": read_int,
    "kernel": read_pair,
    "pool": read_pair,
    "stride": read_pair,
    "dilation": read_pair,
    "beta": read_float,
}


def _check_alone(layer: Any, where: Where) -> None:
    """What can be checked of a layer without its input's shape: keys, op, the typed values."""
    layer = expect_mapping(layer, where, "a layer like {name: conv1, op: conv2d, ...}")
    op = LayerOp(get_choice(layer, "op", where, [o.value for o in LayerOp], "an op"))
    required, optional = LAYER_KEYS[op]
    block(layer, where, allowed=("name", "op", "input", *required, *optional), required=("name", "op", *required))
    get_str(layer, "name", where)
    for key, read in _ALONE.items():
        if key in layer:
            read(layer, key, where)
    if "shape" in layer:
        read_shape(layer, "shape", where, allow_minus_one=True)
    read_activation(layer, where)
    if "padding" in layer:
        get_choice(layer, "padding", where, ["same", "valid"], "a padding")


def _ref(b: GraphBuilder, container: Any, key: Any, where: Where) -> Value:
    ref = container[key]
    if not isinstance(ref, str) or ref not in b.values:
        known = list(b.values)
        raise where.fail(
            f"unknown layer {ref!r}{closest(ref, known)}; a layer can use the input or an earlier "
            f"layer: {', '.join(known)}"
        )
    return b.values[ref]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of layer-list YAML: the blocks above, one layer variant per op (`LAYER_KEYS`)."""
    variants = {}
    for op, (required, optional) in LAYER_KEYS.items():
        keys = ("name", "op", *(() if op is LayerOp.ADD else ("input",)), *required, *optional)
        variants[op.value] = Block({k: _LAYER_TYPES[k] for k in keys}, required=("name", "op", *required))
    layer = Block({"op": _LAYER_TYPES["op"]}, required=("name", "op"), select="op", variants=variants)
    return document("workload", _WORKLOAD, defs={"layer": layer}, description=__doc__.splitlines()[0])
