"""Events: what one op (or a whole inference) did — the actions a cost model prices."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Events:
    """Action counts; additive so a network's events are the sum of its ops'."""

    macs: int = 0  # multiply-accumulates with a weight (conv, depthwise, fully connected)
    zero_macs: int = 0  # MACs with a zero operand (input == zero point or weight == 0): exploitable sparsity
    weight_bytes_read: int = 0  # bytes fetched from the weight store (each fetch counted, reuse included)
    act_bytes_read: int = 0  # activation bytes read (each fetch counted)
    act_bytes_written: int = 0  # activation bytes written
    elementwise: int = 0  # non-MAC element operations: pool taps, adds, softmax terms, requantizations
    output_elements: int = 0
    output_zeros: int = 0  # output elements equal to the output zero point (post-ReLU zeros)
    adc_conversions: int = 0  # in-memory-compute ADC conversions
    weight_bytes_unique: int = 0  # distinct weight + bias bytes the op reads (its flash footprint)
    act_bytes_unique_read: int = 0  # distinct input activation bytes (each tensor byte once)

    def __add__(self, other: Events) -> Events:
        return Events(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def scaled(self, k: float) -> Events:
        return Events(**{f.name: round(getattr(self, f.name) * k) for f in fields(self)})

    @property
    def output_zero_fraction(self) -> float:
        return self.output_zeros / self.output_elements if self.output_elements else 0.0
