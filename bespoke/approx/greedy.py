"""The greedy search: from the current network, every single knob move, keeping the feasible one
that saves the most area per point of accuracy lost, until none saves area; hardware-aware
retraining when it is stuck."""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Callable, Iterator

import numpy as np

from ..ir import network as ir
from ..ir.emulate import predict_codes
from ..ir.interface import Interface
from ..ir.network import Network, Neuron, csd_digits
from . import knobs as ax
from .candidates import (Candidate, ProgressBar, SearchOptions, SearchResult,
                         pareto_front)
from .estimate import AreaModel
from .scoring import Scorer, changed_neurons
from .threads import one_blas_thread

log = logging.getLogger(__name__)


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


def _last_resort_moves(network: Network,
                       stats: ax.InputStatistics) -> Iterator[tuple[str, Callable[[], Network | None]]]:
    """Moves tried only when no move of :func:`_moves` is left within the budget: each
    hidden clamp neuron removed (its code the constant nearest its mean).  A removal saves
    so much area, often at no loss on the validation split, that ranked with the others it
    is always taken first, and on small networks that walk ends larger (the suite's
    mammographic and balance-scale seeds: benchmarks/results/quality_seeds.md); taken when
    the walk is stuck, it only goes further than the walk without it."""
    for li, layer in enumerate(network.layers[:-1]):
        for ni in range(len(layer.neurons)):
            yield (f"l{li}_n{ni} removed (its mean code a constant)",
                   lambda li=li, ni=ni: ax.constant_neuron(network, stats, li, ni))


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


#: a step takes one move per this many candidates it scored (at least one): on a large
#: network (the 64-input digits: about 1 300 moves a step) the next best moves join the
#: best one where they change other weights, each combination checked whole against the
#: budget, so the walk does not pay a whole round of scoring for every move; a small network
#: (up to 511 moves a step: every dataset of the suite and the 16-5-10 digits) still takes
#: one move a step
MOVES_PER_TAKEN = 256


def _merged(base: Neuron, a: Neuron, b: Neuron) -> Neuron | None:
    """One neuron with both ``a``'s and ``b``'s changes of ``base``: the weights each
    changed (different ones), the activation, masks or truncation one of them changed, and
    both bias corrections added up; None where both changed the same thing."""
    fields = {}
    for name in ("activation", "input_masks", "truncation"):
        old, x, y = getattr(base, name), getattr(a, name), getattr(b, name)
        if x != old and y != old:
            return None
        fields[name] = x if x != old else y
    weights = list(base.weights)
    for k, (w, x, y) in enumerate(zip(base.weights, a.weights, b.weights)):
        if x != w and y != w:
            return None
        weights[k] = x if x != w else y
    return replace(base, weights=tuple(weights), bias=a.bias + b.bias - base.bias, **fields)


def _taken_together(best: Candidate, order: list[Candidate], base: Network, score: Scorer,
                    most: int) -> tuple[Candidate, list[str], list[Candidate]]:
    """``best`` with up to ``most - 1`` of the next moves of ``order`` (best first) that
    change other weights (:func:`_merged`) or other neurons, each kept only if the whole is
    smaller and still within the budget on every split; the result, the moves taken and
    every combination scored."""
    combined, taken, tried = best, [best.move], []
    for candidate in order:
        if len(taken) >= most:
            break
        changes = changed_neurons(candidate.network, base)
        if candidate.network is best.network or not changes:
            continue
        layers = [list(layer.neurons) for layer in combined.network.layers]
        for (li, ni), neuron in changes.items():
            old = base.layers[li].neurons[ni]
            now = layers[li][ni]
            layers[li][ni] = neuron if now is old else _merged(old, now, neuron)
            if layers[li][ni] is None:
                break
        else:
            network = replace(combined.network, layers=tuple(
                layer if all(m is n for m, n in zip(neurons, layer.neurons))
                else replace(layer, neurons=tuple(neurons))
                for layer, neurons in zip(combined.network.layers, layers)))
            (trial,) = score([network], [candidate.move])
            tried.append(trial)
            if trial.area_um2 >= combined.area_um2 or not score.within(trial):
                continue
            (trial,) = score.confirm([trial])
            tried[-1] = trial
            if score.within(trial):
                combined = trial
                taken.append(candidate.move)
    return combined, taken, tried


def _step(moves: Iterator[tuple[str, Callable[[], Network | None]]], current: Candidate,
          score: Scorer, seen: list[Candidate],
          epsilon: float) -> tuple[Candidate | None, list[str], list[tuple]]:
    """One greedy step over ``moves`` from ``current``: the move that saves the most area
    per point lost and passes both checks (with the next best that combine with it, on a
    large network), the moves taken, and the ranked moves beyond the budget (for
    retraining).  Every candidate scored joins ``seen``."""
    networks, names = [], []
    for name, build in moves:
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
    best = score.first_within(order)
    taken = [best.move] if best is not None else []
    if best is not None and len(networks) >= 2 * MOVES_PER_TAKEN:
        best, taken, tried = _taken_together(best, order, current.network, score,
                                             len(networks) // MOVES_PER_TAKEN)
        seen += tried
    return best, taken, beyond


@one_blas_thread
def greedy_search(exact: Network, train_codes: np.ndarray, val_codes: np.ndarray,
                  val_labels: np.ndarray, model: AreaModel,
                  options: SearchOptions = SearchOptions(),
                  progress: Callable[[str], None] | None = None,
                  train_labels: np.ndarray | None = None,
                  start_from: Network | None = None,
                  interface: Interface | None = None,
                  sensor: tuple[np.ndarray, np.ndarray] | None = None) -> SearchResult:
    """Greedy descent in area within the accuracy budget (see the module docstring),
    from ``start_from`` (a design within the budget; default: ``exact``).

    With ``options.retrain``, a greedy search that finds no move left retrains the
    current design on the training split (area never growing) and goes on from it if it
    is still within the budget, up to ``options.retrain_rounds`` times.

    With ``interface`` (fixed ADCs, :class:`Scorer`), the candidates read their codes
    through it from the ``sensor`` values (training, validation) of the samples; retraining
    is then off (it trains on the codes themselves).

    The budget holds on the validation split and on the training split (``train_labels``;
    without them, the exact design's own answers), for the loss plus two standard errors
    of it (paired against the exact design): the splits are small, and a search that
    tries thousands of candidates would otherwise pick up their noise."""
    start = time.perf_counter()
    train_labels = predict_codes(exact, train_codes) if train_labels is None else train_labels
    score = Scorer(exact, train_codes, train_labels, val_codes, val_labels, model,
                    options.max_accuracy_loss, options.neighbourhood, interface, sensor)
    if interface is not None:
        train_codes = score.splits[1][0]  # as the candidates read them
        options = replace(options, retrain=False)
    stats = ax.InputStatistics.measure(exact, train_codes)
    (base,) = score([exact], ["exact"])
    epsilon = 1.0 / max(len(val_labels), 1)
    bar = ProgressBar(progress)
    seen = [base]
    current, steps = base, []
    if start_from is not None and start_from != exact:
        (current,) = score.confirm(score([start_from], ["start"]))
        stats = ax.InputStatistics.measure(start_from, train_codes)
        score.rebase(start_from)
        seen.append(current)
    rounds, retraining_cut = 0, False
    while time.perf_counter() - start < options.time_budget_s:
        best, taken, beyond = _step(_moves(current.network, stats, options), current,
                                    score, seen, epsilon)
        if best is None:
            best, taken, _ = _step(_last_resort_moves(current.network, stats),
                                   current, score, seen, epsilon)
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
                    taken = [best.move]
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
        steps += taken
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


def _retrained(current: Candidate, score: "Scorer", train_codes: np.ndarray,
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
