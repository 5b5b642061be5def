"""Verify: the emitted Verilog, simulated by Icarus through cocotb, equals the emulator.

Every vector is compared with exact integer equality.  The harness that packs the
ports is generated from the port map pyverilog reads out of the Verilog itself.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template
from typing import Sequence

import numpy as np

from .. import tools
from ..ir.emulate import predict_codes
from ..errors import VerificationError
from ..ir.network import Network
from .lower import OUTPUT_NAME, input_name
from .ports import Port, read_ports

log = logging.getLogger(__name__)

HARNESS_TOP = "bespoke_harness"
BENCH_MODULE = "bespoke.rtl.cocotb_bench"


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


def verification_vectors(network: Network, codes: np.ndarray | None, n_random: int,
                         seed: int) -> np.ndarray:
    """The given codes, then the corners (all zeros, all ones, each input alone at its
    maximum), then ``n_random`` uniformly random codes."""
    n, top = network.n_inputs, (1 << network.input_bits) - 1
    corners = [np.zeros((1, n), np.int64), np.full((1, n), top, np.int64),
               np.eye(n, dtype=np.int64) * top]
    rng = np.random.default_rng(seed)
    random = rng.integers(0, top + 1, size=(n_random, n), dtype=np.int64)
    parts = ([np.asarray(codes, np.int64)] if codes is not None else []) + corners + [random]
    return np.concatenate(parts)


def _check_ports(ports: tuple[Port, ...], network: Network) -> None:
    want = {input_name(i): ("input", network.input_bits) for i in range(network.n_inputs)}
    want[OUTPUT_NAME] = ("output", network.output_width)
    got = {p.name: (p.direction, p.width) for p in ports}
    if got != want:
        raise VerificationError(f"the Verilog's ports {sorted(got)} do not match the design's "
                                f"{sorted(want)}: regenerate top.v")


def render_harness(ports: tuple[Port, ...], network: Network) -> str:
    """Verilog wrapper packing input ``x<i>`` at bits ``[i*b, (i+1)*b)`` of ``vector``."""
    by_name = {p.name: p for p in ports}
    lines, offset = [], 0
    for i in range(network.n_inputs):
        port = by_name[input_name(i)]
        lines.append(f"        .{port.name}(vector[{offset + port.width - 1}:{offset}]),")
        offset += port.width
    lines.append(f"        .{OUTPUT_NAME}(result)")
    template = Template(resources.files("bespoke.rtl_templates").joinpath("harness.v.tmpl")
                        .read_text())
    return template.substitute(vector_msb=offset - 1, result_msb=by_name[OUTPUT_NAME].width - 1,
                               connections="\n".join(lines))


def pack(codes: np.ndarray, bits: int) -> list[int]:
    """One integer per row: column ``i`` at bits ``[i*bits, (i+1)*bits)``."""
    return [sum(int(v) << (i * bits) for i, v in enumerate(row)) for row in codes]


def simulate(verilog_path: Path, network: Network, codes: np.ndarray, workdir: Path,
             expected: np.ndarray | None = None,
             extra_sources: Sequence[Path] = ()) -> tuple[np.ndarray, str]:
    """Simulate ``codes`` through the design in ``verilog_path`` with cocotb + Icarus.

    ``extra_sources`` are compiled too (the cell models of a gate netlist).  Returns
    the design's output per vector and a description of the simulator.
    """
    from cocotb_tools.runner import get_runner

    tools.find(tools.ICARUS)
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    verilog_path = Path(verilog_path).resolve()
    ports = read_ports(verilog_path.read_text())
    _check_ports(ports, network)
    harness = workdir / "harness.v"
    harness.write_text(render_harness(ports, network))
    if expected is None:
        expected = predict_codes(network, codes)
    files = {name: workdir / f"{name}.hex" for name in ("vectors", "expected", "observed")}
    files["vectors"].write_text("".join(f"{v:x}\n" for v in pack(codes, network.input_bits)))
    files["expected"].write_text("".join(f"{int(v):x}\n" for v in expected))
    files["observed"].unlink(missing_ok=True)
    runner = get_runner("icarus")
    # the runner narrates every command at INFO: show that only when debugging
    runner.log.setLevel(logging.DEBUG if log.isEnabledFor(logging.DEBUG) else logging.WARNING)
    build_dir = workdir / "sim_build"
    try:
        runner.build(sources=[verilog_path, *map(Path, extra_sources), harness],
                     hdl_toplevel=HARNESS_TOP, build_dir=build_dir, timescale=("1ns", "1ps"),
                     always=True, log_file=workdir / "build.log")
    except RuntimeError as error:  # the runner's way of saying iverilog failed
        raise VerificationError(f"Icarus could not compile the design ({error}): see "
                                f"{workdir / 'build.log'}") from None
    env = {f"BESPOKE_{k.upper()}": str(v) for k, v in files.items()}
    # rewrite assertions of the bench only: rewriting every import is ~8x slower
    env["COCOTB_REWRITE_ASSERTION_FILES"] = BENCH_MODULE
    try:
        runner.test(test_module=BENCH_MODULE, hdl_toplevel=HARNESS_TOP, build_dir=build_dir,
                    test_dir=workdir, extra_env=env, results_xml=str(workdir / "results.xml"),
                    log_file=workdir / "sim.log", timescale=("1ns", "1ps"))
    except SystemExit:
        # under pytest the runner exits when the bench's own assertion fails; the
        # outputs it wrote are still read and compared below, like everywhere else
        log.debug("the cocotb bench reported a failure")
    except RuntimeError as error:  # the simulator itself failed (killed, crashed)
        log.debug("the simulator failed: %s", error)
    if not files["observed"].exists():
        raise VerificationError(f"the simulator stopped without answering (killed, or crashed): "
                                f"see {workdir / 'sim.log'}")
    observed = np.array([int(line, 16) for line in files["observed"].read_text().split()],
                        dtype=np.int64)
    if len(observed) != len(codes):
        raise VerificationError(f"the simulation answered {len(observed)} of {len(codes)} "
                                f"vectors: see {workdir / 'sim.log'}")
    import cocotb

    return observed, f"Icarus Verilog {tools.version(tools.ICARUS)} via cocotb {cocotb.__version__}"


def verify(verilog_path: Path, network: Network, codes: np.ndarray, workdir: Path,
           extra_sources: Sequence[Path] = ()) -> VerificationResult:
    """Simulate every vector and compare the class index with the emulator's."""
    start = time.perf_counter()
    expected = predict_codes(network, codes)
    observed, simulator = simulate(verilog_path, network, codes, workdir, expected, extra_sources)
    mismatches = int(np.count_nonzero(observed != expected))
    seconds = time.perf_counter() - start
    log.info("simulated %d vectors with %s in %.1f s: %d mismatches", len(codes), simulator,
             seconds, mismatches)
    return VerificationResult(len(codes), mismatches, simulator, observed, expected, seconds)
