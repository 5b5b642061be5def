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

A printed ladder is sized per design, so references need not stay on the uniform grid:
the other change tried on each input is one reference fewer with all of its references
placed anew where they cost the least on the training samples and their neighbourhoods
(:mod:`.placement`: an exact dynamic program over the sorted sensor values, weighted by
which answers of the core's decision each code gets right, not by sample density), and
the codes read between them chosen freely.

Candidates are scored exactly by the integer emulator from the samples' sensor values
(``sensor_bits`` fixed point, whose top bits are the codes): each first-layer accumulator
is a sum of one contribution per input (``bias + sum_k F_k[code_k]``), so a change to one
input's ADC recomputes that input's contribution, for the samples whose code it changes,
and the layers after it.

Each input's encoding is then chosen: ``thermometer`` (the comparator bits enter the
neurons' adder trees directly) when that puts no more bits into them than the ``binary``
code plus its encoder would.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from ..errors import BespokeError
from ..hw.adc import AdcModel
from ..ir.emulate import accumulate, activate, decide, predict_codes
from ..ir.interface import SENSOR_BITS, Channel, Interface
from ..ir.network import Network
from ..model.data import split as split_samples
from .candidates import SearchOptions, SearchResult
from .placement import optimal_quantizer
from .scoring import Scorer, loss_bound
from .threads import one_blas_thread

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InterfaceSearchResult:
    interface: Interface
    steps: tuple[str, ...]  # the removals, in order
    evaluations: int
    seconds: float
    loss_bound: float  # the chosen interface's bound (the budget rule's figure)
    budget_hit: bool  # the time budget cut the search short
    #: which core the system starts from: 0 is the core :func:`fit_interface` was given,
    #: ``k`` its ``alternatives[k - 1]``
    core_index: int = 0
    #: search_interface: ``(interface, bound)`` where it started and after each step;
    #: fit_interface: empty
    trail: tuple[tuple[Interface, float], ...] = ()
    #: fit_interface: the accuracy the chosen system loses against the exact design on the
    #: audit samples (None: no audit), and how many of its search's changes the audit undid
    audit_loss: float | None = None
    undone: int = 0
    #: the bound it kept to: the accuracy budget, or the start's own bound if that is above
    #: (fit_interface: the core it was given, on the samples it searched)
    budget: float = 0.0


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


def sensor_map(channel: Channel, sensor_bits: int = SENSOR_BITS) -> np.ndarray:
    """The code the core reads at each sensor value ``0 .. 2**sensor_bits - 1`` of a channel."""
    values = np.arange(1 << sensor_bits, dtype=np.int64)
    level = np.searchsorted(np.asarray(channel.thresholds, np.int64), values, side="right")
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


#: the share of the training samples fit_interface's searches never see: the audit its
#: result must pass (see fit_interface)
AUDIT_FRACTION = 1 / 3

#: an audit is held out only where the accuracy budget is at least this many of its samples
#: (at a 1 % budget, 300): on fewer, one sample moves its loss by a third of the budget or
#: more, and the samples it takes from the search cost more than it catches (over the
#: suite's datasets, seeds 0-4: +0.15 points against -0.18 without, iris +2.00)
AUDIT_MIN_ANSWERS = 3

#: rows :meth:`_InterfaceScorer.code_costs` sends through the later layers at once
CODE_COST_ROWS = 1 << 16


class _InterfaceScorer:
    """Scores a core network behind candidate interfaces on every split of a
    :class:`Scorer` (its samples' sensor values), by first-layer contributions (see the
    module docstring): a change to one input's ADC changes the code of the samples between
    its old and new references only, and only those are recomputed."""

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

    def _bounds(self, split: int, right: np.ndarray) -> np.ndarray:
        """The loss bound on ``split`` of each row of ``right`` (samples answered right)."""
        exact_right = self.scorer.exact_right[split]
        lost, won = exact_right & ~right, ~exact_right & right
        if split >= Scorer.NEIGHBOURHOOD:
            return loss_bound(lost, won, self.scorer.copies, at_least_changes=1.5)
        return loss_bound(lost, won)

    def _bound(self, split: int, right: np.ndarray) -> float:
        return float(self._bounds(split, right[None])[0])

    def rebase(self, maps: list[np.ndarray]) -> float:
        """Make ``maps`` the base the candidates change; its bound over every split."""
        self.maps = [m.copy() for m in maps]
        self.acc, self.prediction = [], []
        self._wrong, self._stale = {}, {}  # code_costs' kept results, samples to redo
        worst = -np.inf
        for split, (_, labels) in enumerate(self.scorer.splits):
            sensor = self.scorer.sensor[split]
            acc = np.broadcast_to(self.bias, (len(sensor), len(self.bias))).copy()
            for k, mapping in enumerate(maps):
                acc += self.contributions[k][mapping[sensor[:, k]]]
            self.acc.append(acc)
            self.prediction.append(self._finish(acc))
            worst = max(worst, self._bound(split, self.prediction[-1] == labels))
        return worst

    def _moved(self, split: int, k: int, mapping: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The samples of ``split`` whose code of input ``k`` ``mapping`` changes, and their
        first-layer accumulators with it."""
        column = self.scorer.sensor[split][:, k]
        moved = np.flatnonzero((mapping != self.maps[k])[column])
        table = self.contributions[k]
        values = column[moved]
        acc = self.acc[split][moved] - table[self.maps[k][values]] + table[mapping[values]]
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
                for other, stale in self._stale.items():
                    if other != k:
                        stale[split][moved] = True
            worst = max(worst, self._bound(split, self.prediction[split] == labels))
        self.maps[k] = mapping.copy()
        return worst

    def code_costs(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The sensor values of input ``k`` on the training split and the training samples'
        neighbourhood copies, and per sample and core code ``c`` the cost of reading ``c``
        there with every other input as in the base: 1 where the decision is then wrong,
        a neighbourhood copy weighing ``1 / copies`` (each sample's neighbourhood counts
        as much as the sample).

        Kept between calls: a change to input ``k``'s own ADC leaves them as they are, a
        change to another's only those of the samples whose code it moved, and only those
        are computed again (:meth:`accept` marks them)."""
        scorer = self.scorer
        n_val = len(scorer.splits[0][1])
        parts = [(1, slice(None), 1.0)] + [
            (split, slice(n_val * scorer.copies, None), 1.0 / scorer.copies)
            for split in range(Scorer.NEIGHBOURHOOD, len(scorer.splits))]
        kept = self._wrong.get(k)
        values, costs, wrongs = [], [], []
        for part, (split, rows, weight) in enumerate(parts):
            index = np.arange(len(scorer.splits[split][1]))[rows]
            if kept is None:
                wrong = self._wrong_codes(split, k, index)
            else:
                wrong = kept[part]
                stale = np.flatnonzero(self._stale[k][split][index])
                if len(stale):
                    wrong[stale] = self._wrong_codes(split, k, index[stale])
            wrongs.append(wrong)
            costs.append(weight * wrong)
            values.append(scorer.sensor[split][index, k])
        self._wrong[k] = wrongs
        self._stale[k] = [np.zeros(len(labels), bool) for _, labels in scorer.splits]
        return np.concatenate(values), np.concatenate(costs)

    def _wrong_codes(self, split: int, k: int, index: np.ndarray) -> np.ndarray:
        """``(samples, codes)``: whether the decision on sample ``index`` of ``split`` is
        wrong with input ``k`` at each code, every other input as in the base."""
        table = self.contributions[k]
        if not len(index):
            return np.zeros((0, len(table)), bool)
        column = self.scorer.sensor[split][index, k]
        labels = self.scorer.splits[split][1][index]
        base = self.acc[split][index] - table[self.maps[k][column]]
        # every code's accumulators through the later layers together, in slices of
        # about CODE_COST_ROWS rows
        step = max(1, CODE_COST_ROWS // max(len(base), 1))
        wrong = np.concatenate([
            (self._finish((base[None] + table[c:c + step, None]).reshape(-1, base.shape[1]))
             .reshape(-1, len(base)) != labels) for c in range(0, len(table), step)])
        return wrong.T

    def bounds(self, k: int, mappings: Sequence[np.ndarray], limit: float) -> np.ndarray:
        """Per mapping, the largest loss bound over the splits (validation and training
        first) of the base with input ``k`` read through it; a mapping whose bound is above
        ``limit`` on a split is not scored on the later ones (its value is then only known
        to be above ``limit``).  All mappings' moved samples go through the layers after
        the first together: one pass per split, not one per mapping."""
        self.evaluations += len(mappings)
        worst = np.full(len(mappings), -np.inf)
        if not mappings:
            return worst
        alive = np.arange(len(mappings))
        for split, (_, labels) in enumerate(self.scorer.splits):
            moves = [self._moved(split, k, mappings[i]) for i in alive]
            right = np.broadcast_to(self.prediction[split] == labels,
                                    (len(alive), len(labels))).copy()
            sizes = [len(moved) for moved, _ in moves]
            if sum(sizes):
                predicted = self._finish(np.concatenate([acc for _, acc in moves]))
                rows = np.repeat(np.arange(len(alive)), sizes)
                columns = np.concatenate([moved for moved, _ in moves])
                right[rows, columns] = predicted == labels[columns]
            worst[alive] = np.maximum(worst[alive], self._bounds(split, right))
            alive = alive[worst[alive] <= limit]
            if not len(alive):
                break
        return worst


#: rounds of a core search behind the fixed ADCs, then further removals (fit_interface)
ALTERNATIONS = 2


#: another core replaces the search's choice behind the ADCs only when its estimated system
#: is this much smaller (the estimator's median error is 8 %:
#: benchmarks/results/estimator_calibration.md; balance-scale seed 1: an alternative
#: estimated 1 % smaller was 12 % larger synthesized)
ALTERNATIVE_MARGIN = 0.10

#: seconds an alternative finalist's fitting needs at least, or it is not fitted
MIN_ALTERNATIVE_S = 2.0


@one_blas_thread
def fit_interface(exact: Network, network: Network, train_sensor: np.ndarray,
                  train_labels: np.ndarray, val_sensor: np.ndarray, val_labels: np.ndarray,
                  adc: AdcModel, *, max_accuracy_loss: float, time_budget_s: float,
                  sensor_bits: int = SENSOR_BITS, off_grid: bool = True,
                  progress: Callable[[str], None] | None = None,
                  alternatives: Sequence[Network] = (),
                  audit_fraction: float = AUDIT_FRACTION,
                  ) -> tuple[Network, InterfaceSearchResult]:
    """The ADCs of ``network`` (a core derived from ``exact``), and the core again, from the
    samples' ``sensor_bits`` sensor values (whose top bits are the codes): under the
    search's own budget rule (the same splits and neighbourhoods, relative to ``exact``),
    :func:`search_interface`, then up to :data:`ALTERNATIONS` times a greedy core search
    that reads the codes through those ADCs (few levels per input make knobs free that were
    not) followed by further removals, while that shrinks the core.  Returns the core and
    the interface search (its ``interface`` is the chosen one; ``steps`` all rounds').

    With ``off_grid``, all of that runs twice, with references kept on the uniform grid and
    with references placed anywhere (:func:`search_interface`), each with half the time
    (the second also with what the first left), and the system of least estimated area
    (ADCs by ``adc``, core by the area estimator) is kept: greedy removals depend on their
    path, and either may end cheaper.

    ``alternatives`` are other cores within the budget (the search's other finalists,
    :func:`bespoke.approx.search.close_finalists`): each is fitted the same way, in the
    time ``network``'s fitting leaves (shared equally; none below
    :data:`MIN_ALTERNATIVE_S` each), and the system of least estimated area is kept if it is
    :data:`ALTERNATIVE_MARGIN` smaller than ``network``'s (its ``core_index`` says which):
    how far the ADCs fold a core depends on the core.

    The audit: where there are enough training samples (:data:`AUDIT_MIN_ANSWERS`), a
    stratified ``audit_fraction`` of them is held out of all of that (never scored while
    it searches).  Each fitting's changes are then walked back
    from its last until the accuracy the system loses against the exact design on the audit
    is within the budget (or within the core's own loss there, if that is above): the
    searches choose among tens of thousands of candidates by the answers on the samples
    they see, and on a 10-class 16-5-10 the chosen systems won answers there and lost them
    on unseen samples (``benchmarks/results/digits_seeds_adc.md``).  The loss itself, not
    the budget rule's bound: unseen samples give no selected wins to pay for its two
    standard errors, and the bound would then allow a few changed answers at most (on the
    suite it undid most of cardio's and mammographic's ADC searches)."""
    from .estimate import AreaModel
    from .greedy import greedy_search

    began = time.perf_counter()
    model = AreaModel.bundled()
    options = SearchOptions(max_accuracy_loss)
    train_sensor = np.asarray(train_sensor, np.int64)
    val_sensor = np.asarray(val_sensor, np.int64)
    shift = sensor_bits - exact.input_bits
    train_sensor, train_labels, audit = _hold_out_audit(exact, train_sensor, train_labels,
                                                        shift, audit_fraction, max_accuracy_loss)
    train_codes, val_codes = train_sensor >> shift, val_sensor >> shift
    sensor = (train_sensor, val_sensor)
    scorer = Scorer(exact, train_codes, train_labels, val_codes, val_labels, model,
                    max_accuracy_loss, options.neighbourhood, sensor=sensor)

    def fit(network: Network, off_grid: bool, budget_s: float):
        # the first removals may take half the time; each later step keeps a share for
        # those after it and takes the rest, so time one step leaves goes to the next
        # (a loaded machine then rarely cuts a search short and changes its result)
        deadline = time.perf_counter() + budget_s
        share = budget_s / (4 * ALTERNATIONS)
        result = search_interface(network, scorer, adc, sensor_bits=sensor_bits,
                                  off_grid=off_grid, time_budget_s=budget_s / 2,
                                  progress=progress)
        steps, evaluations, budget_hit = list(result.steps), result.evaluations, result.budget_hit
        kept = result.budget  # the budget, or the core's own bound if that is above
        # (core, interface, bound on the searched splits, steps taken) where each step left it
        trail = [(network, interface, bound, done)
                 for done, (interface, bound) in enumerate(result.trail)]
        for alternation in range(ALTERNATIONS):
            later = 2 * (ALTERNATIONS - alternation) - 1  # steps after this core search
            # the candidates carry the interface, so the estimator prices the inputs as the
            # generator builds them (thermometer bits, or an encoder's few levels)
            behind = replace(network, interface=result.interface)
            core_options = replace(options, time_budget_s=_time_left(deadline, later * share))
            core = greedy_search(exact, train_codes, val_codes, val_labels, model, core_options,
                                 None, train_labels, start_from=behind,
                                 interface=result.interface, sensor=sensor)
            budget_hit = budget_hit or core.budget_hit
            evaluations += core.evaluations
            if core.chosen.network == behind or core.chosen.area_um2 >= model.area_um2(behind):
                break
            if progress:
                progress(f"core behind the ADCs: estimated area {model.area_um2(behind) / 1e8:.3f}"
                         f" -> {core.chosen.area_um2 / 1e8:.3f} cm² ({len(core.steps)} steps)")
            network = replace(core.chosen.network, interface=network.interface)
            steps += [f"core: {step}" for step in core.steps]
            result = search_interface(network, scorer, adc, sensor_bits=sensor_bits,
                                      off_grid=off_grid,
                                      time_budget_s=_time_left(deadline, (later - 1) * share),
                                      progress=progress, start=result.interface)
            trail += [(network, interface, bound, len(steps) + done)
                      for done, (interface, bound) in enumerate(result.trail)]
            steps += list(result.steps)
            evaluations += result.evaluations
            budget_hit = budget_hit or result.budget_hit
        index, audit_loss = _walk_back(trail, audit, scorer.budget)
        network, interface, bound, done = trail[index]
        if done < len(steps):
            message = (f"audit: the last {len(steps) - done} of {len(steps)} changes undone, "
                       f"{100 * audit_loss:+.2f} points on the {len(audit.labels)} held-out "
                       "training samples")
            log.info("%s", message)
            if progress:
                progress(message)
        return network, InterfaceSearchResult(
            choose_encodings(network, interface), tuple(steps[:done]), evaluations,
            time.perf_counter() - began, bound, budget_hit, audit_loss=audit_loss,
            undone=len(steps) - done, budget=kept)

    def system_cost(fitted: tuple[Network, InterfaceSearchResult]) -> tuple[float, float]:
        """Estimated system area (ADCs + core), then the ADCs' power."""
        core, found = fitted
        adc_area, adc_power = adc.interface_cost(found.interface)
        return adc_area + model.area_um2(replace(core, interface=found.interface)), adc_power

    # the greedy removals depend on their path: references on the grid and references
    # placed anew are two searches, and the cheaper system is kept (the grid on a tie)
    variants = (False, True) if off_grid else (False,)
    cores = (network, *alternatives)
    runs = [(k, variant) for k in range(len(cores)) for variant in variants]
    fitted = []
    for i, (k, variant) in enumerate(runs):
        if k == 0:  # the search's choice: its variants share the budget as if alone
            later = (len(variants) - 1 - i) * time_budget_s / len(variants)
            budget_s = _time_left(began + time_budget_s, later)
        else:  # the alternatives: what the choice left, shared equally
            budget_s = _time_left(began + time_budget_s, 0.0) / (len(runs) - i)
            if budget_s < MIN_ALTERNATIVE_S:
                log.info("no time left to fit the ADCs of the search's other finalists "
                         "(%d of %d ADC searches done)", i, len(runs))
                break
        fitted.append(fit(cores[k], variant, budget_s))
        if progress:
            area, power = system_cost(fitted[-1])
            progress((f"finalist {k + 1} of {len(cores)}, " if len(cores) > 1 else "")
                     + f"references {'placed anywhere' if variant else 'on the uniform grid'}: "
                     f"estimated system area {area / 1e8:.3f} cm², ADC power {power / 1e3:.2f} mW")
    runs = runs[:len(fitted)]  # those fitted
    costs = [system_cost(run) for run in fitted]
    best = min(range(len(runs)), key=lambda i: (costs[i], i))
    first = min(range(len(variants)), key=lambda i: (costs[i], i))
    if costs[best][0] > (1 - ALTERNATIVE_MARGIN) * costs[first][0]:
        best = first  # within the estimator's error of the search's own choice: that one
    core, found = fitted[best]
    evaluations = sum(run.evaluations for _, run in fitted)
    budget_hit = any(run.budget_hit for _, run in fitted)
    return core, replace(found, evaluations=evaluations, budget_hit=budget_hit,
                         seconds=time.perf_counter() - began, core_index=runs[best][0])


@dataclass(frozen=True)
class _Audit:
    """Training samples the ADC searches never see, and whether the exact design answers
    each right."""

    sensor: np.ndarray
    labels: np.ndarray
    exact_right: np.ndarray

    def loss(self, core: Network, interface: Interface) -> float:
        """The accuracy ``core`` behind ``interface`` loses against the exact design on
        these samples (negative where it wins)."""
        right = predict_codes(core, interface.codes(self.sensor)) == self.labels
        return float(np.mean(self.exact_right) - np.mean(right))


def _hold_out_audit(exact: Network, sensor: np.ndarray, labels: np.ndarray, shift: int,
                    fraction: float, budget: float
                    ) -> tuple[np.ndarray, np.ndarray, _Audit | None]:
    """The samples the searches see and the audit (a stratified ``fraction`` of them, or
    None when that is 0, when ``budget`` would be fewer than :data:`AUDIT_MIN_ANSWERS` of
    its samples, or when the samples cannot be split so)."""
    if not fraction:
        return sensor, labels, None
    if len(labels) * fraction * budget < AUDIT_MIN_ANSWERS:
        log.info("no audit of the ADC search: %d training samples are too few to hold out "
                 "one that tells a loss of the budget from a sample or two", len(labels))
        return sensor, labels, None
    try:
        sensor, held, labels, held_labels = split_samples(sensor, labels, fraction, 0, "audit")
    except BespokeError:
        log.warning("too few training samples (%d) to hold an audit out of the ADC search: "
                    "its result is checked on the searched samples only", len(labels))
        return sensor, labels, None
    exact_right = predict_codes(exact, held >> shift) == held_labels
    return sensor, labels, _Audit(held, held_labels, exact_right)


def _walk_back(trail: list, audit: _Audit | None, budget: float) -> tuple[int, float | None]:
    """The last point of ``trail`` (``(core, interface, ...)`` from the start on) whose
    accuracy loss on the audit is within ``budget`` (or the start's own loss, if that is
    above), and that loss; with no audit, the last point."""
    if audit is None:
        return len(trail) - 1, None
    start = audit.loss(*trail[0][:2])
    for index in range(len(trail) - 1, 0, -1):
        loss = audit.loss(*trail[index][:2])
        if loss <= max(budget, start) + 1e-12:
            return index, loss
    return 0, start


def fit_finalists(exact: Network, search: SearchResult, train_sensor: np.ndarray,
                  train_labels: np.ndarray, val_sensor: np.ndarray, val_labels: np.ndarray,
                  adc: AdcModel, **options) -> tuple[Network, InterfaceSearchResult, SearchResult]:
    """:func:`fit_interface` on the search's finalists close to its choice
    (:func:`bespoke.approx.search.close_finalists`, the choice first, the others as
    ``alternatives``; ``options`` as fit_interface's); returns the core, the interface
    search, and ``search`` with the finalist the system starts from chosen."""
    from .search import choose_finalist, close_finalists

    finalists = [end.network for end, _ in close_finalists(search)]
    core, found = fit_interface(exact, finalists[0], train_sensor, train_labels, val_sensor,
                                val_labels, adc, alternatives=finalists[1:], **options)
    return core, found, choose_finalist(search, found.core_index)


def _time_left(deadline: float, kept_s: float) -> float:
    """Seconds until ``deadline`` (a ``time.perf_counter`` value) less ``kept_s`` kept for
    the steps after this one; never negative."""
    return max(deadline - time.perf_counter() - kept_s, 0.0)


@one_blas_thread
def search_interface(network: Network, scorer: Scorer, adc: AdcModel, *,
                     sensor_bits: int = SENSOR_BITS, time_budget_s: float = 30.0,
                     off_grid: bool = True, progress: Callable[[str], None] | None = None,
                     start: Interface | None = None) -> InterfaceSearchResult:
    """The bespoke ADCs of ``network``'s inputs (see the module docstring); ``scorer``
    holds the splits (and their sensor values), the exact design's answers and the budget;
    ``start`` (within the budget with ``network``) is where removals start, instead of a
    conventional ADC on every input the core reads.

    First every removal that changes no answer the budget counts (its bound does not
    grow), input by input; then, while the time lasts, the change that saves most ADC
    area and power per unit of bound it adds, over all inputs: a removal or, with
    ``off_grid``, one reference fewer with all of the input's references placed anew
    (:func:`~.placement.optimal_quantizer` on :meth:`_InterfaceScorer.code_costs`)."""
    began = time.perf_counter()
    interface = grid_interface(network, sensor_bits)
    if start is not None:  # what the core still reads: never more than where it starts
        interface = Interface(sensor_bits, start.input_bits, tuple(
            Channel(c.thresholds, c.levels) if g.comparators else g
            for c, g in zip(start.channels, interface.channels)))
    bits = network.input_bits
    maps = [sensor_map(c, sensor_bits) for c in interface.channels]
    evaluator = _InterfaceScorer(network, scorer)
    current = evaluator.rebase(maps)
    budget = max(scorer.budget, current)  # never worse than the core it starts from
    conventional_area, conventional_power = adc.conventional(bits)
    n_used = sum(c.comparators > 0 for c in interface.channels)

    def cost(channel: Channel) -> float:
        """An ADC's area and power, as shares of a conventional ADC's."""
        area, power = adc.channel_cost(channel.thresholds, sensor_bits)
        return area / conventional_area + power / conventional_power

    def moves(k: int, limit: float, placed: bool):
        """``(bound, saving, order, step, channel, map)`` of each change to input ``k``'s ADC
        that keeps its bound within ``limit``: each reference removed (the two levels it
        separated read as the lower or the upper one) and, if ``placed``, one reference
        fewer with all of them placed anew by the optimal quantizer (:mod:`.placement`)."""
        channel = interface.channels[k]
        changes = [(channel.without_threshold(j, keep),
                    f"input {k}: reference {channel.thresholds[j]} removed (keep {keep})")
                   for j in range(channel.comparators) for keep in ("lower", "upper")]
        if placed and channel.comparators:
            fit = optimal_quantizer(*evaluator.code_costs(k), channel.comparators - 1)
            changes.append((Channel(fit.thresholds, fit.levels),
                            f"input {k}: {len(fit.thresholds)} references placed at "
                            f"{list(fit.thresholds)} reading {list(fit.levels)}"))
        before = cost(channel)
        mappings = [sensor_map(new, sensor_bits) for new, _ in changes]
        for order, ((new, step), mapping, b) in enumerate(
                zip(changes, mappings, evaluator.bounds(k, mappings, limit + 1e-12))):
            if b <= limit + 1e-12:
                yield b, before - cost(new), order, step, new, mapping

    steps: list[str] = []
    trail = [(interface, current)]
    budget_hit = False

    def take(k: int, move) -> float:
        nonlocal interface
        _, _, _, step, new, mapping = move
        steps.append(step)
        interface = interface.with_channel(k, new)
        maps[k] = mapping
        bound = evaluator.accept(k, mapping)
        trail.append((interface, bound))
        return bound

    if progress:
        progress(f"interface: {n_used} of {interface.n_inputs} inputs read by the core, "
                 f"{interface.comparators} comparators to start from")
    # 1. removals that change no answer that counts, input by input
    for k in range(interface.n_inputs):
        while interface.channels[k].comparators:
            if time.perf_counter() - began > time_budget_s:
                budget_hit = True
                break
            free = list(moves(k, current, placed=False))
            if not free:
                break
            current = take(k, max(free, key=lambda m: (m[1], -m[2])))
    if progress:
        progress(f"interface: {interface.comparators} comparators after the removals that change "
                 f"no answer, {time.perf_counter() - began:.1f} s")
    # 2. the change that saves most per unit of bound, over all inputs, while the budget allows
    while not budget_hit:
        best = None
        for k in range(interface.n_inputs):
            if time.perf_counter() - began > time_budget_s:
                budget_hit = True
                break
            for move in moves(k, budget, placed=off_grid):
                ratio = move[1] / (max(move[0] - current, 0.0) + 1e-3)
                key = (ratio, move[1], -k, -move[2])
                if best is None or key > best[0]:
                    best = (key, k, move)
        if best is None or budget_hit:
            break
        current = take(best[1], best[2])
        if progress and len(steps) % 10 == 0:
            progress(f"interface: {len(steps)} changes, {interface.comparators} comparators "
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
                                 current, budget_hit, trail=tuple(trail), budget=budget)
