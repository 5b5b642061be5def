"""The whole on-sensor classifier's cost: the ADCs (priced by the ADC model) plus the
digital core (measured by synthesis), against the power sources printed circuits run on."""
from __future__ import annotations

from typing import Sequence

from ..ir.interface import Interface
from .adc import UM2_PER_CM2, AdcModel
from .power_sources import budgets


def _part(area_um2: float, power_mw: float | None) -> dict:
    return {"area_cm2": area_um2 / UM2_PER_CM2, "power_mw": power_mw}


def _share(part: float | None, total: float | None) -> float | None:
    return None if part is None or not total else part / total


def system_report(interface: Interface, adc: AdcModel, core_area_um2: float,
                  core_power_mw: float | None, feature_names: Sequence[str] | None = None,
                  feature_value=None, core_source: str = "synthesis",
                  histograms: Sequence[Sequence[int]] | None = None) -> dict:
    """``report.json``'s ``system``: the ADCs per input and in all, the core, the total,
    the ADCs' share and the power budgets it fits.  ``feature_value(i, sensor)`` gives a
    reference in the feature's own units (the input quantization); ``histograms[i]`` is
    input ``i``'s training data counted over equal bins of the sensor range (for plots)."""
    inputs = []
    adc_area = adc_power_uw = 0.0
    for i, channel in enumerate(interface.channels):
        area, power = adc.channel_cost(channel.thresholds, interface.sensor_bits)
        adc_area, adc_power_uw = adc_area + area, adc_power_uw + power
        entry = {"input": i, "comparators": channel.comparators,
                 "thresholds": list(channel.thresholds), "levels": list(channel.levels),
                 "encoding": channel.encoding if channel.comparators else None,
                 "area_cm2": area / UM2_PER_CM2, "power_mw": power / 1000.0}
        if feature_names is not None:
            entry = {"feature": feature_names[i]} | entry
        if feature_value is not None:
            entry["thresholds_feature_units"] = [feature_value(i, t) for t in channel.thresholds]
        if histograms is not None:
            entry["histogram"] = [int(c) for c in histograms[i]]
        inputs.append(entry)
    adc_power = adc_power_uw / 1000.0
    total_power = None if core_power_mw is None else adc_power + core_power_mw
    total_area = adc_area + core_area_um2
    return {
        "adc_model": adc.name,
        "sensor_bits": interface.sensor_bits,
        "adc": _part(adc_area, adc_power) | {"comparators": interface.comparators},
        "core": _part(core_area_um2, core_power_mw) | {"source": core_source},
        "total": _part(total_area, total_power),
        "adc_share": {"area": _share(adc_area, total_area), "power": _share(adc_power, total_power)},
        "budgets": budgets(total_power),
        "inputs": inputs,
    }


def conventional_system(n_inputs: int, input_bits: int, adc: AdcModel, core_area_um2: float,
                        core_power_mw: float | None, sensor_bits: int,
                        core_source: str = "synthesis") -> dict:
    """The same figures for a conventional ``input_bits`` flash ADC on every input."""
    conventional = Interface.conventional(n_inputs, input_bits, sensor_bits)
    report = system_report(conventional, adc, core_area_um2, core_power_mw,
                           core_source=core_source)
    del report["inputs"]  # every input alike: a conventional flash
    report["adc"]["per_input"] = {"area_cm2": report["adc"]["area_cm2"] / max(n_inputs, 1),
                                  "power_mw": report["adc"]["power_mw"] / max(n_inputs, 1)}
    return report
