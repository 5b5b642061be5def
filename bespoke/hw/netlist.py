"""Gate netlists as Yosys writes them, evaluated over every vector with numpy.

The circuits are combinational, so evaluating the netlist on all verification vectors
at once is cheap.  That gives, per net, how often it is 1 (the static power of a
resistor-load printed gate depends on how often its output is low) and how often it
toggles between consecutive vectors, and it is a second, independent check that the
mapped gates still compute the emulator's answers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BespokeError
from .liberty import Cell, CellLibrary, Expr, parse_function

_IDENT = r"(?:\\\S+|[A-Za-z_][\w$]*)"
_INSTANCE = re.compile(rf"^\s*({_IDENT})\s+({_IDENT})\s*\((.*?)\);", re.M | re.S)
_PIN = re.compile(rf"\.({_IDENT})\s*\(\s*({_IDENT}|1'b[01])?\s*\)")
_ASSIGN = re.compile(rf"^\s*assign\s+({_IDENT})\s*=\s*({_IDENT}|1'b[01])\s*;", re.M)
_DECL = re.compile(rf"^\s*(input|output)\s+({_IDENT})\s*;", re.M)
_BIT = re.compile(r"^\\?(.+)\[(\d+)\]$")


@dataclass(frozen=True)
class Instance:
    cell: str
    name: str
    pins: tuple[tuple[str, str], ...]  # (pin, net)


@dataclass(frozen=True)
class Netlist:
    """A flat, bit-level netlist: one net per port bit (``splitnets -ports``)."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    instances: tuple[Instance, ...]
    assigns: tuple[tuple[str, str], ...]


def _net(name: str) -> str:
    return name.strip().removeprefix("\\")


def parse_netlist(text: str, module: str = "top") -> Netlist:
    """Parse the one module ``module`` of ``write_verilog -noattr -noexpr`` output."""
    match = re.search(rf"^module {re.escape(module)}\s*\(.*?\);(.*?)^endmodule", text, re.M | re.S)
    if not match:
        raise BespokeError(f"the netlist has no module {module!r}")
    body = match.group(1)
    decls = [(d, _net(n)) for d, n in _DECL.findall(body)]
    instances = []
    for cell, name, pins in _INSTANCE.findall(body):
        if cell in ("input", "output", "wire", "assign", "reg"):
            continue
        instances.append(Instance(cell, _net(name),
                                  tuple((p, _net(n) if n else "") for p, n in _PIN.findall(pins))))
    assigns = tuple((_net(a), _net(b)) for a, b in _ASSIGN.findall(body))
    return Netlist(tuple(n for d, n in decls if d == "input"),
                   tuple(n for d, n in decls if d == "output"), tuple(instances), assigns)


def port_bits(nets: tuple[str, ...]) -> dict[str, dict[int, str]]:
    """Group bit nets ``name[i]`` by port name: ``{name: {i: net}}``."""
    ports: dict[str, dict[int, str]] = {}
    for net in nets:
        m = _BIT.match(net)
        name, bit = (m.group(1), int(m.group(2))) if m else (net, 0)
        ports.setdefault(name, {})[bit] = net
    return ports


@dataclass(frozen=True)
class Evaluation:
    """Every net's value on every vector, and the static power that implies."""

    values: dict[str, np.ndarray]  # net -> bool per vector
    outputs: dict[str, np.ndarray]  # output port -> unsigned int per vector
    static_power_uw: float  # mean over the vectors of the state-dependent cell leakage
    cell_power_uw: dict[str, float]  # the same, per cell type
    toggle_rate: float  # mean fraction of nets that change between consecutive vectors


@dataclass(frozen=True)
class _Step:
    """One driver of a net, in an order where every source is driven before it is read:
    a cell (``cell`` set) or an ``assign`` (``cell`` None, one source)."""

    cell: Cell | None
    pins: tuple[str, ...]  # the cell's input pins, matching ``sources``
    sources: tuple[str, ...]
    target: str  # the driven net ("" when the output is unconnected)


def schedule(netlist: Netlist, library: CellLibrary) -> tuple[_Step, ...]:
    """The assigns and cells of a combinational netlist in topological order."""
    pending = [_Step(None, (), (rhs,), lhs) for lhs, rhs in netlist.assigns]
    for inst in netlist.instances:
        cell = library.cells.get(inst.cell)
        if cell is None:
            raise BespokeError(f"the netlist uses cell {inst.cell!r}, which the liberty lacks")
        pins = dict(inst.pins)
        pending.append(_Step(cell, cell.inputs, tuple(pins.get(p, "") for p in cell.inputs),
                             pins.get(cell.output, "")))
    known = set(netlist.inputs) | {"1'b0", "1'b1"}
    order: list[_Step] = []
    while pending:
        waiting = []
        for step in pending:
            if all(s in known for s in step.sources):
                order.append(step)
                known.add(step.target)
            else:
                waiting.append(step)
        if len(waiting) == len(pending):
            raise BespokeError("the netlist has a combinational loop or an undriven net")
        pending = waiting
    return tuple(order)


def evaluate(netlist: Netlist, library: CellLibrary, inputs: dict[str, np.ndarray]) -> Evaluation:
    """Evaluate the netlist on unsigned input port values (one array per port)."""
    n = len(next(iter(inputs.values())))
    values: dict[str, np.ndarray] = {"1'b0": np.zeros(n, bool), "1'b1": np.ones(n, bool)}
    for name, bits in port_bits(netlist.inputs).items():
        if name not in inputs:
            raise BespokeError(f"no values given for netlist input {name!r}")
        word = np.asarray(inputs[name], dtype=np.int64)
        for bit, net in bits.items():
            values[net] = ((word >> bit) & 1).astype(bool)
    power: dict[str, float] = {}
    for step in schedule(netlist, library):
        if step.cell is None:
            values[step.target] = values[step.sources[0]]
            continue
        pin_values = {p: values[s] for p, s in zip(step.pins, step.sources)}
        out = step.cell.evaluate(pin_values)
        if step.target:
            values[step.target] = out
        power[step.cell.name] = power.get(step.cell.name, 0.0) + float(
            np.mean(step.cell.static_power_uw(pin_values | {step.cell.output: out})))
    outputs = {}
    for name, bits in port_bits(netlist.outputs).items():
        word = np.zeros(n, dtype=np.int64)
        for bit, net in bits.items():
            word |= values.get(net, values["1'b0"]).astype(np.int64) << bit
        outputs[name] = word
    nets = [v for k, v in values.items() if not k.startswith("1'b")]
    toggles = (float(np.mean([np.mean(v[1:] != v[:-1]) for v in nets]))
               if n > 1 and nets else 0.0)
    return Evaluation(values, outputs, sum(power.values()), dict(sorted(power.items())), toggles)


def read_netlist(path: Path, module: str = "top") -> Netlist:
    return parse_netlist(Path(path).read_text(), module)


def _verilog_expression(expr: Expr) -> str:
    op = expr[0]
    if op == "var":
        return expr[1]
    if op == "const":
        return "1'b1" if expr[1] else "1'b0"
    if op == "not":
        return f"~{_verilog_expression(expr[1])}"
    symbol = {"and": "&", "or": "|", "xor": "^"}[op]
    return f"({_verilog_expression(expr[1])} {symbol} {_verilog_expression(expr[2])})"


def cell_models_verilog(library: CellLibrary) -> str:
    """Verilog simulation models of every cell, written from the liberty's ``function``
    attributes, for libraries that ship none."""
    modules = []
    for name in sorted(library.cells):
        cell = library.cells[name]
        ports = ", ".join([*(f"input {p}" for p in cell.inputs), f"output {cell.output}"])
        body = _verilog_expression(parse_function(cell.function))
        modules.append(f"module {name}({ports});\n  assign {cell.output} = {body};\nendmodule\n")
    return "// Cell models written by bespoke from the liberty's cell functions\n" + "".join(modules)


def longest_path_ms(netlist: Netlist, library: CellLibrary) -> float:
    """Largest sum of cell delays from any input to any output (no wire or load model)."""
    arrival: dict[str, float] = {net: 0.0 for net in netlist.inputs}
    arrival["1'b0"] = arrival["1'b1"] = 0.0
    for step in schedule(netlist, library):
        delay = step.cell.max_delay if step.cell is not None else 0.0
        arrival[step.target] = max((arrival[s] for s in step.sources), default=0.0) + delay
    return max((arrival.get(o, 0.0) for o in netlist.outputs), default=0.0)
