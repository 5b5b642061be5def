"""A fast analytical area estimator over the IR, calibrated against real synthesis.

A bespoke neuron is one bit heap of partial-product bits, reduced by full adders and one
final adder: every full adder removes one bit, so the full adders number about
``bits entering - bits leaving``.  Activations
are a clamp (a few gates a bit) or a bank of constant comparators (an unsigned ``n``-bit
``x >= c`` costs about ``n - 1 - tz(c)`` gates), and the argmax is a tree of
comparators and multiplexers.  Those counts are the features; the cost per feature is
fitted to Yosys synthesis on the bundled library by ``benchmarks/estimator_calibration.py``,
which writes ``estimator.json`` beside this module.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

from ..ir.emulate import decision_table
from ..ir.interface import Channel
from ..ir.network import (ClampActivation, Interval, Layer, Network, ThresholdActivation,
                          analyze_layer, trailing_zeros)

FEATURES = ("full_adders", "half_adders", "clamp_bits", "comparator_bits", "decision_bits",
            "table_nodes")


@dataclass(frozen=True)
class CostFeatures:
    full_adders: float  # bits entering a neuron's bit heap minus bits leaving it
    half_adders: float  # length of the final (carry-propagate) adders
    clamp_bits: float  # sign checks, saturation and selection of clamp activations
    comparator_bits: float  # constant comparators and encoders of threshold activations
    decision_bits: float  # comparators and multiplexers of the argmax tree
    table_nodes: float = 0.0  # decision diagram nodes of a decision table (ir.TABLE_MAX_BITS)

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, name) for name in FEATURES], dtype=float)


@functools.lru_cache(maxsize=1 << 14)
def _neuron_costs(neuron, inputs: tuple[Interval, ...], acc: Interval,
                  out: Interval, channels: tuple[Channel, ...] | None = None,
                  ) -> tuple[int, int, int, int]:
    """(full adders, half adders, clamp bits, comparator bits) of one neuron (cached: a
    search rebuilds networks that differ in a few neurons).

    ``bespoke.rtl.lower`` sums a neuron as one bit heap (partial-product bits, inverted for
    negative digits, plus the one bits of the folded constant) reduced by full adders to
    two rows and one final adder: the full adders are about ``bits - width``, and the
    final adder is ``width`` long.

    ``channels``: the first layer's ADCs (an interface), as the generator reads them: a
    ``thermometer`` input adds one bit per signed digit of each step between levels, a
    ``binary`` one its code up to the highest level, an input without an ADC a constant."""
    width = acc.width
    bits, constant = 0, neuron.bias
    for k, x in enumerate(inputs):
        if not neuron.weights[k]:
            continue
        channel = channels[k] if channels is not None else None
        if channel is not None and (channel.encoding == "thermometer" or not channel.comparators):
            base, steps = neuron.level_steps(k, channel.levels)
            constant += base
            for _, shift, sign in steps:
                bits += shift < width
                if sign < 0:  # an inverted bit: -b*2**s = ~b*2**s + 2**s - 2**(s+1)
                    constant -= 1 << shift
            continue
        if channel is not None:  # the encoder's code never exceeds the top level
            x = Interval(0, channel.levels[-1])
        if x.lo == x.hi:  # constant input: folded into the constant
            constant += neuron.connection_interval(k, x).lo
            continue
        for term in neuron.terms(k):
            if term.mask < x.width:
                length, shift = x.width - term.mask, term.shift + term.mask
                bits += max(0, min(length, width - shift))
                if term.sign < 0:  # -v*2**s = ~v*2**s + 2**s - 2**(len+s)
                    constant += (1 << shift) - (1 << (length + shift))
    constant_bits = bin(constant % (1 << width)).count("1")
    full = max(0, bits + constant_bits - width) if bits else 0
    half = width if bits else 0
    clamp = comparator = 0
    act = neuron.activation
    if isinstance(act, ClampActivation):
        shifted = acc.shift_right(act.shift)
        clamp = out.width + max(0, shifted.width - act.bits) + (1 if shifted.lo < 0 else 0)
    elif isinstance(act, ThresholdActivation):
        for t in act.crossable(acc):
            # acc >= t compares the bits of acc above t's trailing zeros (t = 0: the sign)
            zeros = trailing_zeros(t) if t else width
            comparator += max(1, width - 1 - zeros) + 1
    return full, half, clamp, comparator


@functools.lru_cache(maxsize=1 << 14)
def _layer_costs(layer: Layer, inputs: tuple[Interval, ...],
                 channels: tuple[Channel, ...] | None = None) -> tuple[int, int, int, int]:
    """Summed :func:`_neuron_costs` of one layer whose inputs lie in ``inputs`` (read
    through ``channels``, the ADCs, for the first layer of a network with an interface);
    each binary ADC's encoder counts as comparator bits, one per comparator."""
    info = analyze_layer(layer, inputs)
    costs = [_neuron_costs(neuron, inputs, acc, out, channels) for neuron, acc, out
             in zip(layer.neurons, info.accumulators, info.outputs)]
    full, half, clamp, comparator = map(sum, zip(*costs))
    if channels is not None:
        comparator += sum(c.comparators for k, c in enumerate(channels)
                          if c.encoding == "binary" and any(n.weights[k] for n in layer.neurons))
    return full, half, clamp, comparator


def table_nodes(table: np.ndarray) -> int:
    """Nodes of the decision diagram of a table of ``2**n`` classes, variables taken from
    the index's top bit down: at each level, the distinct sub-tables that still depend on
    that bit.  A measure of how much logic the function needs (synthesis minimizes the
    table as logic, and the area follows this count far better than the table's size)."""
    return _table_nodes(table.tobytes(), len(table))


@functools.lru_cache(maxsize=1 << 12)
def _table_nodes(data: bytes, size: int) -> int:
    # bottom up, the lowest index bit first: a pair of sub-tables that differ is a node,
    # numbered by its pair (equal sub-tables get equal numbers), so the distinct nodes of
    # each level are the distinct differing pairs
    ids = np.frombuffer(data, np.int64)
    fresh, nodes = int(ids.max(initial=0)) + 1, 0
    while len(ids) > 1:
        low, high = ids[0::2], ids[1::2]
        split = low != high
        numbers, inverse = np.unique(low[split] * fresh + high[split], return_inverse=True)
        ids = low.copy()
        ids[split] = fresh + inverse
        fresh, nodes = fresh + len(numbers), nodes + len(numbers)
    return nodes


def features(network: Network) -> CostFeatures:
    tabulated = network.table_inputs is not None  # the output layer is inside a table
    built = network.layers[:-1] if tabulated else network.layers
    full = half = clamp = comparator = 0
    interface = network.interface
    for index, (layer, info) in enumerate(zip(built, network.analysis)):
        channels = interface.channels if interface is not None and index == 0 else None
        costs = _layer_costs(layer, info.inputs, channels)
        full, half, clamp, comparator = (full + costs[0], half + costs[1], clamp + costs[2],
                                         comparator + costs[3])
    if tabulated:
        return CostFeatures(float(full), float(half), float(clamp), float(comparator), 0.0,
                            float(table_nodes(decision_table(network))))
    decision = _decision_bits(network.analysis[-1].accumulators, network.output,
                              network.decision_shift, network.output_relu, network.output_width)
    return CostFeatures(float(full), float(half), float(clamp), float(comparator), decision)


@functools.lru_cache(maxsize=1 << 12)
def _decision_bits(logits: tuple[Interval, ...], output: str, shift: int, relu: bool,
                   index_width: int) -> float:
    """The decision's cost feature: the sign bit, or the argmax tree over ``logits``."""
    if output == "sign":
        return float(logits[0].width)
    relu_bits = 0
    if relu:  # a ReLU per logit first: about one gate a bit
        relu_bits = sum(iv.width for iv in logits if iv.lo < 0)
        logits = tuple(Interval(max(iv.lo, 0), max(iv.hi, 0)) for iv in logits)
    widths = [Interval(iv.lo >> shift, iv.hi >> shift).width for iv in logits]
    # a comparator and a value/index multiplexer per merge of the tree
    return float(relu_bits + (len(widths) - 1) * (2 * max(widths) + index_width))


@dataclass(frozen=True)
class AreaModel:
    """``area_um2 = coefficients . features``: one cost per feature, in µm²."""

    coefficients: tuple[float, ...]
    library: str = "egfet_1v0_typ.lib"

    def area_um2(self, network: Network) -> float:
        return float(np.dot(self.coefficients, features(network).vector()))

    def to_dict(self) -> dict:
        return {"features": list(FEATURES), "coefficients_um2": list(self.coefficients),
                "library": self.library}

    @classmethod
    def fit(cls, feature_rows: np.ndarray, areas: np.ndarray, library: str) -> "AreaModel":
        """Non-negative least squares on relative error (every design weighs the same)."""
        from scipy.optimize import nnls

        scale = 1.0 / np.maximum(areas, 1.0)
        coefficients, _ = nnls(feature_rows * scale[:, None], areas * scale)
        return cls(tuple(float(c) for c in coefficients), library)

    @classmethod
    def bundled(cls) -> "AreaModel":
        """The coefficients calibrated on the bundled printed EGFET library."""
        data = json.loads(resources.files("bespoke.approx").joinpath("estimator.json").read_text())
        if data["features"] != list(FEATURES):
            raise ValueError("estimator.json does not match the estimator's features: "
                             "rerun benchmarks/estimator_calibration.py")
        return cls(tuple(data["coefficients_um2"]), data["library"])
