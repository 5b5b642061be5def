"""What printed circuits run on: the power a design is checked against."""
from __future__ import annotations

BATTERY_MW = 30.0  # a printed battery delivers on the order of 30 mW (DESIGN.md section 3)
