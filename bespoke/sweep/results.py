"""A sweep's results: the rows of its table (JobResult), its summary, the Pareto front and
the files written from them: results.json, results.md and accuracy_area.svg."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .spec import SweepSpec


@dataclass
class JobResult:
    """A row of the results table."""

    name: str
    source: str
    dataset: str
    topology: list[int] | None
    options: dict
    varied: dict
    status: str  # "ok", "failed" or "not run" (the sweep was interrupted)
    attempts: int = 0
    errors: list[str] = field(default_factory=list)  # every failed attempt's error
    from_previous_run: bool = False
    seconds: float | None = None
    worker: str = ""
    key: str = ""
    accuracy: dict | None = None  # float, quantized, rtl on the test split
    area_cm2: float | None = None
    cells: int | None = None
    power_mw: float | None = None
    delay_ms: float | None = None
    mismatches: int | None = None
    folder: str | None = None


@dataclass
class SweepSummary:
    outdir: Path
    results: list[JobResult]
    seconds: float

    @property
    def ok(self) -> list[JobResult]:
        return [r for r in self.results if r.status == "ok"]

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if r.status == "failed"]

    def text(self) -> str:
        previous = sum(r.from_previous_run for r in self.ok)
        not_run = len(self.results) - len(self.ok) - len(self.failed)
        lines = [f"{self.outdir}: {len(self.results)} jobs: {len(self.ok)} ok"
                 + (f" ({previous} from a previous run)" if previous else "")
                 + f", {len(self.failed)} failed" + (f", {not_run} not run" if not_run else "")
                 + f" in {self.seconds:.1f} s; results.md, results.json, accuracy_area.svg"]
        lines += [f"  failed {r.name}: {r.errors[-1] if r.errors else 'unknown error'}"
                  for r in self.failed]
        return "\n".join(lines)


def pareto(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The (area, accuracy) points no other point beats: smaller or equal area with
    higher accuracy; sorted by area."""
    front: list[tuple[float, float]] = []
    for area, accuracy in sorted(points, key=lambda p: (p[0], -p[1])):
        if not front or accuracy > front[-1][1]:
            front.append((area, accuracy))
    return front


def _fmt(value, spec: str = "{:.4g}") -> str:
    return "—" if value is None else spec.format(value)


def render_markdown(spec: SweepSpec, summary: SweepSummary, versions: dict) -> str:
    results = summary.results
    varied = list(dict.fromkeys(k for r in results for k in r.varied))
    lines = [f"# Sweep {spec.name}", "",
             f"{len(results)} jobs from `{spec.path.name}`: {len(summary.ok)} ok, "
             f"{len(summary.failed)} failed. Accuracy on each job's test split (RTL, equal to "
             "the bit-exact emulator); area, power and delay from synthesis on the job's cell "
             "library.", "", "![accuracy against area](accuracy_area.svg)", "",
             "| job | dataset | topology | " + "".join(f"{v} | " for v in varied)
             + "status | float acc. | RTL acc. | area (cm²) | cells | power (mW) | delay (ms) |",
             "|---|---|---|" + "---|" * len(varied) + "---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        acc = r.accuracy or {}
        status = r.status + (f" ({r.attempts} attempts)" if r.attempts > 1 else "")
        lines.append(
            f"| {r.name} | {r.dataset} | "
            f"{'-'.join(map(str, r.topology)) if r.topology else '—'} | "
            + "".join(f"{r.varied.get(v, r.options.get(v))} | " for v in varied)
            + f"{status} | {_fmt(acc.get('float'), '{:.2%}')} | {_fmt(acc.get('rtl'), '{:.2%}')} | "
            f"{_fmt(r.area_cm2)} | {_fmt(r.cells, '{:d}')} | {_fmt(r.power_mw)} | "
            f"{_fmt(r.delay_ms)} |")
    if summary.failed:
        lines += ["", "## Failed jobs", ""]
        lines += [f"- `{r.name}`: " + "; then ".join(r.errors) + f" (log: `failed/{r.name}.log`)"
                  for r in summary.failed]
    lines += ["", "## Tools", "", "| tool | version |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in versions.items()]
    return "\n".join(lines) + "\n"


def accuracy_area_svg(results: list[JobResult]) -> str:
    from ..report.plots import sweep_pareto_plot

    groups: dict[str, list[tuple[float, float]]] = {}
    for r in results:
        if r.status == "ok" and r.area_cm2 is not None and r.accuracy:
            groups.setdefault(r.dataset, []).append((r.area_cm2, 100 * r.accuracy["rtl"]))
    return sweep_pareto_plot({name: (points, pareto(points)) for name, points in groups.items()})


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def write_results(spec: SweepSpec, summary: SweepSummary, versions: dict) -> None:
    outdir = summary.outdir
    table = {"sweep": spec.name, "spec": str(spec.path), "jobs": len(summary.results),
             "ok": len(summary.ok), "failed": len(summary.failed),
             "tool_versions": versions, "results": [asdict(r) for r in summary.results]}
    _write(outdir / "results.json", json.dumps(table, indent=1) + "\n")
    _write(outdir / "results.md", render_markdown(spec, summary, versions))
    _write(outdir / "accuracy_area.svg", accuracy_area_svg(summary.results))
