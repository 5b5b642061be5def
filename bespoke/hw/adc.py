"""The cost of the sensor interface: one flash ADC per input, priced by an analog model.

A printed flash ADC is a resistor ladder and one comparator per reference level it keeps;
the level index it reads is a thermometer code, turned into the core's input code by an
encoder that is ordinary logic (synthesized with the core, not priced here).  Comparators
and ladders are analog: synthesis cannot price them, so their area and power come from an
:class:`AdcModel`, a JSON file (``--adc-model FILE``; the bundled one is
``flows/egfet_adc.json``, written by ``python -m bespoke.hw.adc`` from the published figures
below).

The bundled EGFET model (see ``../shared/DESIGN.md`` section 8):

- **Scale**: a conventional 4-bit flash ADC (ladder, 15 comparators, encoder) costs about
  0.17 cm² and 1.3 mW per input (ESL 2024, "Reducing ADC Front-end Costs During Training of
  On-sensor Printed MLPs", Table I divided by each dataset's inputs: 0.167-0.180 cm²,
  1.29-1.33 mW).  The whole published figure is given to the ladder and comparators, so our
  own comparators are priced a little high (the published total includes its encoder) and
  the conventional baseline is the published ADC itself.
- **Area shape**: fixed plus per comparator, ``0.176 + 0.032 (N - 1)`` for N kept comparators
  (DATE 2024, bespoke ADC and decision-tree co-design; its unit, labelled mm², cannot be
  right beside a printed cell of 0.3 mm², so only the shape is kept).
- **Power shape**: a comparator's power grows with its reference level; the same DATE 2024
  source gives levels 1-15 of a 4-bit flash in µW (sum 458 µW).  Scaled to 1.3 mW in all; the
  ladder's current is inside those per-comparator figures (the source gives no separate
  ladder power).  A reference between two published levels takes the linear interpolation.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ..errors import BespokeError

if TYPE_CHECKING:
    from ..ir.interface import Interface

UM2_PER_CM2 = 1e8
ADC_MODEL_FILE = "egfet_adc.json"

# --- the published figures the bundled model is derived from ------------------------------
#: conventional 4-bit flash ADC per input (ESL 2024, Table I averaged over six datasets)
PUBLISHED_FLASH_AREA_CM2 = 0.17
PUBLISHED_FLASH_POWER_MW = 1.3
PUBLISHED_FLASH_BITS = 4
#: area of an ADC with N comparators, ``FIXED + PER_COMPARATOR * (N - 1)`` (DATE 2024)
PUBLISHED_AREA_FIXED = 0.176
PUBLISHED_AREA_PER_COMPARATOR = 0.032
#: power of the comparator at reference level j = 1..15 of a 4-bit flash, µW (DATE 2024)
PUBLISHED_LEVEL_POWER_UW = (8.235, 10.41, 12.88, 15.66, 18.7, 21.97, 25.43, 29.06, 32.84,
                            36.75, 40.77, 44.9, 49.12, 53.41, 57.77)


@dataclass(frozen=True)
class AdcModel:
    """Area and power of a flash ADC's analog parts, as a function of the comparators kept.

    ``level_power_uw[j - 1]`` is the power of a comparator whose reference sits at
    ``j / 2**reference_bits`` of the input's full scale; other references interpolate."""

    name: str
    source: str
    ladder_area_um2: float  # one per ADC that keeps at least one comparator
    comparator_area_um2: float
    ladder_power_uw: float
    reference_bits: int
    level_power_uw: tuple[float, ...]  # 2**reference_bits - 1 entries

    def __post_init__(self) -> None:
        if len(self.level_power_uw) != (1 << self.reference_bits) - 1:
            raise ValueError(f"level_power_uw needs {(1 << self.reference_bits) - 1} entries")
        if min(self.ladder_area_um2, self.comparator_area_um2, self.ladder_power_uw,
               *self.level_power_uw) < 0:
            raise ValueError("areas and powers must not be negative")

    def comparator_power_uw(self, fraction: float) -> float:
        """Power of one comparator whose reference is ``fraction`` of full scale (0..1)."""
        levels = self.level_power_uw
        position = fraction * (1 << self.reference_bits) - 1  # index into levels
        if len(levels) == 1:
            return levels[0]
        low = min(max(int(position // 1), 0), len(levels) - 2)
        slope = levels[low + 1] - levels[low]
        return max(0.0, levels[low] + slope * (position - low))

    def area_um2(self, comparators: int) -> float:
        """Ladder and comparators of one ADC (none when it keeps no comparator)."""
        return self.ladder_area_um2 + comparators * self.comparator_area_um2 if comparators else 0.0

    def power_uw(self, fractions: list[float] | tuple[float, ...]) -> float:
        """Ladder and comparators of one ADC whose references sit at ``fractions``."""
        if not fractions:
            return 0.0
        return self.ladder_power_uw + sum(self.comparator_power_uw(f) for f in fractions)

    def channel_cost(self, thresholds: Sequence[int], sensor_bits: int) -> tuple[float, float]:
        """Area (µm²) and power (µW) of one ADC keeping a comparator at each of
        ``thresholds`` (sensor values, ``2**sensor_bits`` being the full scale)."""
        fractions = [t / (1 << sensor_bits) for t in thresholds]
        return self.area_um2(len(fractions)), self.power_uw(fractions)

    def interface_cost(self, interface: "Interface") -> tuple[float, float]:
        """Area (µm²) and power (µW) of the ADCs of every input of ``interface``."""
        costs = [self.channel_cost(c.thresholds, interface.sensor_bits)
                 for c in interface.channels]
        return sum(a for a, _ in costs), sum(p for _, p in costs)

    def conventional(self, bits: int) -> tuple[float, float]:
        """Area (µm²) and power (µW) of a conventional ``bits``-bit flash ADC."""
        return self.channel_cost(range(1, 1 << bits), bits)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1) + "\n"


def egfet_model() -> AdcModel:
    """The bundled EGFET model, derived from the published figures (module docstring)."""
    comparators = len(PUBLISHED_LEVEL_POWER_UW)
    shape = PUBLISHED_AREA_FIXED + PUBLISHED_AREA_PER_COMPARATOR * (comparators - 1)
    unit_um2 = PUBLISHED_FLASH_AREA_CM2 * UM2_PER_CM2 / shape
    power_scale = PUBLISHED_FLASH_POWER_MW * 1000 / sum(PUBLISHED_LEVEL_POWER_UW)
    return AdcModel(
        name="EGFET flash ADC, 1.0 V (derived from ESL 2024 and DATE 2024 figures)",
        source=("4-bit flash = 0.17 cm2 and 1.3 mW per input (ESL 2024, Table I); area "
                "0.176 + 0.032 (N - 1) and per-level comparator power (DATE 2024) scaled to "
                "that total; ladder power inside the comparators' figures"),
        ladder_area_um2=round((PUBLISHED_AREA_FIXED - PUBLISHED_AREA_PER_COMPARATOR) * unit_um2, 1),
        comparator_area_um2=round(PUBLISHED_AREA_PER_COMPARATOR * unit_um2, 1),
        ladder_power_uw=0.0,
        reference_bits=PUBLISHED_FLASH_BITS,
        level_power_uw=tuple(round(p * power_scale, 3) for p in PUBLISHED_LEVEL_POWER_UW),
    )


def _flows_dir() -> Path:
    return Path(str(resources.files("bespoke.flows")))


def bundled_adc_model_path() -> Path:
    return _flows_dir() / ADC_MODEL_FILE


def load_adc_model(path: str | Path | None = None) -> AdcModel:
    """The model in ``path`` (JSON, the fields of :class:`AdcModel`), or the bundled one."""
    path = Path(path) if path is not None else bundled_adc_model_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise BespokeError(f"ADC model {path} does not exist: give a JSON file with the fields "
                           "of bespoke.hw.adc.AdcModel (see flows/egfet_adc.json)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BespokeError(f"ADC model {path} is not readable JSON ({exc}): see "
                           "flows/egfet_adc.json for the format") from None
    fields = set(AdcModel.__dataclass_fields__)
    if not isinstance(data, dict) or set(data) != fields:
        got = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise BespokeError(f"ADC model {path} must hold exactly the fields {sorted(fields)} "
                           f"(it holds {got}): see flows/egfet_adc.json")
    try:
        data["level_power_uw"] = tuple(float(p) for p in data["level_power_uw"])
        for key in ("ladder_area_um2", "comparator_area_um2", "ladder_power_uw"):
            data[key] = float(data[key])
        data["reference_bits"] = int(data["reference_bits"])
        return AdcModel(**data)
    except (TypeError, ValueError) as exc:
        raise BespokeError(f"ADC model {path} is invalid: {exc}") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bespoke.hw.adc",
                                     description="write the bundled EGFET ADC model")
    parser.add_argument("directory", nargs="?", type=Path, help="default: the bundled flows/")
    args = parser.parse_args(argv)
    target = (args.directory or _flows_dir()) / ADC_MODEL_FILE
    target.write_text(egfet_model().to_json())
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
