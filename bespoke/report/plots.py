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


def loss_reduction_plot(groups: dict[str, list[tuple[float, float]]], *, title: str) -> str:
    """Test loss (points) against area reduction (log scale), one colour per group, with
    the 1-point line."""
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    colours = plt.get_cmap("tab10").colors
    for i, (name, points) in enumerate(groups.items()):
        ax.scatter(*zip(*points), s=18, color=colours[i % len(colours)], label=name, alpha=0.8)
    ax.axhline(1.0, color="#aa3377", linestyle=":", linewidth=1, label="1 point")
    ax.axhline(0.0, color="#888888", linewidth=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("area reduction against the exact design (x)")
    ax.set_ylabel("test loss against the exact design (points)")
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
