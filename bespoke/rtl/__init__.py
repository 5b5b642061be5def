"""The RTL stage: the IR lowered to Verilog with Amaranth, and proven equal to the emulator.

- ``lower``: the IR to an Amaranth component and deterministic Verilog (module ``top``).
- ``ports``: the port map read back from the Verilog.
- ``verify``: Icarus Verilog through cocotb (or Verilator) on every vector, exact equality
  with the emulator (``cocotb_bench`` is the test cocotb runs).
"""
from .lower import OUTPUT_NAME, input_name, to_verilog
from .verify import VerificationResult, verification_vectors, verify

__all__ = ["OUTPUT_NAME", "input_name", "to_verilog", "VerificationResult",
           "verification_vectors", "verify"]
