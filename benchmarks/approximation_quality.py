"""Approximation quality on the printed-MLP datasets: exact vs approximate bespoke designs.

    .venv/bin/python benchmarks/approximation_quality.py [--datasets ../shared/datasets]

For each dataset, trains the papers' topology (ReLU, 4-bit inputs, 8-bit weights; fixed
seed, stratified split; the model does not see the validation split), runs `bespoke compile --approximate` (search, RTL verification,
synthesis of the approximate and of the exact design) and records test accuracies,
area, power and reduction factors in benchmarks/results/approximation_quality.json and
.md (never edit them by hand).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from bespoke.data import read_csv
from bespoke.flow import CompileConfig, run_compile

HERE = Path(__file__).resolve().parent
#: (file, hidden neurons, columns dropped): the topologies of the printed-MLP papers
DATASETS = (("breast-cancer-wisconsin", 3, ("X1",)), ("cardio", 3, ()), ("wine-red", 2, ()),
            ("seeds", 3, ()), ("column_3C", 3, ()), ("balance-scale", 3, ()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=Path, default=HERE.parents[1] / "shared" / "datasets")
    parser.add_argument("--search-time", type=float, default=40.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    build = HERE / "build" / "quality"
    build.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, hidden, dropped in DATASETS:
        path = args.datasets / f"{name}.csv"
        if not path.is_file():
            print(f"skipping {name}: {path} not found", file=sys.stderr)
            continue
        data = read_csv(path, "Y")
        keep = [i for i, f in enumerate(data.feature_names) if f not in dropped]
        csv = build / f"{name}.csv"
        header = [data.feature_names[i] for i in keep] + ["Y"]
        csv.write_text("\n".join([";".join(header)] + [
            ";".join([*(repr(float(v)) for v in row[keep]), label])
            for row, label in zip(data.X, data.y)]) + "\n")
        X_train, _, y_train, _ = train_test_split(data.X[:, keep], data.y, test_size=0.2,
                                                  random_state=args.seed, stratify=data.y)
        # the model never sees the validation split the search will use (the flow's split)
        X_train, _, y_train, _ = train_test_split(X_train, y_train, test_size=0.25,
                                                  random_state=args.seed, stratify=y_train)
        model = make_pipeline(MinMaxScaler(), MLPClassifier((hidden,), max_iter=3000,
                                                            random_state=args.seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        joblib.dump(model, build / f"{name}.pkl")
        report = run_compile(CompileConfig(build / f"{name}.pkl", csv, build / name, seed=args.seed,
                                           approximate=True, search_time_s=args.search_time))
        base, acc = report["baseline"], report["accuracy"]
        timing = json.loads((build / name / "timing.json").read_text())
        row = {"dataset": name, "topology": "-".join(map(str, report["model"]["topology"])),
               "dropped_columns": list(dropped),
               "accuracy": {"float": acc["float"], "exact": base["accuracy"], "approximate": acc["quantized"]},
               "area_cm2": {"exact": base["area_cm2"], "approximate": report["area"]["cm2"]},
               "leakage_mw": {"exact": base["leakage_mw"], "approximate": report["power"]["leakage_mw"]},
               "area_reduction": base["area_reduction"], "power_reduction": base["power_reduction"],
               "verification_mismatches": report["verification"]["mismatches"]
               + report["gate_level"]["verification"]["mismatches"],
               "seconds": timing}
        rows.append(row)
        print(f"{name}: accuracy exact {base['accuracy']:.4f} approx {acc['quantized']:.4f}, "
              f"area {base['area_reduction']:.2f}x, power {base['power_reduction']:.2f}x", flush=True)
    (HERE / "results" / "approximation_quality.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = ["# Approximation quality", "",
             "Produced by `benchmarks/approximation_quality.py`; do not edit by hand. ReLU MLPs, 4-bit",
             "inputs, 8-bit weights. Each model is trained on the training split minus the validation",
             "split; the search keeps (loss + one standard error) within 1 point on the validation and",
             "on the training split. Accuracies on the test split, which neither ever sees.", "",
             "| dataset | topology | float | exact | approximate | loss (points) | area exact / approx (cm²) | area reduction | power reduction | mismatches |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        a = r["accuracy"]
        lines.append(f"| {r['dataset']} | {r['topology']} | {a['float']:.4f} | {a['exact']:.4f} | "
                     f"{a['approximate']:.4f} | {100 * (a['exact'] - a['approximate']):.2f} | "
                     f"{r['area_cm2']['exact']:.2f} / {r['area_cm2']['approximate']:.2f} | "
                     f"{r['area_reduction']:.2f}x | {r['power_reduction']:.2f}x | "
                     f"{r['verification_mismatches']} |")
    if rows:
        geo = float(np.exp(np.mean([np.log(r["area_reduction"]) for r in rows])))
        lines += ["", f"Geometric mean area reduction: {geo:.2f}x."]
    (HERE / "results" / "approximation_quality.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
