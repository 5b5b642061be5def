"""A fast analytical area estimator over the IR, calibrated against real synthesis.

A bespoke neuron is one adder tree over partial-product bits: every full adder removes
one bit, so the full adders number about ``bits entering - bits leaving``.  Activations
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

from .ir import ClampActivation, Interval, Layer, Network, ThresholdActivation, analyze_layer

FEATURES = ("full_adders", "half_adders", "clamp_bits", "comparator_bits", "decision_bits")


def _trailing_zeros(value: int) -> int:
    return (value & -value).bit_length() - 1 if value else 0


@dataclass(frozen=True)
class CostFeatures:
    full_adders: float  # bit positions where two operands of an adder overlap
    half_adders: float  # positions above the overlap that only carry ripples through
    clamp_bits: float  # sign checks, saturation and selection of clamp activations
    comparator_bits: float  # constant comparators and encoders of threshold activations
    decision_bits: float  # comparators and multiplexers of the argmax tree

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, name) for name in FEATURES], dtype=float)


def _adder_tree(operands: list[tuple[int, int]]) -> tuple[tuple[int, int] | None, int, int]:
    """Cost of summing bit ranges ``[lo, hi)`` pairwise, the way ``bespoke.lower`` builds
    its balanced trees: ``(result range, full adders, half adders)``."""
    full = half = 0
    while len(operands) > 1:
        merged = []
        for i in range(0, len(operands) - 1, 2):
            (a_lo, a_hi), (b_lo, b_hi) = operands[i], operands[i + 1]
            overlap = max(0, min(a_hi, b_hi) - max(a_lo, b_lo))
            full += overlap
            half += max(a_hi, b_hi) - min(a_hi, b_hi)
            merged.append((min(a_lo, b_lo), max(a_hi, b_hi) + 1))
        if len(operands) % 2:
            merged.append(operands[-1])
        operands = merged
    return (operands[0] if operands else None), full, half


@functools.lru_cache(maxsize=1 << 14)
def _neuron_costs(neuron, inputs: tuple[Interval, ...], acc: Interval,
                  out: Interval) -> tuple[int, int, int, int]:
    """(full adders, half adders, clamp bits, comparator bits) of one neuron (cached: a
    search rebuilds networks that differ in a few neurons)."""
    width = acc.width
    positive, negative = [], []
    for k, x in enumerate(inputs):
        if x.lo == x.hi:
            continue  # constant input: folded into the bias
        for term in neuron.terms(k):
            if term.mask < x.width:
                operand = (term.shift + term.mask, term.shift + x.width)
                (positive if term.sign > 0 else negative).append(operand)
    p, full, half = _adder_tree(positive)
    n, f2, h2 = _adder_tree(negative)
    full, half = full + f2, half + h2
    if p and n:  # the one subtraction
        _, f3, h3 = _adder_tree([p, n])
        full, half = full + f3, half + h3
    half += bin(abs(neuron.bias)).count("1")  # adding a constant
    clamp = comparator = 0
    act = neuron.activation
    if isinstance(act, ClampActivation):
        shifted = acc.shift_right(act.shift)
        clamp = out.width + max(0, shifted.width - act.bits) + (1 if shifted.lo < 0 else 0)
    elif isinstance(act, ThresholdActivation):
        for t in act.thresholds:
            if acc.lo < t <= acc.hi:  # otherwise the comparison is a constant
                comparator += max(1, width - 1 - _trailing_zeros(t - acc.lo)) + 1
    return full, half, clamp, comparator


@functools.lru_cache(maxsize=1 << 14)
def _layer_costs(layer: Layer, inputs: tuple[Interval, ...]) -> np.ndarray:
    """Summed :func:`_neuron_costs` of one layer whose inputs lie in ``inputs``."""
    info = analyze_layer(layer, inputs)
    return np.sum([_neuron_costs(neuron, inputs, acc, out) for neuron, acc, out
                   in zip(layer.neurons, info.accumulators, info.outputs)], axis=0)


def features(network: Network) -> CostFeatures:
    full, half, clamp, comparator = sum(_layer_costs(layer, info.inputs) for layer, info
                                        in zip(network.layers, network.analysis))
    logits = network.analysis[-1].accumulators
    if network.output == "sign":
        decision = float(logits[0].width)
    else:
        relu = 0
        if network.output_relu:  # a ReLU per logit first: about one gate a bit
            relu = sum(iv.width for iv in logits if iv.lo < 0)
            logits = [Interval(max(iv.lo, 0), max(iv.hi, 0)) for iv in logits]
        widths = [Interval(iv.lo >> network.decision_shift, iv.hi >> network.decision_shift).width
                  for iv in logits]
        # a comparator and a value/index multiplexer per merge of the tree
        decision = float(relu + sum(2 * max(widths) + network.output_width for _ in widths[1:]))
    return CostFeatures(float(full), float(half), float(clamp), float(comparator), decision)


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
        data = json.loads(resources.files("bespoke").joinpath("estimator.json").read_text())
        if data["features"] != list(FEATURES):
            raise ValueError("estimator.json does not match the estimator's features: "
                             "rerun benchmarks/estimator_calibration.py")
        return cls(tuple(data["coefficients_um2"]), data["library"])
