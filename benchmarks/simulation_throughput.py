"""Simulation throughput: vectors per second through cocotb + Icarus (bespoke's verifier)
against a plain Icarus testbench that reads the same vectors from a file.

    .venv/bin/python benchmarks/simulation_throughput.py

Both simulate the same harness (RTL and gate netlist) on the same vectors and must give
the same answers.  Each runs twice, on n and on 4n vectors: the difference gives the rate
per vector, the rest is the fixed cost (compilation, and for cocotb starting Python inside
the simulator).  Writes benchmarks/results/simulation_throughput.json (never edit by hand).
"""
from __future__ import annotations

import json
import subprocess
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
from bespoke.hw.pdk import bundled_cell_models, bundled_liberty
from bespoke.rtl.ports import read_ports
from bespoke.hw.synth import synthesize
from bespoke.rtl.verify import pack, render_harness, simulate, verification_vectors

HERE = Path(__file__).resolve().parent
REPEATS = 3
PLAIN_BENCH = """`timescale 1ns/1ps
module plain_bench;
  reg [{vmsb}:0] vectors [0:{last}];
  reg [{vmsb}:0] vector;
  wire [{rmsb}:0] result;
  integer i, out;
  bespoke_harness dut (.vector(vector), .result(result));
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
    """Per-vector rate from the difference of two runs, and the fixed cost left over."""
    (n1, t1), (n2, t2) = small, large
    per_vector = (t2 - t1) / (n2 - n1)
    return {"vectors_per_s": round(1 / per_vector, 1) if per_vector > 0 else None,
            "fixed_s": round(t1 - n1 * per_vector, 2), "seconds": [round(t1, 2), round(t2, 2)]}


def measure(name: str, model, X, y, n_vectors: int) -> dict:
    design = bespoke.compile(model, X, y)
    row = {"design": name, "vectors": [n_vectors, 4 * n_vectors]}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "top.v").write_text(design.verilog())
        syn = synthesize(tmp / "top.v", bundled_liberty(), tmp / "syn")
        row["cells"] = syn.cells
        # warm-up: the first cocotb run of a process pays for imports the others do not
        simulate(tmp / "top.v", design.network, verification_vectors(design.network, None, 10, 0),
                 tmp / "warm_up")
        for level, source, extra in (("rtl", tmp / "top.v", []),
                                     ("gates", syn.netlist_bus, [bundled_cell_models()])):
            runs = {"cocotb": [], "plain": []}
            for n in row["vectors"]:
                codes = verification_vectors(design.network, None, n, seed=0)
                times = {"cocotb": [], "plain": []}
                for repeat in range(REPEATS):  # the fastest of a few runs: machines are noisy
                    start = time.perf_counter()
                    cocotb_out, _ = simulate(source, design.network, codes,
                                             tmp / f"cocotb_{level}_{n}_{repeat}", extra_sources=extra)
                    times["cocotb"].append(time.perf_counter() - start)
                    work = tmp / f"plain_{level}_{n}_{repeat}"
                    work.mkdir()
                    plain_out, plain_s = plain_icarus(source, extra, design.network, codes, work)
                    times["plain"].append(plain_s)
                    assert np.array_equal(cocotb_out, plain_out), "the two testbenches disagree"
                for kind in runs:
                    runs[kind].append((len(codes), min(times[kind])))
            row[level] = {kind: rates(*pair) for kind, pair in runs.items()}
    return row


def main() -> None:
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        X, y = load_iris(return_X_y=True)
        iris = make_pipeline(MinMaxScaler(), MLPClassifier((3,), max_iter=2000, random_state=0)).fit(X, y)
        rows.append(measure("iris 4-3-3 relu", iris, X, y, 3000))
        X, y = load_breast_cancer(return_X_y=True)
        cancer = make_pipeline(MinMaxScaler(), MLPClassifier((5,), max_iter=2000, random_state=0)).fit(X, y)
        rows.append(measure("breast cancer 30-5-1 relu", cancer, X, y, 600))
    (HERE / "results" / "simulation_throughput.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = ["# Simulation throughput", "",
             "Produced by `benchmarks/simulation_throughput.py`; never edit by hand. Vectors per second",
             "from the difference of two runs (n and 4n vectors, fastest of 3 each), and the fixed cost per run (compile,",
             "and for cocotb starting Python inside Icarus). Both testbenches gave the same answers.", "",
             "| design | cells | level | cocotb + Icarus (vectors/s) | plain Icarus (vectors/s) "
             "| fixed cost cocotb / plain (s) |", "|---|---|---|---|---|---|"]
    for r in rows:
        for level in ("rtl", "gates"):
            c, p = r[level]["cocotb"], r[level]["plain"]
            lines.append(f"| {r['design']} | {r['cells']} | {level} | {c['vectors_per_s']} | "
                         f"{p['vectors_per_s']} | {c['fixed_s']} / {p['fixed_s']} |")
    (HERE / "results" / "simulation_throughput.md").write_text("\n".join(lines) + "\n")
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
