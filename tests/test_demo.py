"""`bespoke demo`: the embedded default model compiled, verified and synthesized, as the
README's first command runs it; its exact 7 000-cell design, checked in Verilator: the RTL,
the system and the netlist (`--simulator verilator` end to end; Icarus, the default, is
checked end to end on smaller designs in tests/hw/test_implement.py and tests/test_cli.py:
here it would take half a minute more of the suite)."""
import json
import re

import pytest

from bespoke.cli import main

pytestmark = pytest.mark.long_running(seconds=50)  # the exact design: build, checks, synthesis


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    assert main(["-q", "demo", "--exact", "--simulator", "verilator", "-o", str(folder)]) == 0
    return folder


def test_demo_report_has_every_promised_figure(demo):
    report = json.loads((demo / "compiled" / "report.json").read_text())
    acc, ver = report["accuracy"], report["verification"]
    assert set(acc) >= {"float", "quantized", "rtl"}
    assert set(ver) >= {"vectors", "mismatches", "simulator"}
    assert ver["mismatches"] == 0 and ver["vectors"] >= 1000 + acc["n_test"] + 2
    # --simulator verilator: the RTL, the system and the netlist all checked in Verilator
    assert report["options"]["simulator"] == "verilator"
    for check in (ver, report["system_verification"], report["gate_level"]["verification"]):
        assert check["simulator"].startswith("Verilator") and check["mismatches"] == 0
    assert acc["rtl"] == acc["quantized"]  # the RTL is the emulator, bit for bit
    assert acc["float"] - acc["quantized"] <= 0.01  # 4-bit inputs, 8-bit weights
    md = (demo / "compiled" / "report.md").read_text()
    assert "float" in md and "RTL" in md and "0 mismatches" in md
    assert re.search(r"vectors \(Verilator [\d.]+, cells\)", md)
    # the 7 000-cell netlist is proven equal to its RTL (ABC fraiging + SAT)
    assert report["gate_level"]["equivalence"]["status"] == "proven"


def test_demo_outputs_are_complete(demo):
    out = demo / "compiled"
    design = json.loads((out / "design.json").read_text())
    assert design["input_quantization"]["bits"] == 4 and len(design["features"]) == 30
    assert "module top" in (out / "top.v").read_text()
    assert (out / "sim" / "observed.hex").is_file()
