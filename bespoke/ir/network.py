"""The integer intermediate representation of a bespoke MLP circuit.

Everything after quantization is an integer, and every integer value carries its
exact interval.  Widths are *derived* from those intervals here, in one place, and
both consumers of the IR (the emulator in :mod:`bespoke.ir.emulate` and the hardware
generator in :mod:`bespoke.rtl.lower`) take them from here.  Overflow is therefore
impossible by construction.

The network is a list of layers.  Every layer input is an unsigned integer code.
A neuron computes ``acc = sum(w_i * code_i) + bias`` and then an activation:

* :class:`ClampActivation`: ``clamp(acc >> shift, 0, 2**bits - 1)`` (``>>`` floors).
  This is a quantized ReLU; with a bias offset it is also a quantized identity.
* :class:`ThresholdActivation`: ``sum_j [acc >= T_j]``, a bank of constant
  comparators: the digital form of the ramp-ADC activation used for ``logistic``
  and ``tanh``.

The last layer has no activation: its accumulators are the logits, reduced by
``argmax`` (first index wins ties) or, for a binary classifier, ``acc > 0``.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Literal, NamedTuple, Union

import numpy as np

from .interface import Interface, thermometer_values

#: Largest magnitude the emulator's int64 arithmetic may ever see.
INT64_SAFE = 1 << 62


@functools.lru_cache(maxsize=None)
def _init_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


def rebuilt(obj, **changes):
    """``dataclasses.replace(obj, **changes)``, faster: a search rebuilds the IR's frozen
    dataclasses (neurons, layers, networks) tens of thousands of times a second."""
    values = [changes.pop(name) if name in changes else getattr(obj, name)
              for name in _init_fields(type(obj))]
    if changes:
        raise TypeError(f"{type(obj).__name__} has no fields {sorted(changes)}")
    return type(obj)(*values)


def input_port(index: int) -> str:
    """Name of input ``index``'s port of ``top``."""
    return f"x{index}"


class _Bounds(NamedTuple):  # a NamedTuple cannot override __new__: Interval subclasses it
    lo: int
    hi: int


class Interval(_Bounds):
    """A closed integer interval ``[lo, hi]``: every value a signal can take.

    A tuple underneath: a search hashes the input intervals of every layer it analyses,
    and a tuple's hash is computed in C."""

    __slots__ = ()

    def __new__(cls, lo: int, hi: int) -> "Interval":
        if lo > hi:
            raise ValueError(f"empty interval [{lo}, {hi}]")
        return tuple.__new__(cls, (lo, hi))

    @classmethod
    def _make(cls, iterable) -> "Interval":  # and so _replace: validated too
        return cls(*iterable)

    def __repr__(self) -> str:
        return f"Interval(lo={self.lo}, hi={self.hi})"

    def __add__(self, other: "Interval") -> "Interval":
        return Interval(self.lo + other.lo, self.hi + other.hi)

    def times(self, constant: int) -> "Interval":
        a, b = self.lo * constant, self.hi * constant
        return Interval(min(a, b), max(a, b))

    def shift_right(self, amount: int) -> "Interval":
        """Floor division by ``2**amount`` (monotone, so the ends map to the ends)."""
        return Interval(self.lo >> amount, self.hi >> amount)

    def clamp(self, lo: int, hi: int) -> "Interval":
        return Interval(min(max(self.lo, lo), hi), min(max(self.hi, lo), hi))

    @property
    def signed(self) -> bool:
        return self.lo < 0

    @property
    def width(self) -> int:
        """Bits needed to hold every value: two's complement if ``signed``."""
        if self.lo >= 0:
            return max(1, self.hi.bit_length())
        return max((-self.lo - 1).bit_length(), max(self.hi, 0).bit_length()) + 1

    @classmethod
    def of_unsigned_bits(cls, bits: int) -> "Interval":
        return cls(0, (1 << bits) - 1)


@dataclass(frozen=True)
class ClampActivation:
    """``code = clamp(acc >> shift, 0, 2**bits - 1)``."""

    shift: int
    bits: int
    kind: Literal["clamp"] = "clamp"

    def __post_init__(self) -> None:
        if self.shift < 0 or self.bits < 1:
            raise ValueError(f"invalid clamp activation shift={self.shift} bits={self.bits}")

    @property
    def max_code(self) -> int:
        return (1 << self.bits) - 1

    def output_interval(self, acc: Interval) -> Interval:
        return acc.shift_right(self.shift).clamp(0, self.max_code)


@dataclass(frozen=True)
class ThresholdActivation:
    """``code = sum_j [acc >= thresholds[j]]`` with non-decreasing thresholds."""

    thresholds: tuple[int, ...]
    kind: Literal["threshold"] = "threshold"

    def __post_init__(self) -> None:
        if not self.thresholds:
            raise ValueError("a threshold activation needs at least one threshold")
        if any(a > b for a, b in zip(self.thresholds, self.thresholds[1:])):
            raise ValueError("thresholds must be non-decreasing")

    def output_interval(self, acc: Interval) -> Interval:
        return Interval(
            sum(acc.lo >= t for t in self.thresholds),
            sum(acc.hi >= t for t in self.thresholds),
        )

    def crossable(self, acc: Interval) -> frozenset[int]:
        """The distinct thresholds an accumulator in ``acc`` can cross: the comparators
        that are not constants (equal thresholds are one comparator)."""
        return frozenset(t for t in self.thresholds if acc.lo < t <= acc.hi)


Activation = Union[ClampActivation, ThresholdActivation]


def _largest_code(activation: Activation | None) -> int:
    if isinstance(activation, ClampActivation):
        return activation.max_code
    if isinstance(activation, ThresholdActivation):
        return len(activation.thresholds)
    return 0


class Term(NamedTuple):
    """One shifted copy of an input in a neuron's adder tree:
    ``sign * (((x >> mask) << mask) << shift)`` (``mask`` low bits of ``x`` dropped)."""

    input: int
    shift: int
    sign: int
    mask: int


@functools.lru_cache(maxsize=1 << 16)
def _terms(k: int, weight: int, base: int, truncation: int) -> tuple[Term, ...]:
    return tuple(Term(k, shift, sign, max(base, truncation - shift))
                 for shift, sign in csd_digits(weight))


@functools.lru_cache(maxsize=1 << 14)
def _accumulator_interval(neuron: "Neuron", inputs: tuple[Interval, ...]) -> Interval:
    # a search rebuilds networks that differ in one neuron: the others hit this cache
    return neuron._accumulator_interval(inputs)


#: Connections whose input range is at most this wide get their interval by enumeration.
_ENUMERATE_LIMIT = 1 << 12


@dataclass(frozen=True)
class Neuron:
    """``acc = bias + sum of terms``; each non-zero weight is its canonical signed digits.

    Approximations are explicit: ``input_masks[k]`` low bits of input ``k`` are dropped
    (empty: none), and ``truncation`` drops every partial-product bit in a column below
    it (the digit at ``shift`` loses the input bits below ``truncation - shift``).
    """

    weights: tuple[int, ...]
    bias: int
    activation: Activation | None  # None on the output layer
    input_masks: tuple[int, ...] = ()
    truncation: int = 0

    def __post_init__(self) -> None:
        if self.input_masks and len(self.input_masks) != len(self.weights):
            raise ValueError("input_masks needs one entry per weight")
        if self.truncation < 0 or min(self.input_masks, default=0) < 0:
            raise ValueError("masks and truncation must be >= 0")

    # a search hashes the same neurons over and over (caches keyed by neuron): once is enough
    def __hash__(self) -> int:
        return self._hash

    @functools.cached_property
    def _hash(self) -> int:
        return hash((self.weights, self.bias, self.activation, self.input_masks, self.truncation))

    def __getstate__(self) -> dict:  # string hashes differ between processes: never ship one
        return {k: v for k, v in self.__dict__.items() if k not in ("_hash", "_all_terms")}

    @property
    def exact(self) -> bool:
        return not self.truncation and not any(self.input_masks)

    def terms(self, k: int) -> tuple[Term, ...]:
        """The terms of connection ``k`` (none for a zero weight)."""
        base = self.input_masks[k] if self.input_masks else 0
        return _terms(k, self.weights[k], base, self.truncation)

    @functools.cached_property
    def _all_terms(self) -> tuple[Term, ...]:
        return tuple(t for k in range(len(self.weights)) for t in self.terms(k))

    def all_terms(self) -> tuple[Term, ...]:
        return self._all_terms

    def masked_weights(self) -> dict[int, dict[int, int]]:
        """``{mask: {input: weight}}`` with ``acc = bias + sum w * ((x >> mask) << mask)``."""
        result: dict[int, dict[int, int]] = {}
        for term in self.all_terms():
            row = result.setdefault(term.mask, {})
            row[term.input] = row.get(term.input, 0) + term.sign * (1 << term.shift)
        return result

    def connection_value(self, k: int, code: int) -> int:
        """What connection ``k`` adds to the accumulator when its input is ``code``."""
        return sum(t.sign * (((code >> t.mask) << t.mask) << t.shift) for t in self.terms(k))

    def level_steps(self, k: int, levels: tuple[int, ...],
                    ) -> tuple[int, tuple[tuple[int, int, int], ...]]:
        """Connection ``k`` read as the thermometer bits of an ADC whose levels are the
        codes ``levels``: what it adds at level 0, and ``(bit, shift, sign)`` for every
        signed digit of every step (bit ``j`` adds the step from level ``j`` to ``j + 1``).
        The generator builds these rows and the estimator counts them."""
        values = [self.connection_value(k, code) for code in levels]
        steps = zip(values, values[1:])
        return values[0], tuple((j, shift, sign) for j, (low, high) in enumerate(steps)
                                for shift, sign in csd_digits(high - low))

    def connection_interval(self, k: int, x: Interval) -> Interval:
        """Exact range of connection ``k``'s contribution when its input lies in ``x``."""
        base = self.input_masks[k] if self.input_masks else 0
        return _connection_interval(self.weights[k], base, self.truncation, x)

    def accumulator_interval(self, inputs: tuple[Interval, ...]) -> Interval:
        return _accumulator_interval(self, inputs)

    def _accumulator_interval(self, inputs: tuple[Interval, ...]) -> Interval:
        total = Interval(self.bias, self.bias)
        for k, (weight, interval) in enumerate(zip(self.weights, inputs)):
            if weight:
                total = total + self.connection_interval(k, interval)
        return total


@functools.lru_cache(maxsize=1 << 16)
def _connection_interval(weight: int, base: int, truncation: int, x: Interval) -> Interval:
    """Exact range of ``sum of terms`` of one connection whose input lies in ``x`` (cached:
    connections repeat across the neurons of a search)."""
    terms = _terms(0, weight, base, truncation)
    masks = {t.mask for t in terms}
    if len(masks) <= 1:  # w * masked(x): monotone in x
        m = masks.pop() if masks else 0
        return Interval((x.lo >> m) << m, (x.hi >> m) << m).times(weight)
    if x.hi - x.lo <= _ENUMERATE_LIMIT:
        v = np.arange(x.lo, x.hi + 1, dtype=np.int64)
        values = sum(t.sign * (((v >> t.mask) << t.mask) << t.shift) for t in terms)
        return Interval(int(values.min()), int(values.max()))
    total = Interval(0, 0)  # sound, if not tight
    for t in terms:
        masked = Interval((x.lo >> t.mask) << t.mask, (x.hi >> t.mask) << t.mask)
        total = total + masked.times(t.sign << t.shift)
    return total


@dataclass(frozen=True)
class Layer:
    neurons: tuple[Neuron, ...]
    #: The float pre-activation of this layer is about ``acc * 2**-acc_scale_log2``.
    #: Informative only: no integer rule depends on it.
    acc_scale_log2: int = 0

    def __hash__(self) -> int:
        return self._hash

    @functools.cached_property
    def _hash(self) -> int:
        return hash((self.neurons, self.acc_scale_log2))

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    @property
    def n_inputs(self) -> int:
        return len(self.neurons[0].weights)


@dataclass(frozen=True)
class LayerAnalysis:
    """Exact intervals of one layer's inputs, accumulators and output codes."""

    inputs: tuple[Interval, ...]
    accumulators: tuple[Interval, ...]
    outputs: tuple[Interval, ...]


@functools.lru_cache(maxsize=64)
def _input_intervals(bits: int, count: int) -> tuple[Interval, ...]:
    return (Interval.of_unsigned_bits(bits),) * count


@functools.lru_cache(maxsize=1 << 14)
def analyze_layer(layer: Layer, inputs: tuple[Interval, ...]) -> LayerAnalysis:
    """Exact intervals of one layer whose inputs lie in ``inputs`` (cached: the networks of
    a search share most of their layers)."""
    accs = tuple(n.accumulator_interval(inputs) for n in layer.neurons)
    for acc in accs:
        if max(abs(acc.lo), abs(acc.hi)) >= INT64_SAFE:
            raise ValueError("accumulator range exceeds 62 bits: reduce the bit widths")
    outs = tuple(n.activation.output_interval(acc) if n.activation else acc
                 for n, acc in zip(layer.neurons, accs))
    return LayerAnalysis(inputs, accs, outs)


#: The output layer and the decision are built as one lookup table over the output
#: layer's inputs (a case statement that synthesis minimizes as logic) when those inputs
#: have at most this many bits in all: narrow hidden codes make the whole tail a small
#: logic function, far cheaper than its adders and comparators.
TABLE_MAX_BITS = 10


@functools.lru_cache(maxsize=1 << 12)
def varying_inputs(layer: Layer, inputs: tuple[Interval, ...]) -> tuple[int, ...]:
    """The inputs of ``layer`` that vary (not one value) and have a non-zero weight
    (cached: most networks of a search share their output layer)."""
    return tuple(k for k, x in enumerate(inputs)
                 if x.lo != x.hi and any(n.weights[k] for n in layer.neurons))


def table_inputs(layer: Layer, inputs: tuple[Interval, ...]) -> tuple[int, ...] | None:
    """The inputs of an output ``layer`` that its decision table reads
    (:func:`varying_inputs`), or None when the layer is not built as a table (more than
    :data:`TABLE_MAX_BITS` bits, or a signed input)."""
    used = varying_inputs(layer, inputs)
    if any(inputs[k].lo < 0 for k in used) or sum(inputs[k].width for k in used) > TABLE_MAX_BITS:
        return None
    return used


@functools.lru_cache(maxsize=1 << 14)
def _check_structure(layer: Layer, index: int, last: bool) -> None:
    """The structural checks of :meth:`Network._validate` on one layer (cached: the networks
    of a search share most of their layers)."""
    if not layer.neurons:
        raise ValueError(f"layer {index} has no neurons")
    count = layer.n_inputs
    for neuron in layer.neurons:
        if len(neuron.weights) != count:
            raise ValueError(f"layer {index}: neurons disagree on the input count")
        if (neuron.activation is None) != last:
            raise ValueError("only the output layer has neurons without activation")


@functools.lru_cache(maxsize=1 << 14)
def _checked_range(layer: Layer, largest_input: int) -> int:
    """A cheap bound, so that the emulator's int64 can never wrap: an accumulator's magnitude
    is at most ``|bias| + sum |w| * largest input``; the layer's largest output code
    (cached, as :func:`_check_structure`)."""
    if max(abs(n.bias) + sum(abs(w) for w in n.weights) * largest_input
           for n in layer.neurons) >= INT64_SAFE:
        raise ValueError("accumulator range exceeds 62 bits: reduce the bit widths")
    return max(_largest_code(n.activation) for n in layer.neurons)


@dataclass(frozen=True)
class Network:
    """A whole bespoke classifier circuit: unsigned input codes to a class index."""

    input_bits: int
    layers: tuple[Layer, ...]
    output: Literal["argmax", "sign"]
    n_classes: int
    #: argmax compares ``logit >> decision_shift``: only an MSB slice of the logits
    decision_shift: int = 0
    #: argmax over ``max(logit, 0)`` (a ReLU on the output layer, as some published designs
    #: have): when no logit is positive, class 0 wins
    output_relu: bool = False
    #: the ADCs in front of the inputs (:mod:`bespoke.ir.interface`); with one, the circuit's
    #: inputs are each ADC's thermometer bits and its vectors are ADC levels, not codes
    interface: Interface | None = None

    def __post_init__(self) -> None:
        self._validate()

    # --- the circuit's inputs: codes, or ADC levels when there is an interface ----------
    def ports(self) -> tuple[tuple[str, int], ...]:
        """``(name, width)`` of every input port of ``top``: a code per input, or the
        thermometer bits of every input whose ADC keeps a comparator."""
        if self.interface is None:
            return tuple((input_port(i), self.input_bits) for i in range(self.n_inputs))
        return tuple((input_port(i), width)
                     for i, width in enumerate(self.interface.port_widths()) if width)

    def port_values(self, vectors: np.ndarray) -> np.ndarray:
        """The integer on each of :meth:`ports` for every vector (``(samples, ports)``)."""
        vectors = np.asarray(vectors, np.int64)
        if self.interface is None:
            return vectors
        live = [i for i, width in enumerate(self.interface.port_widths()) if width]
        return thermometer_values(vectors[:, live]) if live else np.zeros((len(vectors), 0),
                                                                           np.int64)

    def core_codes(self, vectors: np.ndarray) -> np.ndarray:
        """The core's input codes for the circuit's vectors (ADC levels with an interface)."""
        if self.interface is None:
            return np.asarray(vectors, np.int64)
        return self.interface.codes_of_levels(vectors)

    def vector_limits(self) -> tuple[int, ...]:
        """The largest value each input of a vector takes (a code, or an ADC level)."""
        if self.interface is None:
            return ((1 << self.input_bits) - 1,) * self.n_inputs
        return self.interface.port_widths()

    @functools.cached_property
    def analysis(self) -> tuple[LayerAnalysis, ...]:
        """Exact intervals of every layer (computed on first use: a search builds many
        networks that are only ever emulated)."""
        return self._analyze()

    @property
    def n_inputs(self) -> int:
        return self.layers[0].n_inputs

    @functools.cached_property
    def table_inputs(self) -> tuple[int, ...] | None:
        """The output layer's inputs its decision table reads, or None when the output
        layer and decision are built as adders and comparators (:func:`table_inputs`)."""
        return table_inputs(self.layers[-1], self.analysis[-1].inputs)

    @functools.cached_property
    def table_widths(self) -> tuple[int, ...] | None:
        """The width of each of :attr:`table_inputs` (the table's index is their codes
        side by side, the first in the lowest bits), or None without a table."""
        if self.table_inputs is None:
            return None
        return tuple(self.analysis[-1].inputs[k].width for k in self.table_inputs)

    @property
    def output_width(self) -> int:
        """Width of the class-index output port."""
        return Interval(0, self.n_classes - 1).width

    def _validate(self) -> None:
        if not self.layers:
            raise ValueError("a network needs at least one layer")
        if not 1 <= self.input_bits <= 32:
            raise ValueError(f"input_bits must be 1..32, got {self.input_bits}")
        for index, layer in enumerate(self.layers):
            _check_structure(layer, index, index == len(self.layers) - 1)
            if index and layer.n_inputs != len(self.layers[index - 1].neurons):
                raise ValueError(f"layer {index} does not take layer {index - 1}'s outputs")
        largest_input = (1 << self.input_bits) - 1
        for layer in self.layers:
            largest_input = _checked_range(layer, largest_input)
        n_out = len(self.layers[-1].neurons)
        if self.n_classes < 2:
            raise ValueError("a classifier needs at least two classes")
        if self.output == "sign" and (n_out != 1 or self.n_classes != 2):
            raise ValueError("a 'sign' output needs one output neuron and two classes")
        if self.output == "argmax" and n_out != self.n_classes:
            raise ValueError("an 'argmax' output needs one output neuron per class")
        if self.decision_shift < 0 or (self.decision_shift and self.output != "argmax"):
            raise ValueError("decision_shift is an argmax option and must be >= 0")
        if self.output_relu and self.output != "argmax":
            raise ValueError("output_relu is an argmax option")
        if self.interface is not None and (self.interface.n_inputs != self.n_inputs or
                                           self.interface.input_bits != self.input_bits):
            raise ValueError("the interface needs one channel per input, at the core's input bits")

    def _analyze(self) -> tuple[LayerAnalysis, ...]:
        inputs = _input_intervals(self.input_bits, self.n_inputs)
        result = []
        for layer in self.layers:
            result.append(analyze_layer(layer, inputs))
            inputs = result[-1].outputs
        return tuple(result)

    # --- serialization -------------------------------------------------------------
    def to_dict(self) -> dict:
        layers = []
        for layer, info in zip(self.layers, self.analysis):
            neurons = []
            for neuron, acc, out in zip(layer.neurons, info.accumulators, info.outputs):
                entry: dict = {
                    "weights": list(neuron.weights),
                    "bias": neuron.bias,
                    **({"input_masks": list(neuron.input_masks)} if any(neuron.input_masks) else {}),
                    **({"truncation": neuron.truncation} if neuron.truncation else {}),
                    "accumulator": {"min": acc.lo, "max": acc.hi, "width": acc.width,
                                    "signed": acc.signed},
                }
                if isinstance(neuron.activation, ClampActivation):
                    entry["activation"] = {"kind": "clamp", "shift": neuron.activation.shift,
                                           "bits": neuron.activation.bits}
                elif isinstance(neuron.activation, ThresholdActivation):
                    entry["activation"] = {"kind": "threshold",
                                           "thresholds": list(neuron.activation.thresholds)}
                if neuron.activation is not None:
                    entry["output"] = {"min": out.lo, "max": out.hi, "width": out.width}
                neurons.append(entry)
            layers.append({"acc_scale_log2": layer.acc_scale_log2, "neurons": neurons})
        return {"input_bits": self.input_bits, "output": self.output,
                "n_classes": self.n_classes, "output_width": self.output_width,
                "decision_shift": self.decision_shift,
                **({"output_relu": True} if self.output_relu else {}), "layers": layers,
                **({"interface": self.interface.to_dict()} if self.interface else {})}

    @classmethod
    def from_dict(cls, data: dict) -> "Network":
        layers = []
        for layer in data["layers"]:
            neurons = []
            for entry in layer["neurons"]:
                act = entry.get("activation")
                activation: Activation | None
                if act is None:
                    activation = None
                elif act["kind"] == "clamp":
                    activation = ClampActivation(int(act["shift"]), int(act["bits"]))
                elif act["kind"] == "threshold":
                    activation = ThresholdActivation(tuple(int(t) for t in act["thresholds"]))
                else:
                    raise ValueError(f"unknown activation kind {act['kind']!r}")
                neurons.append(Neuron(tuple(int(w) for w in entry["weights"]),
                                      int(entry["bias"]), activation,
                                      tuple(int(m) for m in entry.get("input_masks", ())),
                                      int(entry.get("truncation", 0))))
            layers.append(Layer(tuple(neurons), int(layer.get("acc_scale_log2", 0))))
        return cls(int(data["input_bits"]), tuple(layers), data["output"], int(data["n_classes"]),
                   int(data.get("decision_shift", 0)), bool(data.get("output_relu", False)),
                   Interface.from_dict(data["interface"]) if data.get("interface") else None)


def trailing_zeros(value: int) -> int:
    """Trailing zero bits of ``value`` (two's complement for a negative one; 0 for 0).
    A comparison ``acc >= t`` ignores the bits of ``acc`` below ``t``'s trailing zeros."""
    return (value & -value).bit_length() - 1 if value else 0


@functools.lru_cache(maxsize=1 << 16)
def csd_digits(value: int) -> tuple[tuple[int, int], ...]:
    """Canonical signed-digit form of ``value`` as ``(shift, sign)`` pairs, LSB first.

    ``value == sum(sign << shift)``, no two adjacent digits are non-zero, and the
    number of digits is minimal: the shift-add structure of a constant multiplier.
    """
    digits = []
    shift = 0
    while value:
        if value & 1:
            digit = 2 - (value & 3)  # +1 if value % 4 == 1, -1 if value % 4 == 3
            digits.append((shift, digit))
            value -= digit
        value >>= 1
        shift += 1
    return tuple(digits)
