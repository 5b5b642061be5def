"""Timing and power of a combinational gate netlist with OpenSTA.

The critical path is the worst ``data arrival time`` of ``report_checks -unconstrained``
(inputs to outputs, no clock yet).  Power is then reported under a virtual clock (published
printed-MLP flows use 200 ms) that sets the time base of the input activity.  The script
sets ``set_cmd_units -time ns``, so OpenSTA prints times in ns whatever the library's
``time_unit``; ``report_power`` always prints watts.

Facts about Debian's OpenSTA 2.0.17 (2019 snapshot) this module relies on:

* ``sta -no_splash -no_init -exit script.tcl`` runs a script and exits; the exit status is
  0 even when a command fails, so the output is searched for ``Error`` lines.  A cell
  missing from the liberty is only a warning (``module X not found. Creating black box``),
  which would silently cut paths: it is treated as an error here.
* Switching activity is global only: ``set_power_activity -input -activity A`` (A in
  transitions per clock period; OpenSTA propagates it through the cell functions).  There
  is no VCD/SAIF reader and ``report_units`` does not exist (``set_max_delay`` is reported
  to crash on large designs; it is not used).
* Times are single-precision floats in seconds: against a 200 ms clock the slack of paths
  that differ by a few ns is identical (float32 resolution at 0.2 s is ~15 ns), so with a
  CMOS library ``report_checks`` under the clock picks an arbitrary, short path.  The
  critical path is therefore taken from ``-unconstrained`` paths, ranked by arrival.
* Line comments (``//``) in a liberty are a syntax error for this build's reader.
* Leakage in ``report_power`` is each instance's ``cell_leakage_power``: the state-dependent
  ``leakage_power`` groups are ignored when it is present (and, without it, this build
  weights the states so that e.g. XOR2X1 leaks twice its mean state value).  State-dependent
  leakage on real data is computed by bespoke itself (``bespoke.netlist``).
"""
from __future__ import annotations

import logging
import math
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .. import tools
from ..errors import BespokeError

log = logging.getLogger(__name__)

STA = tools.Tool("sta", "BESPOKE_STA", "sudo apt-get install opensta", ("-version",))
MW_PER_W = 1000.0
MS_PER_NS = 1e-6

_SCRIPT = """\
# bespoke: timing and power of a combinational netlist (written by bespoke.hw.sta)
read_liberty {liberty}
read_verilog {netlist}
link_design {top}
set_cmd_units -time ns
report_checks -unconstrained -path_delay max -format full -digits 6
create_clock -name vclk -period {period_ns}
set_input_delay 0 -clock vclk [all_inputs]
set_output_delay 0 -clock vclk [all_outputs]
set_power_activity -input -activity {activity}
report_power -digits 6
"""

#: Port names standing in for constant pins (see :func:`tie_constants`).
TIE_PORTS = {"1'b0": "bespoke_tie0", "1'b1": "bespoke_tie1"}


def tie_constants(netlist: str, top: str) -> str:
    """Replace constant pin connections by extra input ports.

    This OpenSTA build crashes in ``report_power`` on cells with constant pins (and,
    seen once, when such ports are pinned with ``set_case_analysis``).  The flat
    mapping of ``flows/synth.ys`` leaves none; should one appear, the port is analysed
    like any other input: its paths count toward the delay (conservative) and its
    activity toward the switching power (negligible at a few Hz).
    """
    used = [c for c in TIE_PORTS if c in netlist]
    if not used:
        return netlist
    header = re.compile(rf"(^module {re.escape(top)}\s*\()(.*?)(\);)", re.M | re.S)
    match = header.search(netlist)
    if not match:
        raise BespokeError(f"the netlist has no module {top!r}")
    ports = [TIE_PORTS[c] for c in used]
    declarations = "".join(f"  input {p};\n" for p in ports)
    text = (netlist[:match.start()] + match.group(1) + match.group(2) + ", " + ", ".join(ports)
            + match.group(3) + "\n" + declarations + netlist[match.end():])
    for constant in used:
        text = re.sub(rf"\(\s*{re.escape(constant)}\s*\)", f"({TIE_PORTS[constant]})", text)
    return text


@dataclass(frozen=True)
class TimingPower:
    """OpenSTA's figures for one netlist."""

    delay_ms: float  # critical path, inputs to outputs
    max_clock_hz: float  # 1 / delay (infinite when no path reaches an output)
    leakage_mw: float
    internal_mw: float
    switching_mw: float
    total_mw: float
    tool: str  # "OpenSTA 2.0.17"
    log: str = field(default="", repr=False, compare=False)  # what OpenSTA printed

    def to_dict(self) -> dict:
        return {"delay_ms": self.delay_ms, "max_clock_hz": self.max_clock_hz,
                "leakage_mw": self.leakage_mw, "internal_mw": self.internal_mw,
                "switching_mw": self.switching_mw, "total_mw": self.total_mw, "tool": self.tool}


_ARRIVAL = re.compile(r"^\s*(-?\d[\d.eE+-]*)\s+data arrival time\s*$", re.M)
_POWER_TOTAL = re.compile(r"^Total" + r"\s+(-?\d[\d.eE+-]*)" * 4, re.M)


def parse_delay(text: str, time_unit_ms: float = MS_PER_NS) -> float:
    """The worst data arrival time in ``report_checks`` output, in ms; ``time_unit_ms`` is
    the report's time unit (ns under ``set_cmd_units -time ns``).  0 when OpenSTA found no
    path."""
    arrivals = [float(value) for value in _ARRIVAL.findall(text)]
    if arrivals:
        return max(arrivals) * time_unit_ms  # a constrained report repeats it negated
    if "No paths found" in text:
        return 0.0
    raise BespokeError("OpenSTA's report_checks output has no data arrival time")


def parse_power(text: str) -> dict[str, float]:
    """The ``Total`` row of ``report_power`` (watts) in mW: ``internal_mw``, ``switching_mw``,
    ``leakage_mw``, ``total_mw``."""
    match = _POWER_TOTAL.search(text)
    if match is None:
        raise BespokeError("OpenSTA's report_power output has no Total row")
    internal, switching, leakage, total = (float(v) * MW_PER_W for v in match.groups())
    return {"internal_mw": internal, "switching_mw": switching, "leakage_mw": leakage,
            "total_mw": total}


def sta_version(executable: str) -> str:
    """``"OpenSTA 2.0.17"``: this build prints the bare number for ``-version``."""
    result = subprocess.run([executable, *STA.version_args], capture_output=True, text=True,
                            check=False, timeout=30)
    match = re.search(r"\d+(?:\.\d+)+\S*", result.stdout + result.stderr)
    return f"OpenSTA {match.group() if match else 'unknown version'}"


def _problems(output: str) -> list[str]:
    """Lines that mean the figures cannot be trusted."""
    return [line.strip() for line in output.splitlines()
            if line.lstrip().startswith("Error") or re.search(r"module \S+ not found", line)]


def _copy(source: Path, target: Path) -> None:
    if source.resolve() != target.resolve():
        shutil.copyfile(source, target)


def run_sta(netlist: Path, liberty: Path, top: str, workdir: Path, *, input_activity: float,
            clock_period_ms: float = 200.0, timeout_s: float = 300.0) -> TimingPower:
    """Critical path delay and power of ``netlist`` (module ``top``) on ``liberty``.

    ``input_activity`` is in transitions per ``clock_period_ms``.  Raises
    :class:`~bespoke.errors.ToolMissingError` when ``sta`` is not installed, and
    :class:`~bespoke.errors.BespokeError` when OpenSTA reports an error."""
    if not input_activity >= 0.0:
        raise BespokeError(f"the input activity must be >= 0, not {input_activity}")
    if not clock_period_ms > 0.0:
        raise BespokeError(f"the clock period must be > 0 ms, not {clock_period_ms}")
    executable = tools.find(STA)
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    # copies with plain relative names: no quoting of user paths inside Tcl
    (workdir / "netlist.v").write_text(tie_constants(Path(netlist).read_text(), top))
    _copy(Path(liberty), workdir / "cells.lib")
    (workdir / "sta.tcl").write_text(_SCRIPT.format(
        liberty="cells.lib", netlist="netlist.v", top=top,
        period_ns=f"{clock_period_ms / MS_PER_NS:.9g}",
        activity=f"{input_activity:.9g}"))
    command = [executable, "-no_splash", "-no_init", "-exit", "sta.tcl"]
    try:
        result = subprocess.run(command, cwd=workdir, capture_output=True, text=True,
                                timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise BespokeError(f"OpenSTA did not finish in {timeout_s:.0f} s (see {workdir})") from None
    output = result.stdout + result.stderr
    (workdir / "sta.log").write_text(output)
    problems = _problems(output)
    if result.returncode != 0 or problems:
        reason = problems[0] if problems else f"exit status {result.returncode}"
        raise BespokeError(f"OpenSTA failed ({reason}): see {workdir / 'sta.log'}")
    delay = parse_delay(output)
    power = parse_power(output)
    tool = sta_version(executable)
    log.info("%s: critical path %.4g ms, %.4g mW (leakage %.4g mW)", tool, delay,
             power["total_mw"], power["leakage_mw"])
    return TimingPower(delay, 1000.0 / delay if delay > 0 else math.inf,
                       power["leakage_mw"], power["internal_mw"], power["switching_mw"],
                       power["total_mw"], tool, output)
