"""What more search time buys: the chosen design's area against `--search-time`.

    .venv/bin/python benchmarks/search_time.py            # 15, 60 and 240 s (about 18 minutes)
    .venv/bin/python benchmarks/search_time.py --quick    # 15 and 60 s

NSGA-II runs GENERATIONS_PER_SECOND generations per second of the budget
(``bespoke.approx.candidates``): with the same seed, a run of more generations evaluates
every candidate a shorter one does, so NSGA-II's smallest is never larger and the result
stays reproducible (the time budget only caps a run); the greedy polish of NSGA-II's choice
that follows can still end elsewhere.  This measures what more time buys
on the 16-5-10 digits network (scikit-learn digits pooled to 4x4, DESIGN.md section 9), on the
full 64-input digits (64-16-10) and on a shared dataset if ``../shared/datasets`` is at hand: the search alone (the core, 1-point
budget, retraining, float training) on the flow's splits, its estimated area, validation accuracy and
seconds.  Writes ``benchmarks/results/search_time.json`` and ``.md`` (never edit by hand).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import bespoke
from bespoke.approx.candidates import SearchOptions
from bespoke.approx.estimate import AreaModel
from bespoke.approx.search import search
from bespoke.model.data import align_labels, read_csv

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "datasets"
sys.path.insert(0, str(HERE))
from scale import fitted_on_flow_splits, pooled_digits  # noqa: E402


def cardio():
    path = SHARED / "cardio.csv"
    if not path.is_file():
        return None
    data = read_csv(path, "Y")
    return data.X, data.y


def digits():
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


CASES = (("digits 16-5-10", pooled_digits, 5), ("cardio 21-3-3", cardio, 3),
         ("digits 64-16-10", digits, 16))


def chosen_by(steps: tuple[str, ...]) -> str:
    """Where the chosen design's path started: the greedy search's, or a polish of
    NSGA-II's or the float training's network."""
    first = steps[0] if steps else ""
    if first == "NSGA-II individual":
        return "NSGA-II + greedy polish"
    if first.startswith("hardware-aware training"):
        return "float training + greedy polish"
    return "greedy"


def problem(data, hidden: int, seed: int = 0):
    """The exact design of the model fitted on the flow's splits, and its search's training
    and validation codes and labels."""
    X, y = data
    model, parts = fitted_on_flow_splits(X, y, hidden, seed)
    (X_train, y_train), (X_fit, y_fit), (X_val, y_val) = (
        parts["train"], parts["fit"], parts["validation"])
    design = bespoke.compile(model, X_train, y_train)
    return (design, design.codes(X_fit), align_labels(y_fit, design.classes), design.codes(X_val),
            align_labels(y_val, design.classes))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 and 60 s only")
    args = parser.parse_args()
    budgets = (15.0, 60.0) if args.quick else (15.0, 60.0, 240.0)
    rows, skipped = [], []
    for name, data, hidden in CASES:
        loaded = data()
        if loaded is None:
            print(f"{name}: no data at {SHARED}, skipped")
            skipped.append(name)
            continue
        design, train, y_train, val, y_val = problem(loaded, hidden)
        for budget in budgets:
            options = SearchOptions(0.01, budget, retrain=True)
            start = time.perf_counter()
            result = search(design.network, train, val, y_val, AreaModel.bundled(), options,
                            train_labels=y_train)
            rows.append({"design": name, "search_time_s": budget,
                         "generations": options.nsga2_generations(),
                         "seconds": round(time.perf_counter() - start, 1),
                         "exact_area_cm2": round(result.exact.area_um2 / 1e8, 3),
                         "chosen_area_cm2": round(result.chosen.area_um2 / 1e8, 3),
                         "validation_accuracy": {"exact": result.exact.accuracy,
                                                 "chosen": result.chosen.accuracy},
                         "evaluations": result.evaluations, "budget_hit": result.budget_hit,
                         "chosen_by": chosen_by(result.steps)})
            print(json.dumps(rows[-1]), flush=True)
    (HERE / "results" / "search_time.json").write_text(json.dumps(
        {"mode": "quick" if args.quick else "full", "rows": rows, "skipped": skipped},
        indent=1) + "\n")
    lines = ["# What more search time buys", "",
             "Produced by `benchmarks/search_time.py`" + (" --quick" if args.quick else "")
             + "; never edit by hand. The search alone (greedy with retraining, the float "
             "training, 4 NSGA-II restarts of `generations` each, then a greedy polish of the "
             "smallest they found), 1-point "
             "budget, on the flow's splits; areas are the estimator's.", "",
             "| design | --search-time (s) | NSGA-II generations | seconds | exact / chosen "
             "area (cm²) | validation accuracy exact / chosen | evaluations | chosen by |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        va = r["validation_accuracy"]
        lines.append(f"| {r['design']} | {r['search_time_s']:g} | {r['generations']} | "
                     f"{r['seconds']} | {r['exact_area_cm2']} / {r['chosen_area_cm2']} | "
                     f"{va['exact']:.4f} / {va['chosen']:.4f} | {r['evaluations']} | "
                     f"{r['chosen_by']}{' (time budget hit)' if r['budget_hit'] else ''} |")
    if skipped:
        lines += ["", f"Not run (no data at `{SHARED}`): {', '.join(skipped)}."]
    (HERE / "results" / "search_time.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
