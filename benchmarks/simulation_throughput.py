"""Simulation throughput: vectors per second of bespoke's two simulators (Icarus through
cocotb, the reference, and Verilator), against a plain Icarus testbench that reads the same
vectors from a file.

    .venv/bin/python benchmarks/simulation_throughput.py [--quick]

Each route simulates the same harness (RTL and gate netlist) on the same vectors and must
give the same answers.  Each runs on n and on 10 000 random vectors (plus the corners): the
difference gives the rate per vector, the rest is the fixed cost (compilation; for cocotb
starting Python inside Icarus; for Verilator building a program), and the 10 000-vector run
is what a user waits for.  Designs: iris 4-3-3, breast cancer 30-5-1 and the 4x4 digits
16-5-10 (a netlist above 10 000 cells); --quick: iris alone, one run each.  Writes
benchmarks/results/simulation_throughput.json and .md (never edit by hand).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import bespoke
from bespoke import tools
from bespoke.hw.pdk import bundled_cell_models, bundled_liberty
from bespoke.rtl.ports import read_ports
from bespoke.hw.synth import synthesize
from bespoke.ir.emulate import predict_vectors
from bespoke.rtl.verify import pack, render_harness, simulate, verification_vectors

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import pooled_digits  # noqa: E402

HERE = Path(__file__).resolve().parent
LARGE = 10_000  # random vectors of the second run
PLAIN_BENCH = """`timescale 1ns/1ps
module plain_bench;
  reg [{vmsb}:0] vectors [0:{last}];
  reg [{vmsb}:0] vector;
  wire [{rmsb}:0] result;
  integer i, out;
  bespoke_harness dut (.stimulus(vector), .result(result));
  initial begin
    $readmemh("vectors.hex", vectors);
    out = $fopen("plain_observed.hex", "w");
    for (i = 0; i <= {last}; i = i + 1) begin
      vector = vectors[i];
      #1 $fwrite(out, "%h\\n", result);
    end
    $fclose(out);
    $finish;
  end
endmodule
"""


def plain_icarus(design_v: Path, extra: list[Path], network, codes: np.ndarray, work: Path):
    """The answers of a plain Icarus testbench, and its compile + run seconds."""
    start = time.perf_counter()
    ports = read_ports(design_v.read_text())
    (work / "harness.v").write_text(render_harness(ports, network))
    packed = pack(codes, network.input_bits)
    (work / "vectors.hex").write_text("".join(f"{v:x}\n" for v in packed))
    vmsb = network.n_inputs * network.input_bits - 1
    (work / "plain_bench.v").write_text(PLAIN_BENCH.format(vmsb=vmsb, last=len(codes) - 1,
                                                           rmsb=network.output_width - 1))
    subprocess.run(["iverilog", "-g2012", "-o", "plain.vvp", "-s", "plain_bench", str(design_v),
                    *map(str, extra), "harness.v", "plain_bench.v"], check=True, cwd=work)
    subprocess.run(["vvp", "-n", "plain.vvp"], check=True, cwd=work, capture_output=True)
    seconds = time.perf_counter() - start
    observed = [int(line, 16) for line in (work / "plain_observed.hex").read_text().split()]
    return np.array(observed), seconds


def rates(small: tuple[int, float], large: tuple[int, float]) -> dict:
    """Per-vector rate from the difference of two runs, the fixed cost left over, and the
    seconds of the larger run."""
    (n1, t1), (n2, t2) = small, large
    per_vector = (t2 - t1) / (n2 - n1)
    return {"vectors_per_s": round(1 / per_vector, 1) if per_vector > 0 else None,
            "fixed_s": round(t1 - n1 * per_vector, 2), "seconds": [round(t1, 2), round(t2, 2)],
            "large_run_s": round(t2, 2)}


ROUTES = ("cocotb + Icarus", "plain Icarus", "Verilator")


def run(route: str, source: Path, extra: list[Path], network, codes: np.ndarray, work: Path):
    """The answers of one route, its seconds (compilation included) and, for Verilator, the
    seconds of the built program alone, run again (its per-vector cost is too small to
    show in the difference of two whole runs)."""
    work.mkdir(parents=True)
    start = time.perf_counter()
    if route == "plain Icarus":
        return *plain_icarus(source, extra, network, codes, work), None
    simulator = "verilator" if route == "Verilator" else "icarus"
    observed, _ = simulate(source, network, codes, work, extra_sources=extra, simulator=simulator)
    seconds = time.perf_counter() - start
    if simulator != "verilator":
        return observed, seconds, None
    start = time.perf_counter()
    subprocess.run([str(work / "verilator_build" / "simulation"), str(work / "vectors.hex"),
                    str(work / "rerun.hex")], cwd=work, check=True, capture_output=True)
    return observed, seconds, time.perf_counter() - start


def measure(name: str, model, X, y, n_small: int, repeats: int) -> dict:
    design = bespoke.compile(model, X, y)
    print(f"{name} ...", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "top.v").write_text(design.verilog())
        syn = synthesize(tmp / "top.v", bundled_liberty(), tmp / "syn")
        row = {"design": name, "cells": syn.cells}
        # warm-up: the first run of a process pays for imports, and Verilator's first
        # build for its run-time library, which later builds reuse
        for warm in ("icarus", "verilator"):
            simulate(tmp / "top.v", design.network,
                     verification_vectors(design.network, None, 10, 0), tmp / f"warm_{warm}",
                     simulator=warm)
        vector_sets = [verification_vectors(design.network, None, n, seed=0)
                       for n in (n_small, LARGE)]
        row["vectors"] = [len(codes) for codes in vector_sets]
        for level, source, extra in (("rtl", tmp / "top.v", []),
                                     ("gates", syn.netlist_bus, [bundled_cell_models()])):
            row[level] = {}
            for route in ROUTES:
                timed = []
                for codes in vector_sets:
                    seconds, program, answers = [], [], None
                    for repeat in range(repeats):  # the fastest of a few: machines are noisy
                        work = tmp / f"{level}_{route}_{len(codes)}_{repeat}".replace(" ", "_")
                        observed, took, alone = run(route, source, extra, design.network, codes,
                                                    work)
                        seconds.append(took)
                        program.append(alone)
                        answers = observed if answers is None else answers
                        assert np.array_equal(observed, answers)
                        if took > 60:  # a long run is its own average: once is enough
                            break
                    timed.append((len(codes), min(seconds)))
                    if not np.array_equal(answers, predict_vectors(design.network, codes)):
                        kept = HERE / "build" / "simulation_throughput_failed" / work.name
                        shutil.rmtree(kept, ignore_errors=True)
                        shutil.copytree(tmp, kept.parent / "design", dirs_exist_ok=True)
                        raise AssertionError(f"{route} disagrees with the emulator on {name}: "
                                             f"the run is kept in {kept.parent / 'design'}")
                row[level][route] = rates(*timed)
                if route == "Verilator":  # the rate of the program alone on the larger set
                    n, fastest = len(vector_sets[-1]), min(program)
                    row[level][route] |= {"vectors_per_s": round(n / fastest, 1),
                                          "fixed_s": round(timed[-1][1] - fastest, 2)}
                print(f"  {level} {route}: {row[level][route]}", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="iris alone, one run each")
    parser.add_argument("--render", action="store_true",
                        help="only write the Markdown again from the JSON results")
    args = parser.parse_args()
    if args.render:
        write_markdown(json.loads((HERE / "results" / "simulation_throughput.json").read_text()))
        return
    repeats = 1 if args.quick else 2
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        X, y = load_iris(return_X_y=True)
        iris = make_pipeline(MinMaxScaler(), MLPClassifier((3,), max_iter=2000, random_state=0)).fit(X, y)
        rows.append(measure("iris 4-3-3 relu", iris, X, y, 1000, repeats))
        if not args.quick:
            X, y = load_breast_cancer(return_X_y=True)
            cancer = make_pipeline(MinMaxScaler(), MLPClassifier((5,), max_iter=2000, random_state=0)).fit(X, y)
            rows.append(measure("breast cancer 30-5-1 relu", cancer, X, y, 1000, repeats))
            X, y = pooled_digits()
            digits = make_pipeline(MinMaxScaler(), MLPClassifier((5,), max_iter=3000, random_state=0)).fit(X, y)
            rows.append(measure("digits 4x4 16-5-10 relu", digits, X, y, 1000, repeats))
    versions = {"icarus": tools.version(tools.ICARUS), "verilator": tools.version(tools.VERILATOR)}
    results = {"mode": "quick" if args.quick else "full", "repeats": repeats,
               "versions": versions, "rows": rows}
    (HERE / "results" / "simulation_throughput.json").write_text(json.dumps(results, indent=1)
                                                                 + "\n")
    write_markdown(results)


def write_markdown(results: dict) -> None:
    """``simulation_throughput.md`` from the results (``--render``: from the JSON file)."""
    versions, repeats = results["versions"], results["repeats"]
    lines = ["# Simulation throughput", "",
             "Produced by `benchmarks/simulation_throughput.py`"
             f"{' --quick' if results['mode'] == 'quick' else ''}; never edit by hand. "
             f"Icarus Verilog {versions['icarus']}, Verilator {versions['verilator']}, on "
             "this machine's 2 cores.", "",
             f"Each route runs on about 1 000 and about {LARGE:,} random vectors (fastest of "
             f"{repeats}; a run over a minute once); the difference gives the rate per vector, "
             "the rest the fixed cost (compile; for cocotb starting Python inside Icarus): "
             "where that is negative, the two runs' costs per vector differed by more than the "
             "fixed cost (noise: read the larger run's seconds). Verilator's rate is its built "
             f"program's alone on the {LARGE:,} vectors, run again, and its fixed cost the rest "
             f"of its {LARGE:,}-vector run: translating to C++ and compiling it (its run-time "
             "library cached). All routes gave the emulator's answers on every vector.", "",
             f"| design | cells | level | route | vectors/s | fixed cost (s) | {LARGE:,} vectors (s) |",
             "|---|---|---|---|---|---|---|"]
    for r in results["rows"]:
        for level in ("rtl", "gates"):
            for route in ROUTES:
                m = r[level][route]
                lines.append(f"| {r['design']} | {r['cells']} | {level} | {route} | "
                             f"{m['vectors_per_s']} | {m['fixed_s']} | {m['large_run_s']} |")
    (HERE / "results" / "simulation_throughput.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
