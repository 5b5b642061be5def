"""Candidate evaluations per second of the approximation search.

    .venv/bin/python benchmarks/search_throughput.py

A 16-5-10 MLP (the size of the published Pendigits design) on 2 000 validation samples,
as issue 4 specifies; records the rate of the greedy search's single-knob moves and of
NSGA-II's decoded genomes (one process: the search runs its restarts on every core), and
where one more greedy run's time goes (seconds by phase), in
benchmarks/results/search_throughput.json (never edit by hand).
"""
from __future__ import annotations

import json
import os
import platform
import time
import warnings
from pathlib import Path

from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import bespoke
from bespoke.approx.estimate import AreaModel
from bespoke.approx.candidates import SearchOptions
from bespoke.approx.greedy import greedy_search
from bespoke.approx.nsga2 import nsga2_search

HERE = Path(__file__).resolve().parent


def _phases(run) -> dict[str, float]:
    """Seconds of one more greedy run by phase (timers around the scorer's splits, the area
    estimate and the steps; their own cost is a few percent): scoring on the validation
    split, confirming on the training split and on the neighbourhoods, the area estimate,
    and the rest of the steps (building the candidate networks, ranking them)."""
    from unittest import mock

    from bespoke.approx import greedy as greedy_module
    from bespoke.approx.scoring import Scorer

    spent: dict[str, float] = {}

    def timed(function, key):
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                name = key(*args) if callable(key) else key
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - began
        return wrapper

    split_names = {0: "validation scoring", 1: "training confirmation"}
    with mock.patch.object(Scorer, "_paired", timed(
            Scorer._paired, lambda self, split, networks: split_names.get(
                split, "neighbourhood confirmation"))), \
            mock.patch.object(AreaModel, "area_um2", timed(AreaModel.area_um2, "area estimate")), \
            mock.patch.object(greedy_module, "_step", timed(greedy_module._step, "steps")):
        began = time.perf_counter()
        run()
        total = time.perf_counter() - began
    scored = sum(v for k, v in spent.items() if k != "steps")
    phases = {k: v for k, v in spent.items() if k != "steps"}
    phases["building candidates and the rest of the steps"] = spent["steps"] - scored
    phases["outside the steps (set-up, rebasing)"] = total - spent["steps"]
    return {k: round(v, 3) for k, v in sorted(phases.items(), key=lambda kv: -kv[1])}


def main() -> None:
    X, y = make_classification(n_samples=6000, n_features=16, n_informative=12, n_classes=10,
                               random_state=0)
    X_train, y_train, X_val, y_val = X[:4000], y[:4000], X[4000:], y[4000:]
    model = make_pipeline(MinMaxScaler(), MLPClassifier((5,), max_iter=500, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    design = bespoke.compile(model, X_train, y_train)
    train, val = design.codes(X_train), design.codes(X_val)
    estimator = AreaModel.bundled()
    options = SearchOptions(max_accuracy_loss=0.01, time_budget_s=30)
    # best of three, as timeit does: other load on the machine only ever slows a run down
    # (the first run also fills the caches the others hit, so it is recorded beside them)
    rates = []
    for _ in range(3):
        start = time.perf_counter()
        greedy = greedy_search(design.network, train, val, y_val, estimator, options)
        rates.append(greedy.evaluations / (time.perf_counter() - start))
    phases = _phases(lambda: greedy_search(design.network, train, val, y_val, estimator, options))
    start = time.perf_counter()
    population, generations = 60, 10  # the search's population; pymoo evaluates it per generation
    evolved = nsga2_search(design.network, train, val, y_val, estimator, options,
                           population=population, generations=generations)
    nsga_seconds = time.perf_counter() - start
    result = {
        "topology": "16-5-10", "validation_samples": len(y_val),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "greedy": {"evaluations": greedy.evaluations, "per_second": round(max(rates), 1),
                   "runs_per_second": [round(r, 1) for r in rates],
                   "seconds_by_phase": phases},
        "nsga2": {"generations": generations, "population": population,
                  "seconds": round(nsga_seconds, 2),
                  "per_second": round(population * generations / nsga_seconds, 1),
                  "feasible": len(evolved)},
        "target_per_second": 5000,  # issue 23 (issue 4 asked for 2 000)
    }
    (HERE / "results" / "search_throughput.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
