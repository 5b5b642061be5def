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

import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

from .ir import ClampActivation, Interval, Network, ThresholdActivation

FEATURES = ("adder_bits", "clamp_bits", "comparator_bits", "decision_bits")


def _trailing_zeros(value: int) -> int:
    return (value & -value).bit_length() - 1 if value else 0


@dataclass(frozen=True)
class CostFeatures:
    adder_bits: float  # ~ full adders of every neuron's tree and subtraction
    clamp_bits: float  # sign checks, saturation and selection of clamp activations
    comparator_bits: float  # constant comparators of threshold activations
    decision_bits: float  # comparators and multiplexers of the argmax tree

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, name) for name in FEATURES], dtype=float)


def features(network: Network) -> CostFeatures:
    adder = clamp = comparator = 0.0
    for layer, info in zip(network.layers, network.analysis):
        for neuron, acc, out in zip(layer.neurons, info.accumulators, info.outputs):
            width = acc.width
            entering, negative = 0, False
            for k, x in enumerate(info.inputs):
                if x.lo == x.hi:
                    continue  # constant input: folded into the bias
                for term in neuron.terms(k):
                    bits = x.width - term.mask
                    if bits > 0:
                        entering += bits
                        negative |= term.sign < 0
            constant_bits = bin(abs(neuron.bias)).count("1")
            adder += max(0, entering + constant_bits - width) + (width if negative else 0)
            act = neuron.activation
            if isinstance(act, ClampActivation):
                shifted = acc.shift_right(act.shift)
                clamp += out.width + max(0, shifted.width - act.bits) + (1 if shifted.lo < 0 else 0)
            elif isinstance(act, ThresholdActivation):
                for t in act.thresholds:
                    if acc.lo < t <= acc.hi:  # otherwise the comparison is a constant
                        comparator += max(1, width - 1 - _trailing_zeros(t - acc.lo))
    decision = 0.0
    logits = network.analysis[-1].accumulators
    if network.output == "sign":
        decision = logits[0].width
    else:
        widths = [Interval(iv.lo >> network.decision_shift, iv.hi >> network.decision_shift).width
                  for iv in logits]
        # a comparator and a value/index multiplexer per merge of the tree
        decision = sum(2 * max(widths) + network.output_width for _ in widths[1:])
    return CostFeatures(adder, clamp, comparator, decision)


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
