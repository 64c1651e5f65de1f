"""Short layer names for text tables: converter tensor names cut to their last meaningful path elements.

TFLite names an op after its output tensor, and the converter joins every fused TF node into that
name: `model/activation_3/Relu;model/batch_normalization_3/FusedBatchNormV3;model/conv2d_1/BiasAdd;...`
runs past 200 characters. Tables show `activation_3`; JSON and CSV keep the full name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

DEFAULT_MAX_LEN = 32
ELLIPSIS = "…"

# TF op types and variable plumbing that end a node name without naming the layer. A bare digit suffix is
# the converter's de-duplication (`Conv2D1`, `depthwise21`); `add_1` is a Keras layer and stays.
_GENERIC = re.compile(
    r"(?:BiasAdd|Relu6?|LeakyRelu|Conv2D|Conv2DBackpropInput|DepthwiseConv2dNative|depthwise|"
    r"FusedBatchNorm(?:V\d)?|BatchNorm|batchnorm|ReadVariableOp|resource|MatMul|Add|AddV2|add|Mul|mul|Sub|"
    r"AvgPool|MaxPool|Reshape|Squeeze|Mean|Softmax|Sigmoid|Tanh|Pad|ConcatV2|concat|Identity)\d*"
)
_OUTPUT_INDEX = re.compile(r":\d+$")  # `StatefulPartitionedCall:0`


def short_layer_name(name: str, max_len: int = DEFAULT_MAX_LEN) -> str:
    """The first fused name, less its model scope and generic trailing ops, at most `max_len` characters.

    `MobilenetV2/expanded_conv_3/project/BatchNorm/FusedBatchNorm;...` -> `expanded_conv_3/project`,
    `sequential/conv2d/Relu;sequential/conv2d/BiasAdd;...` -> `conv2d`, `model/add_1/add` -> `add_1`.
    """
    return _truncate("/".join(_meaningful(name, whole_path=False)), max_len)


def short_layer_names(names: Sequence[str], max_len: int = DEFAULT_MAX_LEN) -> list[str]:
    """`short_layer_name` of each, unique within the list.

    Names that shorten alike get their whole meaningful path back (`stage1/conv`, `stage2/conv`); any still
    alike get ` #i`, i their position in `names` (the `#` column of the tables).
    """
    if max_len < 8:
        raise ValueError(f"max_len must be at least 8, got {max_len}")
    out = [short_layer_name(n, max_len) for n in names]
    counts = Counter(out)
    out = [_truncate("/".join(_meaningful(n, whole_path=True)), max_len) if counts[s] > 1 else s
           for n, s in zip(names, out)]  # fmt: skip
    suffixed = [False] * len(out)
    while True:  # each pass suffixes at least one name, and a suffixed name ends in its own position
        counts = Counter(out)
        clash = [i for i, s in enumerate(out) if counts[s] > 1 and not suffixed[i]]
        if not clash:
            return out
        for i in clash:
            tag = f" #{i}"
            out[i] = _truncate(out[i], max_len - len(tag)) + tag
            suffixed[i] = True


def _meaningful(name: str, *, whole_path: bool) -> list[str]:
    """Path elements of the first fused name without generic trailing ops; without `whole_path`, the last
    two after the model's own scope (`model`, `functional_1`, `MobilenetV2`), which names nothing."""
    first = _OUTPUT_INDEX.sub("", name.split(";", 1)[0].strip())
    parts = [p for p in first.split("/") if p]
    kept = _drop_generic_tail(parts)
    if not kept or (len(kept) == 1 and len(parts) > 1):
        return parts[-2:] or [name.strip()]  # only the scope is meaningful: `model/Relu` says more than `model`
    return kept if whole_path else kept[1:][-2:] or kept


def _drop_generic_tail(parts: list[str]) -> list[str]:
    """Drop trailing op names. A lowercase one (`depthwise`, `add`) goes only from the very end: before
    that it is a scope, as in `expanded_conv/depthwise/Relu6` or Keras's `model/add/add`."""
    kept = list(parts)
    while kept and _GENERIC.fullmatch(kept[-1]) and (kept[-1][0].isupper() or len(kept) == len(parts)):
        kept.pop()
    return kept


def _truncate(text: str, max_len: int) -> str:
    """At most `max_len` characters; the middle gives way, the tail (the most specific part) keeps more."""
    if len(text) <= max_len:
        return text
    head = (max_len - 1) // 3
    return text[:head] + ELLIPSIS + text[len(text) - (max_len - 1 - head) :]
