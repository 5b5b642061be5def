"""Formal equivalence of RTL and gate netlist: a Yosys miter proven with its SAT solver."""
from __future__ import annotations

import logging
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

#: Designs above this many cells are not attempted by default: SAT time grows quickly
#: with the width of the adders, and simulation already checks every vector.
DEFAULT_MAX_CELLS = 1000


@dataclass(frozen=True)
class EquivalenceResult:
    status: Literal["proven", "failed", "not attempted"]
    reason: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"status": self.status, "reason": self.reason, "seconds": round(self.seconds, 2)}


def check_equivalence(rtl: Path, netlist_bus: Path, cell_models: Path, workdir: Path, *,
                      cells: int, max_cells: int = DEFAULT_MAX_CELLS, timeout_s: float = 60.0,
                      yosys: str = "yowasp", top: str = "top") -> EquivalenceResult:
    """Prove that the netlist computes the RTL's function for every input."""
    if cells > max_cells:
        return EquivalenceResult("not attempted", f"{cells} cells > {max_cells}: "
                                 "simulation of every vector stands instead")
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    for source, name in ((rtl, "rtl.v"), (netlist_bus, "netlist_bus.v"), (cell_models, "cells.v")):
        if Path(source).resolve() != (workdir / name):
            shutil.copyfile(source, workdir / name)
    template = Template(resources.files("bespoke.flows").joinpath("equiv.ys").read_text())
    (workdir / "equiv.ys").write_text(template.substitute(
        rtl="rtl.v", netlist="netlist_bus.v", cells="cells.v", top=top))
    start = time.perf_counter()
    try:
        result = subprocess.run([*yosys_command(yosys), "-q", "-l", "equiv.log", "-s", "equiv.ys"],
                                cwd=workdir, capture_output=True, text=True, timeout=timeout_s,
                                check=False)
    except subprocess.TimeoutExpired:
        return EquivalenceResult("not attempted", f"SAT did not finish in {timeout_s:.0f} s",
                                 time.perf_counter() - start)
    seconds = time.perf_counter() - start
    log_text = (workdir / "equiv.log").read_text() if (workdir / "equiv.log").exists() else ""
    if result.returncode == 0 and "SAT proof finished - no model found: SUCCESS" in log_text:
        log.info("RTL == netlist proven by SAT in %.1f s", seconds)
        return EquivalenceResult("proven", "Yosys miter + sat -prove-asserts", seconds)
    if "FAIL" in log_text or "failed" in (result.stderr + result.stdout).lower():
        return EquivalenceResult("failed", f"the miter has a counterexample: see {workdir / 'equiv.log'}",
                                 seconds)
    return EquivalenceResult("not attempted", f"Yosys stopped (exit {result.returncode}): see "
                             f"{workdir / 'equiv.log'}", seconds)
