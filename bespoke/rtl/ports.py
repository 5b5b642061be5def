"""The port map of emitted Verilog, read back with pyverilog.

The verification harness is built from what the Verilog *says* its ports are, not
from what the generator meant them to be: one source of truth for the testbench.
"""
from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from dataclasses import dataclass
from typing import Literal

from ..errors import VerificationError


@dataclass(frozen=True)
class Port:
    name: str
    direction: Literal["input", "output"]
    width: int


@functools.lru_cache(maxsize=1)
def _parser():
    # pyverilog rebuilds its tables on construction (~1 s): keep one parser
    from pyverilog.vparser.parser import VerilogParser

    tables = tempfile.mkdtemp(prefix="bespoke-pyverilog-")
    atexit.register(shutil.rmtree, tables, ignore_errors=True)  # leave no temporary files
    return VerilogParser(outputdir=tables, debug=False)


def _int(node) -> int:
    return int(str(node.value).replace("_", ""))


def read_ports(verilog: str, module: str = "top") -> tuple[Port, ...]:
    """Ports of ``module`` in declaration order, as pyverilog parses them."""
    from pyverilog.vparser import ast

    tree = _parser().parse(verilog)
    modules = [d for d in tree.description.definitions
               if isinstance(d, ast.ModuleDef) and d.name == module]
    if not modules:
        raise VerificationError(f"the Verilog has no module {module!r}")
    definition = modules[0]
    declared: dict[str, Port] = {}

    def add(node) -> None:
        if isinstance(node, (ast.Input, ast.Output)):
            width = 1 if node.width is None else abs(_int(node.width.msb) - _int(node.width.lsb)) + 1
            direction = "input" if isinstance(node, ast.Input) else "output"
            declared[node.name] = Port(node.name, direction, width)

    for port in definition.portlist.ports:  # ANSI-style headers declare ports here
        if isinstance(port, ast.Ioport):
            add(port.first)
    for item in definition.items:  # non-ANSI style (what Yosys writes) declares them here
        if isinstance(item, ast.Decl):
            for node in item.list:
                add(node)
    names = [p.first.name if isinstance(p, ast.Ioport) else p.name for p in definition.portlist.ports]
    missing = [n for n in names if n not in declared]
    if missing:
        raise VerificationError(f"ports {missing} of {module!r} have no direction declaration")
    return tuple(declared[n] for n in names)
