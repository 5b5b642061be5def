"""Verilog templates shipped with bespoke (read with importlib.resources)."""
