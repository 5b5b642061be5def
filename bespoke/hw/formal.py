"""Formal equivalence of RTL and gate netlist: a Yosys miter of the two, reduced by ABC's
fraiging, then proven with Yosys's SAT solver.

The miter's output is 1 wherever the two circuits differ.  ABC's ``fraig`` turns the
miter's logic into a functionally reduced AIG: it merges every pair of nodes it proves
equal (by simulation and SAT on the small cones between them), so equal circuits
collapse, node pair by node pair, until the output is the constant 0 and the final SAT
problem has nothing left to solve.  That scales to designs of tens of thousands of cells,
where one SAT problem over both whole adder trees does not.  Fraiging preserves the
function, so a counterexample SAT finds afterwards is a real one: the inputs on which the
netlist and the RTL disagree, reported as :attr:`EquivalenceResult.counterexample`.

The plain SAT route (no ABC) stays as the fallback if the ABC step cannot run.
"""
from __future__ import annotations

import logging
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Literal

from .synth import yosys_command

log = logging.getLogger(__name__)

#: Designs above this many cells are not attempted by default (a 21 000-cell design is
#: proven in well under a minute; see benchmarks/results/proof_time.md); one that takes
#: longer than the proof's timeout comes back not attempted.
DEFAULT_MAX_CELLS = 30_000
#: How the miter is reduced before SAT: ABC's fraiging on its AIG (``abc`` maps it back to
#: AND/NOT gates), or nothing (the fallback)
_REDUCE = {"abc": "techmap\nopt -fast\nabc -g AND -script +strash;fraig\nopt_clean",
           "sat": ""}
_METHOD = {"abc": "Yosys miter, ABC fraig, sat -prove-asserts",
           "sat": "Yosys miter + sat -prove-asserts (ABC step unavailable)"}
#: one row of ``sat -show-inputs``' table: ``\in_<port> <decimal> <hex> <binary>``
_SHOWN = re.compile(r"^\s*\\in_(\S+)\s+(-?\d+)\s", re.M)


@dataclass(frozen=True)
class EquivalenceResult:
    status: Literal["proven", "failed", "not attempted"]
    reason: str = ""
    seconds: float = 0.0
    #: with ``failed``: an input (port name: value) on which the netlist and the RTL differ
    counterexample: dict[str, int] | None = None

    def to_dict(self) -> dict:
        result = {"status": self.status, "reason": self.reason, "seconds": round(self.seconds, 2)}
        if self.counterexample is not None:
            result["counterexample"] = dict(self.counterexample)
        return result


def check_equivalence(rtl: Path, netlist_bus: Path, cell_models: Path, workdir: Path, *,
                      cells: int, max_cells: int = DEFAULT_MAX_CELLS, timeout_s: float = 120.0,
                      yosys: str = "yowasp", top: str = "top") -> EquivalenceResult:
    """Prove that the netlist computes the RTL's function for every input."""
    if cells > max_cells:
        return EquivalenceResult("not attempted", f"{cells} cells > {max_cells} "
                                 "(--formal-max-cells): simulation of every vector stands instead")
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    for source, name in ((rtl, "rtl.v"), (netlist_bus, "netlist_bus.v"), (cell_models, "cells.v")):
        if Path(source).resolve() != (workdir / name):
            shutil.copyfile(source, workdir / name)
    start = time.perf_counter()
    result = _prove(workdir, "abc", top, yosys, timeout_s)
    if result.status == "not attempted" and "Yosys stopped" in result.reason:
        log.warning("the ABC step of the proof failed (%s): proving by SAT alone", result.reason)
        result = _prove(workdir, "sat", top, yosys, max(timeout_s - (time.perf_counter() - start), 1))
    if result.status == "proven":
        log.info("RTL == netlist proven in %.1f s (%s)", result.seconds, result.reason)
    return result


def _prove(workdir: Path, method: str, top: str, yosys: str, timeout_s: float) -> EquivalenceResult:
    template = Template(resources.files("bespoke.flows").joinpath("equiv.ys").read_text())
    script, log_name = f"equiv_{method}.ys", f"equiv_{method}.log"
    (workdir / script).write_text(template.substitute(
        rtl="rtl.v", netlist="netlist_bus.v", cells="cells.v", top=top, reduce=_REDUCE[method]))
    start = time.perf_counter()
    try:
        result = subprocess.run([*yosys_command(yosys), "-q", "-l", log_name, "-s", script],
                                cwd=workdir, capture_output=True, text=True, timeout=timeout_s,
                                check=False)
    except subprocess.TimeoutExpired:
        return EquivalenceResult("not attempted", f"the proof did not finish in {timeout_s:.0f} s",
                                 time.perf_counter() - start)
    seconds = time.perf_counter() - start
    log_text = (workdir / log_name).read_text() if (workdir / log_name).exists() else ""
    if result.returncode == 0 and "SAT proof finished - no model found: SUCCESS" in log_text:
        return EquivalenceResult("proven", _METHOD[method], seconds)
    if "SAT proof finished - model found: FAIL" in log_text:
        counterexample = {port: int(value) for port, value in _SHOWN.findall(log_text)}
        return EquivalenceResult("failed", f"the netlist and the RTL differ on {counterexample}: "
                                 f"see {workdir / log_name}", seconds, counterexample)
    return EquivalenceResult("not attempted", f"Yosys stopped (exit {result.returncode}): see "
                             f"{workdir / log_name}", seconds)
