"""The interface search: which ADC references each input keeps, scored on the system's cost.

A conventional flash ADC keeps every one of the ``2**b - 1`` uniform references of its
input.  Most are not needed: an input the core ignores needs no ADC at all, and the core
often cannot tell neighbouring codes apart, or barely needs to.  This search starts from a
conventional ADC on every input the core reads and removes references one at a time
(the ESL'24 level pruning): removing reference ``j`` merges two levels into the lower
one's code (``keep="lower"``) or the upper one's.  A removal must keep the accuracy
budget under the same rule as every other approximation (:class:`~.scoring.Scorer`: the
validation and training splits and their neighbourhoods, paired against the exact design);
among those that do, the one saving the most ADC area and power per point of accuracy
it may cost is taken, until none is left or the time is up.

The references stay on the uniform grid, so an input's level is a function of its
``b``-bit code, and every candidate is scored exactly by the integer emulator: each
first-layer accumulator is a sum of one contribution per input (``bias + sum_k F_k[code_k]``),
so a removal recomputes one input's contribution and the layers after it.

Each input's encoding is then chosen: ``thermometer`` (the comparator bits enter the
neurons' adder trees directly) when that puts no more bits into them than the ``binary``
code plus its encoder would.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ..hw.adc import AdcModel
from ..ir.emulate import accumulate, activate, decide
from ..ir.interface import SENSOR_BITS, Channel, Interface
from ..ir.network import Network
from .scoring import Scorer, loss_bound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InterfaceSearchResult:
    interface: Interface
    steps: tuple[str, ...]  # the removals, in order
    evaluations: int
    seconds: float
    loss_bound: float  # the chosen interface's bound (the budget rule's figure)
    budget_hit: bool  # the time budget cut the search short


def used_inputs(network: Network) -> list[bool]:
    """Whether the core reads each input at all (a non-zero weight whose mask keeps a bit)."""
    layer = network.layers[0]
    width = network.input_bits
    return [any(n.weights[k] and not (n.input_masks and n.input_masks[k] >= width)
                for n in layer.neurons) for k in range(network.n_inputs)]


def grid_interface(network: Network, sensor_bits: int = SENSOR_BITS) -> Interface:
    """A conventional ADC on every input the core reads, none on the others."""
    conventional = Interface.conventional(network.n_inputs, network.input_bits, sensor_bits)
    return Interface(sensor_bits, network.input_bits, tuple(
        channel if used else Channel((), (0,))
        for channel, used in zip(conventional.channels, used_inputs(network))))


def code_map(channel: Channel, input_bits: int, sensor_bits: int) -> np.ndarray:
    """The code the core reads for each ``input_bits`` code of a channel whose references
    lie on the uniform grid (each a multiple of ``2**(sensor_bits - input_bits)``)."""
    step = 1 << (sensor_bits - input_bits)
    if any(t % step for t in channel.thresholds):
        raise ValueError("a reference off the uniform grid: the level is not a function of the code")
    grid = np.arange(1 << input_bits, dtype=np.int64) * step
    level = np.searchsorted(np.asarray(channel.thresholds, np.int64), grid, side="right")
    return np.asarray(channel.levels, np.int64)[level]


def choose_encodings(network: Network, interface: Interface) -> Interface:
    """``thermometer`` for each input where its comparator bits put no more bits into the
    first layer's adder trees than its ``binary`` code (plus one encoder gate per
    comparator) would; ``binary`` elsewhere."""
    layer = network.layers[0]
    channels = []
    for k, channel in enumerate(interface.channels):
        if channel.comparators == 0:
            channels.append(channel)
            continue
        code_bits = max(1, channel.levels[-1].bit_length())
        binary = channel.comparators
        thermometer = 0
        for neuron in layer.neurons:
            if not neuron.weights[k]:
                continue
            binary += sum(max(0, code_bits - term.mask) for term in neuron.terms(k))
            thermometer += len(neuron.level_steps(k, channel.levels)[1])
        encoding = "thermometer" if thermometer <= binary else "binary"
        channels.append(Channel(channel.thresholds, channel.levels, encoding))
    return Interface(interface.sensor_bits, interface.input_bits, tuple(channels))


class _InterfaceScorer:
    """Scores a core network behind candidate interfaces on every split of a
    :class:`Scorer`, by first-layer contributions (see the module docstring): a removal
    changes the code of the samples between two references only, and only those are
    recomputed."""

    def __init__(self, network: Network, scorer: Scorer):
        self.network, self.scorer = network, scorer
        layer = network.layers[0]
        levels = 1 << network.input_bits
        self.bias = np.array([n.bias for n in layer.neurons], np.int64)
        # contributions[k][c] = what input k at code c adds to each first-layer neuron
        self.contributions = []
        for k in range(network.n_inputs):
            x = np.zeros((levels, network.n_inputs), np.int64)
            x[:, k] = np.arange(levels)
            self.contributions.append(accumulate(layer, x) - self.bias)
        self.evaluations = 0

    def _finish(self, acc: np.ndarray) -> np.ndarray:
        network = self.network
        if len(network.layers) == 1:
            return decide(network, acc)
        x = activate(network.layers[0], acc)
        for index, layer in enumerate(network.layers[1:], start=1):
            acc = accumulate(layer, x)
            if index < len(network.layers) - 1:
                x = activate(layer, acc)
        return decide(network, acc)

    def _bound(self, split: int, right: np.ndarray) -> float:
        exact_right = self.scorer.exact_right[split]
        lost, won = (exact_right & ~right)[None], (~exact_right & right)[None]
        if split >= Scorer.NEIGHBOURHOOD:
            return float(loss_bound(lost, won, self.scorer.copies, at_least_changes=1.5)[0])
        return float(loss_bound(lost, won)[0])

    def rebase(self, maps: list[np.ndarray]) -> float:
        """Make ``maps`` the base the candidates change; its bound over every split."""
        self.maps = [m.copy() for m in maps]
        self.acc, self.prediction = [], []
        worst = -np.inf
        for split, (codes, labels) in enumerate(self.scorer.splits):
            acc = np.broadcast_to(self.bias, (len(codes), len(self.bias))).copy()
            for k, mapping in enumerate(maps):
                acc += self.contributions[k][mapping[codes[:, k]]]
            self.acc.append(acc)
            self.prediction.append(self._finish(acc))
            worst = max(worst, self._bound(split, self.prediction[-1] == labels))
        return worst

    def _moved(self, split: int, k: int, mapping: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The samples of ``split`` whose code of input ``k`` ``mapping`` changes, and their
        first-layer accumulators with it."""
        column = self.scorer.splits[split][0][:, k]
        moved = np.flatnonzero(mapping[column] != self.maps[k][column])
        table = self.contributions[k]
        acc = (self.acc[split][moved] - table[self.maps[k][column[moved]]]
               + table[mapping[column[moved]]])
        return moved, acc

    def accept(self, k: int, mapping: np.ndarray) -> float:
        """Make input ``k`` read through ``mapping`` in the base (only the samples whose code
        moves are recomputed); the new base's bound over every split."""
        worst = -np.inf
        for split, (_, labels) in enumerate(self.scorer.splits):
            moved, acc = self._moved(split, k, mapping)
            if len(moved):
                self.acc[split][moved] = acc
                self.prediction[split][moved] = self._finish(acc)
            worst = max(worst, self._bound(split, self.prediction[split] == labels))
        self.maps[k] = mapping.copy()
        return worst

    def bound(self, k: int, mapping: np.ndarray, limit: float) -> float:
        """The largest loss bound over the splits (validation and training first) of the
        base with input ``k`` read through ``mapping``; stops early above ``limit``."""
        self.evaluations += 1
        worst = -np.inf
        for split, (_, labels) in enumerate(self.scorer.splits):
            moved, acc = self._moved(split, k, mapping)
            prediction = self.prediction[split]
            if len(moved):
                prediction = prediction.copy()
                prediction[moved] = self._finish(acc)
            worst = max(worst, self._bound(split, prediction == labels))
            if worst > limit:
                break
        return worst


#: rounds of a core search behind the fixed ADCs, then further removals (fit_interface)
ALTERNATIONS = 2


def fit_interface(exact: Network, network: Network, train_codes: np.ndarray,
                  train_labels: np.ndarray, val_codes: np.ndarray, val_labels: np.ndarray,
                  adc: AdcModel, *, max_accuracy_loss: float, time_budget_s: float,
                  progress: Callable[[str], None] | None = None,
                  ) -> tuple[Network, InterfaceSearchResult]:
    """The ADCs of ``network`` (a core derived from ``exact``), and the core again: under the
    search's own budget rule (the same splits and neighbourhoods, relative to ``exact``),
    :func:`search_interface`, then up to :data:`ALTERNATIONS` times a greedy core search
    that reads the codes through those ADCs (few levels per input make knobs free that were
    not) followed by further removals, while that shrinks the core.  Returns the core and
    the interface search (its ``interface`` is the chosen one; ``steps`` all rounds')."""
    from .candidates import SearchOptions
    from .estimate import AreaModel
    from .greedy import greedy_search

    began = time.perf_counter()
    model = AreaModel.bundled()
    options = SearchOptions(max_accuracy_loss)
    scorer = Scorer(exact, train_codes, train_labels, val_codes, val_labels, model,
                    max_accuracy_loss, options.neighbourhood)
    share = time_budget_s / (2 + 2 * ALTERNATIONS)  # the first removals get twice as much
    result = search_interface(network, scorer, adc, time_budget_s=2 * share, progress=progress)
    steps, evaluations, budget_hit = list(result.steps), result.evaluations, result.budget_hit
    for _ in range(ALTERNATIONS):
        maps = tuple(code_map(c, exact.input_bits, result.interface.sensor_bits)
                     for c in result.interface.channels)
        # the candidates carry the interface, so the estimator prices the inputs as the
        # generator builds them (thermometer bits, or an encoder's few levels)
        behind = replace(network, interface=result.interface)
        core = greedy_search(exact, train_codes, val_codes, val_labels, model,
                             replace(options, time_budget_s=share), None, train_labels,
                             start_from=behind, input_maps=maps)
        budget_hit = budget_hit or core.budget_hit
        if core.chosen.network == behind or core.chosen.area_um2 >= model.area_um2(behind):
            break
        if progress:
            progress(f"core behind the ADCs: estimated area {model.area_um2(behind) / 1e8:.3f} "
                     f"-> {core.chosen.area_um2 / 1e8:.3f} cm² ({len(core.steps)} steps)")
        network = replace(core.chosen.network, interface=network.interface)
        steps += [f"core: {step}" for step in core.steps]
        result = search_interface(network, scorer, adc, time_budget_s=share, progress=progress,
                                  start=result.interface)
        steps += list(result.steps)
        evaluations += result.evaluations + core.evaluations
        budget_hit = budget_hit or result.budget_hit
    return network, InterfaceSearchResult(result.interface, tuple(steps), evaluations,
                                          time.perf_counter() - began, result.loss_bound,
                                          budget_hit)


def search_interface(network: Network, scorer: Scorer, adc: AdcModel, *,
                     sensor_bits: int = SENSOR_BITS, time_budget_s: float = 30.0,
                     progress: Callable[[str], None] | None = None,
                     start: Interface | None = None) -> InterfaceSearchResult:
    """The bespoke ADCs of ``network``'s inputs (see the module docstring); ``scorer``
    holds the splits, the exact design's answers and the budget; ``start`` (references on
    the grid, within the budget with ``network``) is where removals start, instead of a
    conventional ADC on every input the core reads.

    First every removal that changes no answer the budget counts (its bound does not
    grow), input by input; then, while the time lasts, the removal that saves most ADC
    area and power per unit of bound it adds, over all inputs."""
    began = time.perf_counter()
    interface = grid_interface(network, sensor_bits)
    if start is not None:  # what the core still reads: never more than where it starts
        interface = Interface(sensor_bits, start.input_bits, tuple(
            Channel(c.thresholds, c.levels) if g.comparators else g
            for c, g in zip(start.channels, interface.channels)))
    bits = network.input_bits
    maps = [code_map(c, bits, sensor_bits) for c in interface.channels]
    evaluator = _InterfaceScorer(network, scorer)
    current = evaluator.rebase(maps)
    budget = max(scorer.budget, current)  # never worse than the core it starts from
    conventional_area, conventional_power = adc.conventional(bits)
    n_used = sum(c.comparators > 0 for c in interface.channels)

    def cost(channel: Channel) -> float:
        """An ADC's area and power, as shares of a conventional ADC's."""
        fractions = [t / (1 << sensor_bits) for t in channel.thresholds]
        return (adc.area_um2(channel.comparators) / conventional_area
                + adc.power_uw(fractions) / conventional_power)

    def candidates(k: int, limit: float):
        """``(bound, saving, j, keep, channel, map)`` of every removal on input ``k``
        within ``limit``."""
        channel = interface.channels[k]
        before = cost(channel)
        found = []
        for j in range(channel.comparators):
            for keep in ("lower", "upper"):
                new = channel.without_threshold(j, keep)
                mapping = code_map(new, bits, sensor_bits)
                b = evaluator.bound(k, mapping, limit)
                if b <= limit + 1e-12:
                    found.append((b, before - cost(new), j, keep, new, mapping))
        return found

    steps: list[str] = []
    budget_hit = False

    def take(k: int, move) -> float:
        nonlocal interface
        b, _, j, keep, new, mapping = move
        steps.append(f"input {k}: reference {interface.channels[k].thresholds[j]} removed "
                     f"(keep {keep})")
        interface = interface.with_channel(k, new)
        maps[k] = mapping
        return evaluator.accept(k, mapping)

    if progress:
        progress(f"interface: {n_used} of {interface.n_inputs} inputs read by the core, "
                 f"{interface.comparators} comparators to start from")
    # 1. removals that change no answer that counts, input by input
    for k in range(interface.n_inputs):
        while interface.channels[k].comparators:
            if time.perf_counter() - began > time_budget_s:
                budget_hit = True
                break
            free = candidates(k, current)
            if not free:
                break
            current = take(k, max(free, key=lambda m: (m[1], -m[2], m[3] == "lower")))
    if progress:
        progress(f"interface: {interface.comparators} comparators after the removals that change "
                 f"no answer, {time.perf_counter() - began:.1f} s")
    # 2. the best removal per unit of bound, over all inputs, while the budget allows
    while not budget_hit:
        best = None
        for k in range(interface.n_inputs):
            if time.perf_counter() - began > time_budget_s:
                budget_hit = True
                break
            for move in candidates(k, budget):
                ratio = move[1] / (max(move[0] - current, 0.0) + 1e-3)
                key = (ratio, move[1], -k, -move[2], move[3] == "lower")
                if best is None or key > best[0]:
                    best = (key, k, move)
        if best is None or budget_hit:
            break
        current = take(best[1], best[2])
        if progress and len(steps) % 10 == 0:
            progress(f"interface: {len(steps)} references removed, {interface.comparators} "
                     f"left, {time.perf_counter() - began:.1f} s")
    interface = choose_encodings(network, interface)
    seconds = time.perf_counter() - began
    if progress:
        progress(f"interface: {interface.comparators} comparators kept (conventional: "
                 f"{n_used * ((1 << bits) - 1)} on the inputs the core reads), "
                 f"{evaluator.evaluations} evaluations in {seconds:.1f} s")
    if budget_hit:
        log.warning("the interface search ran out of its time budget (%.0f s): the result "
                    "depends on this machine's speed", time_budget_s)
    return InterfaceSearchResult(interface, tuple(steps), evaluator.evaluations, seconds,
                                 current, budget_hit)
