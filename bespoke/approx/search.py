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

With retraining on (``SearchOptions.retrain``), the exact design is also trained with the
circuit in the loop (:mod:`bespoke.approx.qat`) at rising penalties on signed digits,
and again pruning whole inputs as it goes;
those of its networks that stay within the budget join NSGA-II's candidates as starting
points of the greedy polish.
"""
from __future__ import annotations

import functools
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..ir.emulate import predict_codes
from ..ir.network import Network
from .candidates import Candidate, SearchOptions, SearchResult, pareto_front
from .estimate import AreaModel
from .greedy import greedy_search
from .nsga2 import nsga2_restart, restart_backend
from .scoring import Scorer
from .threads import one_blas_thread

log = logging.getLogger(__name__)


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


#: how many of NSGA-II's smallest candidates the greedy search polishes per minute of the
#: time budget (at least this many; the smallest first; benchmarks/results/search_time.md)
POLISHED = 4


def polished_count(time_budget_s: float) -> int:
    """How many starts a search of ``time_budget_s`` polishes: :data:`POLISHED` per minute
    (at least :data:`POLISHED`), so that more time buys more polish, reproducibly (a count,
    not a deadline: the same options polish the same starts on any machine)."""
    return max(POLISHED, round(POLISHED * time_budget_s / 60))


@one_blas_thread
def search(exact: Network, train_codes: np.ndarray, val_codes: np.ndarray, val_labels: np.ndarray,
           model: AreaModel, options: SearchOptions = SearchOptions(), *, seed: int = 0,
           train_labels: np.ndarray | None = None,
           progress: Callable[[str], None] | None = None) -> SearchResult:
    """The greedy baseline (at most half the time budget), then ``options.restarts``
    NSGA-II runs in parallel (the rest), then a greedy polish of each of NSGA-II's
    :func:`polished_count` smallest candidates (a greedy search that its half of the budget
    stopped goes on instead, with the time left, when none of them is smaller than its
    design); the chosen design is the smallest of the greedy search's and the polished
    ones, all within the budget on the validation split, on the training split
    (``train_labels``; without them, the exact design's own answers) and on their
    neighbourhoods (``options.neighbourhood``).  The restarts' seeds are fixed, so the
    result does not depend on where they run."""
    start = time.perf_counter()
    # the generations follow the whole budget, not the share the restarts get of it
    options = replace(options, generations=options.nsga2_generations())
    half = replace(options, time_budget_s=options.time_budget_s / 2)
    if train_labels is None:  # the exact design's own answers, for every stage below
        train_labels = predict_codes(exact, train_codes)
    greedy = greedy_search(exact, train_codes, val_codes, val_labels, model, half, progress,
                           train_labels)
    budget_hit = greedy.budget_hit
    trained: list[Candidate] = []
    if options.retrain:
        trained, cut = _trained(exact, train_codes, val_codes, val_labels, model, options,
                                seed, train_labels, progress)
        budget_hit = budget_hit or cut
    # a trained network within the budget is polished, and a greedy search that its half
    # stopped goes on: NSGA-II leaves them time to
    reserve = options.time_budget_s * TRAINING_SHARE if trained or greedy.budget_hit else 0.0
    rest = max(options.time_budget_s - (time.perf_counter() - start) - reserve, 1.0)
    seeds = [seed + i for i in range(max(1, options.restarts))]
    evolved: list[Candidate] = []
    feasible = 0
    with restart_backend(options.jobs, len(seeds)) as (jobs, where):
        # restarts that cannot all run at once share the remaining time
        each = replace(options, time_budget_s=max(rest * min(1.0, jobs / len(seeds)), 1.0))
        if jobs == 1:
            if progress and len(seeds) > 1:
                progress(f"NSGA-II: {len(seeds)} restarts on {where}, one after another")
            answers = [nsga2_restart(exact, train_codes, val_codes, val_labels, model, each, s,
                                    train_labels, progress) for s in seeds]
        else:
            from joblib import Parallel, delayed

            if progress:
                progress(f"NSGA-II: {len(seeds)} restarts on {where}")
            answers = Parallel(n_jobs=jobs)(
                delayed(nsga2_restart)(exact, train_codes, val_codes, val_labels, model, each, s,
                                      train_labels) for s in seeds)
    for (front, count, seconds), s in zip(answers, seeds):
        budget_hit = budget_hit or seconds >= each.time_budget_s
        evolved += front
        feasible += count
        if progress and len(seeds) > 1:
            best = min(front, key=lambda c: c.area_um2, default=None)
            progress(f"NSGA-II seed {s}: {count} feasible candidates"
                     + (f", smallest {best.area_um2 / 1e8:.3f} cm²" if best else ""))
    evolved += trained
    smaller = lambda c: (c.area_um2, -c.accuracy)  # noqa: E731
    chosen, steps = greedy.chosen, greedy.steps
    ends = [(chosen, steps)]  # where each walk ended (the finalists)
    # NSGA-II's and the training's smallest candidates (those smaller than the greedy
    # search's choice), each polished (:func:`_polished`).  Where a polish ends depends on
    # where it starts, so the smallest few are polished, not the smallest alone, the
    # smallest first
    starts: list[Candidate] = []
    most = polished_count(options.time_budget_s)
    for candidate in sorted(evolved, key=smaller):
        if len(starts) == most or smaller(candidate) >= smaller(greedy.chosen):
            break
        if all(candidate.network != other.network for other in starts):
            starts.append(candidate)
    polish = functools.partial(greedy_search, exact, train_codes, val_codes, val_labels, model,
                               progress=progress, train_labels=train_labels)
    deadline = start + options.time_budget_s
    for begin in starts:
        end, path, seen, cut = _polished(begin, polish, options, deadline)
        evolved += seen
        budget_hit = budget_hit or cut
        ends.append((end, path))
        if smaller(end) < smaller(chosen):
            chosen, steps = end, path
    if chosen is greedy.chosen and greedy.budget_hit:
        # the greedy search was still walking when its half ran out, and nothing smaller
        # came up since: it goes on with whatever time is left (on large networks it gains
        # more from that time than NSGA-II does)
        end, path, seen, cut = _polished(chosen, polish, options, deadline)
        evolved += seen
        budget_hit = budget_hit or cut
        if smaller(end) < smaller(chosen):
            if progress:
                progress(f"greedy search went on: {len(path) - 1} more steps, estimated "
                         f"area {end.area_um2 / 1e8:.3f} cm²")
            chosen, steps = end, (*steps, *path[1:])
            ends.append((chosen, steps))
    front = pareto_front([*greedy.front, *evolved])
    if budget_hit:
        log.warning("the search ran out of its time budget (%.0f s) or a retraining inside it "
                    "did: the result depends on this machine's speed; raise --search-time for "
                    "a reproducible one", options.time_budget_s)
    if progress:
        progress(f"chosen: estimated area {chosen.area_um2 / 1e8:.3f} cm², validation accuracy "
                 f"{chosen.accuracy:.4f} (exact {greedy.exact.accuracy:.4f})")
    finalists: list[tuple[Candidate, tuple[str, ...]]] = []
    for end, path in sorted(ends, key=lambda e: smaller(e[0])):
        if all(end.network != other.network for other, _ in finalists):
            finalists.append((end, path))
    return SearchResult(greedy.exact, chosen, front, greedy.evaluations + feasible,
                        time.perf_counter() - start, steps, greedy.floor, budget_hit,
                        options.retrain, tuple(finalists))


#: at most this many finalists go on to the ADC search, those whose estimated core area is
#: within FINALIST_SPREAD times the smallest's: the ADCs then fold the core, and by how
#: much depends on the core (mammographic, seed 2: two cores estimated 0.465 and 0.472 cm²
#: end at 0.044 and 0.298 cm² synthesized behind their ADCs)
FINALISTS = 4
FINALIST_SPREAD = 1.5


def close_finalists(result: SearchResult) -> tuple[tuple[Candidate, tuple[str, ...]], ...]:
    """The :data:`FINALISTS` smallest finalists by estimate within :data:`FINALIST_SPREAD`
    of the smallest (the chosen design first)."""
    if not result.finalists:
        return ((result.chosen, result.steps),)
    smallest = result.finalists[0][0].area_um2
    return tuple((end, path) for end, path in result.finalists[:FINALISTS]
                 if end.area_um2 <= FINALIST_SPREAD * smallest)


def choose_finalist(result: SearchResult, index: int) -> SearchResult:
    """``result`` with finalist ``index`` of :func:`close_finalists` chosen."""
    chosen, steps = close_finalists(result)[index]
    return replace(result, chosen=chosen, steps=steps)


def _polished(begin: Candidate, polish: Callable[..., SearchResult], options: SearchOptions,
              deadline: float) -> tuple[Candidate, tuple[str, ...], list[Candidate], bool]:
    """``begin`` polished: a greedy search from it (``polish(options, start_from=...)``, with
    retraining whenever it is stuck, if asked), again while that shrinks it, until
    ``deadline``; the end, the moves to it, every candidate seen on the way, and whether the
    deadline stopped it."""
    end = begin
    path: tuple[str, ...] = ("NSGA-II individual" if begin.move == "nsga2" else begin.move,)
    seen: list[Candidate] = []
    for _ in range(4):
        left = deadline - time.perf_counter()
        if left <= 1.0:
            return end, path, seen, True
        more = polish(replace(options, time_budget_s=left), start_from=end.network)
        seen += more.front
        if more.chosen.area_um2 >= end.area_um2:
            break
        end, path = more.chosen, (*path, *more.steps)
    return end, path, seen, False


#: the share of the search's time budget the hardware-aware training may take (it stops
#: there, and says the result then depends on the machine's speed), and the share NSGA-II
#: leaves for the polish when some of its networks stay within the budget or the greedy
#: search was stopped by its half of the budget
TRAINING_SHARE = 1 / 4


def _trained(exact: Network, train_codes: np.ndarray, val_codes: np.ndarray,
             val_labels: np.ndarray, model: AreaModel, options: SearchOptions, seed: int,
             train_labels: np.ndarray, progress: Callable[[str], None] | None,
             ) -> tuple[list[Candidate], bool]:
    """The networks of :func:`bespoke.approx.qat.train` that stay within the budget (on
    every split the search checks), and whether its time budget cut the training short."""
    from .qat import QatOptions, train, trainable

    if not trainable(exact):
        return [], False
    result = train(exact, train_codes, train_labels,
                   QatOptions(time_budget_s=options.time_budget_s * TRAINING_SHARE, seed=seed))
    score = Scorer(exact, train_codes, train_labels, val_codes, val_labels, model,
                   options.max_accuracy_loss, options.neighbourhood)
    scored = score([*result.networks], [
        f"hardware-aware training, digit penalty {p:g}"
        + (f", {n} of {exact.n_inputs} inputs" if n < exact.n_inputs else "")
        for p, n in zip(result.penalties, result.inputs)])
    kept = [c for c in score.confirm([c for c in scored if score.within(c)]) if score.within(c)]
    if progress:
        best = min(kept, key=lambda c: c.area_um2, default=None)
        progress(f"hardware-aware training: {len(result.networks)} networks in "
                 f"{result.seconds:.1f} s, {len(kept)} within the budget"
                 + (f", smallest {best.area_um2 / 1e8:.3f} cm²" if best else ""))
    return kept, result.cut_short
