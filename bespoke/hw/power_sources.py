"""What printed circuits run on: the power budgets a design is checked against
(``../shared/DESIGN.md`` sections 3 and 8)."""
from __future__ import annotations

from dataclasses import dataclass

BATTERY_MW = 30.0  # a printed battery delivers on the order of 30 mW (DESIGN.md section 3)


@dataclass(frozen=True)
class PowerSource:
    key: str  # the report's name for "fits this source"
    name: str
    limit_mw: float


POWER_SOURCES = (
    PowerSource("fits_printed_battery_30mw", "printed battery", BATTERY_MW),
    PowerSource("fits_thin_film_battery_3mw", "thin-film printed battery (Blue Spark class)", 3.0),
    PowerSource("fits_energy_harvester_0_1mw", "printed energy harvester", 0.1),
)


def budgets(power_mw: float | None) -> dict[str, bool | None]:
    """Which power sources a design drawing ``power_mw`` fits (None: power unknown)."""
    return {s.key: None if power_mw is None else power_mw <= s.limit_mw for s in POWER_SOURCES}
