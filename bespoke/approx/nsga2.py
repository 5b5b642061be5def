"""NSGA-II (pymoo) over a genome of per-neuron and per-layer knob choices, and its restarts as
joblib tasks."""
from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Callable, Iterator

import numpy as np

from ..ir import network as ir
from ..ir.emulate import predict_codes
from ..ir.network import Layer, Network, Neuron
from . import knobs as ax
from .candidates import Candidate, ProgressBar, SearchOptions, pareto_front
from .estimate import AreaModel
from .scoring import Scorer
from .threads import one_blas_thread

log = logging.getLogger(__name__)



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


@one_blas_thread
def nsga2_search(exact: Network, train_codes: np.ndarray, val_codes: np.ndarray,
                 val_labels: np.ndarray, model: AreaModel, options: SearchOptions = SearchOptions(),
                 *, seed: int = 0, population: int = 60, generations: int | None = None,
                 train_labels: np.ndarray | None = None,
                 progress: Callable[[str], None] | None = None) -> tuple[Candidate, ...]:
    """NSGA-II (pymoo) over the :class:`Genome`: minimize estimated area, maximize
    validation accuracy, subject to the accuracy budget (on the validation split, then on
    the training split).  Returns every candidate it evaluated within the budget."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.core.termination import TerminateIfAny
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.optimize import minimize
    from pymoo.termination.max_gen import MaximumGenerationTermination
    from pymoo.termination.max_time import TimeBasedTermination

    start = time.perf_counter()
    generations = options.nsga2_generations() if generations is None else generations
    stats = ax.InputStatistics.measure(exact, train_codes)
    genome = Genome.of(exact)
    decode = GenomeDecoder(exact, stats, genome)
    train_labels = predict_codes(exact, train_codes) if train_labels is None else train_labels
    score = Scorer(exact, train_codes, train_labels, val_codes, val_labels, model,
                    options.max_accuracy_loss, options.neighbourhood)
    feasible: list[Candidate] = []
    bar = ProgressBar(progress)
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


def nsga2_restart(exact: Network, train_codes: np.ndarray, val_codes: np.ndarray,
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
def restart_backend(jobs: int | None, restarts: int) -> Iterator[tuple[int, str]]:
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
