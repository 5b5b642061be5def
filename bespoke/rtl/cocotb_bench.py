"""The cocotb test that drives vectors through the simulated design.

Runs inside the simulator (Icarus through cocotb).  It reads packed input vectors and
the emulator's expected outputs from files named by environment variables, applies
each vector, records what the design answers, and fails on any difference.  It
imports nothing heavy: it is loaded by the simulator's embedded Python.
"""
from __future__ import annotations

import os

import cocotb
from cocotb.triggers import Timer


def _read_hex(path: str) -> list[int]:
    with open(path) as handle:
        return [int(line, 16) for line in handle if line.strip()]


@cocotb.test()
async def vectors_match_emulator(dut) -> None:
    vectors = _read_hex(os.environ["BESPOKE_VECTORS"])
    expected = _read_hex(os.environ["BESPOKE_EXPECTED"])
    observed = []
    for vector in vectors:
        dut.vector.value = vector
        await Timer(1, "ns")
        observed.append(int(dut.result.value))
    with open(os.environ["BESPOKE_OBSERVED"], "w") as handle:
        handle.write("".join(f"{value:x}\n" for value in observed))
    wrong = [i for i, (a, b) in enumerate(zip(observed, expected)) if a != b]
    assert not wrong, (f"{len(wrong)} of {len(vectors)} vectors differ from the emulator, "
                       f"first at vector {wrong[0]}: got {observed[wrong[0]]}, "
                       f"expected {expected[wrong[0]]}")
