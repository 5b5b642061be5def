"""bespoke's own EGFET library: generated from the DESIGN.md figures, read back, and
accepted by the tools that consume it (Icarus, OpenSTA)."""
import itertools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bespoke.hw import pdk
from bespoke.hw.liberty import read_liberty

DATA = Path(__file__).parents[1] / "data"
REFERENCE = (Path(__file__).resolve().parents[3] / "shared" / "pdk"
             / "PPDK_Standard_Library_1.0V_25C_TYP_X1.lib")
REAL_CELLS = ("INVX1", "NAND2X1", "NOR2X1", "AND2X1", "OR2X1", "XOR2X1", "XNOR2X1")

# DESIGN.md section 3, written out again here so the generator is checked against the
# table, not against itself: area (um2), default leakage (uW), typical delay (ms)
DESIGN = {
    "INVX1": (228_420, 9.9, 0.7), "NAND2X1": (247_860, 4.9, 1.0),
    "NOR2X1": (399_500, 14.8, 1.3), "AND2X1": (433_500, 19.5, 2.2),
    "OR2X1": (563_530, 20.0, 2.3), "XOR2X1": (1_042_800, 24.3, 2.5),
    "XNOR2X1": (1_347_557, 34.2, 2.5),
}
LOGIC = {
    "INVX1": lambda a: not a, "BUFX1": lambda a: a,
    "NAND2X1": lambda a, b: not (a and b), "NOR2X1": lambda a, b: not (a or b),
    "AND2X1": lambda a, b: a and b, "OR2X1": lambda a, b: a or b,
    "XOR2X1": lambda a, b: a != b, "XNOR2X1": lambda a, b: a == b,
}


@pytest.fixture(scope="module")
def library():
    return read_liberty(pdk.bundled_liberty())


def states(cell):
    """``(input values, output, static power in uW)`` for every input state of ``cell``."""
    rows = list(itertools.product((False, True), repeat=len(cell.inputs)))
    values = {p: np.array(c) for p, c in zip(cell.inputs, zip(*rows))}
    return list(zip(rows, cell.evaluate(values).tolist(), cell.static_power_uw(values).tolist()))


def test_committed_files_are_the_generator_output():
    assert pdk.bundled_liberty().read_bytes() == pdk.write_liberty().encode()
    assert pdk.bundled_cell_models().read_bytes() == pdk.write_cell_models().encode()


def test_main_writes_deterministic_files(tmp_path):
    pdk.main([str(tmp_path)])
    first = (tmp_path / pdk.LIBERTY_FILE).read_bytes(), (tmp_path / pdk.CELL_MODELS_FILE).read_bytes()
    pdk.main([str(tmp_path)])
    assert first == ((tmp_path / pdk.LIBERTY_FILE).read_bytes(),
                     (tmp_path / pdk.CELL_MODELS_FILE).read_bytes())
    assert first[0] == pdk.bundled_liberty().read_bytes()


def test_cells_round_trip_the_design_figures(library):
    assert library.name == "egfet_1v0_typ" and library.skipped == ()
    assert sorted(library.cells) == sorted([*REAL_CELLS, "BUFX1"])
    assert library.buffer == "BUFX1"
    for name, (area, leakage, delay) in DESIGN.items():
        cell = library.cells[name]
        assert cell.area == area
        assert cell.leakage == pytest.approx(leakage, abs=1e-12)
        assert cell.max_delay == pytest.approx(delay, abs=1e-12)
        assert cell.output == "Y" and cell.inputs == (("A",) if name == "INVX1" else ("A1", "A2"))


def test_functions(library):
    for name, fn in LOGIC.items():
        for inputs, output, _ in states(library.cells[name]):
            assert output == fn(*inputs), (name, inputs)


def test_state_leakage_follows_the_design_table(library):
    power = {name: {inputs: uw for inputs, _, uw in states(library.cells[name])}
             for name in LOGIC}
    f, t = False, True
    assert power["INVX1"] == {(t,): 19.3, (f,): 0.5}  # output low / high
    assert power["NAND2X1"][t, t] == 18.6
    assert power["NAND2X1"][f, f] == 0.25 and power["NAND2X1"][f, t] == power["NAND2X1"][t, f] == 0.49
    assert power["NOR2X1"][f, f] == 1.0
    assert all(19.3 <= power["NOR2X1"][s] <= 19.6 for s in [(f, t), (t, f), (t, t)])
    for name, (low, high) in {"AND2X1": (19.1, 19.7), "OR2X1": (19.8, 20.2),
                              "XOR2X1": (19.6, 38.0), "XNOR2X1": (20.1, 39.2)}.items():
        values = list(power[name].values())
        assert all(low <= v <= high for v in values), name
        assert min(values) == low and max(values) <= high
    assert max(power["XOR2X1"].values()) == 38.0
    # the composite buffer: one inverter low, the other high, in either state
    assert power["BUFX1"] == {(f,): pytest.approx(19.8), (t,): pytest.approx(19.8)}


def test_mean_state_leakage_matches_the_default_leakage(library):
    for name, (_, leakage, _) in DESIGN.items():
        mean = np.mean([uw for *_, uw in states(library.cells[name])])
        assert mean == pytest.approx(leakage, rel=0.02), name


def test_buffer_is_two_inverters(library):
    buf, inv = library.cells["BUFX1"], library.cells["INVX1"]
    assert buf.area == 2 * inv.area
    assert buf.max_delay == pytest.approx(2 * inv.max_delay)
    assert buf.leakage == pytest.approx(2 * inv.leakage)


def test_agrees_with_the_reference_library(library):
    if not REFERENCE.is_file():
        pytest.skip("../shared/pdk is not present")
    reference = read_liberty(REFERENCE)
    for name in REAL_CELLS:
        assert library.cells[name].area == reference.cells[name].area, name
        assert library.cells[name].leakage == pytest.approx(reference.cells[name].leakage,
                                                            rel=0.02), name


ADDER_BENCH = """\
module bench;
  reg [1:0] a, b;
  wire [2:0] s;
  integer i, errors = 0;
  top dut(.\\a[0] (a[0]), .\\a[1] (a[1]), .\\b[0] (b[0]), .\\b[1] (b[1]),
          .\\s[0] (s[0]), .\\s[1] (s[1]), .\\s[2] (s[2]));
  initial begin
    for (i = 0; i < 16; i = i + 1) begin
      {a, b} = i; #1;
      if (s !== a + b) errors = errors + 1;
    end
    if (errors == 0) $display("PASS"); else $display("FAIL %0d", errors);
    $finish;
  end
endmodule
"""


def test_icarus_simulates_a_yosys_netlist_with_the_cell_models(tmp_path):
    iverilog = shutil.which("iverilog")
    if iverilog is None:
        pytest.skip("iverilog is not installed")
    (tmp_path / "bench.v").write_text(ADDER_BENCH)
    # a 2-bit adder mapped by Yosys/ABC onto this library (cells by name, named pins)
    sources = [str(tmp_path / "bench.v"), str(DATA / "sta_adder2_netlist.v"),
               str(pdk.bundled_cell_models())]
    subprocess.run([iverilog, "-o", str(tmp_path / "sim"), *sources], check=True, timeout=60)
    run = subprocess.run(["vvp", str(tmp_path / "sim")], capture_output=True, text=True,
                         check=True, timeout=60)
    assert "PASS" in run.stdout


def test_icarus_compiles_the_cmos_test_models(tmp_path):
    iverilog = shutil.which("iverilog")
    if iverilog is None:
        pytest.skip("iverilog is not installed")
    subprocess.run([iverilog, "-o", str(tmp_path / "models"), str(pdk.bundled_cell_models()),
                    str(DATA / "cmos_small_cells.v")], check=True, timeout=60)


@pytest.mark.parametrize("liberty", [pdk.bundled_liberty(), DATA / "cmos_small.lib"],
                         ids=["egfet", "cmos_small"])
def test_opensta_reads_the_liberty_cleanly(liberty, tmp_path):
    sta = shutil.which("sta")
    if sta is None:
        pytest.skip("OpenSTA (sta) is not installed")
    script = tmp_path / "read.tcl"
    script.write_text(f"read_liberty {{{liberty}}}\nputs done\n")
    run = subprocess.run([sta, "-no_splash", "-no_init", "-exit", str(script)],
                         capture_output=True, text=True, timeout=60, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0 and output.strip() == "done", output
