"""Calibrate the analytical area estimator (bespoke/estimate.py) against real synthesis.

    .venv/bin/python benchmarks/estimator_calibration.py [--datasets ../shared/datasets]

Builds varied designs (exact, randomly approximated and searched MLPs of several
datasets, activations and bit widths: the searched ones are where the approximation
search takes the estimator, down to neurons with no adder left), synthesizes each with Yosys on the bundled EGFET library,
fits one cost per estimator feature on half of them and measures the rank correlation
and the error on the other half, then refits on all and writes:

- bespoke/estimator.json (the coefficients the estimator ships with)
- benchmarks/results/estimator_calibration.json and .md (never edit them by hand)
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import bespoke
from bespoke.approx import knobs as ax
from bespoke.model.data import align_labels, read_csv
from bespoke.approx.estimate import FEATURES, AreaModel, features
from bespoke.ir import Network
from bespoke.rtl.lower import to_verilog
from bespoke.hw.pdk import bundled_liberty
from bespoke.approx.candidates import SearchOptions
from bespoke.approx.greedy import greedy_search
from bespoke.hw.synth import synthesize

HERE = Path(__file__).resolve().parent
log = logging.getLogger("calibration")


def datasets(shared: Path):
    for name, loader in (("iris", load_iris), ("breast-cancer", load_breast_cancer), ("wine", load_wine)):
        X, y = loader(return_X_y=True)
        yield name, X, y
    for name in ("cardio", "seeds", "column_3C", "balance-scale", "wine-red"):
        path = shared / f"{name}.csv"
        if path.is_file():
            data = read_csv(path, "Y")
            yield name, data.X, data.y


def random_approximation(network, stats, rng):
    """A few random knobs: prune, fewer digits, truncation, input masks, narrower codes."""
    for li, layer in enumerate(network.layers):
        for ni, neuron in enumerate(layer.neurons):
            if rng.random() < 0.5:
                weights = tuple(0 if rng.random() < 0.3 else w for w in neuron.weights)
                network = ax.set_weights(network, stats, li, ni, weights)
            if rng.random() < 0.5:
                network = ax.limit_digits(network, stats, li, ni, int(rng.integers(1, 3)))
            if rng.random() < 0.5:
                network = ax.truncate(network, stats, li, ni, int(rng.integers(1, 6)))
    for feature in range(network.n_inputs):
        if rng.random() < 0.3:
            network = ax.mask_input(network, stats, feature, int(rng.integers(1, 3)))
    for li in range(len(network.layers) - 1):
        for _ in range(int(rng.integers(0, 3))):
            network = ax.reduce_activation_bits(network, li) or network
    if network.output == "argmax" and rng.random() < 0.5:
        network = ax.set_decision_shift(network, int(rng.integers(1, 4)))
    return network


def build_designs(shared: Path, per_model: int, seed: int):
    rng = np.random.default_rng(seed)
    configs = [((3,), "relu", 8), ((4,), "tanh", 4), ((5,), "relu", 6), ((3,), "logistic", 3)]
    for name, X, y in datasets(shared):
        for hidden, activation, act_bits in configs:
            X_train, _, y_train, _ = train_test_split(X, y, test_size=0.2, random_state=seed, stratify=y)
            model = make_pipeline(MinMaxScaler(), MLPClassifier(hidden, activation=activation,
                                                                max_iter=1500, random_state=seed))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_train, y_train)
            design = bespoke.compile(model, X_train, y_train, activation_bits=act_bits)
            stats = ax.InputStatistics.measure(design.network, design.codes(X_train))
            yield f"{name}-{activation}{hidden[0]}-exact", design.network
            for i in range(per_model):
                yield (f"{name}-{activation}{hidden[0]}-approx{i}",
                       random_approximation(design.network, stats, rng))
            X_fit, X_val, y_fit, y_val = train_test_split(X_train, y_train, test_size=0.25,
                                                          random_state=seed, stratify=y_train)
            for budget in (0.01, 0.05):
                found = greedy_search(
                    design.network, design.codes(X_fit), design.codes(X_val),
                    align_labels(y_val, design.classes), AreaModel.bundled(),
                    SearchOptions(max_accuracy_loss=budget, time_budget_s=20, retrain=True),
                    train_labels=align_labels(y_fit, design.classes))
                yield f"{name}-{activation}{hidden[0]}-searched{budget:g}", found.chosen.network


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=Path, default=HERE.parents[1] / "shared" / "datasets")
    parser.add_argument("--per-model", type=int, default=1, help="approximations per trained model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--refit", action="store_true",
                        help="reuse the designs synthesized by the last run (benchmarks/build)")
    parser.add_argument("--resynthesize", action="store_true",
                        help="reuse the designs of the last run, synthesized anew (after a "
                             "change of the generator)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("bespoke").setLevel(logging.WARNING)
    cache = HERE / "build" / "estimator_designs.json"
    if args.refit and cache.is_file():  # the synthesized areas of an earlier run
        designs = json.loads(cache.read_text())
    else:
        if args.resynthesize and cache.is_file():
            source = ((d["design"], Network.from_dict(d["network"]))
                      for d in json.loads(cache.read_text()))
        else:
            source = build_designs(args.datasets, args.per_model, args.seed)
        designs = []
        with tempfile.TemporaryDirectory() as tmp:
            for i, (name, network) in enumerate(source):
                work = Path(tmp) / f"d{i}"
                work.mkdir()
                (work / "top.v").write_text(to_verilog(network))
                start = time.perf_counter()
                result = synthesize(work / "top.v", bundled_liberty(), work / "syn")
                designs.append({"design": name, "area_um2": result.area_um2, "cells": result.cells,
                                "synthesis_s": round(time.perf_counter() - start, 2),
                                "network": network.to_dict()})
                log.info("[%d] %s: %d cells, %.4g um2", i + 1, name, result.cells, result.area_um2)
        cache.parent.mkdir(exist_ok=True)
        cache.write_text(json.dumps(designs))
    rows = [{k: v for k, v in d.items() if k != "network"}
            | {"features": features(Network.from_dict(d["network"])).vector().tolist()}
            for d in designs]
    X = np.array([r["features"] for r in rows])
    areas = np.array([r["area_um2"] for r in rows])
    order = np.random.default_rng(args.seed).permutation(len(rows))
    fit_idx, test_idx = order[: len(rows) // 2], order[len(rows) // 2:]
    held_out = AreaModel.fit(X[fit_idx], areas[fit_idx], bundled_liberty().name)
    predicted = X[test_idx] @ np.array(held_out.coefficients)
    errors = np.abs(predicted - areas[test_idx]) / areas[test_idx]
    final = AreaModel.fit(X, areas, bundled_liberty().name)
    all_errors = np.abs(X @ np.array(final.coefficients) - areas) / areas
    summary = {
        "designs": len(rows),
        "held_out": {"designs": len(test_idx),
                     "spearman": float(spearmanr(predicted, areas[test_idx]).statistic),
                     "median_error": float(np.median(errors)), "max_error": float(errors.max())},
        "all_designs_final_fit": {"spearman": float(spearmanr(X @ np.array(final.coefficients), areas).statistic),
                                  "median_error": float(np.median(all_errors))},
        "model": final.to_dict(),
        "rows": rows,
    }
    (Path(bespoke.__file__).parent / "estimator.json").write_text(json.dumps(final.to_dict(), indent=1) + "\n")
    (HERE / "results" / "estimator_calibration.json").write_text(json.dumps(summary, indent=1) + "\n")
    h = summary["held_out"]
    lines = [
        "# Area estimator calibration",
        "",
        "Produced by `benchmarks/estimator_calibration.py`; do not edit by hand.",
        "",
        f"{len(rows)} designs (exact, randomly approximated and searched MLPs), synthesized with Yosys + ABC",
        "on the bundled EGFET library. Costs fitted on half of them, checked on the other half:",
        "",
        "| held-out designs | Spearman rank correlation | median error | max error |",
        "|---|---|---|---|",
        f"| {h['designs']} | {h['spearman']:.3f} | {100 * h['median_error']:.1f} % | {100 * h['max_error']:.1f} % |",
        "",
        "Final costs (fitted on every design), µm² per feature unit: " +
        ", ".join(f"{f} {c:.4g}" for f, c in zip(FEATURES, final.coefficients)) + ".",
    ]
    (HERE / "results" / "estimator_calibration.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    ok = h["spearman"] >= 0.95 and h["median_error"] <= 0.10
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
