"""What a search is asked for and what it hands on: its options, the candidates it scores, its
result and their Pareto front."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ..ir.network import Network


#: NSGA-II generations per second of search time when not given (see SearchOptions)
GENERATIONS_PER_SECOND = 100 / 60
MIN_GENERATIONS = 2


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
    #: NSGA-II generations per restart; None: :data:`GENERATIONS_PER_SECOND` per second of
    #: ``time_budget_s`` (100 at the default 60 s), so that more time buys more search and
    #: stays reproducible: with the same seed a run of more generations evaluates every
    #: candidate a shorter one does, so NSGA-II's smallest is never larger (the greedy
    #: polish of it that follows may still end elsewhere); the time budget only caps a run
    #: (one stopped by it depends on the machine's speed, and says so)
    generations: int | None = None

    def nsga2_generations(self) -> int:
        if self.generations is not None:
            return self.generations
        return max(MIN_GENERATIONS, round(GENERATIONS_PER_SECOND * self.time_budget_s))


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
    #: where the search's walks ended within the budget (the greedy search's, each polish's),
    #: each with its moves from the exact design, smallest estimate first (``chosen`` is the
    #: first until the ADC search picks another: :func:`bespoke.approx.search.choose_finalist`)
    finalists: tuple[tuple[Candidate, tuple[str, ...]], ...] = ()


class ProgressBar:
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


def batches(items: list, size: int) -> Iterator[list]:
    """``items`` in consecutive slices of at most ``size``."""
    for first in range(0, len(items), size):
        yield items[first:first + size]
