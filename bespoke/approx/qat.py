"""Hardware-aware training in the float domain: quantization-aware, with the circuit in the loop.

:mod:`bespoke.approx.retrain` moves one integer at a time; this module trains every weight
at once by gradient, as quantization-aware training does, starting from the exact design
(the user's model, quantized).  Each layer keeps float *shadow* weights and biases in the
integer units of the design; the forward pass is the circuit's own arithmetic on the
training split's input codes:

- every weight is the integer its shadow projects to (:func:`cheap_weights`: the nearest
  integer, or a cheaper one with fewer signed digits when the digit penalty says so),
  every bias the nearest integer;
- every hidden code is ``clamp(acc >> shift, 0, 2**bits - 1)`` with the exact design's
  shifts and widths;
- the loss is the cross-entropy of the output layer's logits (in the float units of the
  exact design) against a mix of the labels and the exact design's own soft answers
  (distillation: the search's budget is paired against the exact design, so agreeing with
  it is what keeps a cheaper design within budget).

The backward pass is straight-through: the projection and the floor pass the gradient
unchanged (``2**-shift`` for a clamp in its linear range, nothing where it saturates).

A penalty on signed digits (each digit of a weight is one adder row in the circuit) is
raised step by step (:attr:`QatOptions.penalties`): the projection of a weight ``w`` is
``argmin_v ((w - v) / scale)**2 + penalty * cost * digits(v)``, ``scale`` the layer's
largest weight and ``cost`` the width of the layer's input codes over the circuit's
input width (a digit on a wide hidden code costs more adders).  Each penalty gives a few
integer networks (snapshots of its last steps): a path from the exact design to ever
cheaper ones, handed to the search as starting points (:func:`bespoke.approx.search.search`),
where the budget rule decides, unchanged, on the validation split the training never sees.

A second pass over the same penalties prunes whole inputs as it goes (group pruning: a
circuit input none of the first layer reads needs no ADC and no adder rows): before each
penalty after the first, the :attr:`QatOptions.input_pruning` share of the inputs still
read whose removal raises the training loss least is cut (their mean contribution moved
into the biases), and the training goes on without them.
"""
from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, replace

import numpy as np

from ..ir.emulate import trace
from ..ir.network import ClampActivation, Network, csd_digits
from .threads import one_blas_thread

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QatOptions:
    #: digit penalties, one trained network each, in this order (0: quantization only)
    penalties: tuple[float, ...] = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
    steps: int = 400  # Adam steps per penalty
    #: integer networks taken at evenly spaced steps of each penalty (the last at its end):
    #: whether one stays within the budget varies from step to step, so the search gets a few
    snapshots: int = 4
    batch: int = 256
    learning_rate: float = 0.1  # in integer units of the weights
    #: weight of the exact design's soft answers in the target (the rest: the labels)
    distillation: float = 0.8
    temperature: float = 1.0
    time_budget_s: float = 20.0
    seed: int = 0
    #: share of the inputs still read that the pruning pass cuts before each penalty after
    #: the first (at least one, never the last one); 0: no pruning pass
    input_pruning: float = 0.125


@dataclass(frozen=True)
class QatResult:
    #: :attr:`QatOptions.snapshots` networks per penalty reached, in training order
    networks: tuple[Network, ...]
    penalties: tuple[float, ...]  # the penalty each network was trained at
    seconds: float
    #: the time budget stopped it before every penalty was trained
    cut_short: bool = False
    #: the circuit inputs each network still reads (fewer on the pruning pass)
    inputs: tuple[int, ...] = ()


def trainable(network: Network) -> bool:
    """Whether :func:`train` applies: clamp (ReLU, identity) hidden layers of exact neurons,
    no ADC interface, a plain argmax or sign decision.  Comparator-bank (logistic, tanh)
    layers are left to the integer retraining."""
    return (network.interface is None and network.decision_shift == 0
            and not network.output_relu
            and all(n.exact for layer in network.layers for n in layer.neurons)
            and all(isinstance(n.activation, ClampActivation)
                    for layer in network.layers[:-1] for n in layer.neurons))


@functools.lru_cache(maxsize=64)
def _digit_table(largest: int) -> tuple[np.ndarray, np.ndarray]:
    """Every integer in ``[-largest, largest]`` and its count of signed digits."""
    values = np.arange(-largest, largest + 1, dtype=np.int64)
    return values, np.array([len(csd_digits(int(v))) for v in values], dtype=np.float64)


def cheap_weights(shadow: np.ndarray, largest: int, penalty: float) -> np.ndarray:
    """The integer of at most ``largest`` magnitude each float weight projects to:
    ``argmin_v ((w - v) / largest)**2 + penalty * digits(v)`` (ties: the smaller magnitude)."""
    values, digits = _digit_table(largest)
    if penalty <= 0:
        return np.clip(np.rint(shadow), -largest, largest).astype(np.int64)
    flat = shadow.reshape(-1, 1)
    cost = ((flat - values[None, :]) / largest) ** 2 + penalty * digits[None, :]
    cost += 1e-12 * np.abs(values)[None, :]  # ties go to the smaller magnitude
    return values[np.argmin(cost, axis=1)].reshape(shadow.shape)


class _Adam:
    def __init__(self, shapes, rate: float):
        self.m = [np.zeros(s) for s in shapes]
        self.v = [np.zeros(s) for s in shapes]
        self.rate, self.t = rate, 0

    def step(self, params, grads, rates) -> None:
        self.t += 1
        for p, g, m, v, r in zip(params, grads, self.m, self.v, rates):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= r * (m / (1 - 0.9 ** self.t)) / (np.sqrt(v / (1 - 0.999 ** self.t)) + 1e-12)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@one_blas_thread
def train(exact: Network, train_codes: np.ndarray, train_labels: np.ndarray,
          options: QatOptions = QatOptions()) -> QatResult:
    """The exact design trained with the circuit in the loop, once per digit penalty (see
    the module docstring); empty when the network is not :func:`trainable`."""
    start = time.perf_counter()
    if not trainable(exact) or not len(train_labels):
        return QatResult((), (), 0.0)
    codes = np.asarray(train_codes, np.int64)
    labels = np.asarray(train_labels, np.int64)
    rng = np.random.default_rng(options.seed)
    layers = exact.layers
    scale_out = 2.0 ** -layers[-1].acc_scale_log2
    sign = exact.output == "sign"
    # the exact design's soft answers, at the same temperature
    teacher_logits = trace(exact, codes).accumulators[-1] * scale_out / options.temperature
    if sign:
        teacher_logits = np.concatenate([np.zeros_like(teacher_logits), teacher_logits], axis=1)
    n_classes = teacher_logits.shape[1]
    target = (1 - options.distillation) * np.eye(n_classes)[labels] \
        + options.distillation * _softmax(teacher_logits)

    initial_weights, initial_biases, shifts, tops = arrays(exact)
    largest = [max(1, int(np.abs(w).max())) for w in initial_weights]
    # digit cost per layer: the width of its input codes over the circuit's input width
    widths = [exact.input_bits] + [max(n.activation.bits for n in layer.neurons)
                                   for layer in layers[:-1]]
    digit_cost = [w / exact.input_bits for w in widths]
    # step sizes: a weight moves in integer units, a bias in units of what one weight
    # times a typical input adds
    input_tops = [(1 << exact.input_bits) - 1] + [int(t.max()) for t in tops]
    rates = [options.learning_rate] * len(layers) \
        + [options.learning_rate * max(1, t) for t in input_tops]
    mean_codes = codes.mean(axis=0)

    def loss_of(q_weights: list[np.ndarray], q_biases: list[np.ndarray],
                rows: np.ndarray) -> float:
        """The integer network's cross-entropy against the target on ``rows``."""
        acc, _, _ = forward(q_weights, q_biases, shifts, tops, codes[rows])
        logits = acc * scale_out / options.temperature
        if sign:
            logits = np.concatenate([np.zeros_like(logits), logits], axis=1)
        p = _softmax(logits)
        return -float(np.mean(np.sum(target[rows] * np.log(np.maximum(p, 1e-300)), axis=1)))

    found: list[Network] = []
    reached: list[float] = []
    kept_inputs: list[int] = []
    cut_short = False
    passes = (False, True) if options.input_pruning > 0 and exact.n_inputs > 1 else (False,)
    for pruning in passes:
        weights = [w.copy() for w in initial_weights]
        biases = [b.copy() for b in initial_biases]
        adam = _Adam([w.shape for w in weights] + [b.shape for b in biases],
                     options.learning_rate)
        live = np.ones(exact.n_inputs, bool)  # the circuit inputs still read

        def network_of(penalty: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
            ints = [cheap_weights(w, m, penalty * c)
                    for w, m, c in zip(weights, largest, digit_cost)]
            return ints, [np.rint(b) for b in biases]

        for stage, penalty in enumerate(options.penalties):
            if time.perf_counter() - start > options.time_budget_s:
                cut_short = True
                break
            if pruning and stage and live.sum() > 1:
                cut = _least_needed(network_of(penalty), live, loss_of, rng, len(labels),
                                    options)
                for k in cut:  # the input's mean contribution stays, in the bias
                    biases[0] += weights[0][:, k] * mean_codes[k]
                    weights[0][:, k] = 0.0
                live[cut] = False
            every = max(1, options.steps // max(1, options.snapshots))
            taken = {options.steps - i * every for i in range(options.snapshots)}
            for step in range(1, options.steps + 1):
                rows = rng.integers(0, len(labels), min(options.batch, len(labels)))
                q_weights, q_biases = network_of(penalty)
                acc, inputs, slopes = forward(q_weights, q_biases, shifts, tops, codes[rows])
                logits = acc * scale_out / options.temperature
                if sign:
                    logits = np.concatenate([np.zeros_like(logits), logits], axis=1)
                grad = (_softmax(logits) - target[rows]) / len(rows)
                if sign:
                    grad = grad[:, 1:]  # the fixed zero logit has no weights
                grad = grad * scale_out / options.temperature
                w_grads, b_grads = [None] * len(layers), [None] * len(layers)
                for li in range(len(layers) - 1, -1, -1):
                    w_grads[li] = grad.T @ inputs[li]
                    b_grads[li] = grad.sum(axis=0)
                    if li:
                        grad = (grad @ q_weights[li]) * slopes[li - 1]
                adam.step(weights + biases, w_grads + b_grads, rates)
                for w, m in zip(weights, largest):
                    np.clip(w, -m - 0.5, m + 0.5, out=w)
                weights[0][:, ~live] = 0.0
                if step in taken:
                    q_weights, q_biases = network_of(penalty)
                    try:
                        found.append(_network(exact, q_weights, q_biases))
                    except ValueError as error:  # a range the IR cannot hold: none from here
                        log.debug("QAT at penalty %g: %s", penalty, error)
                        continue
                    reached.append(penalty)
                    kept_inputs.append(int(np.count_nonzero(np.any(q_weights[0], axis=0))))
        if cut_short:
            break
    seconds = time.perf_counter() - start
    log.info("QAT: %d networks in %.1f s", len(found), seconds)
    return QatResult(tuple(found), tuple(reached), seconds, cut_short, tuple(kept_inputs))


def _least_needed(network: tuple[list[np.ndarray], list[np.ndarray]], live: np.ndarray,
                  loss_of, rng: np.random.Generator, samples: int,
                  options: QatOptions) -> list[int]:
    """The :attr:`QatOptions.input_pruning` share of the ``live`` inputs (at least one,
    never every one) whose removal from the integer ``network`` raises the training loss
    least, on one batch of rows (each scored with its weights zeroed alone: :func:`train`
    moves the cut inputs' mean contributions into the biases afterwards)."""
    q_weights, q_biases = network
    rows = rng.integers(0, samples, min(4 * options.batch, samples))
    losses = []
    for k in np.flatnonzero(live):
        without = [q_weights[0].copy(), *q_weights[1:]]
        without[0][:, k] = 0
        losses.append((loss_of(without, q_biases, rows), int(k)))
    count = min(max(1, round(options.input_pruning * len(losses))), len(losses) - 1)
    return [k for _, k in sorted(losses)[:count]]


def arrays(network: Network) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray],
                                      list[np.ndarray]]:
    """Per layer, a :func:`trainable` network's weights ``(neurons, inputs)`` and biases as
    floats, and per hidden layer its clamps' shifts and largest codes."""
    layers = network.layers
    return ([np.array([n.weights for n in layer.neurons], np.float64) for layer in layers],
            [np.array([n.bias for n in layer.neurons], np.float64) for layer in layers],
            [np.array([n.activation.shift for n in layer.neurons]) for layer in layers[:-1]],
            [np.array([n.activation.max_code for n in layer.neurons]) for layer in layers[:-1]])


def forward(weights: list[np.ndarray], biases: list[np.ndarray], shifts: list[np.ndarray],
            tops: list[np.ndarray], codes: np.ndarray,
            ) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """The circuit's arithmetic in floats (exact: every value is an integer far below
    2**53): the output layer's accumulators, each layer's inputs, and each hidden layer's
    straight-through slope ``d code / d acc`` (``2**-shift`` where the clamp is linear)."""
    x = np.asarray(codes, np.float64)
    inputs, slopes = [], []
    for li, (w, b) in enumerate(zip(weights, biases)):
        inputs.append(x)
        acc = x @ w.T + b
        if li < len(weights) - 1:
            scaled = acc / 2.0 ** shifts[li]
            x = np.clip(np.floor(scaled), 0, tops[li])
            slopes.append(((scaled >= 0) & (scaled < tops[li] + 1)) / 2.0 ** shifts[li])
    return acc, inputs, slopes


def _network(exact: Network, weights: list[np.ndarray], biases: list[np.ndarray]) -> Network:
    layers = tuple(
        replace(layer, neurons=tuple(
            replace(n, weights=tuple(int(v) for v in w), bias=int(b))
            for n, w, b in zip(layer.neurons, wl, bl)))
        for layer, wl, bl in zip(exact.layers, weights, biases))
    return replace(exact, layers=layers)
