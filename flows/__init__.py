"""Synthesis and timing flow scripts shipped with bespoke (read with importlib.resources)."""
