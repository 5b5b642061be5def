"""The Liberty reader: syntax, Boolean functions, units, cell selection, state leakage."""
import itertools
from pathlib import Path

import numpy as np
import pytest

from bespoke.errors import BespokeError
from bespoke.hw.liberty import (evaluate_function, parse_function, parse_groups, parse_liberty,
                              read_liberty)

DATA = Path(__file__).parents[1] / "data"
REFERENCE = (Path(__file__).resolve().parents[3] / "shared" / "pdk"
             / "PPDK_Standard_Library_1.0V_25C_TYP_X1.lib")


def truth(expression: str, names: tuple[str, ...]) -> list[bool]:
    """The expression's truth table, rows in counting order (first name most significant)."""
    columns = zip(*itertools.product((False, True), repeat=len(names)))
    values = {n: np.array(c) for n, c in zip(names, columns)}
    return evaluate_function(parse_function(expression), values).tolist()


def expected(fn, n: int) -> list[bool]:
    return [bool(fn(*row)) for row in itertools.product((False, True), repeat=n)]


def test_negations():
    assert truth("!A", ("A",)) == [True, False]
    assert truth("A'", ("A",)) == [True, False]
    assert truth("(A1 * A2)'", ("A1", "A2")) == [True, True, True, False]


@pytest.mark.parametrize("expression, fn", [
    ("a & b", lambda a, b, c: a and b),
    ("a * b", lambda a, b, c: a and b),
    ("a b", lambda a, b, c: a and b),  # a space is AND
    ("a' b'", lambda a, b, c: not a and not b),
    ("!a !b c", lambda a, b, c: not a and not b and c),
    ("a | b", lambda a, b, c: a or b),
    ("a + b", lambda a, b, c: a or b),
    ("a ^ b", lambda a, b, c: a != b),
    ("a | b & c", lambda a, b, c: a or (b and c)),  # AND binds tighter than OR
    ("a & b ^ c", lambda a, b, c: a and (b != c)),  # XOR binds tighter than AND
    ("a b + c", lambda a, b, c: (a and b) or c),
    ("!(a + b) c", lambda a, b, c: not (a or b) and c),
    ("(a+b)(b+c)", lambda a, b, c: (a or b) and (b or c)),
    ("!!a", lambda a, b, c: a),
    ("a & 1", lambda a, b, c: a),
    ("a | 0", lambda a, b, c: a),
    ("1", lambda a, b, c: True),
    ("0 + (a ^ b ^ c)", lambda a, b, c: (a != b) != c),
])
def test_boolean_functions(expression, fn):
    assert truth(expression, ("a", "b", "c")) == expected(fn, 3)


@pytest.mark.parametrize("bad", ["", "a &", "(a | b", "a | | b", "a )", "a # b"])
def test_malformed_functions_raise(bad):
    with pytest.raises(ValueError):
        parse_function(bad)


def test_group_syntax_comments_continuations_and_complex_attributes():
    text = '''/* block
    comment */ library (demo) {   // line comment
      time_unit : "1ns" ;
      revision : 1.0
      capacitive_load_unit (1, pf);
      cell (x) {
        area : 2.5;
        pin (a, b) { direction : input; }
        pin (z) {
          direction : output; function : "a & b";
          timing () {
            related_pin : "a";
            cell_rise (t) {
              index_1 ("1, 2");
              values ("0.1, 0.2", \\
                      "0.3, 0.4");
            }
          }
        }
      }
    }
    '''
    (library,) = parse_groups(text)
    assert library.kind == "library" and library.name == "demo"
    assert library.attr("time_unit") == "1ns"
    assert library.attr("revision") == "1.0"  # no semicolon at the end of its line
    assert library.complex("capacitive_load_unit") == ("1", "pf")
    (cell,) = library.subgroups("cell")
    pins = cell.subgroups("pin")
    assert pins[0].args == ("a", "b")
    table = pins[1].subgroups("timing")[0].subgroups("cell_rise")[0]
    assert table.complex("values") == ("0.1, 0.2", "0.3, 0.4")
    assert table.complex("index_1") == ("1, 2",)
    lib = parse_liberty(text, "demo.lib")
    assert lib.cells["x"].inputs == ("a", "b")
    assert lib.cells["x"].max_delay == pytest.approx(0.4e-6)


@pytest.mark.parametrize("text, line, what", [
    ("library (x) {\n  cell (a) {\n    area : 1;\n  }\n", 4, "missing '}'"),
    ("library (x) {\n}\n}\n", 3, "unbalanced '}'"),
    ("library (x) {\n  /* never closed\n}\n", 2, "unterminated comment"),
    ('library (x) {\n  a : "open;\n}\n', 2, "unterminated string"),
    ("library (x) {\n  cell (a { }\n}\n", 2, "expected"),
    ("library (x) {\n  area : ;\n}\n", 2, "no value"),
])
def test_syntax_errors_name_the_file_and_line(text, line, what):
    with pytest.raises(BespokeError) as info:
        parse_liberty(text, "broken.lib")
    message = str(info.value)
    assert message.startswith(f"broken.lib:{line}:") and what in message
    assert "\n" not in message


def test_library_without_usable_cells_is_rejected(tmp_path):
    path = tmp_path / "seq.lib"
    path.write_text('library (seq) {\n  cell (dff) {\n    ff (IQ, IQN) { next_state : "D"; }\n'
                    '    pin (D) { direction : input; }\n'
                    '    pin (Q) { direction : output; function : "IQ"; }\n  }\n}\n')
    with pytest.raises(BespokeError, match="seq.lib.*no usable"):
        read_liberty(path)
    with pytest.raises(BespokeError, match="no library group"):
        parse_liberty("cell (x) { }", "nolib.lib")
    with pytest.raises(BespokeError, match="cannot read"):
        read_liberty(tmp_path / "missing.lib")


SMALL = '''library (units) {
  time_unit : "10ps";
  leakage_power_unit : "1pW";
  default_cell_leakage_power : 7;
  cell (inv) {
    area : 1;
    leakage_power () { when : "!A"; value : 1000; related_pg_pin : VDD; }
    leakage_power () { when : "!A"; value : 500; related_pg_pin : VSS; }
    leakage_power () { when : "Z"; value : 9000; }
    pin (A) { direction : input; }
    pin (Z) { direction : output; function : "!A";
      timing () { related_pin : A; cell_fall (scalar) { values ("5"); } }
    }
  }
  cell (and_or) {
    area : 3;
    pin (A) { direction : input; }
    pin (B) { direction : input; }
    pin (X) { direction : output; function : "A B"; }
    pin (Y) { direction : output; function : "A + B"; }
  }
  cell (tri) {
    area : 3;
    pin (A) { direction : input; }
    pin (E) { direction : input; }
    pin (Z) { direction : output; function : "A"; three_state : "!E"; }
  }
  cell (latch) {
    area : 3;
    latch (IQ, IQN) { data_in : "D"; enable : "G"; }
    pin (D) { direction : input; }
    pin (G) { direction : input; }
    pin (Q) { direction : output; function : "IQ"; }
  }
  cell (tie) {
    area : 0.5;
    pin (Z) { direction : output; function : "1"; }
  }
}
'''


def test_units_defaults_and_skipped_cells():
    lib = parse_liberty(SMALL, "units.lib")
    assert lib.time_unit_ms == pytest.approx(1e-8) and lib.leakage_unit_uw == pytest.approx(1e-6)
    assert lib.skipped == ("and_or", "tri", "latch")
    assert sorted(lib.cells) == ["inv", "tie"] and lib.buffer is None
    inv = lib.cells["inv"]
    assert inv.leakage == pytest.approx(7e-6)  # the library default
    assert inv.state_leakage == (("!A", pytest.approx(1.5e-3)), ("Z", pytest.approx(9e-3)))
    assert inv.max_delay == pytest.approx(5e-8)
    assert lib.cells["tie"].evaluate({}).tolist() is True


def test_static_power_takes_the_first_matching_state_else_the_leakage():
    inv = parse_liberty(SMALL, "units.lib").cells["inv"]
    a = np.array([False, True])
    # A=0: "!A" holds first (although "Z" holds too); A=1: no state holds
    np.testing.assert_allclose(inv.static_power_uw({"A": a}), [1.5e-3, 7e-6])
    # the output may be given; here it is inconsistent on purpose, to show it is used
    np.testing.assert_allclose(inv.static_power_uw({"A": a, "Z": np.array([True, True])}),
                               [1.5e-3, 9e-3])


def test_cmos_style_library_with_other_names():
    lib = read_liberty(DATA / "cmos_small.lib")
    assert lib.name == "cmos_small"
    assert sorted(lib.cells) == ["buf_1", "inv_1", "nand2_1", "nor2_1", "xor2_1"]
    assert lib.skipped == ("dff_1",) and lib.buffer == "buf_1"
    assert lib.time_unit_ms == 1e-6 and lib.leakage_unit_uw == 1e-3
    nand = lib.cells["nand2_1"]
    assert (nand.inputs, nand.output, nand.area) == (("a", "b"), "z", 1.064)
    assert nand.leakage == pytest.approx(9.1e-3)
    assert nand.max_delay == pytest.approx(0.098e-6)
    inv = lib.cells["inv_1"]
    assert dict(inv.state_leakage) == {"!a": pytest.approx(10.1e-3), "a": pytest.approx(15.1e-3)}
    a, b = np.array([0, 0, 1, 1], bool), np.array([0, 1, 0, 1], bool)
    assert inv.evaluate({"a": a}).tolist() == [True, True, False, False]
    assert lib.cells["nor2_1"].evaluate({"a": a, "b": b}).tolist() == [True, False, False, False]
    assert lib.cells["xor2_1"].evaluate({"a": a, "b": b}).tolist() == [False, True, True, False]
    np.testing.assert_allclose(lib.cells["nor2_1"].static_power_uw({"a": a, "b": b}),
                               [17.8e-3, 7.1e-3, 8.0e-3, 9.5e-3])
    np.testing.assert_allclose(lib.cells["xor2_1"].static_power_uw({"a": a, "b": b}), 21.3e-3)


@pytest.fixture(scope="module")
def reference():
    if not REFERENCE.is_file():
        pytest.skip("../shared/pdk is not present")
    return read_liberty(REFERENCE)


def test_reference_egfet_library(reference):
    assert sorted(reference.cells) == ["AND2X1", "INVX1", "NAND2X1", "NOR2X1", "OR2X1",
                                       "XNOR2X1", "XOR2X1"]
    assert sorted(reference.skipped) == ["DFFNRX1", "DFFX1", "LATCHX1", "TSBUF"]
    assert reference.buffer is None  # hence bespoke's own library adds one
    inv = reference.cells["INVX1"]
    assert inv.area == 228420 and inv.inputs == ("A",) and inv.output == "Y"
    assert inv.leakage == pytest.approx(9.88747)  # cell_leakage_power 9887.47 nW
    # the file: 19283.8 nW when "(A * !Y)", 491.103 nW when "(!A * Y)" (VSS groups are 0)
    np.testing.assert_allclose(inv.static_power_uw({"A": np.array([True, False])}),
                               [19.2838, 0.491103])
    nand = reference.cells["NAND2X1"]
    a1, a2 = np.array([0, 0, 1, 1], bool), np.array([0, 1, 0, 1], bool)
    assert nand.evaluate({"A1": a1, "A2": a2}).tolist() == [True, True, True, False]
    np.testing.assert_allclose(nand.static_power_uw({"A1": a1, "A2": a2}),
                               [0.248054, 0.490604, 0.391073, 18.5691])
    # the largest XOR2X1 cell_rise/cell_fall entry: 6.08013e+06 ns (the slowest corner of
    # its 3x3 tables, far above the typical 2.5 ms of the characterization table)
    assert reference.cells["XOR2X1"].max_delay == pytest.approx(6.08013)
    assert reference.cells["INVX1"].max_delay == pytest.approx(1.29037)


def test_unreadable_units_are_reported():
    text = 'library (x) {\n  time_unit : "1.2.3ns";\n  cell (a) { area : 1; }\n}\n'
    with pytest.raises(BespokeError, match=r"^u.lib:1: cannot read the unit '1.2.3ns'"):
        parse_liberty(text, "u.lib")
