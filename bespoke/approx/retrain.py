"""Hardware-aware retraining: fine-tune the *integer* design on the training split.

The network being retrained is the circuit itself: every candidate change is run by
the bit-exact arithmetic of :mod:`bespoke.emulate` (input masks, truncated columns,
clamps, comparator banks and the argmax's MSB slice included), so what the retraining
measures is what the hardware computes.

It is coordinate descent over integers, with no gradient and no float shadow weights:
for each neuron in turn it tries

- its bias moved by ``±2**j`` (for a comparator bank: every threshold moved together),
- each live weight moved to a neighbouring value *with no more signed digits* than it
  has now (so no more adders), or pruned to zero,

and keeps the single change that lowers the training objective most, if the estimated
area does not grow.  The objective is the search's own budget rule on the training
split: the accuracy lost against a reference design (the exact one) plus two standard
errors of that loss, paired by sample (``lost - won + 2 sqrt(lost + won)``, over the
samples count), plus a small multiple of the cross-entropy of the float-equivalent
logits (``acc * 2**-acc_scale_log2``, the scale quantization gave the output layer) so
that moves that change no decision still count.  The validation split never enters it:
it stays the search's independent check.

A change to one connection alters only that connection's partial products, so a
candidate is scored by swapping one column's contribution, and a hidden neuron's change
reaches the next layer through its own column alone.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from .knobs import _replace_neuron, _values_with_digits
from ..ir.emulate import accumulate, activate, decide, trace
from .estimate import AreaModel
from ..ir.network import ClampActivation, Network, Neuron, ThresholdActivation, _terms, csd_digits
from .threads import one_blas_thread

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrainOptions:
    passes: int = 3  # sweeps over every neuron
    time_budget_s: float = 20.0
    neighbours: int = 3  # values tried on each side of a weight, in its cheap set
    #: weight of the cross-entropy (nats per sample) beside the paired loss bound
    cross_entropy_weight: float = 0.01


@dataclass(frozen=True)
class RetrainResult:
    network: Network
    loss_before: float  # training objective (see the module docstring)
    loss_after: float
    accuracy_before: float  # on the training split
    accuracy_after: float
    changes: int  # accepted coordinate moves
    passes: int
    seconds: float
    #: the time budget stopped it before its passes were done (or it settled): the result
    #: then depends on the machine's speed
    cut_short: bool = False


def float_logits(network: Network, logits: np.ndarray) -> np.ndarray:
    """The float-equivalent of the logits the circuit decides on (any leading axes)."""
    if network.output_relu:
        logits = np.maximum(logits, 0)
    decided = (logits >> network.decision_shift).astype(np.float64)
    return decided * 2.0 ** (network.decision_shift - network.layers[-1].acc_scale_log2)


@dataclass(frozen=True)
class Objective:
    """The training split's labels, and which samples the reference design gets right."""

    labels: np.ndarray
    reference_right: np.ndarray
    cross_entropy_weight: float

    def __call__(self, network: Network, logits: np.ndarray) -> np.ndarray:
        """The objective of each candidate: ``logits`` is ``(candidates, samples,
        outputs)``, the output layer's accumulators."""
        z = float_logits(network, logits)
        n = len(self.labels)
        if network.output == "sign":  # one logit: class 1 when positive
            right = (z[:, :, 0] > 0) == (self.labels == 1)[None, :]
            positive = (self.labels == 1)[None, :]
            cross_entropy = np.logaddexp(0.0, np.where(positive, -z[:, :, 0], z[:, :, 0]))
        else:  # the first of equal logits wins, as in the circuit
            right = z.argmax(axis=2) == self.labels[None, :]
            top = z.max(axis=2, keepdims=True)
            log_p = z - top - np.log(np.exp(z - top).sum(axis=2, keepdims=True))
            cross_entropy = -log_p[:, np.arange(n), self.labels]
        lost = np.count_nonzero(self.reference_right[None, :] & ~right, axis=1)
        won = np.count_nonzero(~self.reference_right[None, :] & right, axis=1)
        return ((lost - won + 2 * np.sqrt(lost + won)) / n
                + self.cross_entropy_weight * cross_entropy.mean(axis=1))


def _contribution(neuron: Neuron, k: int, weight: int, x: np.ndarray) -> np.ndarray:
    """What connection ``k`` adds to ``neuron``'s sum with ``weight`` (its masks and the
    neuron's truncation applied); ``x`` is that input's codes, any shape."""
    base = neuron.input_masks[k] if neuron.input_masks else 0
    out = np.zeros(x.shape, np.int64)
    for t in _terms(k, weight, base, neuron.truncation):
        out += t.sign * (((x >> t.mask) << t.mask) << t.shift)
    return out


def _activate_column(neuron: Neuron, acc: np.ndarray) -> np.ndarray:
    act = neuron.activation
    if isinstance(act, ClampActivation):
        return np.clip(acc >> act.shift, 0, act.max_code)
    thresholds = np.asarray(act.thresholds, np.int64)
    return (acc[..., None] >= thresholds).sum(axis=-1)


def _weight_choices(weight: int, neighbours: int) -> list[int]:
    """Values near ``weight`` with no more signed digits, and zero."""
    table = _values_with_digits(max(len(csd_digits(weight)), 1))
    i = int(np.searchsorted(table, weight))
    near = table[max(i - neighbours, 0):i + neighbours + 1]
    return sorted({v for v in near if v != weight} | {0})


def _shifted(neuron: Neuron, delta: int) -> Neuron:
    """The neuron with ``delta`` added to its sum: the bias, or a comparator bank's
    thresholds moved the other way."""
    if isinstance(neuron.activation, ThresholdActivation):
        return replace(neuron, activation=ThresholdActivation(
            tuple(t - delta for t in neuron.activation.thresholds)))
    return replace(neuron, bias=neuron.bias + delta)


class _State:
    """The network and every intermediate integer on the training split."""

    def __init__(self, network: Network, codes: np.ndarray, objective: Objective):
        self.codes, self.objective = np.asarray(codes, np.int64), objective
        self.labels = objective.labels
        self.set(network)

    def set(self, network: Network) -> None:
        self.network = network
        self.inputs, self.accs = [], []
        x = self.codes
        for li, layer in enumerate(network.layers):
            self.inputs.append(x)
            acc = accumulate(layer, x)
            self.accs.append(acc)
            if li < len(network.layers) - 1:
                x = activate(layer, acc)
        self.loss = float(self.objective(network, self.accs[-1][None])[0])

    def logits_with(self, li: int, j: int, accs: np.ndarray) -> np.ndarray:
        """Logits ``(candidates, samples, classes)`` when neuron ``j`` of layer ``li`` has
        the accumulators ``accs`` (``(candidates, samples)``) and nothing else changes."""
        network = self.network
        last = len(network.layers) - 1
        if li == last:
            logits = np.repeat(self.accs[-1][None], len(accs), axis=0)
            logits[:, :, j] = accs
            return logits
        neuron = network.layers[li].neurons[j]
        old_code = self.inputs[li + 1][:, j]
        new_code = _activate_column(neuron, accs)  # (candidates, samples)
        nxt = network.layers[li + 1]
        # only input j of the next layer changed: swap its contribution in every neuron
        acc = np.repeat(self.accs[li + 1][None], len(accs), axis=0)
        for m, neuron_m in enumerate(nxt.neurons):
            if neuron_m.weights[j]:
                acc[:, :, m] += (_contribution(neuron_m, j, neuron_m.weights[j], new_code)
                                 - _contribution(neuron_m, j, neuron_m.weights[j], old_code)[None])
        if li + 1 == last:
            return acc
        out = []
        for c in range(len(accs)):  # deeper networks: the remaining layers in full
            x = activate(nxt, acc[c])
            for layer in network.layers[li + 2:]:
                a = accumulate(layer, x)
                x = activate(layer, a) if layer is not network.layers[-1] else a
            out.append(x)
        return np.stack(out)


@one_blas_thread
def retrain(network: Network, train_codes: np.ndarray, train_labels: np.ndarray,
            model: AreaModel, options: RetrainOptions = RetrainOptions(),
            progress: Callable[[str], None] | None = None,
            reference: Network | None = None) -> RetrainResult:
    """Coordinate descent on the training objective against ``reference`` (default:
    ``network`` as it was), never growing the estimated area (see the module docstring).
    Deterministic: neurons and values in a fixed order."""
    start = time.perf_counter()
    train_codes, train_labels = np.asarray(train_codes, np.int64), np.asarray(train_labels)
    reference = network if reference is None else reference
    reference_right = trace(reference, train_codes).prediction == train_labels
    state = _State(network, train_codes,
                   Objective(train_labels, reference_right, options.cross_entropy_weight))
    loss_before = state.loss
    accuracy_before = float(np.mean(decide(network, state.accs[-1]) == state.labels))
    area = model.area_um2(network)
    changes, passes, cut_short = 0, 0, False
    for passes in range(1, options.passes + 1):
        changed_in_pass = 0
        for li in reversed(range(len(network.layers))):  # the output layer first
            for j in range(len(state.network.layers[li].neurons)):
                if time.perf_counter() - start >= options.time_budget_s:
                    cut_short = True
                    break
                changed_in_pass += _improve_neuron(state, li, j, model, area, options)
        changes += changed_in_pass
        area = model.area_um2(state.network)
        if progress:
            progress(f"retraining: pass {passes}, {changed_in_pass} changes, training loss "
                     f"{loss_before:.4f} -> {state.loss:.4f}")
        if not changed_in_pass:
            break
        if time.perf_counter() - start >= options.time_budget_s:
            cut_short = cut_short or passes < options.passes
            break
    accuracy_after = float(np.mean(decide(state.network, state.accs[-1]) == state.labels))
    return RetrainResult(state.network, loss_before, state.loss, accuracy_before, accuracy_after,
                         changes, passes, time.perf_counter() - start, cut_short)


def _improve_neuron(state: _State, li: int, j: int, model: AreaModel, area: float,
                    options: RetrainOptions) -> int:
    """Try the bias, then each live weight, of one neuron; keep every improving move."""
    accepted = 0
    neuron = state.network.layers[li].neurons[j]
    acc = state.accs[li][:, j]
    span = int(acc.max(initial=0) - acc.min(initial=0)) + 1
    deltas = [s * (1 << p) for p in range(max(span.bit_length() - 1, 1)) for s in (1, -1)]
    candidates = [_shifted(neuron, d) for d in deltas]
    accepted += _try(state, li, j, candidates, acc[None] + np.array(deltas)[:, None], model, area)
    for k in range(len(neuron.weights)):
        neuron = state.network.layers[li].neurons[j]
        w = neuron.weights[k]
        if not w:
            continue
        x = state.inputs[li][:, k]
        old = _contribution(neuron, k, w, x)
        values = _weight_choices(w, options.neighbours)
        candidates = [replace(neuron, weights=neuron.weights[:k] + (v,) + neuron.weights[k + 1:])
                      for v in values]
        accs = np.stack([state.accs[li][:, j] - old + _contribution(neuron, k, v, x)
                         for v in values])
        accepted += _try(state, li, j, candidates, accs, model, area)
    return accepted


def _try(state: _State, li: int, j: int, candidates: list[Neuron], accs: np.ndarray,
         model: AreaModel, area: float) -> int:
    """Adopt the candidate neuron with the lowest objective, if it beats the current one
    and the network stays valid and no larger."""
    losses = state.objective(state.network, state.logits_with(li, j, accs))
    for c in np.argsort(losses, kind="stable"):
        if losses[c] >= state.loss - 1e-12:
            return 0
        try:
            network = _replace_neuron(state.network, li, j, candidates[c])
            if model.area_um2(network) > area:
                continue
        except ValueError:  # out of the IR's valid range
            continue
        state.set(network)
        return 1
    return 0
