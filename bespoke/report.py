"""Reports: ``report.json`` (machine-readable) and ``report.md`` (for people)."""
from __future__ import annotations

import json
from pathlib import Path


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def render_markdown(report: dict) -> str:
    acc, ver, model = report["accuracy"], report["verification"], report["model"]
    lines = [
        f"# bespoke report: {model['name']}",
        "",
        f"Topology {'-'.join(map(str, model['topology']))}, hidden activation "
        f"`{model['activation']}`, {model['n_classes']} classes, "
        f"{report['options']['input_bits']}-bit inputs, {report['options']['weight_bits']}-bit weights.",
        "",
        "## Accuracy on the test split",
        "",
        f"| float (scikit-learn) | quantized (emulator) | RTL (simulated) | test samples |",
        "|---|---|---|---|",
        f"| {_pct(acc['float'])} | {_pct(acc['quantized'])} | {_pct(acc['rtl'])} | {acc['n_test']} |",
        "",
        "## Verification",
        "",
        f"{ver['vectors']} vectors (the test split, the corners, {report['options']['random_vectors']} "
        f"random) simulated with {ver['simulator']}: **{ver['mismatches']} mismatches** against "
        f"the bit-exact emulator ({'passed' if ver['mismatches'] == 0 else 'FAILED'}).",
        "",
        "## Circuit",
        "",
        "| layer | neurons | activation | accumulator widths (bits) | non-zero weights | signed digits |",
        "|---|---|---|---|---|---|",
    ]
    for i, layer in enumerate(report["circuit"]["layers"]):
        lines.append(f"| {i} | {layer['neurons']} | {layer['activation']} | "
                     f"{layer['accumulator_widths']} | {layer['nonzero_weights']} | "
                     f"{layer['signed_digits']} |")
    lines += ["", "## Time per stage", "", "| stage | seconds |", "|---|---|"]
    lines += [f"| {stage} | {seconds:.2f} |" for stage, seconds in report["timing"].items()]
    return "\n".join(lines) + "\n"


def write(report: dict, outdir: Path) -> None:
    (outdir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    (outdir / "report.md").write_text(render_markdown(report))
