"""Formal equivalence RTL = netlist: proven, failed (a mutated netlist), not attempted."""
import re

import pytest

from bespoke.hw.formal import check_equivalence
from bespoke.rtl.lower import to_verilog
from bespoke.hw.pdk import bundled_cell_models, bundled_liberty
from bespoke.hw.synth import synthesize

from .test_synth import tiny_network


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    folder = tmp_path_factory.mktemp("formal")
    (folder / "top.v").write_text(to_verilog(tiny_network()))
    return folder, synthesize(folder / "top.v", bundled_liberty(), folder / "syn")


def test_rtl_and_netlist_are_proven_equivalent(synthesized, tmp_path):
    folder, syn = synthesized
    result = check_equivalence(folder / "top.v", syn.netlist_bus, bundled_cell_models(), tmp_path,
                               cells=syn.cells)
    assert result.status == "proven", result.reason


def test_a_mutated_netlist_fails_the_proof(synthesized, tmp_path):
    folder, syn = synthesized
    text = syn.netlist_bus.read_text()
    mutated, count = re.subn(r"\bNAND2X1\b", "NOR2X1", text, count=1)
    assert count == 1
    (tmp_path / "mutated.v").write_text(mutated)
    result = check_equivalence(folder / "top.v", tmp_path / "mutated.v", bundled_cell_models(),
                               tmp_path / "work", cells=syn.cells)
    assert result.status == "failed"


def test_large_designs_are_not_attempted(synthesized, tmp_path):
    folder, syn = synthesized
    result = check_equivalence(folder / "top.v", syn.netlist_bus, bundled_cell_models(), tmp_path,
                               cells=syn.cells, max_cells=syn.cells - 1)
    assert result.status == "not attempted" and "cells" in result.reason
