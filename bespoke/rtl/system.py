"""The whole on-sensor classifier as Verilog: module ``system``, from sensor values to class.

``system`` has one sensor input ``s<i>`` per input whose ADC keeps a comparator (a
``sensor_bits`` fixed-point value, the stand-in for the voltage), a *behavioral*
comparator bank per input (``s >= T`` for every kept reference: analog in the real
circuit, priced by the ADC model, never synthesized) and the synthesized digital side,
module ``top``, fed with the comparators' thermometer bits.  It exists to prove, by
simulation, that the chain from sensor value to class is exactly what the emulator says.
"""
from __future__ import annotations

import numpy as np

from ..ir.network import Network
from .lower import OUTPUT_NAME, input_name

SYSTEM_MODULE = "system"


def sensor_name(index: int) -> str:
    return f"s{index}"


def system_ports(network: Network) -> tuple[tuple[str, int], ...]:
    """``(name, width)`` of the sensor inputs of ``system``."""
    interface = network.interface
    return tuple((sensor_name(i), interface.sensor_bits)
                 for i, c in enumerate(interface.channels) if c.comparators)


def system_values(network: Network, sensor: np.ndarray) -> np.ndarray:
    """The values on :func:`system_ports` for ``(samples, inputs)`` sensor values."""
    live = [i for i, c in enumerate(network.interface.channels) if c.comparators]
    return np.asarray(sensor, np.int64)[:, live]


def system_verilog(network: Network) -> str:
    """Deterministic Verilog of module ``system`` around module ``top`` (in ``top.v``)."""
    interface = network.interface
    if interface is None:
        raise ValueError("a system needs an interface")
    ports = [f"    input wire [{width - 1}:0] {name}," for name, width in system_ports(network)]
    lines = ["// The on-sensor classifier: behavioral comparator banks (the ADCs' analog side,",
             "// priced by the ADC model, not synthesized) in front of the digital top (top.v).",
             f"module {SYSTEM_MODULE} (", *ports,
             f"    output wire [{network.output_width - 1}:0] {OUTPUT_NAME}", ");"]
    connections = []
    for i, channel in enumerate(interface.channels):
        if not channel.comparators:
            continue
        bits = ", ".join(f"{sensor_name(i)} >= {interface.sensor_bits}'d{t}"
                         for t in reversed(channel.thresholds))
        lines.append(f"    wire [{channel.comparators - 1}:0] t{i} = {{{bits}}};")
        connections.append(f"        .{input_name(i)}(t{i}),")
    lines += ["    top core (", *connections, f"        .{OUTPUT_NAME}({OUTPUT_NAME})", "    );",
              "endmodule", ""]
    return "\n".join(lines)


def sensor_vectors(network: Network, sensor: np.ndarray | None, n_random: int,
                   seed: int) -> np.ndarray:
    """Sensor values to verify ``system`` on: the given ones (a test split's), then for
    every kept reference ``T`` of every input the values ``T - 1``, ``T`` and ``T + 1``
    (the other inputs random), the two corners, and ``n_random`` random values."""
    interface = network.interface
    n, top = interface.n_inputs, (1 << interface.sensor_bits) - 1
    rng = np.random.default_rng(seed)
    edges = []
    for i, channel in enumerate(interface.channels):
        for t in channel.thresholds:
            rows = rng.integers(0, top + 1, size=(3, n), dtype=np.int64)
            rows[:, i] = np.clip([t - 1, t, t + 1], 0, top)
            edges.append(rows)
    parts = ([np.asarray(sensor, np.int64)] if sensor is not None else []) + edges + [
        np.zeros((1, n), np.int64), np.full((1, n), top, np.int64),
        rng.integers(0, top + 1, size=(n_random, n), dtype=np.int64)]
    return np.concatenate(parts)
