"""Cost against network size: `bespoke compile` on MLPs from 4-3-3 up to the 64-input digits.

    .venv/bin/python benchmarks/scale.py           # every size (about an hour on 2 cores)
    .venv/bin/python benchmarks/scale.py --quick   # the three smallest (a few minutes)

Each size is a scikit-learn MLP (ReLU, fixed seeds, stratified 80/20 split; the model is
fitted on the training split minus the search's validation split, as README says users
should) compiled by the default flow for the core (`bespoke compile --no-adc`: search with
retraining, RTL, cocotb + Icarus simulation, Yosys synthesis, gate-level simulation, the
formal proof, and the exact baseline's synthesis and proof), each in its own process so
that its memory is its own.  Per size it records the time of every stage (timing.json),
the search's evaluations per second, the peak memory of the Python process and of its
tools (Yosys, Icarus), the exact and chosen area, the reduction and the test accuracies,
in ``benchmarks/results/scale.json`` and ``.md`` and the plot ``scale.svg`` (seconds per
stage against the exact design's cells).  Every size searches for 60 s; the largest once
more for 6 minutes, what issue 23's 15 minutes of whole compile leave the search.  Never
edit the results by hand; they say which mode ran.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import joblib
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from bespoke.report.plots import line_plot

RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(RESULTS.parent))
import suite  # noqa: E402  (its CSV writer)

SEARCH_TIME_S = 60.0


def pooled_digits():
    """scikit-learn's digits pooled to 4x4 (16 inputs, 10 classes; DESIGN.md section 9)."""
    digits = load_digits()
    return digits.images.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(-1, 16), digits.target


def fitted_on_flow_splits(X, y, hidden: int, seed: int):
    """The model (ReLU, MinMax-scaled, one hidden layer) fitted as README says users should:
    on the flow's training split (80/20, stratified) minus the search's validation split (a
    quarter of it); returns it and ``{"train", "fit", "validation"}``: ``(X, y)`` of each."""
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.2, random_state=seed, stratify=y)
    X_fit, X_val, y_fit, y_val = train_test_split(X_train, y_train, test_size=0.25,
                                                  random_state=seed, stratify=y_train)
    model = make_pipeline(MinMaxScaler(), MLPClassifier((hidden,), max_iter=3000,
                                                        random_state=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_fit, y_fit)
    return model, {"train": (X_train, y_train), "fit": (X_fit, y_fit),
                   "validation": (X_val, y_val)}


#: name: (data, hidden neurons, search time in s), smallest first; the largest once more
#: with the search time that issue 23's 15 minutes of compile leave it
CASES = {
    "iris 4-3-3": (lambda: load_iris(return_X_y=True), 3, SEARCH_TIME_S),
    "wine 13-3-3": (lambda: load_wine(return_X_y=True), 3, SEARCH_TIME_S),
    "breast cancer 30-3-2": (lambda: load_breast_cancer(return_X_y=True), 3, SEARCH_TIME_S),
    "digits 16-5-10": (pooled_digits, 5, SEARCH_TIME_S),
    "digits 64-16-10": (lambda: load_digits(return_X_y=True), 16, SEARCH_TIME_S),
    "digits 64-16-10, 6-minute search": (lambda: load_digits(return_X_y=True), 16, 360.0),
}
QUICK = 3
#: the stages of timing.json shown, in flow order
STAGES = ("search", "generate", "simulate", "synthesize.yosys", "synthesize.gate_simulation",
          "synthesize.formal", "baseline")


def one(name: str, work: Path, seed: int, budget_points: float = 1.0, adc: bool = False) -> dict:
    """Train, write and compile one size (run in a process of its own), with an accuracy
    budget of ``budget_points`` (the flow's default: 1); with ``adc``, the default flow's
    on-sensor system (its bespoke ADCs searched with the core: the row then has
    ``system``), else the core alone (``--no-adc``)."""
    from bespoke.flow import CompileConfig, run_compile

    data, hidden, search_time = CASES[name]
    X, y = data()
    model, _ = fitted_on_flow_splits(X, y, hidden, seed)
    joblib.dump(model, work / "model.pkl")
    suite.write_csv(work / "data.csv", X, y, [f"f{i}" for i in range(X.shape[1])])
    start = time.perf_counter()
    report = run_compile(CompileConfig(work / "model.pkl", work / "data.csv", work / "out",
                                       seed=seed, search_time_s=search_time, adc=adc,
                                       max_accuracy_loss=budget_points / 100,
                                       force=True))
    wall = time.perf_counter() - start
    timing = json.loads((work / "out" / "timing.json").read_text())
    approx, base = report["approximation"], report["baseline"]
    return {
        "design": name, "topology": "-".join(map(str, report["model"]["topology"])),
        "search_time_s": search_time, "budget_points": budget_points,
        "wall_s": round(wall, 1), "stages_s": {k: timing.get(k, 0.0) for k in STAGES},
        "search_evaluations": approx["evaluations"],
        "search_per_second": round(approx["evaluations"] / max(timing["search"], 1e-9), 1),
        "peak_memory_mb": {
            "python": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "tools": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024},
        "exact": {"cells": base["cells"], "area_cm2": round(base["area_cm2"], 3),
                  "test_accuracy": base["accuracy"], "proof": base["equivalence"]["status"]},
        "chosen": {"cells": report["cells"], "area_cm2": round(report["area"]["cm2"], 3),
                   "power_mw": round(report["power"]["mw"], 2),
                   "test_accuracy": report["accuracy"]["rtl"],
                   "proof": report["gate_level"]["equivalence"]["status"]},
        "float_accuracy": report["accuracy"]["float"],
        "area_reduction": round(base["area_um2"] / report["area"]["um2"], 2),
        "test_vectors": report["verification"]["vectors"],
        **({"system": {"area_cm2": round(report["system"]["total"]["area_cm2"], 3),
                       "power_mw": round(report["system"]["total"]["power_mw"], 2),
                       "comparators": report["system"]["adc"]["comparators"]}} if adc else {}),
    }


def in_own_process(name: str, work: Path, seed: int, budget_points: float = 1.0,
                   adc: bool = False) -> dict:
    """:func:`one` in a new Python process (so that its peak memory is its own)."""
    done = subprocess.run([sys.executable, __file__, "--one", name, "--work", str(work),
                           "--seed", str(seed), "--budget", str(budget_points)]
                          + (["--adc"] if adc else []),
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(rows: list[dict], quick: bool) -> str:
    lines = ["# Cost against network size", "",
             "Produced by `benchmarks/scale.py`" + (" --quick (the three smallest sizes)" if quick
                                                    else " (every size)")
             + f" on {platform.machine()}; never edit by hand. One `bespoke compile --no-adc` "
             "per size (1-point budget, retraining; the search time its row gives), each in its "
             "own process; seconds per stage from its timing.json.", "",
             "| design | search time (s) | exact cells | " + " | ".join(STAGES)
             + " | total (s) | search evals/s "
             "| peak MB python / tools | exact / chosen area (cm²) | reduction | test acc. float "
             "/ exact / chosen | proofs exact / chosen |",
             "|---" * (len(STAGES) + 10) + "|"]
    for r in rows:
        lines.append(
            f"| {r['design']} | {r['search_time_s']:g} | {r['exact']['cells']} | "
            + " | ".join(f"{r['stages_s'][s]:.1f}" for s in STAGES)
            + f" | {r['wall_s']:.0f} | {r['search_per_second']:.0f} | "
            f"{r['peak_memory_mb']['python']} / {r['peak_memory_mb']['tools']} | "
            f"{r['exact']['area_cm2']} / {r['chosen']['area_cm2']} | {r['area_reduction']}x | "
            f"{r['float_accuracy']:.4f} / {r['exact']['test_accuracy']:.4f} / "
            f"{r['chosen']['test_accuracy']:.4f} | {r['exact']['proof']} / {r['chosen']['proof']} |")
    sized = [r for r in rows if r["search_time_s"] == SEARCH_TIME_S]  # the same search time
    if len(sized) > 1:
        first, last = sized[0], sized[-1]
        growth = {s: (last["stages_s"][s] + 1e-9) / (first["stages_s"][s] + 1e-9) for s in STAGES
                  if first["stages_s"][s] > 0.05}
        fastest = max(growth, key=growth.get)
        lines += ["", f"From {first['design']} to {last['design']} the exact design grows "
                  f"{last['exact']['cells'] / first['exact']['cells']:.1f}x in cells; the stage "
                  f"that grows fastest is `{fastest}` ({growth[fastest]:.1f}x)."]
    lines += ["", "`scale.svg`: seconds per stage against the exact design's cells."]
    return "\n".join(lines) + "\n"


def plot(rows: list[dict]) -> str:
    """Seconds per stage against the exact design's cells (at the same search time)."""
    rows = [r for r in rows if r["search_time_s"] == SEARCH_TIME_S]
    return line_plot([r["exact"]["cells"] for r in rows],
                     {stage: [max(r["stages_s"][stage], 0.01) for r in rows] for stage in STAGES},
                     title="bespoke compile: time per stage against network size",
                     xlabel="exact design's cells", ylabel="seconds", log=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the three smallest sizes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a size, in a process of its own
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--adc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, Path(args.work), args.seed, args.budget, args.adc)))
        return 0
    names = list(CASES)[:QUICK] if args.quick else list(CASES)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, name in enumerate(names):
            print(f"{name} ...", flush=True)
            work = Path(tmp) / f"case{i}"
            work.mkdir()
            rows.append(in_own_process(name, work, args.seed))
            r = rows[-1]
            print(f"  {r['exact']['cells']} cells exact -> {r['chosen']['cells']} chosen "
                  f"({r['area_reduction']}x), {r['wall_s']:.0f} s", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(
        {"mode": "quick" if args.quick else "full", "seed": args.seed, "rows": rows}, indent=1) + "\n")
    (RESULTS / "scale.md").write_text(markdown(rows, args.quick))
    (RESULTS / "scale.svg").write_text(plot(rows))
    print((RESULTS / "scale.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
