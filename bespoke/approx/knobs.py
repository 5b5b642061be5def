"""Approximation knobs: transformations of the integer IR, each returning a new network.

Every knob keeps the network an ordinary :class:`~bespoke.ir.Network`: the emulator
runs it bit-exactly and the generator builds it, so an approximated design goes
through the same verification as an exact one.  Where a knob removes a systematic
part of the sum, the expected removed value (measured on the training data) is added
back into the bias, which costs nothing in hardware.
"""
from __future__ import annotations

import bisect
import functools
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from ..ir.emulate import trace
from ..ir.network import (ClampActivation, Interval, Layer, Network, Neuron, ThresholdActivation,
                 csd_digits, rebuilt, trailing_zeros)


@functools.lru_cache(maxsize=None)
def _values_with_digits(digits: int, bits: int = 17) -> tuple[int, ...]:
    """Every integer of magnitude below ``2**bits`` with at most ``digits`` signed digits."""
    values = {0}
    frontier = {0}
    for _ in range(digits):
        frontier = {v + s * (1 << p) for v in frontier for p in range(bits) for s in (1, -1)
                    if abs(v + s * (1 << p)) < (1 << bits)}
        values |= frontier
    return tuple(sorted(values))


def nearest_with_digits(value: int, digits: int) -> int:
    """The integer nearest ``value`` with at most ``digits`` non-zero signed digits
    (ties go to the smaller magnitude); ``digits=1`` gives powers of two, 0 gives 0."""
    if len(csd_digits(value)) <= digits:
        return value
    table = _values_with_digits(digits)
    i = bisect.bisect_left(table, value)
    candidates = [table[j] for j in (i - 1, i) if 0 <= j < len(table)]
    return min(candidates, key=lambda c: (abs(c - value), abs(c)))


@dataclass(frozen=True)
class InputStatistics:
    """Per layer and input: the mean code, and the mean of its ``m`` low bits
    (``x mod 2**m``) for every ``m``, measured on training data."""

    mean: tuple[np.ndarray, ...]  # [layer][input]
    low_bits_mean: tuple[np.ndarray, ...]  # [layer][input, m]
    _dropped: OrderedDict = field(default_factory=OrderedDict, init=False, repr=False,
                                  compare=False)
    _means: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    #: neurons whose :meth:`dropped` is kept
    KEPT = 1 << 14

    def mean_of(self, layer: int) -> list[float]:
        """:attr:`mean` of one layer as Python floats (the same values, read faster one
        by one)."""
        if layer not in self._means:
            self._means[layer] = self.mean[layer].tolist()
        return self._means[layer]

    @classmethod
    def measure(cls, network: Network, codes: np.ndarray, max_bits: int = 24) -> "InputStatistics":
        t = trace(network, codes)
        inputs = (np.asarray(codes, np.int64),) + t.codes
        means, low = [], []
        for x in inputs:
            means.append(x.mean(axis=0))
            low.append(np.stack([(x & ((1 << m) - 1)).mean(axis=0) for m in range(max_bits)], axis=1))
        return cls(tuple(means), tuple(low))

    def dropped(self, layer: int, neuron: Neuron) -> float:
        """Expected value the masks and truncation of ``neuron`` remove from its sum
        (kept per neuron: a search asks again for the neurons every move starts from)."""
        if neuron.exact:  # no mask, no truncation: every term keeps all its bits
            return 0.0
        key = (layer, neuron)
        kept = self._dropped
        if key in kept:
            kept.move_to_end(key)  # the neurons moves start from are asked most
            return kept[key]
        if len(kept) >= self.KEPT:  # the least recently asked goes: memory stays bounded
            kept.popitem(last=False)
        kept[key] = value = self._dropped_by(layer, neuron)
        return value

    def _dropped_by(self, layer: int, neuron: Neuron) -> float:
        low = self.low_bits_mean[layer]
        top = low.shape[1] - 1
        return sum(t.sign * (1 << t.shift) * low[t.input, min(t.mask, top)]
                   for t in neuron.all_terms() if t.mask)


def _replace_neuron(network: Network, layer: int, index: int, neuron: Neuron) -> Network:
    layers = list(network.layers)
    neurons = list(layers[layer].neurons)
    neurons[index] = neuron
    layers[layer] = _interned(rebuilt(layers[layer], neurons=tuple(neurons)))
    return rebuilt(network, layers=tuple(layers))


@functools.lru_cache(maxsize=1 << 14)
def _interned(layer: Layer) -> Layer:
    """The first layer built equal to ``layer`` (cached): a search builds the same candidate
    layers again step after step, and the IR's caches, keyed by layer, then find them by
    identity instead of comparing them neuron by neuron."""
    return layer


def _rebias(stats: InputStatistics, layer: int, old: Neuron, new: Neuron) -> Neuron:
    """Keep the expected sum: add back what the change removed on average."""
    mean = stats.mean_of(layer)
    weight_change = sum((n - o) * mean[k] for k, (o, n) in enumerate(zip(old.weights, new.weights))
                        if n != o)
    dropped_change = stats.dropped(layer, new) - stats.dropped(layer, old)
    shift = round(dropped_change - weight_change)
    if not shift:
        return new
    if isinstance(new.activation, ThresholdActivation):  # the bias is folded into thresholds
        return rebuilt(new, activation=ThresholdActivation(
            tuple(t - shift for t in new.activation.thresholds)))
    return rebuilt(new, bias=new.bias + shift)


# --- one neuron ---------------------------------------------------------------------------
# Each knob on one neuron of ``layer``, bias compensated; the network-level knobs below and
# the search's genome decoder are built from these.


def importance(stats: InputStatistics, layer: int, neuron: Neuron) -> list[float]:
    """How much each connection contributes on average: ``|w| * (mean code + 1/2)``."""
    mean = stats.mean[layer]
    return [abs(w) * (mean[k] + 0.5) for k, w in enumerate(neuron.weights)]


def reweighted(stats: InputStatistics, layer: int, neuron: Neuron,
               weights: tuple[int, ...]) -> Neuron:
    """New weights (pruned, fewer signed digits, ...)."""
    return _rebias(stats, layer, neuron, rebuilt(neuron, weights=tuple(weights)))


def pruned(stats: InputStatistics, layer: int, neuron: Neuron, fraction: float) -> Neuron:
    """Without the least important ``fraction`` of its live connections (at least one
    when ``fraction > 0``)."""
    weight = importance(stats, layer, neuron)
    live = [v for v, w in zip(weight, neuron.weights) if w]
    if not live or fraction <= 0:
        return neuron
    cut = max(float(np.quantile(live, fraction)), min(live))
    return reweighted(stats, layer, neuron,
                      tuple(0 if v <= cut else w for v, w in zip(weight, neuron.weights)))


def rounded(stats: InputStatistics, layer: int, neuron: Neuron, digits: int) -> Neuron:
    """Every weight rounded to at most ``digits`` signed digits."""
    return reweighted(stats, layer, neuron,
                      tuple(nearest_with_digits(w, digits) for w in neuron.weights))


def truncated(stats: InputStatistics, layer: int, neuron: Neuron, columns: int) -> Neuron:
    """The lowest ``columns`` columns of its partial-product bit heap dropped."""
    return _rebias(stats, layer, neuron, rebuilt(neuron, truncation=columns))


def masked(stats: InputStatistics, neuron: Neuron, masks: tuple[int, ...]) -> Neuron:
    """A first-layer neuron with ``masks[k]`` low bits of circuit input ``k`` dropped."""
    return _rebias(stats, 0, neuron, rebuilt(neuron, input_masks=tuple(masks)))


def narrowed(neuron: Neuron) -> Neuron | None:
    """A hidden neuron whose activation code is one bit narrower (None when impossible);
    the next layer must double its weights (:func:`doubled`)."""
    act = neuron.activation
    if isinstance(act, ClampActivation):
        if act.bits <= 1:
            return None
        shift = act.shift + 1
        rounding = ((1 << shift) >> 1) - ((1 << act.shift) >> 1)
        return rebuilt(neuron, bias=neuron.bias + rounding,
                       activation=ClampActivation(shift, act.bits - 1))
    if isinstance(act, ThresholdActivation) and len(act.thresholds) >= 3:
        return rebuilt(neuron, activation=ThresholdActivation(act.thresholds[1::2]))
    return None


def saturated(neuron: Neuron) -> Neuron | None:
    """A hidden neuron whose activation saturates one level lower: a clamp keeps its
    scale and loses its top code bit (the ReLU saturation point halves), a comparator
    bank loses its highest threshold.  None when impossible."""
    act = neuron.activation
    if isinstance(act, ClampActivation) and act.bits > 1:
        return rebuilt(neuron, activation=ClampActivation(act.shift, act.bits - 1))
    if isinstance(act, ThresholdActivation) and len(act.thresholds) > 1:
        return rebuilt(neuron, activation=ThresholdActivation(act.thresholds[:-1]))
    return None


def snapped(neuron: Neuron, acc: Interval, up: bool) -> Neuron | None:
    """A hidden neuron whose most expensive comparators are one step cheaper: ``acc >= t``
    with ``k`` trailing zeros in ``t`` compares only the bits of ``acc`` above ``k``, so
    the thresholds the accumulator ``acc`` can cross that have the fewest trailing zeros,
    ``k``, move by ``2**k`` up (``up``) or down, to a multiple of ``2**(k + 1)`` (the
    others stay: every move is a small step).  Repeated, the bank's comparators all
    compare fewer bits.  None when nothing moves."""
    act = neuron.activation
    if not isinstance(act, ThresholdActivation):
        return None
    crossable = act.crossable(acc) - {0}  # a threshold at 0 compares the sign bit only
    if not crossable:
        return None
    fewest = min(trailing_zeros(t) for t in crossable)
    step = (1 if up else -1) << fewest
    moved = tuple(t + step if t in crossable and trailing_zeros(t) == fewest else t
                  for t in act.thresholds)
    return rebuilt(neuron, activation=ThresholdActivation(tuple(sorted(moved))))


def doubled(neuron: Neuron, times: int = 1) -> Neuron:
    """Weights times ``2**times`` for inputs that lost ``times`` low bits; a truncation
    moves up with them, so that it drops the same input bits as before."""
    if not times:
        return neuron
    return rebuilt(neuron, weights=tuple(w << times for w in neuron.weights),
                   truncation=neuron.truncation + times if neuron.truncation else 0)


# --- the network ------------------------------------------------------------------------


def set_weights(network: Network, stats: InputStatistics, layer: int, index: int,
                weights: tuple[int, ...]) -> Network:
    """New weights for one neuron (pruned, fewer signed digits, ...), bias compensated."""
    old = network.layers[layer].neurons[index]
    return _replace_neuron(network, layer, index, reweighted(stats, layer, old, weights))


def limit_digits(network: Network, stats: InputStatistics, layer: int, index: int,
                 digits: int) -> Network:
    """Every weight of one neuron rounded to at most ``digits`` signed digits."""
    old = network.layers[layer].neurons[index]
    return _replace_neuron(network, layer, index, rounded(stats, layer, old, digits))


def truncate(network: Network, stats: InputStatistics, layer: int, index: int,
             columns: int) -> Network:
    """Drop the lowest ``columns`` columns of one neuron's partial-product bit heap."""
    old = network.layers[layer].neurons[index]
    return _replace_neuron(network, layer, index, truncated(stats, layer, old, columns))


def snap_thresholds(network: Network, layer: int, index: int, up: bool) -> Network | None:
    """One neuron's comparator thresholds snapped toward cheaper constants (:func:`snapped`)."""
    old = network.layers[layer].neurons[index]
    new = snapped(old, network.analysis[layer].accumulators[index], up)
    return None if new is None else _replace_neuron(network, layer, index, new)


def remove_input(network: Network, stats: InputStatistics, feature: int) -> Network:
    """Prune every connection of one circuit input: the feature is no longer read."""
    neurons = tuple(reweighted(stats, 0, n, n.weights[:feature] + (0,) + n.weights[feature + 1:])
                    for n in network.layers[0].neurons)
    return rebuilt(network, layers=(_interned(rebuilt(network.layers[0], neurons=neurons)),)
                   + network.layers[1:])


def mask_input(network: Network, stats: InputStatistics, feature: int, bits: int) -> Network:
    """Drop the ``bits`` low bits of one circuit input in every first-layer neuron."""
    neurons = []
    for old in network.layers[0].neurons:
        masks = list(old.input_masks or (0,) * len(old.weights))
        masks[feature] = bits
        neurons.append(masked(stats, old, tuple(masks)))
    layers = (_interned(rebuilt(network.layers[0], neurons=tuple(neurons))),) + network.layers[1:]
    return rebuilt(network, layers=layers)


def reduce_activation_bits(network: Network, layer: int) -> Network | None:
    """One bit less for every activation code of hidden ``layer``; the next layer's
    weights double so that it still sees the same values.  None when impossible."""
    if layer >= len(network.layers) - 1:
        return None
    narrower = [narrowed(neuron) for neuron in network.layers[layer].neurons]
    if any(n is None for n in narrower):
        return None
    following = network.layers[layer + 1]
    layers = list(network.layers)
    layers[layer] = _interned(rebuilt(layers[layer], neurons=tuple(narrower)))
    layers[layer + 1] = rebuilt(following, neurons=tuple(doubled(n) for n in following.neurons))
    return rebuilt(network, layers=tuple(layers))


def saturate_neuron(network: Network, layer: int, index: int) -> Network | None:
    """One hidden neuron's activation saturating one level lower (:func:`saturated`)."""
    if layer >= len(network.layers) - 1:
        return None
    lower = saturated(network.layers[layer].neurons[index])
    return None if lower is None else _replace_neuron(network, layer, index, lower)


def constant_neuron(network: Network, stats: InputStatistics, layer: int,
                    index: int) -> Network | None:
    """One hidden clamp neuron removed: no weights (no adders), its code the constant
    nearest its mean code on the training data, which the next layer folds into its sums.
    None for an output or comparator-bank neuron, or one that has no weights already."""
    if layer >= len(network.layers) - 1:
        return None
    neuron = network.layers[layer].neurons[index]
    act = neuron.activation
    if not isinstance(act, ClampActivation) or not any(neuron.weights):
        return None
    code = min(max(round(float(stats.mean[layer + 1][index])), 0), act.max_code)
    return _replace_neuron(network, layer, index, rebuilt(
        neuron, weights=(0,) * len(neuron.weights), bias=code << act.shift, truncation=0))


def narrow_neuron(network: Network, layer: int, index: int) -> Network | None:
    """One hidden neuron's activation code one bit narrower, the next layer's weights on
    it doubled (per neuron what :func:`reduce_activation_bits` does per layer)."""
    if layer >= len(network.layers) - 1:
        return None
    narrower = narrowed(network.layers[layer].neurons[index])
    if narrower is None:
        return None
    steps = [0] * len(network.layers[layer].neurons)
    steps[index] = 1
    network = _replace_neuron(network, layer, index, narrower)
    layers = list(network.layers)
    layers[layer + 1] = _doubled_columns(layers[layer + 1], tuple(steps))
    return rebuilt(network, layers=tuple(layers))


@functools.lru_cache(maxsize=1 << 10)
def _doubled_columns(layer: Layer, steps: tuple[int, ...]) -> Layer:
    """``layer`` with its weights on input ``k`` times ``2**steps[k]`` (inputs whose codes
    lost ``steps[k]`` low bits; cached: the same object again for the same narrowing, which
    the caches of the IR's analysis then find by identity, not by comparing every weight)."""
    return rebuilt(layer, neurons=tuple(
        rebuilt(n, weights=tuple(w << s for w, s in zip(n.weights, steps))) for n in layer.neurons))


@functools.lru_cache(maxsize=1 << 12)
def _narrowed_to(neuron: Neuron, inputs: tuple, width: int,
                 saturate: bool) -> tuple[Neuron, int] | None:
    """``neuron`` narrowed or saturated until its code has at most ``width`` bits, and how
    many steps that took (cached: a search tries the same neuron in many splits)."""
    steps = 0
    while neuron.activation.output_interval(neuron.accumulator_interval(inputs)).width > width:
        neuron = (saturated if saturate else narrowed)(neuron)
        if neuron is None:
            return None
        steps += 1
    return neuron, steps


def narrow_to(network: Network, layer: int, widths: dict[int, int],
              saturate: bool = False) -> Network | None:
    """Hidden neurons ``index`` of ``layer`` narrowed (:func:`narrow_neuron`), or saturated
    lower (:func:`saturate_neuron`), until each code has at most ``widths[index]`` bits;
    None when one cannot get there.  Built in one step (a search tries many of these)."""
    if layer >= len(network.layers) - 1:
        return None
    inputs = network.analysis[layer].inputs
    neurons = list(network.layers[layer].neurons)
    steps = [0] * len(neurons)
    for index, width in widths.items():
        done = _narrowed_to(neurons[index], inputs, width, saturate)
        if done is None:
            return None
        neurons[index], steps[index] = done
    if not any(steps):
        return network
    layers = list(network.layers)
    layers[layer] = _interned(rebuilt(layers[layer], neurons=tuple(neurons)))
    if not saturate:  # the next layer's weights on a narrowed code double per bit
        layers[layer + 1] = _doubled_columns(layers[layer + 1], tuple(steps))
    return rebuilt(network, layers=tuple(layers))


def set_decision_shift(network: Network, shift: int) -> Network:
    """argmax over ``logit >> shift``: compare only an MSB slice of the logits."""
    return rebuilt(network, decision_shift=shift)


def describe(exact: Network, approximate: Network) -> dict:
    """The knobs an approximate network turned, relative to the exact one, as plain data."""
    neurons = []
    for li, (a, b) in enumerate(zip(exact.layers, approximate.layers)):
        for ni, (n0, n1) in enumerate(zip(a.neurons, b.neurons)):
            pruned = sum(1 for w0, w1 in zip(n0.weights, n1.weights) if w0 and not w1)
            changed = sum(1 for w0, w1 in zip(n0.weights, n1.weights) if w0 != w1 and w1)
            entry = {"neuron": f"l{li}_n{ni}", "pruned": pruned, "weights_changed": changed,
                     "digits": sum(len(csd_digits(w)) for w in n1.weights),
                     "exact_digits": sum(len(csd_digits(w)) for w in n0.weights),
                     "truncation": n1.truncation, "input_masks": list(n1.input_masks)}
            if isinstance(n1.activation, ClampActivation):
                entry["activation_bits"] = n1.activation.bits
            elif isinstance(n1.activation, ThresholdActivation):
                entry["activation_levels"] = len(n1.activation.thresholds) + 1
            neurons.append(entry)
    return {"decision_shift": approximate.decision_shift, "neurons": neurons}
