"""Implement: from verified RTL to the figures users decide by.

Synthesis (Yosys) on a cell library, gate-level verification (Icarus or Verilator with the
cell models, bespoke's own evaluation of the netlist, and a formal equivalence proof),
state-dependent static power from the real data, and timing and dynamic power from OpenSTA.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import pdk, sta
from ..ir.emulate import predict_vectors
from ..errors import ToolMissingError
from .formal import DEFAULT_MAX_CELLS, EquivalenceResult, check_equivalence
from ..ir.network import Network
from .liberty import CellLibrary, read_liberty
from ..rtl.lower import OUTPUT_NAME
from .netlist import Evaluation, cell_models_verilog, evaluate, longest_path_ms, read_netlist
from .power_sources import BATTERY_MW
from .synth import SynthesisResult, synthesize
from ..rtl.verify import DEFAULT_SIMULATOR, VerificationResult, verify

log = logging.getLogger(__name__)

#: Designs with at most this many input bits are evaluated on every possible input.
EXHAUSTIVE_INPUT_BITS = 16

#: Published printed-MLP flows clock their designs with a 200 ms virtual clock.
CLOCK_PERIOD_MS = 200.0


@dataclass(frozen=True)
class ImplementOptions:
    liberty: Path | None = None  # None: the bundled EGFET library
    yosys: str = "yowasp"
    formal_max_cells: int = DEFAULT_MAX_CELLS
    synth_timeout_s: float = 900.0
    simulator: str = DEFAULT_SIMULATOR  # of the gate-level simulation


@dataclass(frozen=True)
class Implementation:
    synthesis: SynthesisResult
    library: CellLibrary
    liberty_name: str
    gate_verification: VerificationResult
    evaluation_matches: bool
    evaluation_vectors: int  # how many vectors bespoke's evaluation of the netlist covered
    exhaustive: bool  # those were every possible input
    power: Evaluation  # on the test vectors (real data)
    equivalence: EquivalenceResult
    timing: sta.TimingPower | None  # None when OpenSTA is not available
    fallback_delay_ms: float

    def report_sections(self) -> dict:
        syn = self.synthesis
        leakage_mw = self.power.static_power_uw / 1000.0
        if self.timing is not None:
            internal, switching = self.timing.internal_mw, self.timing.switching_mw
            dynamic = (f"{self.timing.tool}, input activity {self.power.toggle_rate:.3f} per "
                       f"{CLOCK_PERIOD_MS:g} ms clock (mean toggle rate of the nets on the test data)")
            delay_ms, delay_source = self.timing.delay_ms, self.timing.tool
        else:
            internal = switching = None
            dynamic = "not computed: OpenSTA is not available ('sudo apt-get install opensta')"
            delay_ms = self.fallback_delay_ms
            delay_source = ("longest path summing the liberty's worst cell delays "
                            "(OpenSTA is not available)")
        total = leakage_mw + (internal or 0.0) + (switching or 0.0)
        return {
            "synthesis": syn.to_dict() | {"liberty": self.liberty_name},
            "area": {"um2": syn.area_um2, "cm2": syn.area_cm2},
            "cells": syn.cells,
            "power": {
                "mw": total, "leakage_mw": leakage_mw, "internal_mw": internal,
                "switching_mw": switching,
                "leakage_method": ("state-dependent cell leakage weighted by how often each gate "
                                   f"input/output state occurs on the {len(next(iter(self.power.outputs.values())))}"
                                   " test vectors"),
                "leakage_by_cell_mw": {k: v / 1000.0 for k, v in self.power.cell_power_uw.items()},
                "dynamic_method": dynamic,
                "opensta_leakage_mw": None if self.timing is None else self.timing.leakage_mw,
            },
            "delay": {"ms": delay_ms, "source": delay_source},
            "clock": {"max_hz": 1000.0 / delay_ms if delay_ms > 0 else None},
            "battery": {"limit_mw": BATTERY_MW, "fits_30mw": total <= BATTERY_MW},
            "gate_level": {
                "verification": {k: v for k, v in self.gate_verification.to_dict().items()
                                 if k != "seconds"},
                "evaluation_matches_emulator": self.evaluation_matches,
                "evaluation_vectors": self.evaluation_vectors,
                "evaluation_exhaustive": self.exhaustive,
                "equivalence": {k: v for k, v in self.equivalence.to_dict().items()
                                if k != "seconds"},
            },
        }


def exhaustive_count(network: Network) -> int:
    """How many distinct input vectors the circuit has (codes, or ADC levels)."""
    return int(np.prod([limit + 1 for limit in network.vector_limits()], dtype=object))


def exhaustive_codes(network: Network) -> np.ndarray:
    """Every input vector of the circuit, one row each (codes, or ADC levels with an
    interface; the first input varies fastest)."""
    limits = [limit + 1 for limit in network.vector_limits()]
    if network.interface is None:  # codes: the bits of a counter
        total = network.n_inputs * network.input_bits
        words = np.arange(1 << total, dtype=np.int64)
        mask = (1 << network.input_bits) - 1
        return np.stack([(words >> (i * network.input_bits)) & mask
                         for i in range(network.n_inputs)], axis=1)
    grid = np.indices(limits[::-1], dtype=np.int64).reshape(len(limits), -1)[::-1]
    return grid.T.copy()


def _port_values(network: Network, vectors: np.ndarray) -> dict[str, np.ndarray]:
    values = network.port_values(vectors)
    return {name: values[:, j] for j, (name, _) in enumerate(network.ports())}


def implement(network: Network, rtl: Path, vectors: np.ndarray, n_test: int, workdir: Path,
              options: ImplementOptions = ImplementOptions()) -> Implementation:
    """Synthesize ``rtl`` and check and measure the netlist. ``vectors[:n_test]`` are the
    test split's codes (real data: power is measured on them)."""
    workdir = Path(workdir)
    test = vectors[:n_test] if n_test > 1 else vectors
    liberty, library, syn, netlist, power = _synthesize_and_measure(network, rtl, test, workdir,
                                                                    options)
    models = _cell_models(options, library, workdir)
    gate = verify(syn.netlist_bus, network, vectors, workdir / "gate_sim", extra_sources=[models],
                  simulator=options.simulator)
    if exhaustive_count(network) <= 1 << EXHAUSTIVE_INPUT_BITS:
        # every possible input: a complete check of netlist == emulator
        vectors_checked = exhaustive_codes(network)
    else:
        vectors_checked = vectors
    expected = predict_vectors(network, vectors_checked)
    everything = evaluate(netlist, library, _port_values(network, vectors_checked))
    matches = bool(np.array_equal(everything.outputs[OUTPUT_NAME], expected))
    equivalence = check_equivalence(rtl, syn.netlist_bus, models, workdir / "formal",
                                    cells=syn.cells, max_cells=options.formal_max_cells,
                                    yosys=options.yosys)
    fallback = longest_path_ms(netlist, library)
    try:
        timing = sta.run_sta(syn.netlist, liberty, "top", workdir / "sta",
                             input_activity=power.toggle_rate, clock_period_ms=CLOCK_PERIOD_MS)
    except ToolMissingError as exc:
        log.warning("%s; the report gives leakage from the library and no dynamic power", exc)
        timing = None
    return Implementation(syn, library, liberty.name, gate, matches, len(vectors_checked),
                          vectors_checked is not vectors, power, equivalence, timing, fallback)


def _synthesize_and_measure(network: Network, rtl: Path, test_codes: np.ndarray, workdir: Path,
                            options: ImplementOptions):
    """Synthesis and the state-dependent power on the test codes: what both the checked
    implementation and the unchecked baseline measurement need."""
    liberty = Path(options.liberty) if options.liberty else pdk.bundled_liberty()
    library = read_liberty(liberty)
    syn = synthesize(rtl, liberty, Path(workdir) / "synth", yosys=options.yosys,
                     timeout_s=options.synth_timeout_s)
    netlist = read_netlist(syn.netlist)
    power = evaluate(netlist, library, _port_values(network, test_codes))
    return liberty, library, syn, netlist, power


def _cell_models(options: ImplementOptions, library: CellLibrary, workdir: Path) -> Path:
    """The Verilog models of the library's cells (for gate-level simulation and the proof)."""
    if options.liberty is None:
        return pdk.bundled_cell_models()
    models = Path(workdir) / "synth" / "cell_models.v"
    models.write_text(cell_models_verilog(library))
    return models


def measure(network: Network, rtl: Path, test_codes: np.ndarray, workdir: Path,
            options: ImplementOptions = ImplementOptions()) -> dict:
    """Area and state-dependent leakage of a design by the same synthesis flow, and the
    proof that its netlist is its RTL, without simulation (used for the exact baseline of
    an approximated design)."""
    _, library, syn, _, power = _synthesize_and_measure(network, rtl, test_codes, workdir,
                                                        options)
    equivalence = check_equivalence(rtl, syn.netlist_bus, _cell_models(options, library, workdir),
                                    Path(workdir) / "formal", cells=syn.cells,
                                    max_cells=options.formal_max_cells, yosys=options.yosys)
    return {"area_um2": syn.area_um2, "area_cm2": syn.area_cm2, "cells": syn.cells,
            "leakage_mw": power.static_power_uw / 1000.0,
            "equivalence": {k: v for k, v in equivalence.to_dict().items() if k != "seconds"}}
