"""Synthesis quality: bespoke's open flow against Synopsys Design Compiler on the same function.

    .venv/bin/python benchmarks/synthesis_quality.py [--reference ../shared/reference/exact_mlps.json]

The reference file holds exact bespoke MLPs (integer weights) with the cells, area and
static power Design Compiler reached on them in the EGFET library.  Each is compiled from
its integer specification, checked against the emulator on 3 000 vectors (bespoke's own
evaluation of the netlist), and synthesized with every combination of the levers below;
writes benchmarks/results/synthesis_quality.json and .md (never edit them by hand).

Levers: how the generator sums a neuron (``trees``: a positive and a negative adder tree
and one subtraction, the generator's structure before this benchmark; ``heap``: one bit
heap reduced by full adders and one final adder) and the ABC script.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

import bespoke
import bespoke.rtl.lower as lower
from bespoke.ir.emulate import predict_codes
from bespoke.hw.implement import _port_values
from bespoke.ir import Interval
from bespoke.hw.liberty import read_liberty
from bespoke.hw.netlist import evaluate, read_netlist
from bespoke.hw.pdk import bundled_liberty
from bespoke.hw.synth import DEFAULT_ABC_SCRIPT, synthesize
from bespoke.rtl.verify import verification_vectors

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "&nf (structural choices)": "+strash;&get,-n;&dch,-f;&nf;&put",
    "dc2 + &nf": "+strash;dc2;&get,-n;&dch,-f;&nf;&put",
    "dc2 + &nf -R 1000": "+strash;dc2;&get,-n;&dch,-f;&nf,-R,1000;&put",
    "amap (area mapper)": "+strash;amap",
    "dc2 + amap": "+strash;dc2;amap",
}


def _adder_trees(m, rows, constant, width):
    """The former structure: positive and negative balanced adder trees, one subtraction."""
    from amaranth.hdl import Const

    def tree(values):
        if not values:
            return Const(0, 1)
        while len(values) > 1:
            values = [values[i] + values[i + 1] if i + 1 < len(values) else values[i]
                      for i in range(0, len(values), 2)]
        return values[0]

    positive = [value << shift for value, shift, negative in rows if not negative]
    negative = [value << shift for value, shift, negative in rows if negative]
    return tree(positive) - tree(negative) + Const(constant, lower._shape(Interval(constant, constant)))


def synthesize_with(design, structure: str, script: str, workdir: Path, codes: np.ndarray) -> dict:
    design = bespoke.Design(design.network, design.quantizer, design.classes, design.feature_names)
    if structure == "trees":
        with mock.patch.object(lower, "_compressor_sum", _adder_trees):
            verilog = design.verilog()
    else:
        verilog = design.verilog()
    (workdir / "top.v").write_text(verilog)
    start = time.perf_counter()
    syn = synthesize(workdir / "top.v", bundled_liberty(), workdir / "syn", abc_script=script,
                     timeout_s=300)
    seconds = time.perf_counter() - start
    library = read_liberty(bundled_liberty())
    result = evaluate(read_netlist(syn.netlist), library, _port_values(design.network, codes))
    if not np.array_equal(result.outputs["y"], predict_codes(design.network, codes)):
        raise AssertionError(f"{structure} / {script}: the netlist differs from the emulator")
    return {"cells": syn.cells, "area_um2": syn.area_um2, "static_mw": result.static_power_uw / 1000,
            "seconds": round(seconds, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path,
                        default=HERE.parents[1] / "shared" / "reference" / "exact_mlps.json")
    args = parser.parse_args()
    if not args.reference.is_file():
        print(f"{args.reference} not found: nothing to compare with", file=sys.stderr)
        return 1
    designs = json.loads(args.reference.read_text())["designs"]
    rows = []
    for entry in designs:
        name, commercial = entry["name"], entry["commercial_synthesis"]
        design = bespoke.Design.from_integer_spec(args.reference, name)
        codes = verification_vectors(design.network, None, 3000, seed=0)
        for structure in ("trees", "heap"):
            for label, script in SCRIPTS.items():
                with tempfile.TemporaryDirectory() as tmp:
                    figures = synthesize_with(design, structure, script, Path(tmp), codes)
                row = {"design": name, "structure": structure, "abc": label, "script": script,
                       **figures, "area_vs_dc": figures["area_um2"] / commercial["area_um2"],
                       "cells_vs_dc": figures["cells"] / commercial["cells"],
                       "static_vs_dc": figures["static_mw"] / commercial["static_mw"],
                       "default": structure == "heap" and script == DEFAULT_ABC_SCRIPT}
                rows.append(row)
                print(f"{name} {structure:5s} {label:26s} {row['cells']:6d} cells "
                      f"{row['area_vs_dc']:.3f}x DC area, {row['seconds']:.0f} s", flush=True)
    (HERE / "results" / "synthesis_quality.json").write_text(json.dumps(
        {"reference": {d["name"]: d["commercial_synthesis"] for d in designs}, "rows": rows},
        indent=1) + "\n")
    lines = ["# Synthesis quality against Design Compiler", "",
             "Produced by `benchmarks/synthesis_quality.py`; never edit by hand. The same exact",
             "bespoke MLPs (integer specifications in `../shared/reference/exact_mlps.json`) that",
             "Design Compiler (compile_ultra, EGFET 1.0 V) synthesized, through bespoke's flow with each",
             "lever; every netlist equals the emulator on 3 000 vectors. Static power: bespoke's",
             "state-dependent leakage on those vectors (DC's figure is its own estimate).", ""]
    for entry in designs:
        c = entry["commercial_synthesis"]
        lines += [f"## {entry['name']} ({'-'.join(map(str, entry['topology']))})", "",
                  f"Design Compiler: {c['cells']} cells, {c['area_um2'] / 1e8:.2f} cm², "
                  f"{c['static_mw']} mW static.", "",
                  "| sum structure | ABC script | cells | area (cm²) | area / DC | static (mW) "
                  "| synthesis (s) |", "|---|---|---|---|---|---|---|"]
        for r in (r for r in rows if r["design"] == entry["name"]):
            mark = " **(default)**" if r["default"] else ""
            lines.append(f"| {r['structure']} | {r['abc']}{mark} | {r['cells']} | "
                         f"{r['area_um2'] / 1e8:.2f} | {r['area_vs_dc']:.3f}x | "
                         f"{r['static_mw']:.1f} | {r['seconds']:.0f} |")
        lines.append("")
    lines += ["`trees`: a positive and a negative balanced adder tree and one subtraction per neuron",
              "(the generator's former structure); `heap`: one bit heap per neuron, reduced by full",
              "adders to two rows and one final adder (the generator's structure now)."]
    (HERE / "results" / "synthesis_quality.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
