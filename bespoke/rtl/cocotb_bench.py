"""The cocotb test that checks the simulated design against the emulator.

Runs inside the simulator (Icarus through cocotb).  The batch driver ``bespoke_batch``
(``rtl_templates/batch.v.tmpl``) applies every packed input vector to the design and writes
what it answers, all inside the simulator; this test starts the simulation, waits for the
driver's ``done``, and fails on any difference from the emulator's expected outputs (files
named by environment variables).  It imports nothing heavy: it is loaded by the simulator's
embedded Python.
"""
from __future__ import annotations

import os

import cocotb
from cocotb.triggers import RisingEdge


def _read_hex(path: str) -> list[int]:
    with open(path) as handle:
        return [int(line, 16) for line in handle if line.strip()]


@cocotb.test()
async def vectors_match_emulator(dut) -> None:
    while str(dut.done.value) != "1":  # X until the driver's first statement, then 0
        await RisingEdge(dut.done)
    observed = _read_hex(os.environ["BESPOKE_OBSERVED"])
    expected = _read_hex(os.environ["BESPOKE_EXPECTED"])
    assert len(observed) == len(expected), (f"the design answered {len(observed)} of "
                                            f"{len(expected)} vectors")
    wrong = [i for i, (a, b) in enumerate(zip(observed, expected)) if a != b]
    assert not wrong, (f"{len(wrong)} of {len(expected)} vectors differ from the emulator, "
                       f"first at vector {wrong[0]}: got {observed[wrong[0]]}, "
                       f"expected {expected[wrong[0]]}")
