"""Reports: ``report.json`` (machine-readable), ``report.md`` and ``report.html`` (for people).

Markdown and HTML are rendered from the JSON alone, so ``bespoke report OUTDIR``
re-renders them at any time.
"""
from __future__ import annotations

import html
import json
from pathlib import Path

from . import plots
from ..errors import BespokeError
from ..hw.power_sources import BATTERY_MW, POWER_SOURCES


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def _num(value: float | None, fmt: str = "{:.4g}") -> str:
    return "n/a" if value is None else fmt.format(value)


def headline(report: dict) -> list[tuple[str, str]]:
    """The figures users decide by, as (label, text) pairs."""
    acc, ver = report["accuracy"], report["verification"]
    kind = "approximate" if "approximation" in report else "quantized"
    rows = [(f"accuracy float / {kind} / RTL",
             f"{_pct(acc['float'])} / {_pct(acc['quantized'])} / {_pct(acc['rtl'])}")] if acc else []
    rows += [("warning", warning) for warning in report.get("warnings", [])]
    rows.append(("RTL vs emulator", f"{ver['mismatches']} mismatches in {ver['vectors']} vectors"))
    if "area" in report:
        power, gate = report["power"], report["gate_level"]
        core = "core " if "system" in report else ""
        rows += [
            (f"{core}area", f"{report['area']['cm2']:.4g} cm² ({report['area']['um2']:.4g} µm²), "
                            f"{report['cells']} cells"),
            (f"{core}power", f"{power['mw']:.4g} mW (leakage {power['leakage_mw']:.4g}, internal "
                      f"{_num(power['internal_mw'])}, switching {_num(power['switching_mw'])})"),
            _battery_row(report),
            ("critical path", f"{report['delay']['ms']:.4g} ms, up to "
                              f"{report['clock']['max_hz']:.3g} classifications/s"
             if report["clock"]["max_hz"] else "none: no gate between inputs and output"),
            ("netlist vs emulator", f"{gate['verification']['mismatches']} mismatches in "
                                    f"{gate['verification']['vectors']} vectors "
                                    f"({gate['verification']['simulator'].split(' via ')[0]}, "
                                    "cells)"),
            ("formal RTL = netlist", gate["equivalence"]["status"]),
        ]
    if "system" in report:
        system = report["system"]
        total, adc = system["total"], system["adc"]
        rows.insert(1 if acc else 0, (
            "on-sensor system (ADCs + core)",
            f"{total['area_cm2']:.4g} cm², {_num(total['power_mw'])} mW; ADCs "
            f"{adc['area_cm2']:.3g} cm², {adc['power_mw']:.3g} mW ({adc['comparators']} "
            f"comparators)"))
        if "area" not in report:
            rows.append(_battery_row(report))
        base = report.get("baseline", {}).get("system")
        if base:
            rows.append(("system vs exact + conventional ADCs", _system_reduction(system, base)))
    if "baseline" in report:
        base = report["baseline"]
        rows.append(("vs the exact design", f"area {_num(base['area_reduction'], '{:.2f}')}x smaller, "
                     f"leakage {_num(base['power_reduction'], '{:.2f}')}x lower; test accuracy "
                     f"{_pct(base['accuracy'])} exact, {_pct(acc['quantized'])} approximate"
                     + (f"; its netlist {base['equivalence']['status']} equal to its RTL"
                        if "equivalence" in base else "")))
    return rows


def _battery_row(report: dict) -> tuple[str, str]:
    """What the design runs on: the whole system's power when there is one."""
    system = report.get("system")
    if system is None:
        return ("printed battery", f"{'fits' if report['battery']['fits_30mw'] else 'does NOT fit'} "
                                   f"a {BATTERY_MW:g} mW budget")
    if system["total"]["power_mw"] is None:
        return ("power sources", "unknown: the core was not synthesized")
    fits = [s.name for s in POWER_SOURCES if system["budgets"][s.key]]
    misses = [s.name for s in POWER_SOURCES if not system["budgets"][s.key]]
    text = f"the system ({system['total']['power_mw']:.3g} mW) fits " + (
        ", ".join(f"a {name}" for name in fits) if fits else "no printed power source")
    if misses:
        text += "; not " + ", ".join(f"a {name}" for name in misses)
    return ("power sources", text + " (" + ", ".join(
        f"{s.limit_mw:g} mW" for s in POWER_SOURCES) + ")")


def _system_reduction(system: dict, base: dict) -> str:
    area = base["total"]["area_cm2"] / system["total"]["area_cm2"] if system["total"]["area_cm2"] \
        else None
    power = (base["total"]["power_mw"] / system["total"]["power_mw"]
             if system["total"]["power_mw"] and base["total"]["power_mw"] is not None else None)
    return (f"area {_num(area, '{:.2f}')}x smaller ({base['total']['area_cm2']:.3g} cm²), power "
            f"{_num(power, '{:.2f}')}x lower ({_num(base['total']['power_mw'], '{:.3g}')} mW)")


def _system_section(report: dict) -> list[str]:
    system = report["system"]
    base = report.get("baseline", {}).get("system")
    lines = ["", "## The on-sensor system", "",
             f"One flash ADC per input (ADC model: {system['adc_model']}), each keeping only the "
             f"references the classifier needs ({system['adc']['comparators']} comparators in all), "
             f"in front of the synthesized digital core (`top.v`, the ADCs' encoders included). "
             f"Sensor values are {system['sensor_bits']}-bit fixed point over each input's range.",
             ""]
    header = "| | ADCs | core | total |"
    rows = [header, "|---|---|---|---|",
            f"| area (cm²) | {system['adc']['area_cm2']:.4g} | {system['core']['area_cm2']:.4g} | "
            f"{system['total']['area_cm2']:.4g} |",
            f"| power (mW) | {system['adc']['power_mw']:.4g} | {_num(system['core']['power_mw'])} | "
            f"{_num(system['total']['power_mw'])} |"]
    if base:
        rows += [f"| exact design + conventional ADCs, area (cm²) | {base['adc']['area_cm2']:.4g} | "
                 f"{base['core']['area_cm2']:.4g} | {base['total']['area_cm2']:.4g} |",
                 f"| exact design + conventional ADCs, power (mW) | {base['adc']['power_mw']:.4g} | "
                 f"{_num(base['core']['power_mw'])} | {_num(base['total']['power_mw'])} |"]
    lines += rows
    share = system["adc_share"]
    lines += ["", f"The ADCs take {_pct(share['area'])} of the area and {_pct(share['power'])} of "
                  "the power." + (f" Against the exact design with conventional ADCs: "
                                  f"{_system_reduction(system, base)}." if base else ""),
              "", _battery_row(report)[1] + ".", ""]
    verification = report.get("system_verification")
    if verification:
        lines += [f"Module `system` (`system.v`: behavioral comparators in front of `top`) simulated "
                  f"from sensor values to class on {verification['vectors']} vectors (the test "
                  "split, each kept reference's value and its two neighbours, the corners, random "
                  f"values): **{verification['mismatches']} mismatches** against the emulator.", ""]
    lines += ["| input | comparators | references (sensor units) | references (feature units) | "
              "core codes per level | encoding | area (cm²) | power (mW) |",
              "|---|---|---|---|---|---|---|---|"]
    for entry in system["inputs"]:
        units = ", ".join(f"{v:.4g}" for v in entry.get("thresholds_feature_units", []))
        lines.append(f"| {entry.get('feature', entry['input'])} | {entry['comparators']} | "
                     f"{', '.join(map(str, entry['thresholds'])) or 'no ADC'} | {units} | "
                     f"{', '.join(map(str, entry['levels']))} | {entry['encoding'] or ''} | "
                     f"{entry['area_cm2']:.3g} | {entry['power_mw']:.3g} |")
    return lines


def knob_summary(knobs: dict) -> str:
    """One line on what the approximation changed, from ``approximation.knobs``."""
    neurons = knobs["neurons"]
    parts = [f"{sum(n['pruned'] for n in neurons)} connections pruned",
             f"signed digits {sum(n['exact_digits'] for n in neurons)} → "
             f"{sum(n['digits'] for n in neurons)}",
             f"{sum(1 for n in neurons if n['truncation'])} of {len(neurons)} neurons drop low "
             "partial-product columns"]
    masks = [max(n["input_masks"] or [0]) for n in neurons if n["neuron"].startswith("l0_")]
    if any(masks):
        parts.append("some circuit inputs lose low bits")
    bits = sorted({n["activation_bits"] for n in neurons if "activation_bits" in n})
    levels = sorted({n["activation_levels"] for n in neurons if "activation_levels" in n})
    if bits:
        parts.append(f"hidden codes of {'/'.join(map(str, bits))} bits")
    if levels:
        parts.append(f"{'/'.join(map(str, levels))} comparator levels")
    if knobs["decision_shift"]:
        parts.append(f"argmax over logits >> {knobs['decision_shift']}")
    return "; ".join(parts)


def _data_lines(report: dict) -> list[str]:
    """Where each part of the data comes from, and the warnings about it."""
    parts = report.get("data", {}).get("parts")
    lines = []
    if parts:
        names = {"training": "training (quantization)", "search_training": "search training",
                 "validation": "search validation", "test": "test (every accuracy above)"}
        lines += ["Data: " + "; ".join(f"{names[k]}: {v['source']}, {v['samples']} samples"
                                      for k, v in parts.items()) + ".", ""]
    lines += [f"**Warning**: {warning}." for warning in report.get("warnings", [])]
    return lines + ([""] if report.get("warnings") else [])


def render_markdown(report: dict, timing: dict | None = None) -> str:
    model, opts = report["model"], report["options"]
    acc, ver = report["accuracy"], report["verification"]
    lines = [
        f"# bespoke report: {model['name']}",
        "",
        f"Topology {'-'.join(map(str, model['topology']))}, hidden activation "
        f"`{model['activation']}`, {model['n_classes']} classes, {opts['input_bits']}-bit inputs, "
        f"{opts['weight_bits']}-bit weights.",
        "",
        "| figure | value |", "|---|---|",
        *[f"| {label} | {text} |" for label, text in headline(report)],
        "",
        *([
            "## Accuracy on the test split",
            "",
            "| float (scikit-learn) | quantized (emulator) | RTL (simulated) | test samples |",
            "|---|---|---|---|",
            f"| {_pct(acc['float'])} | {_pct(acc['quantized'])} | {_pct(acc['rtl'])} | {acc['n_test']} |",
            "",
            *_data_lines(report),
        ] if acc else [
            f"Integer specification `{model.get('source', model['name'])}`: no data, so no accuracy.",
            "",
        ]),
        "## Verification",
        "",
        f"{ver['vectors']} vectors ({'the test split, ' if acc else ''}the corners, "
        f"{opts['random_vectors']} random) "
        f"simulated with {ver['simulator']}: **{ver['mismatches']} mismatches** against the "
        f"bit-exact emulator ({'passed' if ver['mismatches'] == 0 else 'FAILED'}).",
    ]
    if "gate_level" in report:
        gate = report["gate_level"]
        lines += [
            "",
            f"Gate netlist with the cell models, same vectors, same simulator: "
            f"**{gate['verification']['mismatches']} mismatches**. Netlist evaluated by bespoke on "
            f"{gate['evaluation_vectors']} vectors"
            f"{' (every possible input)' if gate['evaluation_exhaustive'] else ''}: "
            f"{'matches' if gate['evaluation_matches_emulator'] else 'DIFFERS FROM'} the emulator. "
            f"Formal equivalence RTL = netlist: **{gate['equivalence']['status']}**"
            f"{' (' + gate['equivalence']['reason'] + ')' if gate['equivalence']['reason'] else ''}.",
        ]
    if "approximation" in report:
        approx = report["approximation"]
        lines += [
            "",
            "## Approximation",
            "",
            f"{approx['method']}: {approx['evaluations']} candidates scored by validation accuracy "
            f"(bit-exact emulator) and estimated area; budget "
            f"{100 * approx['max_accuracy_loss']:.2f} points. Validation accuracy "
            f"{_pct(approx['validation_accuracy']['exact'])} exact, "
            f"{_pct(approx['validation_accuracy']['chosen'])} chosen; estimated area "
            f"{approx['estimated_area_um2']['exact'] / 1e8:.3f} → "
            f"{approx['estimated_area_um2']['chosen'] / 1e8:.3f} cm².",
            "",
            "Knobs: " + knob_summary(approx["knobs"]) + ".",
        ]
        if "baseline" in report:
            base = report["baseline"]
            lines += ["", "| | exact | approximate | reduction |", "|---|---|---|---|",
                      f"| test accuracy | {_pct(base['accuracy'])} | {_pct(acc['quantized'])} | |",
                      f"| area (cm²) | {base['area_cm2']:.3f} | {report['area']['cm2']:.3f} | "
                      f"{_num(base['area_reduction'], '{:.2f}')}x |",
                      f"| cells | {base['cells']} | {report['cells']} | |",
                      f"| formal RTL = netlist | {base['equivalence']['status']} | "
                      f"{report['gate_level']['equivalence']['status']} | |",
                      f"| leakage (mW) | {base['leakage_mw']:.3f} | {report['power']['leakage_mw']:.3f} | "
                      f"{_num(base['power_reduction'], '{:.2f}')}x |"]
    if "system" in report:
        lines += _system_section(report)
    if "area" in report:
        syn, power = report["synthesis"], report["power"]
        lines += [
            "",
            "## Synthesis",
            "",
            f"{syn['tool']}, ABC script `{syn['abc_script']}`, library `{syn['liberty']}`, "
            f"hierarchy {syn['hierarchy']}.",
            "",
            "| cell | count |", "|---|---|",
            *[f"| {cell} | {count} |" for cell, count in syn["cells_by_type"].items()],
            "",
            "Per layer and per module (one module per neuron, mapped on its own; the totals "
            "above come from the flat netlist, optimized across neurons):",
            "",
            "| module | cells | area (µm²) |", "|---|---|---|",
            *[f"| **{name}** | {m['cells']} | {m['area_um2']:.4g} |" for name, m in syn["layers"].items()],
            *[f"| {name} | {m['cells']} | {m['area_um2']:.4g} |" for name, m in syn["modules"].items()],
            "",
            "## Power and timing",
            "",
            f"- leakage: {power['leakage_mw']:.4f} mW ({power['leakage_method']})",
            f"- internal: {_num(power['internal_mw'])} mW, switching: "
            f"{_num(power['switching_mw'])} mW ({power['dynamic_method']})",
            f"- critical path: {report['delay']['ms']:.3f} ms ({report['delay']['source']})",
        ]
    lines += ["", "## Circuit", "",
              "| layer | neurons | activation | accumulator widths (bits) | non-zero weights | signed digits |",
              "|---|---|---|---|---|---|"]
    for i, layer in enumerate(report["circuit"]["layers"]):
        lines.append(f"| {i} | {layer['neurons']} | {layer['activation']} | "
                     f"{layer['accumulator_widths']} | {layer['nonzero_weights']} | "
                     f"{layer['signed_digits']} |")
    table = report["circuit"].get("decision_table")
    if table:
        lines += ["", f"The output layer and the decision are one lookup table over "
                      f"{table['bits']} bits of hidden codes ({1 << table['bits']} entries), "
                      "minimized by synthesis as logic: its adders above are not built."]
    if timing:
        lines += ["", "## Time per stage", "", "| stage | seconds |", "|---|---|"]
        lines += [f"| {stage} | {seconds:.2f} |" for stage, seconds in timing.items()]
    return "\n".join(lines) + "\n"


def figures(report: dict) -> dict[str, str]:
    """SVG pictures: accuracy side by side, cells by type, area per neuron."""
    acc = report["accuracy"]
    result = {"accuracy": plots.bar_chart(
        ["float", "quantized", "RTL"], [100 * acc["float"], 100 * acc["quantized"], 100 * acc["rtl"]],
        title="Test accuracy", ylabel="%", fmt="{:.2f}")} if acc else {}
    if "approximation" in report:
        approx = report["approximation"]
        va, ea = approx["validation_accuracy"], approx["estimated_area_um2"]
        result["approximation"] = plots.pareto_plot(
            [(a / 1e8, 100 * v) for a, v in approx["front"]], [],
            (ea["exact"] / 1e8, 100 * va["exact"]), (ea["chosen"] / 1e8, 100 * va["chosen"]),
            floor=100 * (va["exact"] - approx["max_accuracy_loss"]))
    if "system" in report and report["system"]["total"]["power_mw"] is not None:
        system = report["system"]
        base = report.get("baseline", {}).get("system")
        labels = (["exact + conventional ADCs"] if base else []) + ["this design"]
        chosen = [s for s in (base, system) if s]
        result["system"] = plots.stacked_split_chart(
            labels, {"ADCs": [s["adc"]["area_cm2"] for s in chosen],
                     "core": [s["core"]["area_cm2"] for s in chosen]},
            second={"ADCs": [s["adc"]["power_mw"] for s in chosen],
                    "core": [s["core"]["power_mw"] or 0.0 for s in chosen]},
            titles=("System area", "System power"), units=("cm²", "mW"))
    if "system" in report:
        result["adc_references"] = plots.thresholds_over_histograms(
            report["system"]["inputs"], sensor_bits=report["system"]["sensor_bits"])
    if "synthesis" in report:
        syn = report["synthesis"]
        result["cells"] = plots.bar_chart(list(syn["cells_by_type"]), list(syn["cells_by_type"].values()),
                                          title="Cells by type", ylabel="cells", fmt="{:.0f}")
        result["area_per_module"] = plots.bar_chart(
            list(syn["modules"]), [m["area_um2"] / 1e8 for m in syn["modules"].values()],
            title="Area per neuron (l<layer>_n<index>) and decision", ylabel="cm²",
            horizontal=True, fmt="{:.3f}")
    return result


def render_html(report: dict, timing: dict | None = None) -> str:
    """A self-contained page: headline table, pictures inline as SVG, the Markdown below."""
    rows = "".join(f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td></tr>"
                   for a, b in headline(report))
    pictures = "".join(f'<figure id="{name}">{svg}</figure>' for name, svg in figures(report).items())
    details = html.escape(render_markdown(report, timing))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>bespoke report: {html.escape(report['model']['name'])}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ text-align: left; padding: .2em .8em;
border-bottom: 1px solid #ddd; }} figure {{ display: inline-block; margin: .5em; }}
pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; }}
</style></head><body>
<h1>bespoke report: {html.escape(report['model']['name'])}</h1>
<table>{rows}</table>
{pictures}
<h2>Details</h2>
<pre>{details}</pre>
</body></html>
"""


def write(report: dict, outdir: Path, timing: dict | None = None) -> None:
    """Write ``report.json`` (no wall-clock figures: identical inputs, identical bytes),
    ``report.md`` and ``report.html``."""
    (outdir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    (outdir / "report.md").write_text(render_markdown(report, timing))
    (outdir / "report.html").write_text(render_html(report, timing))


def rerender(outdir: Path) -> None:
    """``bespoke report OUTDIR``: rebuild the Markdown and HTML from ``report.json``."""
    path = Path(outdir) / "report.json"
    if not path.is_file():
        raise BespokeError(f"{outdir} has no report.json: pass a folder written by bespoke compile")
    try:
        report = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise BespokeError(f"{path} is not valid JSON ({exc.msg}): recompile the design") from None
    timing_path = Path(outdir) / "timing.json"
    timing = json.loads(timing_path.read_text()) if timing_path.is_file() else None
    (Path(outdir) / "report.md").write_text(render_markdown(report, timing))
    (Path(outdir) / "report.html").write_text(render_html(report, timing))
