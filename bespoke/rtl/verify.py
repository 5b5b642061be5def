"""Verify: the emitted Verilog, simulated by Icarus through cocotb (or by Verilator), equals
the emulator.

Every vector is compared with exact integer equality.  The harness that packs the
ports is generated from the port map pyverilog reads out of the Verilog itself.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template
from typing import Sequence

import numpy as np

from .. import tools
from ..ir.emulate import predict_sensor, predict_vectors
from ..errors import ToolMissingError, VerificationError
from ..ir.network import Network
from .lower import OUTPUT_NAME
from .ports import Port, read_ports

log = logging.getLogger(__name__)

#: the simulation top: the batch driver (rtl_templates/batch.v.tmpl) around the harness
BATCH_TOP = "bespoke_batch"
#: the module the harness template defines (the Verilator program's top)
HARNESS_TOP = "bespoke_harness"
#: the cocotb test, copied beside the simulation under this name: imported as
#: ``bespoke.rtl.cocotb_bench`` it would import the whole package in every simulation
#: (a quarter of a second each)
BENCH_MODULE = "bespoke_cocotb_bench"
#: the simulators a design can be checked in: Icarus (through cocotb) is the reference;
#: Verilator builds the harness and a C++ driver into a program, slower to build and much
#: faster per vector (benchmarks/results/simulation_throughput.md)
SIMULATORS = {"icarus": tools.ICARUS, "verilator": tools.VERILATOR}
DEFAULT_SIMULATOR = "icarus"


@dataclass(frozen=True)
class SimulationCost:
    """What a gate-level simulation costs a simulator: seconds per vector and cell, and per
    cell to build (Verilator compiles the netlist first)."""

    per_vector_cell_s: float
    build_per_cell_s: float = 0.0

    def seconds(self, cells: float, vectors: int) -> float:
        return cells * (vectors * self.per_vector_cell_s + self.build_per_cell_s)


#: the largest of benchmarks/results/simulation_throughput.md over its netlists (Icarus
#: slows down per cell as netlists grow; Verilator's build dominates)
GATE_SIMULATION_COST = {"icarus": SimulationCost(3.2e-6),
                        "verilator": SimulationCost(1.1e-9, 1.0e-3)}


@dataclass(frozen=True)
class VerificationResult:
    vectors: int
    mismatches: int
    simulator: str
    observed: np.ndarray = field(repr=False)  # the design's class index per vector
    expected: np.ndarray = field(repr=False)  # the emulator's
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.mismatches == 0

    def to_dict(self) -> dict:
        first = np.flatnonzero(self.observed != self.expected)[:10]
        return {"vectors": self.vectors, "mismatches": self.mismatches,
                "simulator": self.simulator, "passed": self.passed,
                "first_mismatches": [{"vector": int(i), "rtl": int(self.observed[i]),
                                      "emulator": int(self.expected[i])} for i in first],
                "seconds": round(self.seconds, 3)}


def verification_vectors(network: Network, vectors: np.ndarray | None, n_random: int,
                         seed: int) -> np.ndarray:
    """The given vectors, then the corners (all zeros, all ones, each input alone at its
    maximum), then ``n_random`` uniformly random vectors.  A vector holds a code per input,
    or an ADC level per input when the network has an interface."""
    n = network.n_inputs
    limits = np.asarray(network.vector_limits(), np.int64)
    corners = [np.zeros((1, n), np.int64), limits[None, :].copy(),
               np.eye(n, dtype=np.int64) * limits]
    rng = np.random.default_rng(seed)
    if network.interface is None:  # one range for all inputs
        random = rng.integers(0, int(limits.max(initial=0)) + 1, size=(n_random, n),
                              dtype=np.int64)
    else:
        random = rng.integers(0, limits + 1, size=(n_random, n), dtype=np.int64)
    parts = ([np.asarray(vectors, np.int64)] if vectors is not None else []) + corners + [random]
    return np.concatenate(parts)


def _check_ports(ports: tuple[Port, ...], inputs: Sequence[tuple[str, int]], output_width: int,
                 what: str) -> None:
    want = {name: ("input", width) for name, width in inputs}
    want[OUTPUT_NAME] = ("output", output_width)
    got = {p.name: (p.direction, p.width) for p in ports}
    if got != want:
        raise VerificationError(f"the Verilog's ports {sorted(got)} do not match the design's "
                                f"{sorted(want)}: regenerate {what}")


def render_harness(ports: tuple[Port, ...], network: Network | None = None, *,
                   inputs: Sequence[tuple[str, int]] | None = None, module: str = "top") -> str:
    """Verilog wrapper packing the inputs (``network``'s ports, or ``inputs``), one after
    the other from bit 0, into ``stimulus``."""
    by_name = {p.name: p for p in ports}
    names = [name for name, _ in (inputs if inputs is not None else network.ports())]
    lines, offset = [], 0
    for name in names:
        port = by_name[name]
        lines.append(f"        .{port.name}(stimulus[{offset + port.width - 1}:{offset}]),")
        offset += port.width
    lines.append(f"        .{OUTPUT_NAME}(result)")
    template = Template(resources.files("bespoke.rtl_templates").joinpath("harness.v.tmpl")
                        .read_text())
    return template.substitute(vector_msb=max(offset - 1, 0),
                               result_msb=by_name[OUTPUT_NAME].width - 1,
                               connections="\n".join(lines), module=module)


def render_batch(inputs: Sequence[tuple[str, int]], output_width: int, n_vectors: int,
                 vectors: Path, observed: Path) -> str:
    """The Verilog driver that applies ``n_vectors`` packed vectors read from ``vectors`` to
    the harness and writes its answers to ``observed`` (see ``batch.v.tmpl``)."""
    for path in (vectors, observed):
        if '"' in str(path) or "\\" in str(path):
            raise VerificationError(f"cannot simulate in {path.parent}: its path holds a quote "
                                    "or a backslash; use another --output folder")
    template = Template(resources.files("bespoke.rtl_templates").joinpath("batch.v.tmpl")
                        .read_text())
    return template.substitute(vector_msb=max(sum(w for _, w in inputs) - 1, 0),
                               result_msb=output_width - 1, last=max(n_vectors - 1, 0),
                               vectors=vectors, observed=observed)


def pack(values: np.ndarray, bits: int | Sequence[int]) -> list[int]:
    """One integer per row: the columns one after the other from bit 0, each ``bits`` wide
    (or ``bits[i]`` for column ``i``)."""
    values = np.asarray(values)
    widths = [bits] * values.shape[1] if isinstance(bits, int) else list(bits)
    offsets = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(int) if widths else []
    return [sum(int(v) << int(o) for v, o in zip(row, offsets)) for row in values]


def simulate(verilog_path: Path, network: Network, codes: np.ndarray, workdir: Path,
             expected: np.ndarray | None = None, extra_sources: Sequence[Path] = (),
             simulator: str = DEFAULT_SIMULATOR) -> tuple[np.ndarray, str]:
    """Simulate ``codes`` (the circuit's vectors: codes, or ADC levels with an interface)
    through the design in ``verilog_path`` with ``simulator`` (see :data:`SIMULATORS`).

    ``extra_sources`` are compiled too (the cell models of a gate netlist).  Returns
    the design's output per vector and a description of the simulator.
    """
    if expected is None:
        expected = predict_vectors(network, codes)
    return simulate_module([verilog_path, *extra_sources], "top", network.ports(),
                           network.output_width, network.port_values(codes), expected, workdir,
                           simulator)


def simulate_module(sources: Sequence[Path], module: str, inputs: Sequence[tuple[str, int]],
                    output_width: int, values: np.ndarray, expected: np.ndarray,
                    workdir: Path, simulator: str = DEFAULT_SIMULATOR) -> tuple[np.ndarray, str]:
    """Simulate ``module`` (its input ports ``inputs``, ``(name, width)``, and output
    ``y``; defined in ``sources[0]``, which the others support) on ``values``
    (``(vectors, inputs)``) with ``simulator``, through the batch driver.  With Icarus the
    cocotb bench compares with ``expected`` too; the answers are returned either way."""
    executable = find_simulator(simulator)
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    verilog_path = Path(sources[0]).resolve()
    ports = read_ports(verilog_path.read_text(), module)
    _check_ports(ports, inputs, output_width, verilog_path.name)
    if not len(values):
        return np.zeros(0, np.int64), _simulator_name(simulator)
    harness = workdir / "harness.v"
    harness.write_text(render_harness(ports, inputs=inputs, module=module))
    files = {name: workdir / f"{name}.hex" for name in ("vectors", "expected", "observed")}
    files["vectors"].write_text("".join(f"{v:x}\n" for v in pack(values,
                                                                 [w for _, w in inputs])))
    files["expected"].write_text("".join(f"{int(v):x}\n" for v in expected))
    files["observed"].unlink(missing_ok=True)
    sources = [verilog_path, *(Path(s).resolve() for s in sources[1:]), harness]
    if simulator == "icarus":
        batch = workdir / "batch.v"
        batch.write_text(render_batch(inputs, output_width, len(values), files["vectors"],
                                      files["observed"]))
        _run_icarus([*sources, batch], files, workdir)
    else:
        _run_verilator(executable, sources, files, workdir)
    if not files["observed"].exists():
        raise VerificationError(f"the simulator stopped without answering (killed, or crashed): "
                                f"see {workdir / 'sim.log'}")
    observed = np.array([int(line, 16) for line in files["observed"].read_text().split()],
                        dtype=np.int64)
    if len(observed) != len(values):
        raise VerificationError(f"the simulation answered {len(observed)} of {len(values)} "
                                f"vectors: see {workdir / 'sim.log'}")
    return observed, _simulator_name(simulator)


def find_simulator(simulator: str) -> str:
    """The executable of ``simulator`` (see :data:`SIMULATORS`); raises on an unknown name,
    and with an install hint when it is missing."""
    if simulator not in SIMULATORS:
        raise VerificationError(f"unknown simulator {simulator!r}: choose one of "
                                f"{', '.join(SIMULATORS)}")
    return tools.find(SIMULATORS[simulator])


def _run_icarus(sources: Sequence[Path], files: dict[str, Path], workdir: Path) -> None:
    """The batch driver in Icarus through cocotb: the bench waits for ``done`` and compares
    the answers with the expected ones."""
    from cocotb_tools.runner import get_runner

    shutil.copyfile(Path(__file__).with_name("cocotb_bench.py"), workdir / f"{BENCH_MODULE}.py")
    runner = get_runner("icarus")
    # the runner narrates every command at INFO: show that only when debugging
    runner.log.setLevel(logging.DEBUG if log.isEnabledFor(logging.DEBUG) else logging.WARNING)
    build_dir = workdir / "sim_build"
    try:
        runner.build(sources=list(sources), hdl_toplevel=BATCH_TOP, build_dir=build_dir,
                     timescale=("1ns", "1ps"), always=True, log_file=workdir / "build.log")
    except RuntimeError as error:  # the runner's way of saying iverilog failed
        raise VerificationError(f"Icarus could not compile the design ({error}): see "
                                f"{workdir / 'build.log'}") from None
    env = {f"BESPOKE_{k.upper()}": str(v) for k, v in files.items()}
    # rewrite assertions of the bench only: rewriting every import is ~8x slower
    env["COCOTB_REWRITE_ASSERTION_FILES"] = BENCH_MODULE
    try:
        runner.test(test_module=BENCH_MODULE, hdl_toplevel=BATCH_TOP, build_dir=build_dir,
                    test_dir=workdir, extra_env=env, results_xml=str(workdir / "results.xml"),
                    log_file=workdir / "sim.log", timescale=("1ns", "1ps"))
    except SystemExit:
        # under pytest the runner exits when the bench's own assertion fails; the
        # outputs it wrote are still read and compared by the caller, like everywhere else
        log.debug("the cocotb bench reported a failure")
    except RuntimeError as error:  # the simulator itself failed (killed, crashed)
        log.debug("the simulator failed: %s", error)


def _run_verilator(verilator: str, sources: Sequence[Path], files: dict[str, Path],
                   workdir: Path) -> None:
    """The harness built by ``verilator`` (its executable), with the C++ batch driver
    (``rtl_templates/batch_main.cpp``: no timing support needed), into a program of its own
    and run.  Verilator's C++ is compiled without optimization: on gate netlists the build,
    not the run, dominates (benchmarks/results/simulation_throughput.md).  Verilator's own
    run-time library, the same for every design, is compiled once and kept
    (:func:`_runtime_cache`)."""
    build_dir = workdir / "verilator_build"
    shutil.rmtree(build_dir, ignore_errors=True)
    driver = workdir / "batch_main.cpp"
    driver.write_bytes(resources.files("bespoke.rtl_templates").joinpath("batch_main.cpp")
                       .read_bytes())
    # --build would run these two steps; between them the cached run-time objects go in
    translate = [verilator, "--cc", "--exe", "--no-timing",
                 "-Wno-fatal", "-Wno-lint", "-Wno-style", "--timescale", "1ns/1ps",
                 "--top-module", HARNESS_TOP, "--prefix", "Vbatch", "-Mdir", str(build_dir),
                 "-o", "simulation", *map(str, sources), str(driver)]
    # one translation unit: at -O0 Verilator's headers, parsed once per unit, cost more than
    # the design's code (a 16-5-10 RTL: 2.4 s as one unit, 6.1 s as eleven on two cores)
    compile_cpp = ["make", "-C", str(build_dir), "-f", "Vbatch.mk", "-j", str(os.cpu_count() or 1),
                   "OPT_FAST=-O0", "OPT_SLOW=-O0", "OPT_GLOBAL=-O0", "VM_PARALLEL_BUILDS=0"]
    cache = _runtime_cache(verilator)
    with open(workdir / "build.log", "w") as build_log:
        for step, command in enumerate((translate, compile_cpp)):
            if step == 1 and cache:
                for cached in sorted(cache.glob("verilated*.o")):
                    shutil.copy(cached, build_dir / cached.name)  # newer than Vbatch.mk: kept
            try:
                built = subprocess.run(command, cwd=workdir, stdout=build_log,
                                       stderr=subprocess.STDOUT, check=False)
            except FileNotFoundError:
                raise ToolMissingError(f"{command[0]} was not found: Verilator builds with make "
                                       "and g++; install them with 'sudo apt-get install make "
                                       "g++'") from None
            if built.returncode:
                raise VerificationError(f"Verilator could not build the design (exit "
                                        f"{built.returncode}): see {workdir / 'build.log'}")
    for built_object in sorted(build_dir.glob("verilated*.o")) if cache else ():
        if not (cache / built_object.name).exists():
            partial = cache / f".{built_object.name}.{os.getpid()}"
            shutil.copy(built_object, partial)
            os.replace(partial, cache / built_object.name)  # whole files only, for racing runs
    with open(workdir / "sim.log", "w") as sim_log:
        ran = subprocess.run([str(build_dir / "simulation"), str(files["vectors"]),
                              str(files["observed"])], cwd=workdir, stdout=sim_log,
                             stderr=subprocess.STDOUT, check=False)
    if ran.returncode:
        log.debug("the Verilator simulation exited with %d", ran.returncode)


def _runtime_cache(executable: str) -> Path | None:
    """Where Verilator's compiled run-time library is kept, one folder per Verilator
    executable and version (``$XDG_CACHE_HOME/bespoke`` or ``~/.cache/bespoke``); None
    when no such folder can be made."""
    # built without timing support (--no-timing): its objects differ from a --timing build's
    key = hashlib.sha256(f"{executable} {tools.version(tools.VERILATOR)} no-timing"
                         .encode()).hexdigest()
    folder = tools.cache_folder(f"verilator-{key[:16]}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        log.debug("no cache for Verilator's run-time library: %s", error)
        return None
    return folder


def _simulator_name(simulator: str) -> str:
    if simulator == "verilator":
        return f"Verilator {tools.version(tools.VERILATOR)}"
    import cocotb

    return f"Icarus Verilog {tools.version(tools.ICARUS)} via cocotb {cocotb.__version__}"


def verify(verilog_path: Path, network: Network, codes: np.ndarray, workdir: Path,
           extra_sources: Sequence[Path] = (), simulator: str = DEFAULT_SIMULATOR
           ) -> VerificationResult:
    """Simulate every vector and compare the class index with the emulator's."""
    start = time.perf_counter()
    expected = predict_vectors(network, codes)
    observed, described = simulate(verilog_path, network, codes, workdir, expected, extra_sources,
                                   simulator)
    return _compared(observed, expected, described, start, "vectors")


def _compared(observed: np.ndarray, expected: np.ndarray, simulator: str, start: float,
              what: str) -> VerificationResult:
    """The simulation's answers against the emulator's, logged."""
    mismatches = int(np.count_nonzero(observed != expected))
    seconds = time.perf_counter() - start
    log.info("simulated %d %s with %s in %.1f s: %d mismatches", len(expected), what, simulator,
             seconds, mismatches)
    return VerificationResult(len(expected), mismatches, simulator, observed, expected, seconds)


def verify_system(system_path: Path, core_path: Path, network: Network, sensor: np.ndarray,
                  workdir: Path, simulator: str = DEFAULT_SIMULATOR) -> VerificationResult:
    """Simulate module ``system`` (comparator banks in front of ``top``) on sensor values
    and compare the class index with the emulator's, through the network's interface."""
    from .system import SYSTEM_MODULE, system_ports, system_values

    start = time.perf_counter()
    expected = predict_sensor(network, sensor)
    observed, described = simulate_module([system_path, core_path], SYSTEM_MODULE,
                                          system_ports(network), network.output_width,
                                          system_values(network, sensor), expected, workdir,
                                          simulator)
    return _compared(observed, expected, described, start, "sensor vectors through the system")
