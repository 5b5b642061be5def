"""The hardware stage: synthesis to a printed cell library, gate-level checks, area, power and
delay.

- ``pdk`` and ``liberty``: the bundled EGFET library (written from published figures) and the
  liberty reader; ``netlist``: gate netlists read, evaluated and timed in Python.
- ``synth``: Yosys and ABC; ``sta``: OpenSTA; ``formal``: the RTL = netlist proof.
- ``implement``: all of it for one design, with its measured area, power and delay.
- ``power_sources``: the power budgets printed circuits run on.
"""
__all__ = ["Implementation", "ImplementOptions", "implement", "measure"]


def __getattr__(name: str):
    # imported on first use, so that ``python -m bespoke.hw.pdk`` runs its module only once
    if name in __all__:
        from . import implement

        return getattr(implement, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
