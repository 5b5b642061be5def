"""The package layout: one subpackage per pipeline stage, and no import cycle inside bespoke.

Every import counts, the ones inside functions too: an import deferred to break a cycle
still ties the two modules together.
"""
from __future__ import annotations

import ast
from pathlib import Path

import bespoke

PACKAGE_ROOT = Path(bespoke.__file__).parent
STAGES = ("model", "ir", "approx", "rtl", "hw", "report", "sweep")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE_ROOT.rglob("*.py"))}


def _imported(module: str, path: Path, known: set[str]) -> set[str]:
    """The bespoke modules ``module`` imports, anywhere in its file."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            # ``from a import b``: b is a module of a, or a name defined in a
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != module}
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imported(name, path, known) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for succ in sorted(graph.get(node, ())):
            if state.get(succ) == 1:
                return path[path.index(succ):] + [succ]
            if succ not in state and (cycle := visit(succ)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def _stage(module: str) -> str:
    """The stage a module belongs to: its subpackage, or the module itself at the top."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_relative_imports_resolve_to_modules():
    graph = import_graph()
    assert "bespoke.ir.network" in graph["bespoke.ir.emulate"]
    assert "bespoke.approx.knobs" in graph["bespoke.approx.search"] or \
        "bespoke.approx.knobs" in graph["bespoke.approx.greedy"]
    assert "bespoke.flow" in graph["bespoke.cli"]


def test_no_import_cycle_between_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_import_cycle_between_stages():
    stages: dict[str, set[str]] = {}
    for module, imports in import_graph().items():
        if module == "bespoke":
            continue  # the package's own __init__: the public API over the stages
        stages.setdefault(_stage(module), set()).update(
            _stage(i) for i in imports if i != "bespoke" and _stage(i) != _stage(module))
    cycle = find_cycle(stages)
    assert cycle is None, "stages import each other: " + " -> ".join(cycle)


def test_every_stage_is_a_subpackage_that_says_what_it_owns():
    for stage in STAGES:
        init = PACKAGE_ROOT / stage / "__init__.py"
        assert init.is_file(), stage
        tree = ast.parse(init.read_text())
        assert ast.get_docstring(tree), f"bespoke/{stage}/__init__.py has no docstring"
        assert len(init.read_text().splitlines()) <= 40, f"bespoke/{stage}/__init__.py is long"


def test_the_ir_depends_on_no_other_stage():
    for module, imports in import_graph().items():
        if _stage(module) == "ir":
            assert {_stage(i) for i in imports} <= {"ir", "errors"}, (module, imports)
