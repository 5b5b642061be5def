"""bespoke's own evaluation of gate netlists: exact logic, state-dependent power, paths."""
import subprocess

import numpy as np
import pytest

from bespoke.hw.liberty import read_liberty
from bespoke.hw.netlist import cell_models_verilog, evaluate, longest_path_ms, parse_netlist
from bespoke.hw.pdk import bundled_liberty

# y[0] = !(a[0] & a[1]); y[1] = a[0] ^ b; written the way Yosys writes netlists
NETLIST = r"""
module top(\a[0] , \a[1] , b, \y[0] , \y[1] );
  input \a[0] ;
  wire \a[0] ;
  input \a[1] ;
  input b;
  output \y[0] ;
  output \y[1] ;
  wire _1_;
  XOR2X1 _3_ (
    .A1(\a[0] ),
    .A2(b),
    .Y(_1_)
  );
  NAND2X1 _2_ (
    .A1(\a[0] ),
    .A2(\a[1] ),
    .Y(\y[0] )
  );
  assign \y[1] = _1_;
endmodule
"""


@pytest.fixture(scope="module")
def library():
    return read_liberty(bundled_liberty())


def test_parse_finds_ports_cells_and_assigns():
    netlist = parse_netlist(NETLIST)
    assert netlist.inputs == ("a[0]", "a[1]", "b")
    assert netlist.outputs == ("y[0]", "y[1]")
    assert [i.cell for i in netlist.instances] == ["XOR2X1", "NAND2X1"]
    assert netlist.assigns == (("y[1]", "_1_"),)


def test_evaluate_is_exact_and_power_follows_the_gate_states(library):
    a = np.array([0, 1, 2, 3, 3, 3])
    b = np.array([0, 0, 0, 0, 1, 1])
    ev = evaluate(parse_netlist(NETLIST), library, {"a": a, "b": b})
    y0 = ~((a & 1).astype(bool) & (a >> 1).astype(bool))
    y1 = (a & 1).astype(bool) ^ b.astype(bool)
    assert ev.outputs["y"].tolist() == (y0.astype(int) | (y1.astype(int) << 1)).tolist()
    nand, xor = library.cells["NAND2X1"], library.cells["XOR2X1"]
    pins_nand = {"A1": (a & 1).astype(bool), "A2": (a >> 1).astype(bool)}
    pins_xor = {"A1": (a & 1).astype(bool), "A2": b.astype(bool)}
    expected = (np.mean(nand.static_power_uw(pins_nand | {"Y": nand.evaluate(pins_nand)}))
                + np.mean(xor.static_power_uw(pins_xor | {"Y": xor.evaluate(pins_xor)})))
    assert ev.static_power_uw == pytest.approx(expected)
    # the NAND's output is low on 3 of 6 vectors: its mean leakage sits between its states
    low = nand.static_power_uw({"A1": np.ones(1, bool), "A2": np.ones(1, bool), "Y": np.zeros(1, bool)})[0]
    assert ev.cell_power_uw["NAND2X1"] < low


def test_longest_path_sums_cell_delays(library):
    netlist = parse_netlist(NETLIST)
    assert longest_path_ms(netlist, library) == pytest.approx(
        max(library.cells["XOR2X1"].max_delay, library.cells["NAND2X1"].max_delay))


def test_generated_cell_models_compile_and_match_the_functions(library, tmp_path):
    models = cell_models_verilog(library)
    assert "module NAND2X1(input A1, input A2, output Y);" in models
    (tmp_path / "cells.v").write_text(models)
    subprocess.run(["iverilog", "-o", str(tmp_path / "a.out"), str(tmp_path / "cells.v")],
                   check=True)


def test_an_undriven_net_is_reported(library):
    from bespoke.errors import BespokeError

    broken = NETLIST.replace(".A2(b),", ".A2(nowhere),")
    with pytest.raises(BespokeError, match="undriven"):
        evaluate(parse_netlist(broken), library, {"a": np.array([1]), "b": np.array([0])})
    with pytest.raises(BespokeError, match="undriven"):
        longest_path_ms(parse_netlist(broken), library)
