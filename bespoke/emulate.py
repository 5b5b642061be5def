"""The bit-exact integer emulator: *the* reference the RTL must equal.

A vectorized numpy interpreter of :class:`bespoke.ir.Network`.  Integer only
(int64, which the IR guarantees is wide enough); ``>>`` floors exactly as the
hardware's arithmetic shift does.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .ir import ClampActivation, Layer, Network, ThresholdActivation


@dataclass(frozen=True)
class Trace:
    """Every intermediate integer of a batch: per layer, accumulators and output codes."""

    accumulators: tuple[np.ndarray, ...]
    codes: tuple[np.ndarray, ...]
    prediction: np.ndarray  # class index per row


#: Integers below this magnitude are exact in a float64 (53-bit significand).
FLOAT_EXACT = 1 << 52


def accumulate(layer: Layer, x: np.ndarray) -> np.ndarray:
    """``acc = bias + sum_m ((x >> m) << m) @ W_m``: one matrix product per input mask
    (a single one for exact neurons)."""
    biases, per_mask, weight_sum = _layer_matrices(layer)
    exact_in_float = (int(x.max(initial=0)) * weight_sum + int(np.abs(biases).max(initial=0))
                      < FLOAT_EXACT)
    acc = np.broadcast_to(biases, (x.shape[0], len(biases))).copy()
    for mask, matrix in per_mask:
        masked = ((x >> mask) << mask) if mask else x
        if exact_in_float:  # BLAS: every integer involved is exact in a double
            acc += (masked.astype(np.float64) @ matrix.astype(np.float64)).astype(np.int64)
        else:
            acc += masked @ matrix
    return acc


@functools.lru_cache(maxsize=4096)
def _layer_matrices(layer: Layer) -> tuple[np.ndarray, tuple[tuple[int, np.ndarray], ...], int]:
    """Biases, ``(mask, W_m^T)`` and the largest sum of absolute weights of a neuron
    (cached: a search rebuilds networks that share most of their layers)."""
    biases = np.array([n.bias for n in layer.neurons], dtype=np.int64)
    n_in = layer.n_inputs
    weight_sum = max(sum(abs(w) for w in n.weights) for n in layer.neurons)
    if all(n.exact for n in layer.neurons):
        weights = np.array([n.weights for n in layer.neurons], dtype=np.int64).reshape(-1, n_in)
        return biases, ((0, np.ascontiguousarray(weights.T)),), weight_sum
    per_mask: dict[int, np.ndarray] = {}
    for j, neuron in enumerate(layer.neurons):
        for mask, row in neuron.masked_weights().items():
            matrix = per_mask.setdefault(mask, np.zeros((n_in, len(layer.neurons)), np.int64))
            for k, w in row.items():
                matrix[k, j] += w
    weight_sum = int(sum(np.abs(m) for m in per_mask.values()).sum(axis=0).max(initial=0))
    return biases, tuple(sorted(per_mask.items(), key=lambda item: item[0])), weight_sum


def activate(layer: Layer, acc: np.ndarray) -> np.ndarray:
    """Output codes of one hidden layer, given its accumulators (rows = samples)."""
    out = np.empty_like(acc)
    for j, neuron in enumerate(layer.neurons):
        act = neuron.activation
        if isinstance(act, ClampActivation):
            out[:, j] = np.clip(acc[:, j] >> act.shift, 0, act.max_code)
        elif isinstance(act, ThresholdActivation):
            thresholds = np.asarray(act.thresholds, dtype=np.int64)
            out[:, j] = (acc[:, j, None] >= thresholds[None, :]).sum(axis=1)
        else:  # pragma: no cover - the IR forbids it
            raise TypeError(f"unknown activation {act!r}")
    return out


def trace(network: Network, codes: np.ndarray) -> Trace:
    """Run a batch of input codes (rows of unsigned ints) through the network."""
    x = np.asarray(codes)
    if x.ndim != 2 or x.shape[1] != network.n_inputs:
        raise ValueError(f"expected codes of shape (n, {network.n_inputs}), got {x.shape}")
    if not np.issubdtype(x.dtype, np.integer):
        raise TypeError("input codes must be integers")
    if x.size and (x.min() < 0 or x.max() >= (1 << network.input_bits)):
        raise ValueError(f"input codes must lie in [0, {(1 << network.input_bits) - 1}]")
    x = x.astype(np.int64)
    accs, outs = [], []
    for index, layer in enumerate(network.layers):
        acc = accumulate(layer, x)
        accs.append(acc)
        if index < len(network.layers) - 1:
            x = activate(layer, acc)
            outs.append(x)
    return Trace(tuple(accs), tuple(outs), decide(network, accs[-1]))


def decide(network: Network, logits: np.ndarray) -> np.ndarray:
    """The class index from the output layer's accumulators."""
    logits = logits >> network.decision_shift
    if network.output == "sign":
        return (logits[:, 0] > 0).astype(np.int64)
    return np.argmax(logits, axis=1).astype(np.int64)  # first index wins ties


def run_from(network: Network, layer: int, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Continue an emulation at ``layer`` from that layer's input codes ``x``: returns
    the inputs of every later layer and the output layer's accumulators."""
    inputs = []
    for index in range(layer, len(network.layers)):
        inputs.append(x)
        acc = accumulate(network.layers[index], x)
        if index < len(network.layers) - 1:
            x = activate(network.layers[index], acc)
    return inputs, acc


def predict_codes(network: Network, codes: np.ndarray) -> np.ndarray:
    """Class index per row of input codes."""
    return trace(network, codes).prediction
