"""Quantize: a float MLP plus its training data into the integer IR.

* Inputs become unsigned ``input_bits`` codes, per feature, fitted on the training
  data: ``code = clip(round((x - lo) / step), 0, 2**bits - 1)``.  The scaling is kept in
  :class:`InputQuantizer` so users can quantize sensor values the same way.
* Every layer input is decoded as ``value = offset + gain * code``; that affine map is
  folded into the layer's weights and bias, so hardware only ever sees codes.
* Weights become signed ``weight_bits`` integers with one power-of-two scale per layer
  (``acc ~ z * 2**e``); biases keep the full accumulator precision.
* Hidden activations: ``relu`` and ``identity`` become a shift and a clamp to
  ``activation_bits`` (rounding written out as ``2**(s-1)`` added to the bias);
  ``logistic`` and ``tanh`` become banks of ``2**bits - 1`` constant comparators whose
  thresholds are the exact pre-images of the midpoints between output levels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import BespokeError
from ..ir.emulate import activate, predict_codes
from .ingest import FloatMLP
from ..ir.network import ClampActivation, Layer, Network, Neuron, ThresholdActivation

#: Default hidden activation widths: a clamp is a few gates a bit, a comparator
#: bank costs ``2**bits - 1`` comparators, so the banks default narrower.
DEFAULT_CLAMP_BITS = 8
DEFAULT_THRESHOLD_BITS = 4
#: Candidate clipping quantiles of each input feature's range (0 = min/max).  0.1 helps
#: where 16 levels are few for a wide, skewed feature (the pooled digits 16-5-10: -0.31 +-
#: 0.11 points against the float model, mammographic -0.39 +- 0.09, paired over seeds 20-39;
#: benchmarks/results/quantization_loss.md)
CLIP_QUANTILES = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1)


@dataclass(frozen=True)
class QuantizeOptions:
    input_bits: int = 4
    weight_bits: int = 8
    activation_bits: int | None = None  # None: 8 for relu/identity, 4 for logistic/tanh

    def __post_init__(self) -> None:
        if not 1 <= self.input_bits <= 16:
            raise BespokeError(f"--input-bits {self.input_bits} is out of range: use 1 to 16")
        if not 2 <= self.weight_bits <= 16:
            raise BespokeError(f"--weight-bits {self.weight_bits} is out of range: use 2 to 16")
        if self.activation_bits is not None and not 1 <= self.activation_bits <= 16:
            raise BespokeError(f"--activation-bits {self.activation_bits} is out of range: use 1 to 16")

    def hidden_bits(self, activation: str) -> int:
        if activation in ("logistic", "tanh"):
            bits = self.activation_bits or DEFAULT_THRESHOLD_BITS
            if bits > 8:
                raise BespokeError(f"a {activation} comparator bank with {bits} bits needs "
                                   f"{2 ** bits - 1} comparators per neuron: use --activation-bits 8 or fewer")
            return bits
        return self.activation_bits or DEFAULT_CLAMP_BITS


@dataclass(frozen=True)
class InputQuantizer:
    """Per-feature ``code = clip(round((x - lo) / step), 0, 2**bits - 1)``."""

    lo: tuple[float, ...]
    step: tuple[float, ...]
    bits: int

    @classmethod
    def fit(cls, X: np.ndarray, bits: int) -> "InputQuantizer":
        """Each feature's training range, split into ``2**bits`` levels."""
        return cls._from_ranges(X.min(axis=0), X.max(axis=0), bits)

    @classmethod
    def _from_ranges(cls, lo: np.ndarray, hi: np.ndarray, bits: int) -> "InputQuantizer":
        span = np.where(hi > lo, hi - lo, 1.0)
        return cls(tuple(map(float, lo)), tuple(map(float, span / ((1 << bits) - 1))), bits)

    @classmethod
    def calibrate(cls, X: np.ndarray, bits: int, mlp: FloatMLP, y_index: np.ndarray,
                  quantiles: tuple[float, ...] = CLIP_QUANTILES) -> "InputQuantizer":
        """Clip each feature's range at the quantiles that best keep the float model's
        training loss, one feature at a time (a few-level ADC spends its levels where
        the data is, not on outliers)."""
        lo, hi = X.min(axis=0), X.max(axis=0)
        candidates_lo = np.quantile(X, quantiles, axis=0)
        candidates_hi = np.quantile(X, [1.0 - q for q in quantiles], axis=0)

        def loss(lo_: np.ndarray, hi_: np.ndarray) -> float:
            q = cls._from_ranges(lo_, hi_, bits)
            return mlp.log_loss(q.decode(q.codes(X)), y_index)

        best = loss(lo, hi)
        for f in range(X.shape[1]):
            for end, candidates in ((lo, candidates_lo), (hi, candidates_hi)):
                keep = end[f]
                for value in candidates[1:, f]:
                    end[f] = value
                    trial = loss(lo, hi) if hi[f] > lo[f] else np.inf
                    if trial < best - 1e-12:
                        best, keep = trial, value
                end[f] = keep
        return cls._from_ranges(lo, hi, bits)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """The feature value each code stands for."""
        return np.asarray(self.lo) + codes * np.asarray(self.step)

    def codes(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != len(self.lo):
            raise BespokeError(f"expected {len(self.lo)} features per sample, got shape {X.shape}")
        q = np.floor((X - np.asarray(self.lo)) / np.asarray(self.step) + 0.5)
        return np.clip(q, 0, (1 << self.bits) - 1).astype(np.int64)

    def sensor_values(self, X: np.ndarray, sensor_bits: int) -> np.ndarray:
        """Each feature as an ADC sees it: a ``sensor_bits`` fixed-point value over the
        feature's full scale, ``clip(floor(((x - lo) / step + 0.5) * 2**(sensor_bits -
        bits)), 0, 2**sensor_bits - 1)``; its top ``bits`` bits are :meth:`codes` exactly
        (a power-of-two scale, then a floor)."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != len(self.lo):
            raise BespokeError(f"expected {len(self.lo)} features per sample, got shape {X.shape}")
        if sensor_bits < self.bits:
            raise BespokeError(f"sensor values need at least the codes' {self.bits} bits")
        scaled = ((X - np.asarray(self.lo)) / np.asarray(self.step) + 0.5) * (
            1 << (sensor_bits - self.bits))
        return np.clip(np.floor(scaled), 0, (1 << sensor_bits) - 1).astype(np.int64)

    def feature_value(self, feature: int, sensor: float, sensor_bits: int) -> float:
        """The feature value at sensor value ``sensor`` of input ``feature`` (where a
        reference placed at ``sensor`` switches)."""
        return self.lo[feature] + (sensor / (1 << (sensor_bits - self.bits)) - 0.5) * self.step[feature]

    def to_dict(self) -> dict:
        return {"bits": self.bits, "lo": list(self.lo), "step": list(self.step),
                "formula": "code = clip(floor((x - lo) / step + 0.5), 0, 2**bits - 1)"}

    @classmethod
    def from_dict(cls, data: dict) -> "InputQuantizer":
        return cls(tuple(map(float, data["lo"])), tuple(map(float, data["step"])), int(data["bits"]))


def _inverse(activation: str, level: float) -> float:
    """Pre-image of an output value under the monotone activation."""
    if activation == "logistic":
        return math.log(level / (1.0 - level))
    return math.atanh(level)  # tanh


def comparator_decode(activation: str, bits: int) -> tuple[float, float]:
    """``(offset, gain)``: the activation value a comparator-bank code stands for is
    ``offset + gain * code`` (logistic: ``code / L``; tanh: ``-1 + 2 * code / L``)."""
    levels = (1 << bits) - 1
    return (0.0, 1.0 / levels) if activation == "logistic" else (-1.0, 2.0 / levels)


def comparator_thresholds(activation: str, bits: int, scale_log2: int, bias: int) -> tuple[int, ...]:
    """Integer thresholds ``T_j`` such that ``sum_j [acc >= T_j]`` equals the nearest
    output level of ``activation((acc + bias) * 2**-scale_log2)``.

    Level ``j`` is reached where the activation passes the midpoint between levels
    ``j - 1`` and ``j``; ``acc`` is an integer, so ``acc + bias >= z * 2**e`` is
    ``acc >= ceil(z * 2**e) - bias``: the bias folds into the constants.
    """
    offset, gain = comparator_decode(activation, bits)
    midpoints = [offset + gain * (j - 0.5) for j in range(1, (1 << bits))]
    return tuple(math.ceil(_inverse(activation, m) * 2.0 ** scale_log2) - bias for m in midpoints)


def _hidden_neurons(activation: str, bits: int, weights: np.ndarray, biases: np.ndarray,
                    acc: np.ndarray, e: int) -> tuple[list[Neuron], np.ndarray, np.ndarray]:
    """Activation neurons of one hidden layer, and the affine decode (offset, gain) of
    their output codes in float units of the next layer's input."""
    n_out = weights.shape[0]
    neurons: list[Neuron] = []
    if activation in ("relu", "identity"):
        top = (1 << bits) - 1
        offsets, gains = np.zeros(n_out), np.zeros(n_out)
        for j in range(n_out):
            center = 0 if activation == "relu" else 1 << (bits - 1)
            hi = max(int(acc[:, j].max()), 1)
            lo = min(int(acc[:, j].min()), 0) if activation == "identity" else 0
            shift = 0  # smallest shift that keeps the training range unsaturated
            while (((hi + (1 << shift >> 1)) >> shift) + center > top
                   or (lo >> shift) + center < 0):
                shift += 1
            rounding = (1 << shift) >> 1
            bias = int(biases[j]) + rounding + (center << shift)
            neurons.append(Neuron(tuple(int(w) for w in weights[j]), bias,
                                  ClampActivation(shift, bits)))
            gains[j] = 2.0 ** (shift - e)
            offsets[j] = -center * gains[j]
        return neurons, offsets, gains
    offset, gain = comparator_decode(activation, bits)
    for j in range(n_out):
        thresholds = comparator_thresholds(activation, bits, e, int(biases[j]))
        neurons.append(Neuron(tuple(int(w) for w in weights[j]), 0,
                              ThresholdActivation(thresholds)))
    return neurons, np.full(n_out, offset), np.full(n_out, gain)


def quantize(mlp: FloatMLP, X_train: np.ndarray, y_train: np.ndarray | None = None,
             options: QuantizeOptions = QuantizeOptions()) -> tuple[Network, InputQuantizer]:
    """Build the exact (not yet approximated) integer network.

    ``y_train`` (class indices) enables the calibration of the input ranges; without
    it each feature spans its training min..max.
    """
    if X_train.shape[1] != mlp.n_features:
        raise BespokeError(f"the data has {X_train.shape[1]} features but the model expects "
                           f"{mlp.n_features}: pass the data the model was trained on")
    if y_train is None:
        quantizer = InputQuantizer.fit(X_train, options.input_bits)
    else:
        quantizer = InputQuantizer.calibrate(X_train, options.input_bits, mlp, y_train)
    codes = quantizer.codes(X_train)
    # layer 0 input decode, in the units the MLP sees (after the folded scaler)
    offset = np.asarray(quantizer.lo) * mlp.input_scale + mlp.input_offset
    gain = np.asarray(quantizer.step) * mlp.input_scale
    wmax = (1 << (options.weight_bits - 1)) - 1
    layers = []
    n_layers = len(mlp.coefs)
    for k, (coef, intercept) in enumerate(zip(mlp.coefs, mlp.intercepts)):
        w_eff = coef.T * gain[None, :]  # (n_out, n_in)
        b_eff = intercept + coef.T @ offset
        largest = float(np.abs(w_eff).max())
        e = math.floor(math.log2(wmax / largest)) if largest > 0 else 0
        weights = np.clip(np.rint(w_eff * 2.0 ** e), -wmax, wmax).astype(np.int64)
        biases = np.rint(b_eff * 2.0 ** e).astype(np.int64)
        if k == n_layers - 1:
            neurons = [Neuron(tuple(int(w) for w in weights[j]), int(biases[j]), None)
                       for j in range(weights.shape[0])]
        else:
            acc = codes @ weights.T + biases
            bits = options.hidden_bits(mlp.activation)
            neurons, offset, gain = _hidden_neurons(mlp.activation, bits, weights, biases, acc, e)
            layer = Layer(tuple(neurons), e)
            layer_bias = np.array([n.bias for n in neurons], dtype=np.int64)
            codes = activate(layer, codes @ weights.T + layer_bias)
        layers.append(Layer(tuple(neurons), e))
    output = "sign" if mlp.out_activation == "logistic" else "argmax"
    network = Network(options.input_bits, tuple(layers), output, len(mlp.classes))
    return network, quantizer


#: the flow warns when the exact design's training accuracy is this many points or more below
#: the float model's (4-bit inputs and 8-bit weights cost the suite's models at most 1.6 points
#: of test accuracy, one sample: benchmarks/results/suite.md)
PRECISION_WARNING_POINTS = 2.0


def training_loss_points(mlp: FloatMLP, X_train: np.ndarray, y_train: np.ndarray,
                         network: Network, quantizer: InputQuantizer) -> float:
    """Points of accuracy on ``X_train`` (class indices ``y_train``) that ``network`` (read
    through ``quantizer``) loses against the float model."""
    return _points_lost(_float_accuracy(mlp, X_train, y_train), network, quantizer, X_train,
                        y_train)


def _float_accuracy(mlp: FloatMLP, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.asarray(mlp.predict(X)) == mlp.classes[y]))


def _points_lost(floating: float, network: Network, quantizer: InputQuantizer, X: np.ndarray,
                 y: np.ndarray) -> float:
    """Points of accuracy on ``X`` that ``network`` loses against a float accuracy of
    ``floating``."""
    return 100 * (floating - float(np.mean(predict_codes(network, quantizer.codes(X)) == y)))


def precision_warning(mlp: FloatMLP, X_train: np.ndarray, y_train: np.ndarray,
                      options: QuantizeOptions, network: Network,
                      quantizer: InputQuantizer) -> str | None:
    """A warning when the exact design (``network``, built with ``options``) loses
    :data:`PRECISION_WARNING_POINTS` or more of training accuracy against the float model,
    with the first wider option (more weight bits, then more input bits too; hidden codes
    at least as wide as the default) that brings the loss under half of that, if one does;
    None otherwise.

    A model whose decisions hinge on small differences between large, nearly equal sums
    (as L-BFGS training on a small dataset can give: logits of 40 000 that differ by 30)
    cannot be resolved by 8-bit weights sharing one power-of-two scale per layer; more
    weight bits can."""
    floating = _float_accuracy(mlp, X_train, y_train)  # once for every width tried
    loss = _points_lost(floating, network, quantizer, X_train, y_train)
    if loss < PRECISION_WARNING_POINTS:
        return None
    hidden = options.hidden_bits(mlp.activation) if len(network.layers) > 1 else 0
    said = (f"the exact design ({options.input_bits}-bit inputs, {options.weight_bits}-bit "
            "weights" + (f", {hidden}-bit hidden codes" if hidden else "") + f") loses "
            f"{loss:.2f} points of training accuracy against the float model: these widths "
            "cannot resolve its decisions")
    activations = max(hidden, QuantizeOptions().hidden_bits(mlp.activation)) if hidden else None
    tried = []
    for inputs, weights in ((options.input_bits, options.weight_bits + 4),
                            (options.input_bits, 16), (options.input_bits + 4, 16)):
        wider = (min(inputs, 16), min(weights, 16), activations)
        if wider in tried or wider == (options.input_bits, options.weight_bits, hidden or None):
            continue
        tried.append(wider)
        inputs, weights, _ = wider
        try:
            trial = replace(options, input_bits=inputs, weight_bits=weights,
                            activation_bits=activations)
            fixed = _points_lost(floating, *quantize(mlp, X_train, y_train, trial), X_train,
                                 y_train)
        except (ValueError, BespokeError):  # a width the IR cannot hold: not an option
            continue
        if fixed < PRECISION_WARNING_POINTS / 2:
            flags = " ".join([f"--weight-bits {weights}"]
                             + ([f"--input-bits {inputs}"] if inputs != options.input_bits else [])
                             + ([f"--activation-bits {activations}"]
                                if activations and activations != hidden else []))
            kept = f"it loses {fixed:.2f}" if fixed >= 0.005 else "it loses none"
            return f"{said}; with {flags} {kept}"
    if not tried:
        return f"{said}, and bespoke builds no wider inputs or weights than 16 bits"
    return (f"{said}, nor can wider ones up to 16 bits: a model trained with more weight "
            "decay (MLPClassifier's alpha) is better conditioned")
