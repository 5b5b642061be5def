"""Simulation throughput: vectors per second through cocotb + Icarus (bespoke's verifier)
against a plain Icarus testbench that reads the same vectors from a file.

    .venv/bin/python benchmarks/simulation_throughput.py

Both simulate the same harness (RTL and gate netlist) on the same vectors and must give
the same answers. Writes benchmarks/results/simulation_throughput.json (never edit by hand).
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
from bespoke.pdk import bundled_cell_models, bundled_liberty
from bespoke.ports import read_ports
from bespoke.synth import synthesize
from bespoke.verify import pack, render_harness, simulate, verification_vectors

HERE = Path(__file__).resolve().parent
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
    ports = read_ports(design_v.read_text())
    (work / "harness.v").write_text(render_harness(ports, network))
    packed = pack(codes, network.input_bits)
    (work / "vectors.hex").write_text("".join(f"{v:x}\n" for v in packed))
    vmsb = network.n_inputs * network.input_bits - 1
    (work / "plain_bench.v").write_text(PLAIN_BENCH.format(vmsb=vmsb, last=len(codes) - 1,
                                                           rmsb=network.output_width - 1))
    subprocess.run(["iverilog", "-g2012", "-o", "plain.vvp", "-s", "plain_bench", str(design_v),
                    *map(str, extra), "harness.v", "plain_bench.v"], check=True, cwd=work)
    start = time.perf_counter()
    subprocess.run(["vvp", "-n", "plain.vvp"], check=True, cwd=work, capture_output=True)
    seconds = time.perf_counter() - start
    observed = [int(line, 16) for line in (work / "plain_observed.hex").read_text().split()]
    return np.array(observed), seconds


def measure(name: str, model, X, y, n_vectors: int) -> dict:
    design = bespoke.compile(model, X, y)
    codes = verification_vectors(design.network, None, n_vectors, seed=0)
    row = {"design": name, "vectors": len(codes)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "top.v").write_text(design.verilog())
        syn = synthesize(tmp / "top.v", bundled_liberty(), tmp / "syn")
        row["cells"] = syn.cells
        for level, source, extra in (("rtl", tmp / "top.v", []),
                                     ("gates", syn.netlist_bus, [bundled_cell_models()])):
            start = time.perf_counter()
            cocotb_out, _ = simulate(source, design.network, codes, tmp / f"cocotb_{level}",
                                     extra_sources=extra)
            cocotb_s = time.perf_counter() - start
            work = tmp / f"plain_{level}"
            work.mkdir()
            plain_out, plain_s = plain_icarus(source, extra, design.network, codes, work)
            assert np.array_equal(cocotb_out, plain_out), "the two testbenches disagree"
            row[level] = {"cocotb_vectors_per_s": round(len(codes) / cocotb_s, 1),
                          "plain_icarus_vectors_per_s": round(len(codes) / plain_s, 1),
                          "note": "cocotb time includes compile and start-up; plain time is vvp only"}
    return row


def main() -> None:
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        X, y = load_iris(return_X_y=True)
        iris = make_pipeline(MinMaxScaler(), MLPClassifier((3,), max_iter=2000, random_state=0)).fit(X, y)
        rows.append(measure("iris 4-3-3 relu", iris, X, y, 5000))
        X, y = load_breast_cancer(return_X_y=True)
        cancer = make_pipeline(MinMaxScaler(), MLPClassifier((5,), max_iter=2000, random_state=0)).fit(X, y)
        rows.append(measure("breast cancer 30-5-1 relu", cancer, X, y, 2000))
    (HERE / "results" / "simulation_throughput.json").write_text(json.dumps(rows, indent=1) + "\n")
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
