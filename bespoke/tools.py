"""Finding the external tools the flow runs, with an install hint when one is missing."""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from .errors import ToolMissingError


@dataclass(frozen=True)
class Tool:
    name: str
    env_var: str  # overrides the executable's path
    install_hint: str
    version_args: tuple[str, ...]


ICARUS = Tool("iverilog", "BESPOKE_IVERILOG", "sudo apt-get install iverilog", ("-V",))


def find(tool: Tool) -> str:
    """Absolute path of ``tool``, from its environment variable or ``PATH``."""
    candidate = os.environ.get(tool.env_var) or shutil.which(tool.name)
    if not candidate or not os.access(candidate, os.X_OK):
        raise ToolMissingError(f"{tool.name} was not found: install it with "
                               f"'{tool.install_hint}' or set {tool.env_var} to its path")
    return candidate


def version(tool: Tool) -> str:
    """First line of the tool's version banner."""
    result = subprocess.run([find(tool), *tool.version_args], capture_output=True, text=True,
                            check=False)
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0].strip() if lines else "unknown version"
