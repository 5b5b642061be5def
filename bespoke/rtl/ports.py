"""The port map of emitted Verilog, read back with pyverilog.

The verification harness is built from what the Verilog *says* its ports are, not
from what the generator meant them to be: one source of truth for the testbench.
"""
from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .. import tools
from ..errors import VerificationError


@dataclass(frozen=True)
class Port:
    name: str
    direction: Literal["input", "output"]
    width: int


@functools.lru_cache(maxsize=1)
def _parser():
    """pyverilog's parser.  Its LALR tables take about a second to build: they are kept in
    the user's cache folder (``$XDG_CACHE_HOME/bespoke`` or ``~/.cache/bespoke``, one
    folder per pyverilog version) and handed to ply by later processes as the module it
    looks for (``pyverilog.vparser.parsetab``; ply checks their signature against the
    grammar and builds them again if they are stale); a process that builds them does so in
    a folder of its own, then moves them in whole."""
    import importlib.util

    import pyverilog
    from pyverilog.vparser.parser import VerilogParser

    own = Path(tempfile.mkdtemp(prefix="bespoke-pyverilog-"))
    atexit.register(shutil.rmtree, own, ignore_errors=True)  # leave no temporary files
    kept = tools.cache_folder(f"pyverilog-{pyverilog.__version__}") / "parsetab.py"
    name = "pyverilog.vparser.parsetab"
    try:
        spec = importlib.util.spec_from_file_location(name, kept)
        tables = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tables)
        sys.modules[name] = tables
    except Exception:  # absent or unreadable: built below
        pass
    try:
        parser = VerilogParser(outputdir=str(own), debug=False)
    finally:
        sys.modules.pop(name, None)
    if (own / "parsetab.py").exists():  # built here: kept for the next process
        try:
            kept.parent.mkdir(parents=True, exist_ok=True)
            os.replace(own / "parsetab.py", kept)
        except OSError:
            pass
    return parser


_MODULE = r"\bmodule\s+{}(?=[\s#(;])"
_ATTRIBUTES = re.compile(r"^(\s*\(\*.*?\*\))*\s*", re.S)


def _declarations(verilog: str, module: str) -> str | None:
    """``module``'s header and its input and output declarations, nothing else (None
    without such a module): pyverilog parses that in milliseconds, where the whole of a
    7 000-cell netlist took it 2 s.  Statements are split at semicolons, which a
    declaration never holds."""
    text = re.sub(r"/\*.*?\*/", " ", verilog, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    found = re.search(_MODULE.format(re.escape(module)), text)
    if found is None:
        return None
    depth = 0
    for end in range(found.end(), len(text)):  # the header ends at its first ';' outside ()
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if text[end] == ";" and depth == 0:
            break
    else:
        return None
    closing = re.search(r"\bendmodule\b", text[end:])
    body = text[end + 1:end + closing.start()] if closing else ""
    kept = [statement for statement in (_ATTRIBUTES.sub("", s, count=1) for s in body.split(";"))
            if re.match(r"(input|output)\b", statement)]
    return "".join(f"{line};\n" for line in (text[found.start():end], *kept)) + "endmodule\n"


def _int(node) -> int:
    return int(str(node.value).replace("_", ""))


def read_ports(verilog: str, module: str = "top") -> tuple[Port, ...]:
    """Ports of ``module`` in declaration order, as pyverilog parses them."""
    from pyverilog.vparser import ast

    declarations = _declarations(verilog, module)
    definitions = (_parser().parse(declarations).description.definitions
                   if declarations is not None else ())
    modules = [d for d in definitions if isinstance(d, ast.ModuleDef) and d.name == module]
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
