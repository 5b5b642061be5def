"""Pictures for the reports: SVG text, deterministic for identical data."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"svg.hashsalt": "bespoke", "svg.fonttype": "none", "font.size": 9})


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog so it can be inlined in HTML


def bar_chart(labels: list[str], values: list[float], *, title: str, ylabel: str,
              horizontal: bool = False, fmt: str = "{:.3g}") -> str:
    """A labelled bar chart as SVG."""
    height = max(2.2, 0.28 * len(labels) + 0.8) if horizontal else 2.6
    fig, ax = plt.subplots(figsize=(5.2, height))
    positions = range(len(labels))
    bars = (ax.barh(positions, values, color="#4477aa") if horizontal
            else ax.bar(positions, values, color="#4477aa"))
    if horizontal:
        ax.set_yticks(list(positions), labels)
        ax.invert_yaxis()
        ax.set_xlabel(ylabel)
    else:
        ax.set_xticks(list(positions), labels, rotation=30 if len(labels) > 4 else 0, ha="right"
                      if len(labels) > 4 else "center")
        ax.set_ylabel(ylabel)
    ax.bar_label(bars, [fmt.format(v) for v in values], padding=2, fontsize=8)
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    ax.margins(x=0.15 if horizontal else 0.05, y=0.05 if horizontal else 0.15)
    return _svg(fig)


#: line styles of successive series of :func:`line_plot`
_LINE_STYLES = ("o-", "s--", "x:", "^-.", "v-", "D--", "*:")


def line_plot(x: list[float], series: dict[str, list[float]], *, title: str, xlabel: str,
              ylabel: str, log: bool = False) -> str:
    """One line per series over ``x`` (NaN: no point), as SVG; ``log``: both axes."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for i, (label, values) in enumerate(series.items()):
        ax.plot(x, values, _LINE_STYLES[i % len(_LINE_STYLES)], label=label)
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return _svg(fig)


def pareto_plot(front: list[tuple[float, float]], others: list[tuple[float, float]],
                exact: tuple[float, float], chosen: tuple[float, float], *, floor: float) -> str:
    """Validation accuracy (%) against estimated area (cm²): every candidate, the Pareto
    front, the exact design and the chosen one, and the accuracy budget."""
    fig, ax = plt.subplots(figsize=(5.6, 3.4))
    if others:
        ax.scatter(*zip(*others), s=6, color="#cccccc", label="candidates")
    ax.step(*zip(*front), where="post", color="#4477aa", label="Pareto front")
    ax.scatter(*zip(*front), s=12, color="#4477aa")
    ax.axhline(floor, color="#aa3377", linestyle=":", linewidth=1, label="accuracy budget")
    ax.scatter([exact[0]], [exact[1]], marker="s", s=40, color="#222222", label="exact", zorder=3)
    ax.scatter([chosen[0]], [chosen[1]], marker="*", s=120, color="#ee6677", label="chosen", zorder=3)
    ax.set_xlabel("estimated area (cm²)")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title("Approximation search")
    ax.legend(fontsize=7, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def grouped_bar_chart(labels: list[str], series: dict[str, list[float]], *, title: str,
                      ylabel: str, log: bool = False, fmt: str = "{:.3g}") -> str:
    """Bars side by side per label, one colour per series, as SVG."""
    colours = ("#222222", "#4477aa", "#ee6677", "#228833")
    fig, ax = plt.subplots(figsize=(max(5.2, 0.9 * len(labels) + 1.5), 3.0))
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        positions = [p + (i - (len(series) - 1) / 2) * width for p in range(len(labels))]
        bars = ax.bar(positions, values, width, label=name, color=colours[i % len(colours)])
        ax.bar_label(bars, [fmt.format(v) for v in values], padding=1, fontsize=6)
    ax.set_xticks(list(range(len(labels))), labels, rotation=30, ha="right")
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def loss_reduction_plot(groups: dict[str, list[tuple[float, float]]], *, title: str,
                        against: str = "the exact design",
                        min_reduction: float | None = None) -> str:
    """Test loss (points, against ``against``) against area reduction (log scale), one
    colour per group, with the 1-point line (and, with ``min_reduction``, the reduction a
    figure asks for)."""
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    colours = plt.get_cmap("tab10").colors
    for i, (name, points) in enumerate(groups.items()):
        ax.scatter(*zip(*points), s=18, color=colours[i % len(colours)], label=name, alpha=0.8)
    ax.axhline(1.0, color="#aa3377", linestyle=":", linewidth=1, label="1 point")
    if min_reduction is not None:
        ax.axvline(min_reduction, color="#aa3377", linestyle="--", linewidth=1,
                   label=f"{min_reduction:g}x")
    ax.axhline(0.0, color="#888888", linewidth=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("area reduction against the exact design (x)")
    ax.set_ylabel(f"test loss against {against} (points)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6, loc="upper left", ncol=2)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def sweep_pareto_plot(groups: dict[str, tuple[list[tuple[float, float]],
                                              list[tuple[float, float]]]]) -> str:
    """Test accuracy (%) against area (cm², log scale) of a sweep's jobs: per dataset, its
    points and its Pareto front (a step line), all on one axes."""
    colours = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb",
               "#222222")
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    for i, (name, (points, front)) in enumerate(sorted(groups.items())):
        colour = colours[i % len(colours)]
        ax.scatter(*zip(*points), s=14, color=colour, alpha=0.6)
        ax.step(*zip(*front), where="post", color=colour, label=name)
        ax.scatter(*zip(*front), s=22, color=colour)
    if groups:
        ax.set_xscale("log")
        ax.legend(fontsize=7, loc="lower right")
    else:
        ax.text(0.5, 0.5, "no synthesized job yet", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_xlabel("area (cm²)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Sweep: accuracy against area, Pareto front per dataset")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def stacked_split_chart(labels: list[str], parts: dict[str, list[float]], *,
                        titles: tuple[str, str], units: tuple[str, str],
                        second: dict[str, list[float]]) -> str:
    """Two panels of stacked bars (e.g. area and power), one bar per label, one colour per
    part (e.g. ADCs and core), each segment labelled with its value."""
    colours = ["#ee7733", "#4477aa", "#228833", "#aa3377"]
    fig, axes = plt.subplots(1, 2, figsize=(7.4, 2.8))
    for ax, data, title, unit in zip(axes, (parts, second), titles, units):
        bottom = [0.0] * len(labels)
        for (name, values), colour in zip(data.items(), colours):
            bars = ax.bar(range(len(labels)), values, bottom=bottom, color=colour, label=name)
            ax.bar_label(bars, [f"{v:.3g}" if v else "" for v in values], label_type="center",
                         fontsize=7, color="white")
            bottom = [b + v for b, v in zip(bottom, values)]
        for x, total in enumerate(bottom):
            ax.text(x, total, f"{total:.3g}", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(labels)), labels, fontsize=8)
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.margins(y=0.15)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].legend(fontsize=7, loc="upper right")
    return _svg(fig)


def thresholds_over_histograms(inputs: list[dict], *, sensor_bits: int) -> str:
    """One small panel per input with an ADC: the histogram of its training data over the
    sensor range, and a vertical line at each kept reference."""
    shown = [entry for entry in inputs if entry["comparators"]]
    columns = min(4, max(1, len(shown)))
    rows = max(1, -(-len(shown) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.9 * columns, 1.35 * rows), squeeze=False)
    full = 1 << sensor_bits
    for ax in axes.flat[len(shown):]:
        ax.set_visible(False)
    for ax, entry in zip(axes.flat, shown):
        counts = entry.get("histogram") or []
        if counts:  # one filled outline, not a bar per bin: 30 inputs drew 960 patches
            edges = [i * full / len(counts) for i in range(len(counts) + 1)]
            ax.stairs(counts, edges, fill=True, color="#bbbbbb")
        for t in entry["thresholds"]:
            ax.axvline(t, color="#ee6677", linewidth=1)
        ax.set_xlim(0, full)
        ax.set_yticks([])
        ax.set_xticks([0, full // 2, full], ["0", str(full // 2), str(full)], fontsize=6)
        name = str(entry.get("feature", entry["input"]))
        ax.set_title(f"{name[:18]} ({entry['comparators']})", fontsize=7)
        ax.spines[["top", "right", "left"]].set_visible(False)
    fig.suptitle("Kept ADC references (red) over each input's training data", fontsize=8)
    fig.tight_layout()
    return _svg(fig)


def power_accuracy_plot(groups: dict[str, dict[str, tuple[float, float]]], *, title: str) -> str:
    """Accuracy (%) against power (mW, log scale): per group (dataset) one point per kind
    of design (``{kind: (power_mw, accuracy_percent)}``), joined by a line."""
    markers = ["s", "*", "o", "^", "v", "D"]
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    kinds: list[str] = []
    for group in groups.values():
        kinds += [k for k in group if k not in kinds]
    cmap = plt.get_cmap("tab10")
    for index, (name, group) in enumerate(groups.items()):
        colour = cmap(index % 10)
        points = sorted(group[k] for k in kinds if k in group)
        ax.plot(*zip(*points), color=colour, linewidth=0.8, label=name)
        for kind, marker in zip(kinds, markers):
            if kind in group:
                ax.scatter([group[kind][0]], [group[kind][1]], marker=marker, s=36, color=colour)
    for kind, marker in zip(kinds, markers):
        ax.scatter([], [], marker=marker, color="#555555", label=kind)
    ax.set_xscale("log")
    ax.set_xlabel("system power (mW, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)
