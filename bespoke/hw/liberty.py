"""A minimal Liberty (``.lib``) reader: the cells bespoke maps onto, evaluates and prices.

It reads the bundled printed EGFET library and ordinary user libraries alike.  Only what
bespoke needs is kept: per single-output combinational cell its area, input pins, output
pin and Boolean function, its leakage (overall and per input/output state) and its largest
table delay.  Sequential cells (``ff``/``latch``/``statetable`` groups), tri-state and
multi-output cells are skipped by name.

Units are normalized on reading: leakage in microwatts, delays in milliseconds, area in
the library's own unit (Liberty has no area unit; by convention it is µm²).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Union

import numpy as np

from ..errors import BespokeError

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# Group/attribute syntax
# ---------------------------------------------------------------------------------------

#: A simple attribute's value (``name : value ;``) or a complex one's arguments
#: (``name (a, b) ;``).
Value = Union[str, tuple[str, ...]]


@dataclass(frozen=True)
class Group:
    """One Liberty group ``kind (args) { ... }``: its attributes and subgroups in file order."""

    kind: str
    args: tuple[str, ...]
    attributes: tuple[tuple[str, Value], ...]
    groups: tuple["Group", ...]
    line: int

    @property
    def name(self) -> str:
        """The group's first argument (``cell (NAND2X1)`` -> ``"NAND2X1"``), or ``""``."""
        return self.args[0] if self.args else ""

    def attr(self, name: str, default: str | None = None) -> str | None:
        """The first simple attribute ``name``."""
        return next((v for k, v in self.attributes if k == name and isinstance(v, str)), default)

    def complex(self, name: str) -> tuple[str, ...] | None:
        """The arguments of the first complex attribute ``name``."""
        return next((v for k, v in self.attributes if k == name and isinstance(v, tuple)), None)

    def subgroups(self, *kinds: str) -> list["Group"]:
        return [g for g in self.groups if g.kind in kinds]


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "string" or one of the punctuation characters
    text: str
    line: int
    newline_before: bool  # a (non-continued) line break precedes it


_LEXER = re.compile(r"""
    (?P<cont>\\[ \t]*\r?\n)
  | (?P<nl>\r?\n)
  | (?P<ws>[ \t\r\f]+)
  | (?P<block>/\*.*?\*/)
  | (?P<line>//[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<punct>[{}():;,])
  | (?P<word>(?:[^\s{}():;,"/\\]|/(?![/*])|\\(?![ \t]*\r?\n))+)
""", re.X | re.S)


def _syntax_error(source: str, line: int, message: str) -> BespokeError:
    return BespokeError(f"{source}:{line}: Liberty syntax error: {message}")


def _tokens(text: str, source: str) -> list[_Token]:
    tokens: list[_Token] = []
    line, newline, pos = 1, True, 0
    while pos < len(text):
        match = _LEXER.match(text, pos)
        if match is None:
            what = ("an unterminated comment" if text.startswith("/*", pos)
                    else "an unterminated string" if text[pos] == '"'
                    else f"unexpected character {text[pos]!r}")
            raise _syntax_error(source, line, what)
        kind, value = match.lastgroup, match.group()
        if kind == "string":
            tokens.append(_Token("string", value[1:-1].replace("\\\n", ""), line, newline))
        elif kind == "punct":
            tokens.append(_Token(value, value, line, newline))
        elif kind == "word":
            tokens.append(_Token("word", value, line, newline))
        if kind in ("string", "punct", "word"):
            newline = False
        elif kind == "nl":
            newline = True
        line += value.count("\n")
        pos = match.end()
    return tokens


class _Parser:
    """Recursive descent over the token list (tolerant: missing ``;`` at line ends is fine)."""

    def __init__(self, tokens: list[_Token], source: str):
        self.tokens, self.source, self.pos = tokens, source, 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, *kinds: str) -> _Token:
        token = self.peek()
        if token is None:
            last = self.tokens[-1].line if self.tokens else 1
            raise _syntax_error(self.source, last, f"unexpected end of file (expected {' or '.join(kinds)})")
        if token.kind not in kinds:
            raise _syntax_error(self.source, token.line,
                                f"expected {' or '.join(kinds)}, found {token.text!r}")
        self.pos += 1
        return token

    def statements(self, closing: bool) -> tuple[list[tuple[str, Value]], list[Group]]:
        attributes: list[tuple[str, Value]] = []
        groups: list[Group] = []
        while True:
            token = self.peek()
            if token is None:
                if closing:
                    raise _syntax_error(self.source, self.tokens[-1].line, "missing '}'")
                return attributes, groups
            if token.kind == "}":
                if not closing:
                    raise _syntax_error(self.source, token.line, "unbalanced '}'")
                self.pos += 1
                return attributes, groups
            if token.kind == ";":
                self.pos += 1
                continue
            name = self.take("word", "string")
            after = self.take(":", "(")
            if after.kind == ":":
                attributes.append((name.text, self.simple_value(name)))
                continue
            args = self.arguments()
            following = self.peek()
            if following is not None and following.kind == "{":
                self.pos += 1
                attrs, subgroups = self.statements(closing=True)
                groups.append(Group(name.text, args, tuple(attrs), tuple(subgroups), name.line))
            else:
                attributes.append((name.text, args))

    def simple_value(self, name: _Token) -> str:
        parts: list[str] = []
        while True:
            token = self.peek()
            if token is None or token.kind in ("}", "{") or (parts and token.newline_before):
                break
            self.pos += 1
            if token.kind == ";":
                break
            parts.append(token.text)
        if not parts:
            raise _syntax_error(self.source, name.line, f"attribute {name.text!r} has no value")
        return " ".join(parts)

    def arguments(self) -> tuple[str, ...]:
        args: list[str] = []
        while True:
            token = self.take("word", "string", ",", ")")
            if token.kind == ")":
                return tuple(args)
            if token.kind != ",":
                args.append(token.text)


def parse_groups(text: str, source: str = "<string>") -> list[Group]:
    """The top-level groups of a Liberty text (normally one ``library``)."""
    parser = _Parser(_tokens(text, source), source)
    _, groups = parser.statements(closing=False)
    return groups


# ---------------------------------------------------------------------------------------
# Boolean functions
# ---------------------------------------------------------------------------------------

#: A parsed Boolean expression: ("var", name) | ("const", bool) | ("not", e) |
#: ("and" | "or" | "xor", e1, e2).
Expr = tuple

_EXPR_LEXER = re.compile(r"\s*(?:([A-Za-z_][\w\[\].$]*)|([01])\b|([!'&*|+^()]))")


@lru_cache(maxsize=None)
def parse_function(text: str) -> Expr:
    """Parse a Liberty Boolean function.  Precedence, loosest first: ``|``/``+``; ``&``/``*``/
    juxtaposition (a space); ``^``; prefix ``!`` and postfix ``'``."""
    tokens: list[tuple[str, str]] = []
    pos, text = 0, text.strip()
    while pos < len(text):
        match = _EXPR_LEXER.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"cannot read {text[pos:]!r} in function {text!r}")
        name, const, op = match.groups()
        tokens.append(("name", name) if name else ("const", const) if const else ("op", op))
        pos = match.end()
    index = 0

    def peek() -> tuple[str, str] | None:
        return tokens[index] if index < len(tokens) else None

    def advance() -> tuple[str, str]:
        nonlocal index
        index += 1
        return tokens[index - 1]

    def starts_factor(token: tuple[str, str] | None) -> bool:
        return token is not None and (token[0] != "op" or token[1] in "!(")

    def or_expr() -> Expr:
        left = and_expr()
        while peek() in (("op", "|"), ("op", "+")):
            advance()
            left = ("or", left, and_expr())
        return left

    def and_expr() -> Expr:
        left = xor_expr()
        while peek() in (("op", "&"), ("op", "*")) or starts_factor(peek()):
            if peek()[0] == "op" and peek()[1] in "&*":
                advance()
            left = ("and", left, xor_expr())
        return left

    def xor_expr() -> Expr:
        left = unary()
        while peek() == ("op", "^"):
            advance()
            left = ("xor", left, unary())
        return left

    def unary() -> Expr:
        if peek() == ("op", "!"):
            advance()
            return ("not", unary())
        expr = primary()
        while peek() == ("op", "'"):
            advance()
            expr = ("not", expr)
        return expr

    def primary() -> Expr:
        token = peek()
        if token is None:
            raise ValueError(f"function {text!r} ends too early")
        advance()
        if token[0] == "name":
            return ("var", token[1])
        if token[0] == "const":
            return ("const", token[1] == "1")
        if token[1] == "(":
            expr = or_expr()
            if peek() != ("op", ")"):
                raise ValueError(f"missing ')' in function {text!r}")
            advance()
            return expr
        raise ValueError(f"unexpected {token[1]!r} in function {text!r}")

    if not tokens:
        raise ValueError("empty function")
    expr = or_expr()
    if index != len(tokens):
        raise ValueError(f"unexpected {tokens[index][1]!r} in function {text!r}")
    return expr


@lru_cache(maxsize=None)
def function_names(expr: Expr) -> frozenset[str]:
    """The pin names an expression reads."""
    if expr[0] == "var":
        return frozenset((expr[1],))
    if expr[0] == "const":
        return frozenset()
    return frozenset().union(*(function_names(e) for e in expr[1:]))


def evaluate_function(expr: Expr, values: Mapping[str, np.ndarray]) -> np.ndarray:
    """Evaluate ``expr`` on Boolean arrays (one per pin name)."""
    op = expr[0]
    if op == "var":
        return np.asarray(values[expr[1]], dtype=bool)
    if op == "const":
        shape = np.shape(next(iter(values.values()))) if values else ()
        return np.full(shape, expr[1], dtype=bool)
    if op == "not":
        return ~evaluate_function(expr[1], values)
    left, right = evaluate_function(expr[1], values), evaluate_function(expr[2], values)
    return {"and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor}[op](left, right)


# ---------------------------------------------------------------------------------------
# Cells and libraries
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """A single-output combinational cell, in normalized units."""

    name: str
    area: float  # library area units (µm² by convention)
    inputs: tuple[str, ...]
    output: str
    function: str  # the output pin's Liberty function, as written
    leakage: float  # µW: cell_leakage_power, else the when-less leakage_power groups, else
    #                 the library's default_cell_leakage_power
    state_leakage: tuple[tuple[str, float], ...] = ()  # (``when`` expression, µW)
    max_delay: float = 0.0  # ms: largest cell_rise/cell_fall table value of the output

    def evaluate(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """The output on Boolean input arrays (a mapping from input pin name)."""
        return evaluate_function(parse_function(self.function), values)

    def static_power_uw(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Leakage per vector in µW: the value of the first state whose ``when`` holds, else
        ``leakage``.  ``values`` holds the inputs, and the output too if known (it is computed
        otherwise, since ``when`` conditions often name it)."""
        pins = {p: np.asarray(values[p], dtype=bool) for p in self.inputs}
        pins[self.output] = (np.asarray(values[self.output], dtype=bool) if self.output in values
                             else self.evaluate(pins))
        power = np.full(np.shape(pins[self.output]), self.leakage, dtype=float)
        decided = np.zeros(power.shape, dtype=bool)
        for when, value in self.state_leakage:
            expr = parse_function(when)
            if not function_names(expr) <= pins.keys():
                continue  # names an internal node: cannot be decided from the pins
            holds = evaluate_function(expr, pins) & ~decided
            power[holds] = value
            decided |= holds
        return power


@dataclass(frozen=True)
class CellLibrary:
    """The usable cells of a Liberty library, in normalized units."""

    name: str
    cells: dict[str, Cell]
    area_unit_um2: float = 1.0  # Liberty has no area unit: µm² by convention
    time_unit_ms: float = 1e-6  # one library time unit in ms (1 ns)
    leakage_unit_uw: float = 1e-3  # one library leakage unit in µW (1 nW)
    skipped: tuple[str, ...] = ()  # sequential, tri-state and multi-output cells
    buffer: str | None = None  # the smallest cell computing the identity of its one input
    source: str = field(default="", compare=False)


_PREFIX_EXPONENT = {"f": -15, "p": -12, "n": -9, "u": -6, "m": -3, "": 0, "k": 3}
_UNIT = re.compile(r"^\s*([0-9.eE+-]*)\s*([fpnumk]?)([sSwW])\s*$")


@dataclass(frozen=True)
class _Scale:
    """Multiplies by ``mantissa * 10**exponent`` (dividing by an exact power of ten where it
    can, so that ``700000`` ns reads as exactly ``0.7`` ms)."""

    mantissa: float
    exponent: int

    @property
    def factor(self) -> float:
        return self(1.0)

    def __call__(self, value: float) -> float:
        value *= self.mantissa
        return value / 10 ** -self.exponent if self.exponent < 0 else value * 10 ** self.exponent


def _unit(text: str | None, kind: str, target_exponent: int, source: str, line: int) -> _Scale:
    """The scale from a Liberty unit such as ``"1ns"`` or ``"10nW"`` to ``10**target_exponent``
    seconds or watts; ``kind`` is ``"s"`` or ``"w"``."""
    match = _UNIT.match(text or "")
    try:
        if not match or match.group(3).lower() != kind:
            raise ValueError
        mantissa = float(match.group(1) or 1)
    except ValueError:
        raise BespokeError(f"{source}:{line}: cannot read the unit {text!r}") from None
    return _Scale(mantissa, _PREFIX_EXPONENT[match.group(2)] - target_exponent)


def _number(text: str, source: str, line: int) -> float:
    try:
        return float(text.strip().strip('"'))
    except ValueError:
        raise BespokeError(f"{source}:{line}: expected a number, found {text!r}") from None


def _table_values(group: Group, source: str) -> list[float]:
    values = group.complex("values") or ()
    return [_number(v, source, group.line) for arg in values for v in re.split(r"[,\s]+", arg) if v]


def _cell(group: Group, library: Group, units: tuple[_Scale, _Scale], source: str) -> Cell | str:
    """The cell of a ``cell`` group, or the reason it is skipped."""
    time_ms, leakage_uw = units
    if group.subgroups("ff", "latch", "ff_bank", "latch_bank", "statetable"):
        return "sequential"
    if group.subgroups("bus", "bundle"):
        return "has bus pins"
    inputs: list[str] = []
    outputs: list[Group] = []
    for pin in group.subgroups("pin"):
        direction = (pin.attr("direction") or "").lower()
        if direction == "input":
            inputs.extend(pin.args)
        elif direction in ("output", "inout"):
            outputs.extend([pin] * len(pin.args))
    if len(outputs) != 1:
        return f"{len(outputs)} outputs"
    out = outputs[0]
    function = out.attr("function")
    if function is None or out.attr("three_state") is not None:
        return "no function" if function is None else "tri-state"
    try:
        names = function_names(parse_function(function))
    except ValueError as exc:
        raise BespokeError(f"{source}:{out.line}: cell {group.name}: {exc}") from None
    if not names <= set(inputs):
        return "reads internal state"
    area = _number(group.attr("area", "0"), source, group.line)
    states: dict[str, float] = {}
    unconditional = 0.0
    for leak in group.subgroups("leakage_power"):
        value = leakage_uw(_number(leak.attr("value", "0"), source, leak.line))
        when = leak.attr("when")
        if when is None:
            unconditional += value
        else:
            try:
                parse_function(when)
            except ValueError as exc:
                raise BespokeError(f"{source}:{leak.line}: cell {group.name}: {exc}") from None
            states[when] = states.get(when, 0.0) + value
    if group.attr("cell_leakage_power") is not None:
        leakage = leakage_uw(_number(group.attr("cell_leakage_power"), source, group.line))
    elif unconditional:
        leakage = unconditional
    else:
        leakage = leakage_uw(_number(library.attr("default_cell_leakage_power", "0"), source,
                                     library.line))
    delays = [v for timing in out.subgroups("timing")
              for table in timing.subgroups("cell_rise", "cell_fall")
              for v in _table_values(table, source)]
    return Cell(group.name, area, tuple(inputs), out.name, function, leakage,
                tuple(states.items()), time_ms(max(delays, default=0.0)))


def _is_buffer(cell: Cell) -> bool:
    if len(cell.inputs) != 1:
        return False
    column = np.array([False, True])
    return bool(np.array_equal(cell.evaluate({cell.inputs[0]: column}), column))


def parse_liberty(text: str, source: str = "<string>") -> CellLibrary:
    """Read a Liberty text; ``source`` names it in error messages."""
    library = next((g for g in parse_groups(text, source) if g.kind == "library"), None)
    if library is None:
        raise BespokeError(f"{source}:1: no library group: is this a Liberty file?")
    time_ms = _unit(library.attr("time_unit", "1ns"), "s", -3, source, library.line)
    leakage_uw = _unit(library.attr("leakage_power_unit", "1nW"), "w", -6, source, library.line)
    cells: dict[str, Cell] = {}
    skipped: list[str] = []
    for group in library.subgroups("cell"):
        cell = _cell(group, library, (time_ms, leakage_uw), source)
        if isinstance(cell, str):
            log.debug("%s: skipping cell %s (%s)", source, group.name, cell)
            skipped.append(group.name)
        else:
            cells[cell.name] = cell
    if not cells:
        raise BespokeError(f"{source}: the library has no usable single-output combinational cell")
    buffers = sorted((c for c in cells.values() if _is_buffer(c)), key=lambda c: (c.area, c.name))
    return CellLibrary(library.name, cells, 1.0, time_ms.factor, leakage_uw.factor, tuple(skipped),
                       buffers[0].name if buffers else None, source)


def read_liberty(path: Path | str) -> CellLibrary:
    """Read the Liberty file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise BespokeError(f"cannot read the liberty file {path}: {exc.strerror}") from None
    return parse_liberty(text, str(path))
