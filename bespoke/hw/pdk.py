"""bespoke's own printed EGFET cell library, generated from the published figures.

The figures are the characterization table of DESIGN.md section 3 (1.0 V, typical corner):
area, static power with the output low / high, default leakage and typical delay per cell.
Nothing is copied from the reference ``.lib``; this module derives the Liberty text and
Verilog cell models from those figures, and ``python -m bespoke.hw.pdk`` writes them to
``flows/egfet_1v0_typ.lib`` and ``flows/egfet_cells.v`` (the package ``bespoke.flows``).

Modelling choices (the table does not say everything a Liberty file needs):

* **Per-state static power.**  n-type transistor-resistor logic draws current through its
  load resistor while a stage's output is low.  Single-stage cells:

  - INVX1: input 1 (output low) 19.3 µW, input 0 0.5 µW.
  - NAND2X1: both inputs 1 (output low) 18.6 µW; of the output-high range 0.25–0.49 µW, the
    low end goes to the state with both series transistors off (00) and the high end to
    the states with one off (01, 10): one off transistor leaks more than two in series.
  - NOR2X1: output high (00) 1.0 µW; of the output-low range 19.3–19.6 µW the high end goes
    to the state with both parallel pull-downs on (11), the low end to one on (01, 10).

  Two-stage cells are costed as their stages, ``AND2 = INV(NAND2)``, ``OR2 = INV(NOR2)``,
  ``XNOR2 = INV(XOR2)``: the sum of both stages' figures in that state, clamped into the
  table's range for the cell.  XOR2X1's range 19.6–38.0 µW: 38.0 (two internal stages
  pulling low) when both inputs are 1, 19.6 otherwise.  In every cell the mean over the
  equiprobable input states is within 2 % of the table's default leakage, which becomes
  ``cell_leakage_power`` (tests check both).
* **Delay.**  Scalar tables: the typical delay for rise and fall; the output transition is
  nominally set equal to it (scalar tables make it irrelevant to the delays).
* **Capacitance.**  The table gives none.  Every input pin gets a nominal
  ``INPUT_CAP_PF`` = 100 pF, the order of an electrolyte-gated transistor's gate (double
  layer ~5 µF/cm² over a printed gate of ~10⁻⁵ cm²).  It only affects OpenSTA's switching
  power estimate (which is negligible next to the static power); it never changes delay.
* **BUFX1** is not a printed cell: it is a composite of two INVX1 in series (area 2×INVX1,
  delay 2×0.7 ms, leakage the sum of both inverters' states: 19.3 + 0.5 µW in either
  state), present because ABC's ``abc -liberty`` refuses a library without a buffer.

Units in the Liberty text: ``time_unit : "1ns"`` (ABC reads only ns/ps time units, so a
1 ms delay is written 1000000), ``leakage_power_unit : "1uW"``, capacitance in pF.
"""
from __future__ import annotations

import argparse
import itertools
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from ..errors import BespokeError

log = logging.getLogger(__name__)

LIBRARY_NAME = "egfet_1v0_typ"
LIBERTY_FILE = "egfet_1v0_typ.lib"
CELL_MODELS_FILE = "egfet_cells.v"
NS_PER_MS = 1_000_000
#: Nominal input pin capacitance (pF): see the module docstring.
INPUT_CAP_PF = 100.0

# --- DESIGN.md section 3: static power figures (µW) ------------------------------------
INV_LOW, INV_HIGH = 19.3, 0.5  # output low / high
NAND2_LOW, NAND2_HIGH = 18.6, (0.25, 0.49)
NOR2_LOW, NOR2_HIGH = (19.3, 19.6), 1.0
AND2_RANGE = (19.1, 19.7)
OR2_RANGE = (19.8, 20.2)
XOR2_RANGE = (19.6, 38.0)
XNOR2_RANGE = (20.1, 39.2)


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


def _inv(a: bool) -> float:
    return INV_LOW if a else INV_HIGH


def _nand2(a: bool, b: bool) -> float:
    if a and b:
        return NAND2_LOW
    return NAND2_HIGH[0] if not (a or b) else NAND2_HIGH[1]


def _nor2(a: bool, b: bool) -> float:
    if not (a or b):
        return NOR2_HIGH
    return NOR2_LOW[1] if a and b else NOR2_LOW[0]


def _xor2(a: bool, b: bool) -> float:
    return XOR2_RANGE[1] if a and b else XOR2_RANGE[0]


def _and2(a: bool, b: bool) -> float:
    return _clamp(_nand2(a, b) + _inv(not (a and b)), AND2_RANGE)


def _or2(a: bool, b: bool) -> float:
    return _clamp(_nor2(a, b) + _inv(not (a or b)), OR2_RANGE)


def _xnor2(a: bool, b: bool) -> float:
    return _clamp(_xor2(a, b) + _inv(a != b), XNOR2_RANGE)


def _buf(a: bool) -> float:
    return _inv(a) + _inv(not a)


@dataclass(frozen=True)
class CellSpec:
    """One cell of the generated library: a row of the DESIGN table plus its logic."""

    name: str
    inputs: tuple[str, ...]
    function: str  # Liberty
    verilog: str  # Verilog expression of the output Y
    timing_sense: str
    area_um2: float
    default_leakage_uw: float
    delay_ms: float
    state_power: Callable[..., float]  # µW, from the input values in pin order

    def states(self) -> list[tuple[tuple[bool, ...], float]]:
        """``(input values, static power in µW)`` for every input state, 0...0 first."""
        return [(bits, round(self.state_power(*bits), 6))
                for bits in itertools.product((False, True), repeat=len(self.inputs))]


_2 = ("A1", "A2")
CELLS: tuple[CellSpec, ...] = (
    CellSpec("INVX1", ("A",), "!A", "~A", "negative_unate", 228_420, 9.9, 0.7, _inv),
    CellSpec("NAND2X1", _2, "!(A1 & A2)", "~(A1 & A2)", "negative_unate", 247_860, 4.9, 1.0, _nand2),
    CellSpec("NOR2X1", _2, "!(A1 | A2)", "~(A1 | A2)", "negative_unate", 399_500, 14.8, 1.3, _nor2),
    CellSpec("AND2X1", _2, "A1 & A2", "A1 & A2", "positive_unate", 433_500, 19.5, 2.2, _and2),
    CellSpec("OR2X1", _2, "A1 | A2", "A1 | A2", "positive_unate", 563_530, 20.0, 2.3, _or2),
    CellSpec("XOR2X1", _2, "A1 ^ A2", "A1 ^ A2", "non_unate", 1_042_800, 24.3, 2.5, _xor2),
    CellSpec("XNOR2X1", _2, "!(A1 ^ A2)", "~(A1 ^ A2)", "non_unate", 1_347_557, 34.2, 2.5, _xnor2),
    # composite of two INVX1 (see the module docstring)
    CellSpec("BUFX1", ("A",), "A", "A", "positive_unate", 2 * 228_420, 2 * 9.9, 2 * 0.7, _buf),
)


def _num(value: float) -> str:
    """A number as Liberty text: shortest exact-looking decimal, no exponent for integers."""
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def _when(inputs: tuple[str, ...], bits: tuple[bool, ...]) -> str:
    return " & ".join(pin if bit else f"!{pin}" for pin, bit in zip(inputs, bits))


def _cell_liberty(cell: CellSpec) -> list[str]:
    delay_ns = _num(round(cell.delay_ms * NS_PER_MS))
    lines = [f"  cell ({cell.name}) {{",
             f"    area : {_num(cell.area_um2)};",
             f"    cell_leakage_power : {_num(cell.default_leakage_uw)};"]
    for bits, power in cell.states():
        lines += ["    leakage_power () {",
                  f'      when : "{_when(cell.inputs, bits)}";',
                  f"      value : {_num(power)};",
                  "    }"]
    for pin in cell.inputs:
        lines += [f"    pin ({pin}) {{",
                  "      direction : input;",
                  f"      capacitance : {_num(INPUT_CAP_PF)};",
                  "    }"]
    lines += ["    pin (Y) {",
              "      direction : output;",
              f'      function : "{cell.function}";']
    for pin in cell.inputs:
        lines += ["      timing () {",
                  f'        related_pin : "{pin}";',
                  f"        timing_sense : {cell.timing_sense};",
                  "        timing_type : combinational;"]
        for table in ("cell_rise", "rise_transition", "cell_fall", "fall_transition"):
            lines.append(f'        {table} (scalar) {{ values ("{delay_ns}"); }}')
        lines.append("      }")
    lines += ["    }", "  }"]
    return lines


_HEADER = f"""\
/* {LIBRARY_NAME}: printed EGFET standard cells, 1.0 V, typical corner.
 * Generated by bespoke.hw.pdk (python -m bespoke.hw.pdk) from the characterization figures in
 * bespoke's DESIGN.md: do not edit.  BUFX1 is a composite of two INVX1 (ABC needs a
 * buffer).  Input capacitance is nominal.  Times in ns: 1 ms = 1000000. */
library ({LIBRARY_NAME}) {{
  delay_model : table_lookup;
  time_unit : "1ns";
  voltage_unit : "1V";
  current_unit : "1uA";
  pulling_resistance_unit : "1kohm";
  leakage_power_unit : "1uW";
  capacitive_load_unit (1, pf);
  nom_process : 1;
  nom_temperature : 25;
  nom_voltage : 1;
  operating_conditions (typical) {{
    process : 1;
    temperature : 25;
    voltage : 1;
  }}
  default_operating_conditions : typical;
  input_threshold_pct_rise : 50;
  input_threshold_pct_fall : 50;
  output_threshold_pct_rise : 50;
  output_threshold_pct_fall : 50;
  slew_lower_threshold_pct_rise : 20;
  slew_lower_threshold_pct_fall : 20;
  slew_upper_threshold_pct_rise : 80;
  slew_upper_threshold_pct_fall : 80;
  slew_derate_from_library : 1;
  default_cell_leakage_power : 0;
  default_leakage_power_density : 0;
  default_fanout_load : 1;
  default_input_pin_cap : {_num(INPUT_CAP_PF)};
  default_inout_pin_cap : {_num(INPUT_CAP_PF)};
  default_output_pin_cap : 0;
  default_max_transition : {_num(10 * NS_PER_MS)};
"""


def write_liberty() -> str:
    """The library's Liberty text (deterministic)."""
    lines = [_HEADER.rstrip("\n")]
    for cell in CELLS:
        lines += _cell_liberty(cell)
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_cell_models() -> str:
    """Verilog simulation models of the library's cells (deterministic)."""
    parts = [f"// {LIBRARY_NAME} cell models, generated by bespoke.hw.pdk: do not edit.\n"
             "// BUFX1 is a composite of two INVX1 (logically a buffer).\n"]
    for cell in CELLS:
        ports = ", ".join([*(f"input {p}" for p in cell.inputs), "output Y"])
        parts.append(f"module {cell.name}({ports});\n  assign Y = {cell.verilog};\nendmodule\n")
    return "\n".join(parts)


def _flows_dir() -> Path:
    return Path(str(resources.files("bespoke.flows")))


def _bundled(name: str) -> Path:
    path = _flows_dir() / name
    if not path.is_file():
        raise BespokeError(f"the bundled {name} is missing from {path.parent}: reinstall bespoke "
                           "or run 'python -m bespoke.hw.pdk'")
    return path


def bundled_liberty() -> Path:
    """The installed ``egfet_1v0_typ.lib``."""
    return _bundled(LIBERTY_FILE)


def bundled_cell_models() -> Path:
    """The installed ``egfet_cells.v``."""
    return _bundled(CELL_MODELS_FILE)


def write_files(directory: Path) -> tuple[Path, Path]:
    """Write the Liberty file and the cell models into ``directory``."""
    directory = Path(directory)
    liberty, models = directory / LIBERTY_FILE, directory / CELL_MODELS_FILE
    liberty.write_bytes(write_liberty().encode())
    models.write_bytes(write_cell_models().encode())
    log.info("wrote %s and %s", liberty, models)
    return liberty, models


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bespoke.hw.pdk",
                                     description="Write bespoke's EGFET liberty and cell models.")
    parser.add_argument("directory", nargs="?", type=Path, default=None,
                        help="output folder (default: the package's flows/ folder)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    write_files(args.directory or _flows_dir())


if __name__ == "__main__":
    main()
