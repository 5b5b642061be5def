"""Formal equivalence RTL = netlist: proven (ABC fraiging, and the SAT fallback), failed
with a real counterexample (a mutated netlist), not attempted."""
import re

import numpy as np
import pytest

from bespoke.hw.formal import _prove, check_equivalence
from bespoke.hw.pdk import bundled_cell_models, bundled_liberty
from bespoke.hw.synth import synthesize
from bespoke.rtl.lower import to_verilog
from bespoke.rtl.verify import verify

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
    assert "ABC fraig" in result.reason and result.counterexample is None


def test_the_sat_fallback_proves_it_too(synthesized, tmp_path):
    folder, syn = synthesized
    check_equivalence(folder / "top.v", syn.netlist_bus, bundled_cell_models(), tmp_path,
                      cells=syn.cells)  # copies the sources in
    result = _prove(tmp_path, "sat", "top", "yowasp", 60)
    assert result.status == "proven", result.reason
    assert "ABC" in result.reason  # says the ABC step was not used


def test_a_mutated_netlist_fails_with_an_input_the_netlist_gets_wrong(synthesized, tmp_path):
    folder, syn = synthesized
    text = syn.netlist_bus.read_text()
    mutated, count = re.subn(r"\bNAND2X1\b", "NOR2X1", text, count=1)
    assert count == 1
    (tmp_path / "mutated.v").write_text(mutated)
    result = check_equivalence(folder / "top.v", tmp_path / "mutated.v", bundled_cell_models(),
                               tmp_path / "work", cells=syn.cells)
    assert result.status == "failed"
    network = tiny_network()
    vector = np.array([[result.counterexample[f"x{i}"] for i in range(network.n_inputs)]])
    # Icarus on the counterexample: the mutated netlist disagrees with the emulator there,
    # the synthesized one does not
    models = [bundled_cell_models()]
    assert verify(tmp_path / "mutated.v", network, vector, tmp_path / "sim_mutated",
                  models).mismatches == 1
    assert verify(syn.netlist_bus, network, vector, tmp_path / "sim", models).mismatches == 0


def test_large_designs_are_not_attempted(synthesized, tmp_path):
    folder, syn = synthesized
    result = check_equivalence(folder / "top.v", syn.netlist_bus, bundled_cell_models(), tmp_path,
                               cells=syn.cells, max_cells=syn.cells - 1)
    assert result.status == "not attempted" and "cells" in result.reason
