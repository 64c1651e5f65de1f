"""When keywords (or anomalies) arrive: a seeded event process, or times read from a trace.

Processes (`events: {process: ...}` in a scenario), each a small function giving sorted times in
[0, duration) from a seeded numpy Generator, drawn in chunks so a year at any rate costs bounded memory
beyond the events themselves:

    bernoulli  each inference window holds an event with `probability_per_window` (today's default)
    poisson    a constant `rate` (events/s), exponential gaps
    daily      a Poisson process whose rate follows `events_per_hour` (24 numbers, a YAML list or a CSV),
               repeated every day from midnight at t = 0
    bursty     two-state Markov-modulated Poisson: `burst_rate` during bursts of mean length `mean_burst`,
               `quiet_rate` between them (mean length `mean_quiet`); starts quiet
"""

from __future__ import annotations

import csv
import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tinysim.errors import SpecError
from tinysim.schema.fields import Bound, Where, get_enum, get_int, get_quantity
from tinysim.schema.jsonschema import Block, Choice, Integer, ListOf, Number, OneOf, Quantity, Text
from tinysim.units import Dimension
from tinysim.units.quantity import describe_value

if TYPE_CHECKING:
    from tinysim.system.scenario import Scenario

__all__ = ["EVENTS", "Arrivals", "Process", "event_times", "first_inference_s", "parse_process"]

HOURS_PER_DAY = 24
_DAY_S = 86400.0
_MAX_EVENTS = 10_000_000  # expected events per run: beyond this the times alone outgrow memory (80 MB each 10 M)
_MAX_SPELLS = 100_000_000  # burst/quiet cycles per run: ~100 bounded rounds, a few seconds
_MAX_DRAW = 1 << 20  # draws per round: bounds the memory of one round whatever the rate and the duration
_INT_GEOMETRIC_MIN_P = 1e-12  # numpy's int64 geometric draws wrap around for smaller p (gaps beyond 2**63)


class Process(enum.Enum):
    BERNOULLI = "bernoulli"
    POISSON = "poisson"
    DAILY = "daily"
    BURSTY = "bursty"


_RATE = Quantity(Dimension.FREQUENCY, Bound.NONNEGATIVE)
EVENTS = Block(
    {
        "process": Choice(lambda: tuple(p.value for p in Process)),
        "probability_per_window": Quantity(Dimension.DIMENSIONLESS, Bound.NONNEGATIVE),
        "rate": _RATE,
        "events_per_hour": OneOf((ListOf(Number(minimum=0), HOURS_PER_DAY, HOURS_PER_DAY), Text())),
        "burst_rate": _RATE,
        "quiet_rate": _RATE,
        "mean_burst": Quantity(Dimension.TIME, Bound.POSITIVE),
        "mean_quiet": Quantity(Dimension.TIME, Bound.POSITIVE),
        "seed": Integer(bound=Bound.NONNEGATIVE),
        "trace": Text(),
    }
)
_KEYS = {  # the keys each process reads, besides `process` and `seed`
    Process.BERNOULLI: ("probability_per_window",),
    Process.POISSON: ("rate",),
    Process.DAILY: ("events_per_hour",),
    Process.BURSTY: ("burst_rate", "quiet_rate", "mean_burst", "mean_quiet"),
}


@dataclass(frozen=True)
class Arrivals:
    """Keyword/anomaly arrivals: a seeded process (see the module), or fixed times from a CSV trace."""

    probability_per_window: float = 0.0
    seed: int = 0
    trace_times_s: tuple[float, ...] | None = None
    trace_path: str | None = None
    process: Process = Process.BERNOULLI
    rate_hz: float = 0.0
    events_per_hour: tuple[float, ...] = ()
    burst_rate_hz: float = 0.0
    quiet_rate_hz: float = 0.0
    mean_burst_s: float = 1.0
    mean_quiet_s: float = 1.0

    def mean_rate_hz(self, period_s: float) -> float:
        """Long-run events per second (for a Bernoulli process, with windows every `period_s`)."""
        if self.process is Process.POISSON:
            return self.rate_hz
        if self.process is Process.DAILY:
            return sum(self.events_per_hour) / _DAY_S
        if self.process is Process.BURSTY:
            busy = self.burst_rate_hz * self.mean_burst_s + self.quiet_rate_hz * self.mean_quiet_s
            return busy / (self.mean_burst_s + self.mean_quiet_s)
        return self.probability_per_window / period_s


def parse_process(m: Mapping[str, Any], at: Where, base: Path) -> Arrivals:
    """The `events:` block without `trace:` → Arrivals; no `process:` is today's Bernoulli form."""
    process = get_enum(m, "process", at, Process) if "process" in m else Process.BERNOULLI
    for key in m:
        if key in EVENTS.fields and key not in ("process", "seed", *_KEYS[process]):
            raise at.key(m, key).fail(
                f"`{key}` is not read by the {process.value} process; it reads " + _reads(process)
            )
    seed = get_int(m, "seed", at, bound=Bound.NONNEGATIVE, default=0)
    if process is Process.BERNOULLI:
        p = get_quantity(m, "probability_per_window", at, Dimension.DIMENSIONLESS, bound=Bound.NONNEGATIVE, default=0.0)
        if p > 1:
            raise at.key(m, "probability_per_window").fail(f"expected a probability between 0 and 1, got {p:g}")
        return Arrivals(probability_per_window=p, seed=seed)
    for key in _KEYS[process]:
        if key not in m:
            raise at.key(m, key).fail(
                f'missing required key "{key}": the {process.value} process reads ' + _reads(process)
            )
    if process is Process.POISSON:
        return Arrivals(
            process=process,
            seed=seed,
            rate_hz=get_quantity(m, "rate", at, Dimension.FREQUENCY, bound=Bound.NONNEGATIVE),
        )
    if process is Process.DAILY:
        return Arrivals(
            process=process,
            seed=seed,
            events_per_hour=_hourly(m["events_per_hour"], at.key(m, "events_per_hour"), base),
        )
    return Arrivals(
        process=process,
        seed=seed,
        burst_rate_hz=get_quantity(m, "burst_rate", at, Dimension.FREQUENCY, bound=Bound.NONNEGATIVE),
        quiet_rate_hz=get_quantity(m, "quiet_rate", at, Dimension.FREQUENCY, bound=Bound.NONNEGATIVE),
        mean_burst_s=get_quantity(m, "mean_burst", at, Dimension.TIME, bound=Bound.POSITIVE),
        mean_quiet_s=get_quantity(m, "mean_quiet", at, Dimension.TIME, bound=Bound.POSITIVE),
    )


def _reads(process: Process) -> str:
    return ", ".join(f"`{k}`" for k in _KEYS[process]) + " (and `seed`)"


def _hourly(value: Any, at: Where, base: Path) -> tuple[float, ...]:
    """24 non-negative events-per-hour numbers: a YAML list, or a CSV file (first column, optional header)."""
    if isinstance(value, str):
        path = Path(value) if Path(value).is_absolute() else base / value
        try:
            with open(path, newline="", encoding="utf-8") as handle:
                rows = [r[0].strip() for r in csv.reader(handle) if r and r[0].strip() and not r[0].startswith("#")]
        except OSError as err:
            raise at.fail(f"cannot read the hourly profile {path}: {err.strerror}") from err
        if rows and not _is_number(rows[0]):
            rows = rows[1:]  # a header line
        value = [float(r) if _is_number(r) else r for r in rows]
    if not isinstance(value, list) or len(value) != HOURS_PER_DAY:
        got = f"{len(value)} values" if isinstance(value, list) else describe_value(value)
        raise at.fail(f"expected {HOURS_PER_DAY} events-per-hour numbers (midnight first), got {got}")
    for hour, rate in enumerate(value):
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate) or rate < 0:
            raise at.fail(f"hour {hour}: expected a non-negative number of events per hour, got {describe_value(rate)}")
    return tuple(float(r) for r in value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def first_inference_s(scenario: Scenario) -> float:
    """When the first window is complete: its last frame is ready."""
    return scenario.inference.window_frames * scenario.sensor.frame_hop_s


def event_times(scenario: Scenario, duration_s: float) -> np.ndarray:
    """Sorted event times (s) in [0, duration_s), from the scenario's trace or its seeded process."""
    ev = scenario.events
    if ev.trace_times_s is not None:
        times = np.asarray(ev.trace_times_s, dtype=np.float64)
        return times[times < duration_s]
    expected = ev.mean_rate_hz(scenario.period_s) * duration_s
    if expected > _MAX_EVENTS:
        raise SpecError(
            f"{ev.process.value} events: about {expected:.3g} expected over {duration_s:g} s, more than the "
            f"{_MAX_EVENTS:.0e} a run holds; lower the rate or the duration",
            file=scenario.path,
            field="events",
        )
    if ev.process is Process.BURSTY and duration_s / (ev.mean_burst_s + ev.mean_quiet_s) > _MAX_SPELLS:
        raise SpecError(
            f"bursty events: burst/quiet cycles of {ev.mean_burst_s + ev.mean_quiet_s:g} s are too short to draw "
            f"one by one over {duration_s:g} s; a poisson process at the mean rate is the same at that scale",
            file=scenario.path,
            field="events",
        )
    rng = np.random.default_rng(ev.seed)
    if ev.process is Process.BERNOULLI:
        return _bernoulli(rng, ev.probability_per_window, first_inference_s(scenario), scenario.period_s, duration_s)
    if ev.process is Process.POISSON:
        return _poisson(rng, ev.rate_hz, duration_s)
    if ev.process is Process.DAILY:
        return _daily(rng, ev.events_per_hour, duration_s)
    return _bursty(rng, ev, duration_s)


def _bernoulli(rng: np.random.Generator, p: float, first_s: float, period_s: float, duration_s: float) -> np.ndarray:
    """Each inference window independently holds an event with probability p (drawn as geometric gaps, so a day
    at 100 windows/s costs nothing); the event sits in the middle of the window's last stride, so the window's
    inference sees it."""
    if p <= 0 or duration_s < first_s:
        return np.zeros(0)
    windows = int((duration_s - first_s) // period_s) + 1
    index = _cumulative(lambda n: _geometric_gaps(rng, p, n), windows, p, start=-1.0)
    return first_s + index * period_s - 0.5 * period_s


def _poisson(rng: np.random.Generator, rate_hz: float, duration_s: float) -> np.ndarray:
    """Exponential gaps of mean 1/rate."""
    if rate_hz <= 0:
        return np.zeros(0)
    return _cumulative(lambda n: rng.exponential(1.0 / rate_hz, n), duration_s, rate_hz)


def _daily(rng: np.random.Generator, per_hour: tuple[float, ...], duration_s: float) -> np.ndarray:
    """Time rescaling: a unit-rate Poisson process on the cumulative intensity Λ(t), mapped back through the
    inverse of Λ (piecewise linear, one piece per hour); exact for a piecewise-constant rate."""
    day = float(sum(per_hour))  # Λ over one day: the expected events per day
    if day <= 0:
        return np.zeros(0)
    edges = np.concatenate(([0.0], np.cumsum(per_hour)))  # Λ at each hour boundary, in events
    days, _ = divmod(duration_s, _DAY_S)
    total = days * day + float(np.interp(duration_s - days * _DAY_S, np.arange(HOURS_PER_DAY + 1) * 3600.0, edges))
    u = _cumulative(lambda n: rng.exponential(1.0, n), total, 1.0)
    whole, rest = np.divmod(u, day)
    hour = np.clip(np.searchsorted(edges, rest, side="right") - 1, 0, HOURS_PER_DAY - 1)
    rates = np.asarray(per_hour)[hour]
    into = np.divide(rest - edges[hour], rates, out=np.zeros_like(rest), where=rates > 0)
    times = whole * _DAY_S + (hour + into) * 3600.0
    return np.sort(times[times < duration_s])


def _bursty(rng: np.random.Generator, ev: Arrivals, duration_s: float) -> np.ndarray:
    """Alternating quiet and burst spells of exponential length, quiet first; within a spell, a Poisson count of
    events placed uniformly. Each round draws an even number of spells, so the next round starts quiet again."""
    chunks: list[np.ndarray] = []
    start = 0.0
    while start < duration_s:
        pairs = int(min((duration_s - start) / (ev.mean_quiet_s + ev.mean_burst_s) * 1.2 + 16, _MAX_DRAW // 2))
        lengths = rng.exponential(np.tile([ev.mean_quiet_s, ev.mean_burst_s], pairs))
        ends = start + np.cumsum(lengths)
        begins = ends - lengths
        keep = begins < duration_s
        rates = np.tile([ev.quiet_rate_hz, ev.burst_rate_hz], pairs)[keep]
        spans = np.minimum(ends[keep], duration_s) - begins[keep]
        counts = rng.poisson(rates * spans)
        chunks.append(np.repeat(begins[keep], counts) + rng.random(int(counts.sum())) * np.repeat(spans, counts))
        start = float(ends[-1])
    return np.sort(np.concatenate(chunks)) if chunks else np.zeros(0)


def _cumulative(gaps: Callable[[int], np.ndarray], end: float, per_unit: float, start: float = 0.0) -> np.ndarray:
    """Partial sums of `gaps(n)` draws from `start`, those below `end`, drawn a bounded round at a time."""
    chosen: list[np.ndarray] = []
    last = start
    while True:
        n = int(min((end - last) * per_unit * 1.2 + 16, _MAX_DRAW))
        points = last + np.cumsum(gaps(n))
        chosen.append(points[points < end])
        if points[-1] >= end:
            break
        last = float(points[-1])
    return np.concatenate(chosen)


def _geometric_gaps(rng: np.random.Generator, p: float, n: int) -> np.ndarray:
    """n geometric gaps (windows between events, >= 1) as float64: numpy's own draw where its int64 result
    cannot overflow (the seeded sequence of earlier versions), else the inverse CDF in floating point, whose
    gaps for a tiny p are simply larger than any duration (no wrap-around, no endless loop)."""
    if p >= _INT_GEOMETRIC_MIN_P:
        return rng.geometric(p, size=n).astype(np.float64)
    u = rng.random(n)
    with np.errstate(over="ignore", divide="ignore"):  # a denormal p: gaps of +inf, i.e. never
        return np.maximum(np.ceil(np.log1p(-u) / np.log1p(-p)), 1.0)
