"""Approximation search: the smallest network whose validation accuracy stays in budget.

Candidates are networks made by the knobs of :mod:`bespoke.approx.knobs`; each is scored
by its accuracy on the *validation* split (by the bit-exact emulator) and its area (by
the calibrated estimator of :mod:`bespoke.estimate`).  The test split is never seen.

The greedy baseline walks downhill: from the current network it tries every single
knob move, keeps the feasible move (accuracy within budget) that saves the most area
per point of accuracy lost, and repeats until no move saves area.  Every evaluated
candidate joins the Pareto front.

The budget holds for the loss plus two standard errors of it (:func:`loss_bound`), paired
against the exact design, on four sets: the validation split, the training split, and two
neighbourhoods of both, copies of their samples with every input moved a level
(:func:`level_neighbourhood`) or moved as far as unseen samples lie from the seen ones
(:func:`reach_neighbourhood`).
"""
from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from . import knobs as ax
from ..ir import network as ir
from ..ir.emulate import predict_codes, predict_many, predict_rebiased, predict_variants, trace
from .estimate import AreaModel
from ..ir.network import Layer, Network, Neuron, csd_digits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchOptions:
    max_accuracy_loss: float = 0.01  # fraction below the exact design's validation accuracy
    time_budget_s: float = 60.0
    max_truncation: int = 12
    #: hardware-aware retraining (:mod:`bespoke.retrain`) whenever the greedy search
    #: finds no move within the budget, then on; and of the chosen design.  Off for a bare
    #: search; ``bespoke compile`` and ``Design.approximate`` turn it on by default
    retrain: bool = False
    retrain_rounds: int = 20  # times a greedy search that is stuck retrains
    retrain_tries: int = 6  # moves beyond the budget retrained each time
    #: independent NSGA-II runs (seeds seed, seed + 1, ...) after the greedy search; their
    #: fronts are merged, so more restarts never choose a larger design
    restarts: int = 4
    #: processes the restarts run on (None: one per core, at most one per restart); inside
    #: a Dask worker, or under ``joblib.parallel_config(backend="dask")``, they are tasks
    #: of that cluster instead
    jobs: int | None = None
    #: samples in the two neighbourhoods together, on which the budget must hold too:
    #: copies of every training and validation sample (as many as fit, at least one in
    #: each), see :func:`level_neighbourhood` and :func:`reach_neighbourhood` (0: no such
    #: check)
    neighbourhood: int = 16384


@dataclass(frozen=True)
class Candidate:
    network: Network = field(repr=False)
    accuracy: float  # on the validation split
    area_um2: float  # estimated
    move: str  # the knob that made it from its parent
    train_accuracy: float = float("nan")  # on the training split (a second budget check)
    #: the largest over the splits (validation, training, their neighbourhoods) of (loss +
    #: two standard errors of the loss) against the exact design; the budget applies to it
    loss_bound: float = 0.0


@dataclass(frozen=True)
class SearchResult:
    exact: Candidate
    chosen: Candidate
    front: tuple[Candidate, ...]  # Pareto-optimal candidates, by increasing area
    evaluations: int
    seconds: float
    steps: tuple[str, ...]  # the moves from the exact design to the chosen one
    floor: float  # the exact validation accuracy minus the budget (the plots' budget line)
    #: the time budget cut the search short: the result then depends on the machine's speed
    budget_hit: bool = False
    retrained: bool = False  # the search could retrain (SearchOptions.retrain)


class _ProgressBar:
    """Progress as one line every few seconds: ``[######----]  60% <what is going on>``."""

    def __init__(self, report: Callable[[str], None] | None, every_s: float = 2.0):
        self.report, self.every_s, self.last = report, every_s, time.perf_counter()

    def update(self, fraction: float, text: str, *, force: bool = False) -> None:
        now = time.perf_counter()
        if self.report is None or (not force and now - self.last < self.every_s):
            return
        self.last = now
        filled = round(10 * min(max(fraction, 0.0), 1.0))
        self.report(f"[{'#' * filled}{'-' * (10 - filled)}] {100 * min(fraction, 1.0):3.0f}% {text}")


def pareto_front(candidates: list[Candidate]) -> tuple[Candidate, ...]:
    """Candidates no other candidate beats on both accuracy and area."""
    front: list[Candidate] = []
    for c in sorted(candidates, key=lambda c: (c.area_um2, -c.accuracy)):
        if not front or c.accuracy > front[-1].accuracy:
            front.append(c)
    return tuple(front)


def _moves(network: Network, stats: ax.InputStatistics,
           options: SearchOptions) -> Iterator[tuple[str, Callable[[], Network | None]]]:
    """Every single-knob step from ``network``, lazily built."""
    for li, layer in enumerate(network.layers):
        for ni, neuron in enumerate(layer.neurons):
            weight = ax.importance(stats, li, neuron)
            live = [(weight[k], k) for k, w in enumerate(neuron.weights) if w]
            if live:
                _, k = min(live)
                weights = tuple(0 if i == k else w for i, w in enumerate(neuron.weights))
                yield (f"prune l{li}_n{ni} input {k}",
                       lambda li=li, ni=ni, w=weights: ax.set_weights(network, stats, li, ni, w))
            for k, w in enumerate(neuron.weights):  # one signed digit less on one weight
                if w:
                    fewer = len(csd_digits(w)) - 1
                    weights = neuron.weights[:k] + (ax.nearest_with_digits(w, fewer),) + neuron.weights[k + 1:]
                    yield (f"l{li}_n{ni} weight {k} to {fewer} signed digits" if fewer
                           else f"prune l{li}_n{ni} input {k}",
                           lambda li=li, ni=ni, w=weights: ax.set_weights(network, stats, li, ni, w))
            digits = max((len(csd_digits(w)) for w in neuron.weights), default=0)
            if digits >= 2:
                yield (f"l{li}_n{ni} weights to {digits - 1} signed digits",
                       lambda li=li, ni=ni, d=digits - 1: ax.limit_digits(network, stats, li, ni, d))
            if neuron.truncation < options.max_truncation:
                yield (f"l{li}_n{ni} drops {neuron.truncation + 1} low columns",
                       lambda li=li, ni=ni, c=neuron.truncation + 1: ax.truncate(network, stats, li, ni, c))
            if li < len(network.layers) - 1 and any(neuron.weights):
                yield (f"l{li}_n{ni} saturates one level lower",
                       lambda li=li, ni=ni: ax.saturate_neuron(network, li, ni))
                yield (f"l{li}_n{ni} activation one bit narrower",
                       lambda li=li, ni=ni: ax.narrow_neuron(network, li, ni))
                if isinstance(neuron.activation, ir.ThresholdActivation):
                    for up in (False, True):
                        yield (f"l{li}_n{ni} thresholds snapped {'up' if up else 'down'} to "
                               "cheaper constants",
                               lambda li=li, ni=ni, up=up: ax.snap_thresholds(network, li, ni, up))
    first = network.layers[0].neurons[0]
    for k in range(network.n_inputs):
        if any(n.weights[k] for n in network.layers[0].neurons):
            yield (f"input {k} removed", lambda k=k: ax.remove_input(network, stats, k))
        current = first.input_masks[k] if first.input_masks else 0
        if current + 1 < network.input_bits:
            yield (f"input {k} drops {current + 1} low bits",
                   lambda k=k, m=current + 1: ax.mask_input(network, stats, k, m))
    for li in range(len(network.layers) - 1):
        yield (f"layer {li} activations one bit narrower",
               lambda li=li: ax.reduce_activation_bits(network, li))
    yield from _tabulating_moves(network)
    if network.output == "argmax":
        yield (f"argmax on logits >> {network.decision_shift + 1}",
               lambda: ax.set_decision_shift(network, network.decision_shift + 1))


#: at most this many ways of narrowing the last hidden layer into a decision table are tried
#: at once (the most even splits of the table's bits first)
TABULATING_MOVES = 24


def _tabulating_moves(network: Network) -> Iterator[tuple[str, Callable[[], Network | None]]]:
    """The last hidden layer's codes narrowed (or saturated) in one move until the output
    layer's inputs fit a decision table (:data:`bespoke.ir.TABLE_MAX_BITS` bits): a table
    costs far less than the adders and comparators it replaces, but one bit at a time the
    search would rarely walk there."""
    if len(network.layers) < 2 or network.table_inputs is not None:
        return
    li = len(network.layers) - 2
    inputs = network.analysis[-1].inputs
    used = ir.varying_inputs(network.layers[-1], inputs)
    if not used or len(used) > ir.TABLE_MAX_BITS:
        return
    widths = [inputs[k].width for k in used]
    splits = sorted(_splits(min(ir.TABLE_MAX_BITS, sum(widths)), widths),
                    key=lambda t: (max(t) - min(t), t))
    for targets in splits[:TABULATING_MOVES]:
        for saturate in (False, True):
            yield (f"layer {li} codes {'saturated' if saturate else 'narrowed'} to "
                   f"{'+'.join(map(str, targets))} bits: a decision table",
                   lambda t=targets, s=saturate: ax.narrow_to(network, li, dict(zip(used, t)), s))


def _splits(total: int, widths: list[int]) -> Iterator[tuple[int, ...]]:
    """Every way of writing ``total`` as one part per width, each part from 1 to its width
    (at most 126 for a total of 10)."""
    if len(widths) == 1:
        if 1 <= total <= widths[0]:
            yield (total,)
        return
    for first in range(1, min(widths[0], total - len(widths) + 1) + 1):
        for rest in _splits(total - first, widths[1:]):
            yield (first, *rest)


def level_neighbourhood(codes: np.ndarray, labels: np.ndarray, copies: int,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``copies`` copies of every sample with each input code moved at random to the next
    lower code, the same code or the next higher code of that input *among the codes in
    ``codes``* (one step for a feature that takes all 16 codes; the next level for one
    that takes five), each copy keeping its sample's label.

    A search that compares thousands of candidates on a few hundred samples finds ones
    that agree with the exact design on those samples only: their decision boundaries
    pass between the samples.  The neighbourhoods are where unseen samples of the same
    distribution lie, and the budget must hold there too: this one moves every input a
    little, :func:`reach_neighbourhood` moves a sample as far as unseen ones lie."""
    rng = np.random.default_rng(seed)
    codes = np.asarray(codes, np.int64)
    steps = rng.integers(-1, 2, (len(codes) * copies, codes.shape[1]))
    moved = np.repeat(codes, copies, axis=0)
    for k in range(codes.shape[1]):
        levels = np.unique(codes[:, k])
        index = np.clip(np.searchsorted(levels, moved[:, k]) + steps[:, k], 0, len(levels) - 1)
        moved[:, k] = levels[index]
    return moved, np.repeat(labels, copies)


def nearest_other_distance(points: np.ndarray, most: int = 16384) -> np.ndarray:
    """Per row of ``points`` (distinct rows), the Euclidean distance to the nearest other
    row (0 for a single row), exactly, by blocks of float64 products.  Beyond ``most`` rows,
    to the nearest of ``most`` evenly spaced ones (a slight overestimate, in bounded time)."""
    x = np.asarray(points, np.float64)
    if len(x) < 2:
        return np.zeros(len(x))
    stride = -(-len(x) // max(most, 2))  # the reference keeps at least two rows
    reference = x[::stride]
    squares = (x * x).sum(axis=1)
    nearest = np.empty(len(x))
    block = max(1, (1 << 22) // len(reference))
    for first in range(0, len(x), block):
        rows = np.arange(first, min(first + block, len(x)))
        d2 = squares[rows, None] + squares[None, ::stride] - 2 * x[rows] @ reference.T
        own = rows % stride == 0  # a row of the reference: not its own nearest
        d2[np.flatnonzero(own), rows[own] // stride] = np.inf
        nearest[rows] = d2.min(axis=1)
    return np.sqrt(np.maximum(nearest, 0.0))


def reach_neighbourhood(codes: np.ndarray, labels: np.ndarray, copies: int,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``copies`` copies of every sample, each moved in a random direction as far as the
    sample lies from the nearest *other* distinct sample of ``codes`` (Euclidean distance
    over the input codes), then every code snapped to the nearest code of its input among
    those in ``codes``; each copy keeps its sample's label.

    This neighbourhood reaches as far as unseen samples lie from the seen ones, which
    depends on the dataset: the median distance from a test sample to the nearest seen one
    is about 1.1 code steps on iris, 4 on cardio and 6.3 on wine's 13 inputs, and the
    nearest-sample distance among the seen samples predicts it (``quality_seeds.md``).
    One-level moves (:func:`level_neighbourhood`) reach less than half as far on wine."""
    rng = np.random.default_rng(seed)
    codes = np.asarray(codes, np.int64)
    distinct, which = np.unique(codes, axis=0, return_inverse=True)
    radius = nearest_other_distance(distinct)
    origin = np.repeat(codes, copies, axis=0)
    direction = rng.standard_normal(origin.shape)
    direction /= np.maximum(np.linalg.norm(direction, axis=1, keepdims=True), 1e-12)
    target = origin + direction * np.repeat(radius[which.ravel()], copies)[:, None]
    moved = np.empty_like(origin)
    for k in range(codes.shape[1]):
        levels = np.unique(codes[:, k])
        upper = np.clip(np.searchsorted(levels, target[:, k]), 1, max(len(levels) - 1, 1))
        lower = levels[upper - 1]
        higher = levels[np.minimum(upper, len(levels) - 1)]
        moved[:, k] = np.where(target[:, k] - lower <= higher - target[:, k], lower, higher)
    return moved, np.repeat(labels, copies)


def _batches(items: list, size: int) -> Iterator[list]:
    """``items`` in consecutive slices of at most ``size``."""
    for first in range(0, len(items), size):
        yield items[first:first + size]


def loss_bound(lost: np.ndarray, won: np.ndarray, copies: int = 1,
               at_least_changes: float | None = None) -> np.ndarray:
    """Per network, the accuracy lost against the exact design plus two standard errors of
    that loss, from ``(networks, samples)`` masks of the samples each one lost (the exact
    design was right, it is wrong) and won (the other way round).

    Two standard errors: a search compares thousands of candidates on the same samples,
    and on small splits one error bar still let their noise through to the test split.
    With ``copies`` consecutive copies of every sample (the neighbourhood), the copies of
    one sample are not independent (they lie around the same point, on the same side of
    the same boundaries): the standard error counts each sample once, with the fraction
    of its copies whose answer changed.  ``at_least_changes``: the bound is at least that
    many standard errors, so that samples won offset samples lost, but a design that
    changes many answers is out however they fall (over the suite's datasets and seeds
    1-3, choosing among the same candidates, designs that won the neighbourhood by changing
    many answers lost unseen samples)."""
    samples = lost.shape[1] // copies
    loss = (np.count_nonzero(lost, axis=1) - np.count_nonzero(won, axis=1)) / lost.shape[1]
    changed = (lost | won).reshape(len(lost), samples, copies).mean(axis=2)
    error = np.sqrt(np.square(changed).sum(axis=1)) / samples
    if at_least_changes is None:
        return loss + 2 * error
    return np.maximum(loss + 2 * error, at_least_changes * error)


class _Scorer:
    """Scores candidates in batches: accuracy on the validation split and, for those that
    stay within ``budget`` there, on the training split and then on the two neighbourhoods
    of both (:func:`level_neighbourhood`, :func:`reach_neighbourhood`), each paired against
    the exact design (which samples each one gets right)."""

    #: networks x samples emulated in one batch (bounds the memory of a batch)
    BATCH_SAMPLES = 1 << 19
    #: the index of the first neighbourhood in ``splits`` (after validation and training)
    NEIGHBOURHOOD = 2

    def __init__(self, exact: Network, train_codes, train_labels, val_codes, val_labels,
                 model: AreaModel, budget: float, neighbourhood_samples: int = 0):
        self.splits = ((np.asarray(val_codes, np.int64), np.asarray(val_labels)),
                       (np.asarray(train_codes, np.int64), np.asarray(train_labels)))
        self.copies = 1  # of every sample in each neighbourhood
        if neighbourhood_samples:
            codes = np.concatenate([split[0] for split in self.splits])
            labels = np.concatenate([split[1] for split in self.splits])
            self.copies = max(1, neighbourhood_samples // (2 * max(len(codes), 1)))
            self.splits += (level_neighbourhood(codes, labels, self.copies),
                            reach_neighbourhood(codes, labels, self.copies))
        self.model, self.budget, self.exact = model, budget, exact
        self.exact_right = [predict_codes(exact, codes) == labels for codes, labels in self.splits]
        self.rebase(exact)

    def rebase(self, network: Network) -> None:
        """Neighbours of ``network`` that differ from it in one neuron are scored by
        recomputing only what that neuron changes."""
        self.base = network
        self.traces = [trace(network, codes) for codes, _ in self.splits]

    def _one_neuron_changed(self, network: Network) -> tuple[int, int] | None:
        """(layer, index) of the only neuron in which ``network`` differs from the base."""
        base = self.base
        if network.decision_shift != base.decision_shift or len(network.layers) != len(base.layers):
            return None
        changed = [i for i, (a, b) in enumerate(zip(network.layers, base.layers)) if a is not b]
        if len(changed) != 1:
            return None
        neurons = [j for j, (a, b) in enumerate(zip(network.layers[changed[0]].neurons,
                                                     base.layers[changed[0]].neurons)) if a is not b]
        return (changed[0], neurons[0]) if len(neurons) == 1 else None

    def _rebiased_layer(self, network: Network) -> int | None:
        """The hidden layer in which ``network`` first differs from the base, if it differs
        there only in biases and activations (as codes narrowed for a decision table)."""
        base = self.base
        if len(network.layers) != len(base.layers):
            return None
        li = next((i for i, (a, b) in enumerate(zip(network.layers, base.layers)) if a is not b),
                  len(base.layers))
        if li >= len(base.layers) - 1:
            return None
        same = all(a is b or (a.weights == b.weights and a.input_masks == b.input_masks
                              and a.truncation == b.truncation)
                   for a, b in zip(network.layers[li].neurons, base.layers[li].neurons))
        return li if same else None

    def _predict(self, split: int, networks: list[Network]) -> np.ndarray:
        """Class indices ``(networks, samples)`` on one split."""
        codes, labels = self.splits[split]
        batch = max(1, self.BATCH_SAMPLES // max(len(labels), 1))
        result = np.empty((len(networks), len(labels)), np.int64)
        variants: dict[int, list[tuple[int, int]]] = {}  # layer: (network, neuron index)
        rebiased: dict[int, list[int]] = {}  # layer: networks
        others = []
        for i, network in enumerate(networks):
            where = self._one_neuron_changed(network)
            if where:
                variants.setdefault(where[0], []).append((i, where[1]))
            elif (layer := self._rebiased_layer(network)) is not None:
                rebiased.setdefault(layer, []).append(i)
            else:
                others.append(i)
        for layer, members in rebiased.items():
            for chunk in _batches(members, batch):
                result[chunk] = predict_rebiased(self.base, self.traces[split], layer,
                                                 [networks[i] for i in chunk])
        for layer, members in variants.items():
            for chunk in _batches(members, batch):
                result[[i for i, _ in chunk]] = predict_variants(
                    self.base, self.traces[split], codes, layer,
                    [(index, networks[i].layers[layer].neurons[index]) for i, index in chunk])
        for chunk in _batches(others, batch):
            result[chunk] = predict_many([networks[i] for i in chunk], codes)
        return result

    def _paired(self, split: int, networks: list[Network]) -> tuple[np.ndarray, np.ndarray]:
        """Accuracy, and the loss plus two standard errors of it (:func:`loss_bound`), of
        each network."""
        _, labels = self.splits[split]
        exact_right = self.exact_right[split]
        right = self._predict(split, networks) == labels[None, :]
        if split >= self.NEIGHBOURHOOD:
            return right.mean(axis=1), loss_bound(exact_right & ~right, ~exact_right & right,
                                                  self.copies, at_least_changes=1.5)
        return right.mean(axis=1), loss_bound(exact_right & ~right, ~exact_right & right)

    def __call__(self, networks: list[Network], moves: list[str]) -> list[Candidate]:
        """Candidates scored on the validation split (see :meth:`confirm` for the other)."""
        if not networks:
            return []
        accuracy, bound = self._paired(0, networks)
        return [Candidate(network, float(accuracy[i]), self.model.area_um2(network), move,
                          loss_bound=float(bound[i]))
                for i, (network, move) in enumerate(zip(networks, moves))]

    def confirm(self, candidates: list[Candidate]) -> list[Candidate]:
        """The same candidates with the training split's check added to their bound, then
        for those still within the budget each neighbourhood's (each check costs more than
        the one before, so it runs only where it can matter)."""
        if not candidates:
            return []
        accuracy, bound = self._paired(1, [c.network for c in candidates])
        confirmed = [replace(c, train_accuracy=float(a), loss_bound=max(c.loss_bound, float(b)))
                     for c, a, b in zip(candidates, accuracy, bound)]
        passing = [i for i, c in enumerate(confirmed) if self.within(c)]
        for split in range(self.NEIGHBOURHOOD, len(self.splits)):
            if not passing:
                break
            _, bound = self._paired(split, [confirmed[i].network for i in passing])
            for i, b in zip(passing, bound):
                confirmed[i] = replace(confirmed[i],
                                       loss_bound=max(confirmed[i].loss_bound, float(b)))
            passing = [i for i in passing if self.within(confirmed[i])]
        return confirmed

    def within(self, candidate: Candidate) -> bool:
        return candidate.loss_bound <= self.budget + 1e-12


def greedy_search(exact: Network, train_codes: np.ndarray, val_codes: np.ndarray,
                  val_labels: np.ndarray, model: AreaModel,
                  options: SearchOptions = SearchOptions(),
                  progress: Callable[[str], None] | None = None,
                  train_labels: np.ndarray | None = None,
                  start_from: Network | None = None) -> SearchResult:
    """Greedy descent in area within the accuracy budget (see the module docstring),
    from ``start_from`` (a design within the budget; default: ``exact``).

    With ``options.retrain``, a greedy search that finds no move left retrains the
    current design on the training split (area never growing) and goes on from it if it
    is still within the budget, up to ``options.retrain_rounds`` times.

    The budget holds on the validation split and on the training split (``train_labels``;
    without them, the exact design's own answers), for the loss plus two standard errors
    of it (paired against the exact design): the splits are small, and a search that
    tries thousands of candidates would otherwise pick up their noise."""
    start = time.perf_counter()
    stats = ax.InputStatistics.measure(exact, train_codes)
    train_labels = predict_codes(exact, train_codes) if train_labels is None else train_labels
    score = _Scorer(exact, train_codes, train_labels, val_codes, val_labels, model,
                    options.max_accuracy_loss, options.neighbourhood)
    (base,) = score([exact], ["exact"])
    epsilon = 1.0 / max(len(val_labels), 1)
    bar = _ProgressBar(progress)
    seen = [base]
    current, steps = base, []
    if start_from is not None and start_from != exact:
        (current,) = score.confirm(score([start_from], ["start"]))
        stats = ax.InputStatistics.measure(start_from, train_codes)
        score.rebase(start_from)
        seen.append(current)
    rounds, retraining_cut = 0, False
    while time.perf_counter() - start < options.time_budget_s:
        networks, names = [], []
        for name, build in _moves(current.network, stats, options):
            try:
                network = build()
            except ValueError:  # a knob that would leave the IR's valid range
                continue
            if network is not None:
                networks.append(network)
                names.append(name)
        ranked, beyond = [], []
        for candidate in score(networks, names):
            seen.append(candidate)
            saved = current.area_um2 - candidate.area_um2
            if saved > 0:
                lost = max(current.accuracy - candidate.accuracy, 0.0)
                (ranked if score.within(candidate) else beyond).append(
                    (saved / (lost + epsilon), -len(ranked) - len(beyond), candidate))
        # the move that saves the most area per point lost and also passes the second check
        # (checked a few at a time, best first)
        order = [c for _, _, c in sorted(ranked, key=lambda r: r[:2], reverse=True)]
        best = next((c for chunk in _batches(order, 8) for c in score.confirm(chunk)
                     if score.within(c)), None)
        if best is None and options.retrain and rounds < options.retrain_rounds:
            # hardware-aware retraining: the best moves beyond the budget, each retrained
            # on the training split, the first back within the budget taken
            rounds += 1
            for _, _, candidate in sorted(beyond, key=lambda r: r[:2],
                                          reverse=True)[:options.retrain_tries]:
                best, cut = _retrained(candidate, score, train_codes, train_labels, model,
                                       start, options, progress)
                retraining_cut = retraining_cut or cut
                if best is not None:
                    stats = ax.InputStatistics.measure(best.network, train_codes)
                    seen.append(best)
                    if progress:
                        progress(f"retrained: {best.move}: estimated area "
                                 f"{best.area_um2 / 1e8:.2f} cm², validation accuracy "
                                 f"{best.accuracy:.4f}")
                    break
        if best is None:
            break
        current = best
        score.rebase(current.network)
        steps.append(best.move)
        log.debug("greedy step %d: %s: area %.3f cm², validation accuracy %.4f", len(steps),
                  best.move, best.area_um2 / 1e8, best.accuracy)
        bar.update((time.perf_counter() - start) / options.time_budget_s,
                   f"greedy: step {len(steps)}, {len(seen)} candidates, "
                   f"area {best.area_um2 / 1e8:.2f} cm² (estimated)")
    seconds = time.perf_counter() - start
    budget_hit = seconds >= options.time_budget_s or retraining_cut
    bar.update(1.0, f"greedy: {len(steps)} steps, {len(seen)} candidates in {seconds:.1f} s, "
               f"area {current.area_um2 / 1e8:.2f} cm² (estimated)", force=True)
    log.info("greedy search: %d candidates in %.1f s (%.0f/s), %d steps, area %.4g -> %.4g um2",
             len(seen), seconds, len(seen) / max(seconds, 1e-9), len(steps), base.area_um2,
             current.area_um2)
    return SearchResult(base, current, pareto_front(seen), len(seen), seconds, tuple(steps),
                        base.accuracy - options.max_accuracy_loss, budget_hit, options.retrain)


#: ends the name of a step that was retrained
RETRAINED = "retrained"
#: the share of a greedy search's time budget one retraining inside it may take (5 s of
#: ``bespoke compile``'s greedy 30 s; it takes at most 0.2 s on the suite's datasets); one
#: cut short counts as the search's budget hit
RETRAIN_SHARE = 1 / 6


def _retrained(current: Candidate, score: "_Scorer", train_codes: np.ndarray,
               train_labels: np.ndarray, model: AreaModel, start: float, options: SearchOptions,
               progress: Callable[[str], None] | None) -> tuple[Candidate | None, bool]:
    """``current`` retrained, if that changed it and brings it within the budget; and
    whether the retraining's time budget cut it short (the result then depends on the
    machine's speed)."""
    from .retrain import RetrainOptions, retrain

    left = options.time_budget_s - (time.perf_counter() - start)
    if left <= 0:
        return None, False  # the search's own budget is spent: greedy_search reports it
    cap = min(left, options.time_budget_s * RETRAIN_SHARE)
    result = retrain(current.network, train_codes, train_labels, model,
                     RetrainOptions(passes=2, time_budget_s=cap), reference=score.exact)
    if result.cut_short:
        log.debug("%s: retraining cut short after %.1f s", current.move, result.seconds)
    if result.network == current.network:
        return None, result.cut_short
    (candidate,) = score.confirm(score([result.network], [f"{current.move}, {RETRAINED}"]))
    log.debug("%s, retrained: training loss %.4f -> %.4f, validation accuracy %.4f -> %.4f, "
              "training accuracy %.4f -> %.4f, bound %.4f%s", current.move, result.loss_before,
              result.loss_after, current.accuracy, candidate.accuracy, result.accuracy_before,
              result.accuracy_after, candidate.loss_bound,
              "" if score.within(candidate) else " (beyond the budget)")
    return (candidate if score.within(candidate) else None), result.cut_short


def write_front(result: SearchResult, folder: Path) -> None:
    """``front.csv``, ``front.json`` and the ``front.svg`` plot of a search."""
    import json

    from ..report.plots import pareto_plot

    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"area_um2": c.area_um2, "validation_accuracy": c.accuracy, "move": c.move}
            for c in result.front]
    (folder / "front.csv").write_text("area_um2,validation_accuracy,move\n" + "".join(
        f"{r['area_um2']:.1f},{r['validation_accuracy']:.6f},\"{r['move']}\"\n" for r in rows))
    (folder / "front.json").write_text(json.dumps(
        {"exact": {"area_um2": result.exact.area_um2, "validation_accuracy": result.exact.accuracy},
         "chosen": {"area_um2": result.chosen.area_um2, "validation_accuracy": result.chosen.accuracy},
         "front": rows, "evaluations": result.evaluations}, indent=1) + "\n")
    point = lambda c: (c.area_um2 / 1e8, 100 * c.accuracy)  # noqa: E731
    (folder / "front.svg").write_text(pareto_plot(
        [point(c) for c in result.front], [], point(result.exact), point(result.chosen),
        floor=100 * result.floor))


# --- NSGA-II ------------------------------------------------------------------------------

#: Gene choices: weight pruning quantiles, signed-digit limits (0: none), column truncations,
#: saturation levels.
PRUNE_QUANTILES = (0.0, 0.1, 0.2, 0.35, 0.5)
DIGIT_LIMITS = (0, 3, 2, 1)
MAX_GENE_TRUNCATION = 8
MAX_GENE_SATURATION = 3  # levels a hidden activation saturates lower
MAX_GENE_NARROWER = 6  # bits a hidden layer's codes lose (down to decision tables)
MAX_GENE_SNAP = 3  # times a hidden layer's comparator thresholds are snapped (ax.snapped)
GENES_PER_NEURON = 4  # prune, digits, truncation, saturation


@dataclass(frozen=True)
class Genome:
    """How an integer gene vector maps onto the knobs: per neuron (prune quantile, digit
    limit, truncation, and for hidden neurons saturation levels), per input (mask bits),
    per hidden layer (narrower codes, and for comparator banks the times their thresholds
    are snapped to cheaper constants), and the argmax slice."""

    neurons: tuple[tuple[int, int], ...]  # (layer, index) of every neuron
    n_inputs: int
    input_bits: int
    hidden_layers: int
    argmax: bool
    #: whether the hidden layers have comparator banks (ramp-ADC activations) to snap
    thresholds: bool = False

    @classmethod
    def of(cls, network: Network) -> "Genome":
        neurons = tuple((li, ni) for li, layer in enumerate(network.layers)
                        for ni in range(len(layer.neurons)))
        thresholds = any(isinstance(n.activation, ir.ThresholdActivation)
                         for layer in network.layers[:-1] for n in layer.neurons)
        return cls(neurons, network.n_inputs, network.input_bits, len(network.layers) - 1,
                   network.output == "argmax", thresholds)

    def upper_bounds(self) -> np.ndarray:
        per_neuron = [bound for li, _ in self.neurons
                      for bound in (len(PRUNE_QUANTILES) - 1, len(DIGIT_LIMITS) - 1,
                                    MAX_GENE_TRUNCATION,
                                    MAX_GENE_SATURATION if li < self.hidden_layers else 0)]
        return np.array(per_neuron + [self.input_bits - 1] * self.n_inputs
                        + [MAX_GENE_NARROWER] * self.hidden_layers
                        + [MAX_GENE_SNAP] * (self.hidden_layers if self.thresholds else 0)
                        + [6 if self.argmax else 0])



class GenomeDecoder:
    """Builds the network of a gene vector.  Populations share most of their genes, so
    every knobbed neuron and layer is built once and reused (which also lets the caches
    keyed by neuron, in the estimator and the emulator, hit)."""

    def __init__(self, exact: Network, stats: ax.InputStatistics, genome: Genome):
        self.exact, self.stats, self.genome = exact, stats, genome
        self._weighted_neurons: dict[tuple, Neuron] = {}
        self._neurons: dict[tuple, Neuron] = {}
        self._layers: dict[tuple, tuple[Layer, int]] = {}

    def _weighted(self, li: int, ni: int, prune: int, digits: int, truncation: int) -> Neuron:
        """Neuron ``ni`` of layer ``li`` pruned, rounded and truncated (built once: the
        first layer's neurons add each individual's own input masks to it)."""
        key = (li, ni, prune, digits, truncation)
        if key not in self._weighted_neurons:
            neuron = self.exact.layers[li].neurons[ni]
            neuron = ax.pruned(self.stats, li, neuron, PRUNE_QUANTILES[prune])
            if DIGIT_LIMITS[digits]:
                neuron = ax.rounded(self.stats, li, neuron, DIGIT_LIMITS[digits])
            if truncation:
                neuron = ax.truncated(self.stats, li, neuron, truncation)
            self._weighted_neurons[key] = neuron
        return self._weighted_neurons[key]

    def _neuron(self, li: int, ni: int, genes: tuple[int, ...], masks: tuple[int, ...]) -> Neuron:
        key = (li, ni, genes, masks)
        if key not in self._neurons:
            prune, digits, truncation, saturation = genes
            neuron = self._weighted(li, ni, prune, digits, truncation)
            if any(masks):
                neuron = ax.masked(self.stats, neuron, masks)
            for _ in range(saturation):
                neuron = ax.saturated(neuron) or neuron
            self._neurons[key] = neuron
        return self._neurons[key]

    def _layer(self, li: int, genes: tuple[int, ...], masks: tuple[int, ...], narrower: int,
               doubled: int, snaps: int = 0) -> tuple[Layer, int]:
        """Layer ``li`` and how many bits narrower its codes really became."""
        key = (li, genes, masks, narrower, doubled, snaps)
        if key not in self._layers:
            layer = self.exact.layers[li]
            per = GENES_PER_NEURON
            neurons = [ax.doubled(self._neuron(li, ni, genes[per * ni: per * (ni + 1)], masks), doubled)
                       for ni in range(len(layer.neurons))]
            done = 0
            while done < narrower:
                step = [ax.narrowed(n) for n in neurons]
                if any(n is None for n in step):
                    break
                neurons, done = step, done + 1
            # which thresholds the accumulators can cross: judged on the exact network's
            # ranges (the knobbed layer's differ a little; a threshold judged wrongly only
            # snaps, or stays, for nothing)
            accs = self.exact.analysis[li].accumulators
            for _ in range(snaps):
                neurons = [ax.snapped(n, acc, up=False) or n for n, acc in zip(neurons, accs)]
            self._layers[key] = (replace(layer, neurons=tuple(neurons)), done)
        return self._layers[key]

    def __call__(self, genes: np.ndarray) -> Network:
        g = tuple(int(v) for v in genes)
        genome, exact = self.genome, self.exact
        offset = GENES_PER_NEURON * len(genome.neurons)
        masks = g[offset: offset + genome.n_inputs]
        offset += genome.n_inputs
        narrower = g[offset: offset + genome.hidden_layers]
        offset += genome.hidden_layers
        snaps = g[offset: offset + genome.hidden_layers] if genome.thresholds else ()
        layers, first, doubled, per = [], 0, 0, GENES_PER_NEURON
        for li, layer in enumerate(exact.layers):
            count = len(layer.neurons)
            hidden = li < genome.hidden_layers
            built, doubled = self._layer(li, g[per * first: per * (first + count)],
                                         masks if li == 0 else (), narrower[li] if hidden else 0,
                                         doubled, snaps[li] if hidden and snaps else 0)
            layers.append(built)
            first += count
        return replace(exact, layers=tuple(layers), decision_shift=g[-1])


def nsga2_search(exact: Network, train_codes: np.ndarray, val_codes: np.ndarray,
                 val_labels: np.ndarray, model: AreaModel, options: SearchOptions = SearchOptions(),
                 *, seed: int = 0, population: int = 60, generations: int = 100,
                 train_labels: np.ndarray | None = None,
                 progress: Callable[[str], None] | None = None) -> tuple[Candidate, ...]:
    """NSGA-II (pymoo) over the :class:`Genome`: minimize estimated area, maximize
    validation accuracy, subject to the accuracy budget (on the validation split, then on
    the training split).  Returns every candidate it evaluated within the budget."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.optimize import minimize
    from pymoo.core.termination import TerminateIfAny
    from pymoo.termination.max_gen import MaximumGenerationTermination
    from pymoo.termination.max_time import TimeBasedTermination

    start = time.perf_counter()
    stats = ax.InputStatistics.measure(exact, train_codes)
    genome = Genome.of(exact)
    decode = GenomeDecoder(exact, stats, genome)
    train_labels = predict_codes(exact, train_codes) if train_labels is None else train_labels
    score = _Scorer(exact, train_codes, train_labels, val_codes, val_labels, model,
                    options.max_accuracy_loss, options.neighbourhood)
    feasible: list[Candidate] = []
    bar = _ProgressBar(progress)
    exact_area = model.area_um2(exact)

    class Approximations(Problem):
        def __init__(self):
            super().__init__(n_var=len(genome.upper_bounds()), n_obj=2, n_ieq_constr=1,
                             xl=0, xu=genome.upper_bounds(), vtype=int)

        def _evaluate(self, X, out, *args, **kwargs):
            self.generation = getattr(self, "generation", 0) + 1
            self.evaluated = getattr(self, "evaluated", 0) + len(X)
            smallest = min((c.area_um2 for c in feasible), default=exact_area)
            bar.update(max(self.generation / generations,
                           (time.perf_counter() - start) / options.time_budget_s),
                       f"NSGA-II: generation {self.generation}/{generations}, "
                       f"{self.evaluated} candidates, smallest within budget "
                       f"{smallest / 1e8:.2f} cm² (estimated)")
            F = np.tile([np.inf, 0.0], (len(X), 1))
            G = np.ones((len(X), 1))
            built = []
            for row, genes in enumerate(X):
                try:
                    built.append((row, decode(genes)))
                except ValueError:  # a gene vector outside the IR's valid range
                    pass
            scored = score([network for _, network in built], ["nsga2"] * len(built))
            # the training split's check, for those that pass validation (in one batch)
            passing = [i for i, c in enumerate(scored) if score.within(c)]
            for i, c in zip(passing, score.confirm([scored[i] for i in passing])):
                scored[i] = c
            for (row, _), c in zip(built, scored):
                F[row] = [c.area_um2, -c.accuracy]
                G[row] = [c.loss_bound - options.max_accuracy_loss - 1e-12]
                if score.within(c):
                    feasible.append(c)
            out["F"], out["G"] = F, G

    # the exact genome, a quarter that turn a few knobs, the rest fully random
    rng = np.random.default_rng(seed)
    upper = genome.upper_bounds()
    density = np.where(np.arange(population) < population // 4, 0.15, 1.0)[:, None]
    start_population = (rng.integers(0, upper + 1, (population, len(upper)))
                        * (rng.random((population, len(upper))) < density))
    start_population[0] = 0
    algorithm = NSGA2(pop_size=population, sampling=start_population,
                      crossover=SBX(prob=0.9, eta=15, vtype=float, repair=RoundingRepair()),
                      mutation=PM(eta=20, vtype=float, repair=RoundingRepair()),
                      eliminate_duplicates=True)
    # generations make the result reproducible; the time budget caps the run (a search
    # stopped by it depends on the machine's speed)
    termination = TerminateIfAny(MaximumGenerationTermination(generations),
                                 TimeBasedTermination(options.time_budget_s))
    minimize(Approximations(), algorithm, termination, seed=seed, verbose=False)
    if progress:
        best = min(feasible, key=lambda c: c.area_um2, default=None)
        progress(f"NSGA-II: {len(feasible)} feasible candidates in {time.perf_counter() - start:.1f} s"
                 + (f", smallest {best.area_um2 / 1e8:.3f} cm²" if best else ""))
    return tuple(feasible)


def _nsga2_front(exact: Network, train_codes: np.ndarray, val_codes: np.ndarray,
                 val_labels: np.ndarray, model: AreaModel, options: SearchOptions, seed: int,
                 train_labels: np.ndarray | None,
                 progress: Callable[[str], None] | None = None,
                 ) -> tuple[tuple[Candidate, ...], int, float]:
    """One restart (a joblib task): its Pareto front (the rest never wins), the number
    of feasible candidates, and its time."""
    start = time.perf_counter()
    feasible = nsga2_search(exact, train_codes, val_codes, val_labels, model, options, seed=seed,
                            train_labels=train_labels, progress=progress)
    return pareto_front(list(feasible)), len(feasible), time.perf_counter() - start


@contextmanager
def _restart_backend(jobs: int | None, restarts: int) -> Iterator[tuple[int, str]]:
    """How many restarts run at once, and where: on a Dask cluster when the caller chose
    joblib's Dask backend (``bespoke compile --scheduler``); one after another inside a
    Dask worker (a sweep job: the sweep's parallelism is its jobs, and a seceded job's
    worker slot would be taken by the next job); else processes of this machine
    (``jobs``, default one per core)."""
    from joblib.parallel import get_active_backend

    if type(get_active_backend()[0]).__name__ == "DaskDistributedBackend":
        yield restarts, "the Dask cluster"
        return
    try:
        from distributed import get_worker

        get_worker()
        yield 1, "this Dask worker"
        return
    except (ImportError, ValueError):
        pass
    jobs = max(1, min(restarts, jobs or os.cpu_count() or 1))
    yield jobs, f"{jobs} process" + ("es" if jobs > 1 else "")


def search(exact: Network, train_codes: np.ndarray, val_codes: np.ndarray, val_labels: np.ndarray,
           model: AreaModel, options: SearchOptions = SearchOptions(), *, seed: int = 0,
           train_labels: np.ndarray | None = None,
           progress: Callable[[str], None] | None = None) -> SearchResult:
    """The greedy baseline (at most half the time budget), then ``options.restarts``
    NSGA-II runs in parallel (the rest); the chosen design is the smallest Pareto
    candidate of any within the budget on the validation split, on the training split
    (``train_labels``; without them, the exact design's own answers) and on their
    neighbourhoods (``options.neighbourhood``).  The restarts' seeds
    are fixed, so the result does not depend on where they run."""
    start = time.perf_counter()
    half = replace(options, time_budget_s=options.time_budget_s / 2)
    greedy = greedy_search(exact, train_codes, val_codes, val_labels, model, half, progress,
                           train_labels)
    rest = max(options.time_budget_s - greedy.seconds, 1.0)
    budget_hit = greedy.budget_hit
    seeds = [seed + i for i in range(max(1, options.restarts))]
    evolved: list[Candidate] = []
    feasible = 0
    with _restart_backend(options.jobs, len(seeds)) as (jobs, where):
        # restarts that cannot all run at once share the remaining time
        each = replace(options, time_budget_s=max(rest * min(1.0, jobs / len(seeds)), 1.0))
        if jobs == 1:
            if progress and len(seeds) > 1:
                progress(f"NSGA-II: {len(seeds)} restarts on {where}, one after another")
            answers = [_nsga2_front(exact, train_codes, val_codes, val_labels, model, each, s,
                                    train_labels, progress) for s in seeds]
        else:
            from joblib import Parallel, delayed

            if progress:
                progress(f"NSGA-II: {len(seeds)} restarts on {where}")
            answers = Parallel(n_jobs=jobs)(
                delayed(_nsga2_front)(exact, train_codes, val_codes, val_labels, model, each, s,
                                      train_labels) for s in seeds)
    for (front, count, seconds), s in zip(answers, seeds):
        budget_hit = budget_hit or seconds >= each.time_budget_s
        evolved += front
        feasible += count
        if progress and len(seeds) > 1:
            best = min(front, key=lambda c: c.area_um2, default=None)
            progress(f"NSGA-II seed {s}: {count} feasible candidates"
                     + (f", smallest {best.area_um2 / 1e8:.3f} cm²" if best else ""))
    if budget_hit:
        log.warning("the search ran out of its time budget (%.0f s) or a retraining inside it "
                    "did: the result depends on this machine's speed; raise --search-time for "
                    "a reproducible one", options.time_budget_s)
    chosen = min((greedy.chosen, *evolved), key=lambda c: (c.area_um2, -c.accuracy))
    steps = greedy.steps if chosen is greedy.chosen else ("NSGA-II individual",)
    if chosen is not greedy.chosen:
        # NSGA-II's choice, polished: a greedy search from it (with retraining whenever it
        # is stuck, if asked), again while that shrinks it
        for _ in range(4):
            left = options.time_budget_s - (time.perf_counter() - start)
            if left <= 1.0:
                budget_hit = True
                break
            more = greedy_search(exact, train_codes, val_codes, val_labels, model,
                                 replace(options, time_budget_s=left), progress, train_labels,
                                 start_from=chosen.network)
            evolved += more.front
            if more.chosen.area_um2 >= chosen.area_um2:
                break
            chosen, steps = more.chosen, (*steps, *more.steps)
    front = pareto_front([*greedy.front, *evolved])
    if progress:
        progress(f"chosen: estimated area {chosen.area_um2 / 1e8:.3f} cm², validation accuracy "
                 f"{chosen.accuracy:.4f} (exact {greedy.exact.accuracy:.4f})")
    return SearchResult(greedy.exact, chosen, front, greedy.evaluations + feasible,
                        time.perf_counter() - start, steps, greedy.floor, budget_hit,
                        options.retrain)
