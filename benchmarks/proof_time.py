"""Proof time against netlist size: the formal RTL = netlist check on exact designs of
growing size, and on a mutated copy of each netlist (one gate changed) that it must catch.

    .venv/bin/python benchmarks/proof_time.py            # every size (about 10 minutes)
    .venv/bin/python benchmarks/proof_time.py --quick    # the three smallest

Each design is a scikit-learn MLP (fixed seed) compiled exactly by ``bespoke.compile``
(4-bit inputs, 8-bit weights) and synthesized by bespoke's flow on the bundled EGFET
library; the proof is :func:`bespoke.hw.formal.check_equivalence` (Yosys miter, ABC
fraiging, Yosys SAT) and, beside it, the plain SAT route it replaced (stopped after
``--sat-timeout`` seconds).  The mutant swaps the first NAND2X1 for a NOR2X1; a caught
mutant comes back ``failed`` with a counterexample.  Writes
``benchmarks/results/proof_time.json`` and ``.md`` and ``proof_time.svg`` (never edit by
hand; the files say which mode ran).
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import bespoke
from bespoke.hw.formal import _prove, check_equivalence
from bespoke.hw.pdk import bundled_cell_models, bundled_liberty
from bespoke.hw.synth import synthesize
from bespoke.report.plots import line_plot

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import pooled_digits  # noqa: E402  (one definition of the pooled digits)

RESULTS = Path(__file__).resolve().parent / "results"


#: (name, data, hidden neurons), smallest first
CASES = (
    ("iris 4-3-3", lambda: load_iris(return_X_y=True), 3),
    ("wine 13-3-3", lambda: load_wine(return_X_y=True), 3),
    ("breast cancer 30-3-2", lambda: load_breast_cancer(return_X_y=True), 3),
    ("digits 16-5-10", pooled_digits, 5),
    ("digits 16-8-10", pooled_digits, 8),
    ("digits 16-11-10", pooled_digits, 11),
)
QUICK = 3


def design_of(data, hidden: int) -> bespoke.Design:
    X, y = data()
    model = make_pipeline(MinMaxScaler(), MLPClassifier((hidden,), max_iter=2000, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return bespoke.compile(model, X, y)


def run_case(name: str, data, hidden: int, work: Path, sat_timeout: float) -> dict:
    design = design_of(data, hidden)
    (work / "top.v").write_text(design.verilog())
    syn = synthesize(work / "top.v", bundled_liberty(), work / "synth")
    models = bundled_cell_models()
    proof = check_equivalence(work / "top.v", syn.netlist_bus, models, work / "proof",
                              cells=syn.cells, max_cells=10**9, timeout_s=600)
    sat = _prove(work / "proof", "sat", "top", "yowasp", sat_timeout)
    mutated, count = re.subn(r"\bNAND2X1\b", "NOR2X1", syn.netlist_bus.read_text(), count=1)
    (work / "mutated.v").write_text(mutated)
    mutant = check_equivalence(work / "top.v", work / "mutated.v", models, work / "mutant",
                               cells=syn.cells, max_cells=10**9, timeout_s=600)
    row = {"design": name, "cells": syn.cells, "area_cm2": round(syn.area_cm2, 3),
           "proof": {"status": proof.status, "seconds": round(proof.seconds, 2)},
           "sat_alone": {"status": sat.status, "seconds": round(sat.seconds, 2)},
           "mutant": {"status": mutant.status, "seconds": round(mutant.seconds, 2),
                      "counterexample": mutant.counterexample} if count else None}
    print(f"  {syn.cells} cells: proof {proof.status} in {proof.seconds:.1f} s; SAT alone "
          f"{sat.status} ({sat.seconds:.1f} s); mutant {mutant.status} in {mutant.seconds:.1f} s",
          flush=True)
    return row


def markdown(rows: list[dict], quick: bool, sat_timeout: float) -> str:
    lines = ["# Proof time against netlist size", "",
             "Produced by `benchmarks/proof_time.py`" + (" --quick (the three smallest designs)"
                                                         if quick else " (every size)")
             + f" on {platform.machine()}; never edit by hand. Exact designs (4-bit inputs, "
             "8-bit weights) synthesized on the bundled EGFET library. Proof: Yosys miter, ABC "
             "fraiging, Yosys SAT (`bespoke/hw/formal.py`); beside it the plain SAT route it "
             f"replaced, stopped after {sat_timeout:g} s; the mutant has its first NAND2X1 "
             "replaced by a NOR2X1 and must come back `failed` with a counterexample.", "",
             "| design | cells | area (cm²) | proof | SAT alone | mutant |", "|---|---|---|---|---|---|"]
    for r in rows:
        mutant = r["mutant"]
        lines.append(f"| {r['design']} | {r['cells']} | {r['area_cm2']} | "
                     f"{r['proof']['status']} in {r['proof']['seconds']} s | "
                     f"{r['sat_alone']['status']} ({r['sat_alone']['seconds']} s) | "
                     + (f"{mutant['status']} in {mutant['seconds']} s |" if mutant else "– |"))
    largest = max(rows, key=lambda r: r["cells"])
    lines += ["", f"Largest design: {largest['cells']} cells proven in "
              f"{largest['proof']['seconds']} s (issue 24: every design up to 20 000 cells in "
              "under 60 s on 2 cores).", "", "`proof_time.svg`: proof seconds against cells."]
    return "\n".join(lines) + "\n"


def plot(rows: list[dict]) -> str:
    """Proof seconds against cells: the proof, the mutant, and SAT alone."""
    return line_plot([r["cells"] for r in rows], {
        "proof (ABC fraig + SAT)": [r["proof"]["seconds"] for r in rows],
        "mutant caught": [r["mutant"]["seconds"] if r["mutant"] else np.nan for r in rows],
        "SAT alone (stopped at the timeout)": [r["sat_alone"]["seconds"] for r in rows]},
        title="RTL = netlist proof time", xlabel="netlist cells", ylabel="seconds")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the three smallest designs")
    parser.add_argument("--sat-timeout", type=float, default=60.0)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, data, hidden) in enumerate(CASES[:QUICK] if args.quick else CASES):
            print(f"{name} ...", flush=True)
            work = Path(tmp) / f"case{i}"
            work.mkdir()
            rows.append(run_case(name, data, hidden, work, args.sat_timeout))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "proof_time.json").write_text(json.dumps(
        {"mode": "quick" if args.quick else "full", "sat_timeout_s": args.sat_timeout,
         "rows": rows}, indent=1) + "\n")
    (RESULTS / "proof_time.md").write_text(markdown(rows, args.quick, args.sat_timeout))
    (RESULTS / "proof_time.svg").write_text(plot(rows))
    print((RESULTS / "proof_time.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
