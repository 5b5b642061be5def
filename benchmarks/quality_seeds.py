"""Approximation quality over several seeds: how much test accuracy the search really costs.

    .venv/bin/python benchmarks/quality_seeds.py [--seeds 0 1 ... 15] [--no-retrain-too] [--jobs 2]

The suite (``benchmarks/suite.py``) runs the whole flow on one seed.  Its test splits are
small (30 samples for iris: one sample is 3.3 points), so one seed's test loss is mostly
the luck of that split.  This benchmark repeats, for every suite dataset and seed, what
the flow does up to the search (the same training, the same stratified splits, the same
search and options as ``bespoke compile``), then measures the chosen design's test
accuracy by the bit-exact emulator (which the RTL equals on every vector: the suite and
the tests check that) and synthesizes the exact and the chosen design with Yosys on the
bundled library.  ``--no-retrain-too`` also runs the search alone (``bespoke compile
--no-retrain``) on the same splits.  Per dataset it reports the mean test loss against the
exact design over the seeds, with its standard error, and the geometric-mean area reduction;
and where unseen samples lie: how far test samples are from the nearest seen one, against how
far the search's reach neighbourhood moves a seen sample, and how many test answers the
chosen designs change, against how many a fresh draw of that neighbourhood predicts.

Writes ``benchmarks/results/quality_seeds.json``, ``.md`` and ``quality_seeds.svg`` (test
loss against area reduction, one point per dataset and seed).  Never edit them by hand.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

import bespoke
from bespoke.model.data import split
from bespoke.flow import CompileConfig
from bespoke.rtl.lower import to_verilog
from bespoke.hw.pdk import bundled_liberty
from bespoke.ir.emulate import predict_codes
from bespoke.report.plots import loss_reduction_plot
from bespoke.approx.candidates import SearchOptions
from bespoke.approx.neighbourhood import nearest_other_distance, reach_neighbourhood
from bespoke.hw.adc import load_adc_model
from bespoke.hw.synth import synthesize
from bespoke.hw.system import conventional_system, system_report

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import suite  # noqa: E402  (the suite's datasets, topologies and training)

RESULTS = HERE / "results"


def synthesized_area(network) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "top.v").write_text(to_verilog(network))
        return synthesize(folder / "top.v", bundled_liberty(), folder / "syn").area_um2


def where_unseen_samples_lie(seen: np.ndarray, test: np.ndarray) -> dict:
    """Median distances over the input codes: from a test sample to the nearest seen one,
    and from a seen sample to the nearest other distinct seen one (how far the search's
    reach neighbourhood moves it)."""
    from sklearn.neighbors import NearestNeighbors

    distinct, which = np.unique(seen, axis=0, return_inverse=True)
    to_seen, _ = NearestNeighbors(n_neighbors=1).fit(distinct).kneighbors(test)
    to_other = nearest_other_distance(distinct)
    return {"test_to_nearest_seen": float(np.median(to_seen[:, 0])),
            "seen_to_nearest_other": float(np.median(to_other[which.ravel()]))}


def fresh_neighbourhood(seen: np.ndarray, seen_labels: np.ndarray) -> np.ndarray:
    """A fresh draw of the search's reach neighbourhood (another seed than the search's
    own), as many samples as the search's two neighbourhoods together."""
    copies = max(1, SearchOptions().neighbourhood // len(seen))
    return reach_neighbourhood(seen, seen_labels, copies, seed=1)[0]


def changed_answers(exact, chosen, drawn: np.ndarray, X_test: np.ndarray) -> dict:
    """Test answers the chosen design changes (through its ADCs, if it has them), and as many
    as its rate of changed answers on ``drawn`` (:func:`fresh_neighbourhood`, codes; each read
    at its lowest sensor value) predicts for the test split."""
    interface = chosen.network.interface
    read = drawn if interface is None else interface.codes(
        drawn << (interface.sensor_bits - exact.network.input_bits))
    rate = np.mean(predict_codes(exact.network, drawn) != predict_codes(chosen.network, read))
    return {"changed_test": int(np.count_nonzero(exact.predict(X_test) != chosen.predict(X_test))),
            "changed_predicted": float(rate * len(X_test))}


def system_figures(exact, chosen, exact_area_um2: float, core_area_um2: float) -> dict:
    """The chosen design's on-sensor system (its ADCs by the bundled model, its synthesized
    core) beside the exact design with a conventional flash ADC on every input."""
    adc = load_adc_model()
    interface = chosen.network.interface
    mine = system_report(interface, adc, core_area_um2, None)
    baseline = conventional_system(exact.network.n_inputs, exact.network.input_bits, adc,
                                   exact_area_um2, None, interface.sensor_bits)
    return {"system_area_cm2": mine["total"]["area_cm2"],
            "adc_area_cm2": mine["adc"]["area_cm2"], "adc_power_mw": mine["adc"]["power_mw"],
            "comparators": interface.comparators,
            "baseline_area_cm2": baseline["total"]["area_cm2"],
            "baseline_adc_power_mw": baseline["adc"]["power_mw"],
            "system_area_reduction": baseline["total"]["area_cm2"] / mine["total"]["area_cm2"],
            "adc_power_reduction": baseline["adc"]["power_mw"] / max(mine["adc"]["power_mw"], 1e-9)}


def one_run(bench: suite.Benchmark, X, y, seed: int, args) -> dict:
    """The flow's splits and search for one seed (``bespoke compile --seed SEED``)."""
    start = time.perf_counter()
    model = suite.train(X, y, bench.hidden, seed)
    classes, y_index = np.unique(y, return_inverse=True)  # the model's classes_
    X_train, X_test, y_train, y_test = split(X, y_index, CompileConfig.test_size, seed)
    X_fit, X_val, y_fit, y_val = split(X_train, y_train, CompileConfig.validation_size, seed,
                                       "validation")
    y_train, y_test, y_fit, y_val = (classes[part] for part in (y_train, y_test, y_fit, y_val))
    exact = bespoke.compile(model, X_train, y_train)  # as the flow: the whole training split
    row = {"dataset": bench.name, "seed": seed, "n_test": len(y_test),
           "float_accuracy": float(np.mean(model.predict(X_test) == y_test)),
           "exact": {"test_accuracy": exact.score(X_test, y_test),
                     "area_um2": synthesized_area(exact.network)}}
    seen = np.concatenate([exact.codes(X_fit), exact.codes(X_val)])
    seen_labels = np.concatenate([y_fit, y_val])
    test = exact.codes(X_test)
    row.update(where_unseen_samples_lie(seen, test))
    drawn = fresh_neighbourhood(seen, seen_labels)
    for kind in kinds(args):  # approximate: the default flow, which retrains
        begin = time.perf_counter()
        chosen = exact.approximate(X_fit, y_fit, X_val, y_val, seed=seed,
                                   time_budget_s=args.search_time, retrain=kind == "approximate")
        seconds = time.perf_counter() - begin
        accuracy = chosen.score(X_test, y_test)
        area = synthesized_area(chosen.network)
        row[kind] = {"test_accuracy": accuracy, "area_um2": area,
                     "area_reduction": row["exact"]["area_um2"] / area,
                     "loss_points": 100 * (row["exact"]["test_accuracy"] - accuracy),
                     "validation_accuracy": chosen.search.chosen.accuracy,
                     "search_s": round(seconds, 1),
                     "budget_hit": chosen.search.budget_hit,
                     "interface_budget_hit": (chosen.interface_search is not None
                                              and chosen.interface_search.budget_hit),
                     **changed_answers(exact, chosen, drawn, X_test)}
        if chosen.network.interface is not None:
            row[kind]["system"] = system_figures(exact, chosen, row["exact"]["area_um2"], area)
    row["seconds"] = round(time.perf_counter() - start, 1)
    return row


def one_run_then_release(bench: suite.Benchmark, X, y, seed: int, args) -> dict:
    """:func:`one_run` in a pool's worker process, which then stops the processes the
    search's restarts left running (joblib's reusable executor): a worker that keeps them
    never exits, and the pool's shutdown waits for it forever."""
    from joblib.externals.loky import get_reusable_executor

    try:
        return one_run(bench, X, y, seed, args)
    finally:
        get_reusable_executor().shutdown(wait=True)


def kinds(args) -> tuple[str, ...]:
    """The searches run: ``approximate`` is ``bespoke compile`` (retraining when stuck),
    ``no_retrain`` is ``bespoke compile --no-retrain``."""
    return ("approximate", "no_retrain") if args.no_retrain_too else ("approximate",)


def summary(rows: list[dict], kind: str) -> list[dict]:
    out = []
    for name in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == name and kind in r]
        losses = np.array([r[kind]["loss_points"] for r in mine])
        reductions = np.array([r[kind]["area_reduction"] for r in mine])
        out.append({"dataset": name, "seeds": len(mine), "n_test": mine[0]["n_test"],
                    "mean_loss_points": float(losses.mean()),
                    "loss_standard_error": float(losses.std(ddof=1) / np.sqrt(len(mine)))
                    if len(mine) > 1 else float("nan"),
                    "worst_loss_points": float(losses.max()),
                    "geomean_area_reduction": float(np.exp(np.log(reductions).mean())),
                    "min_area_reduction": float(reductions.min())})
    return out


def markdown(rows: list[dict], args, wall: float) -> str:
    runs = kinds(args)
    out = ["# Approximation quality over seeds", "",
           "Produced by `benchmarks/quality_seeds.py`; never edit by hand. The suite's datasets,",
           f"topologies and training; seeds {', '.join(map(str, args.seeds))}; for each, the flow's "
           "stratified splits and", f"search (`bespoke compile --seed SEED`, search time "
           f"{args.search_time:g} s, budget 1 point). Test accuracy by the bit-exact",
           "emulator; area by Yosys on the bundled EGFET library. Loss is against the exact design",
           "of the same seed, in points; ± is one standard error over the seeds. The flow builds",
           "the on-sensor system (ADCs + core): test samples are read through its ADCs, and the",
           "area reductions below are its core's against the exact core (the system section adds",
           "the ADCs).", ""]
    for kind in runs:
        title = ("The default flow (retraining when the search is stuck)" if kind == "approximate"
                 else "The search alone (`--no-retrain`)")
        out += [f"## {title}", "",
                "| dataset | test samples | mean loss (pts) | worst loss | area red. (geomean) "
                "| smallest area red. |", "|---|---|---|---|---|---|"]
        table = summary(rows, kind)
        for s in table:
            out.append(f"| {s['dataset']} | {s['n_test']} | {s['mean_loss_points']:+.2f} ± "
                       f"{s['loss_standard_error']:.2f} | {s['worst_loss_points']:+.2f} | "
                       f"{s['geomean_area_reduction']:.2f}x | {s['min_area_reduction']:.2f}x |")
        every = [r[kind] for r in rows if kind in r]
        out += ["", f"All {len(every)} runs: mean loss "
                f"{np.mean([r['loss_points'] for r in every]):+.2f} points, geometric-mean area "
                f"reduction {np.exp(np.mean(np.log([r['area_reduction'] for r in every]))):.2f}x; "
                f"datasets with a mean loss above 1 point: "
                f"{sum(s['mean_loss_points'] > 1 for s in table)} of {len(table)}. Runs whose "
                f"core search ran out of time: {sum(r['budget_hit'] for r in every)}"
                + ("" if not any("interface_budget_hit" in r for r in every) else
                   f"; whose ADC search did (some of its searches): "
                   f"{sum(r.get('interface_budget_hit', False) for r in every)}")
                + " (their results depend on the machine's speed).", ""]
    out += system_markdown(rows)
    out += ["## Where unseen samples lie", "",
            "Median distance over the input codes from a test sample to the nearest seen (training",
            "or validation) sample, and from a seen sample to the nearest other distinct one (how",
            "far the search's neighbourhood moves each copy); test answers the chosen designs",
            "change against the exact design, summed over the seeds, and as many as a fresh draw",
            "of the neighbourhood (not the search's own) predicts.", "",
            "| dataset | test to nearest seen | seen to nearest other | test answers changed "
            "| predicted by the neighbourhood |", "|---|---|---|---|---|"]
    for name in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == name]
        out.append(f"| {name} | {np.mean([r['test_to_nearest_seen'] for r in mine]):.2f} | "
                   f"{np.mean([r['seen_to_nearest_other'] for r in mine]):.2f} | "
                   f"{sum(r['approximate']['changed_test'] for r in mine)} | "
                   f"{sum(r['approximate']['changed_predicted'] for r in mine):.1f} |")
    out += ["", "## Every run", "",
            "| dataset | seed | float | exact | " + " | ".join(f"{k} test / loss / area red."
                                                           for k in runs) + " | search (s) |",
            "|---|---|---|---|" + "---|" * len(runs) + "---|"]
    for r in rows:
        cells = " | ".join(f"{r[k]['test_accuracy']:.4f} / {r[k]['loss_points']:+.2f} / "
                           f"{r[k]['area_reduction']:.2f}x" for k in runs)
        out.append(f"| {r['dataset']} | {r['seed']} | {r['float_accuracy']:.4f} | "
                   f"{r['exact']['test_accuracy']:.4f} | {cells} | "
                   + " / ".join(f"{r[k]['search_s']:.0f}" for k in runs) + " |")
    out += ["", f"Wall time: {wall / 60:.1f} min ({args.jobs} run(s) at once). "
            "Plot: `quality_seeds.svg`."]
    return "\n".join(out) + "\n"


def system_markdown(rows: list[dict]) -> list[str]:
    """The default flow's on-sensor systems over the seeds, beside the published ADC-aware
    systems (DESIGN.md section 8) and the exact design with conventional ADCs."""
    mine = [r for r in rows if "system" in r.get("approximate", {})]
    if not mine:
        return []
    out = ["## The on-sensor system (ADCs + core)", "",
           "The default flow builds the on-sensor system: bespoke ADCs (bundled EGFET model) in",
           "front of the synthesized core; the losses above are its losses (test samples read",
           "through its ADCs). Baseline: the exact design with a conventional 4-bit flash ADC on",
           "every input. Published: ADC-aware printed systems at <= 1 % loss (their areas",
           "compare directly; DESIGN.md section 8). Geometric means over the seeds.", "",
           "| dataset | mean loss (pts) | system area (cm²) | published (cm²) | ratio | area red. "
           "vs baseline | ADC power red. | comparators (mean) |", "|---|---|---|---|---|---|---|---|"]
    ratios = []
    for s in summary(mine, "approximate"):
        name = s["dataset"]
        figures = [r["approximate"]["system"] for r in mine if r["dataset"] == name]
        area = suite._geomean(f["system_area_cm2"] for f in figures)
        published = suite.PUBLISHED_SYSTEM.get(name)
        if published:
            ratios.append(area / published[0])
        out.append(f"| {name} | {s['mean_loss_points']:+.2f} ± {s['loss_standard_error']:.2f} | "
                   f"{area:.2f} | "
                   + (f"{published[0]:.1f} | {area / published[0]:.2f} | " if published
                      else "– | – | ")
                   + f"{suite._geomean(f['system_area_reduction'] for f in figures):.2f}x | "
                   f"{suite._geomean(f['adc_power_reduction'] for f in figures):.2f}x | "
                   f"{np.mean([f['comparators'] for f in figures]):.1f} |")
    if ratios:
        out += ["", f"On the {len(ratios)} datasets with a published ADC-aware system: system area "
                f"{suite._geomean(ratios):.2f}x the published on the geometric mean (largest "
                f"{max(ratios):.2f}x)."]
    return out + [""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=Path, default=HERE.parents[1] / "shared" / "datasets")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(16)))
    parser.add_argument("--search-time", type=float, default=CompileConfig.search_time_s)
    parser.add_argument("--no-retrain-too", action="store_true",
                        help="also run the search alone (bespoke compile --no-retrain)")
    parser.add_argument("--only", nargs="*", help="run only these datasets (results not written)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="runs at once (each on one core; wall times then overlap)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    start = time.perf_counter()
    tasks = []
    chosen = [b for b in suite.BENCHMARKS if not args.only or b.name in args.only]
    for number, bench in enumerate(chosen, 1):
        data = suite.load(bench, args.datasets)
        if data is None:
            print(f"[{number}/{len(chosen)}] {bench.name}: skipped (no data)", flush=True)
            continue
        tasks += [(number, bench, data[0], data[1], seed) for seed in args.seeds]
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:  # each run is single-threaded
        futures = [pool.submit(one_run_then_release, bench, X, y, seed, args)
                   for _, bench, X, y, seed in tasks]
        for (number, bench, _, _, seed), future in zip(tasks, futures):
            row = future.result()
            rows.append(row)
            print(f"[{number}/{len(chosen)}] {bench.name} seed {seed}: " + ", ".join(
                f"{k} {row[k]['area_reduction']:.2f}x at {row[k]['loss_points']:+.2f} points"
                for k in kinds(args))
                + f" ({row['seconds']:.0f} s)", flush=True)
    wall = time.perf_counter() - start
    if args.only:
        return 0
    (RESULTS / "quality_seeds.json").write_text(json.dumps(
        {"seeds": args.seeds, "search_time_s": args.search_time, "runs": rows,
         "summary": {k: summary(rows, k) for k in kinds(args)}}, indent=1) + "\n")
    (RESULTS / "quality_seeds.md").write_text(markdown(rows, args, wall))
    (RESULTS / "quality_seeds.svg").write_text(loss_reduction_plot(
        {name: [(r["approximate"]["area_reduction"], r["approximate"]["loss_points"]) for r in rows
                if r["dataset"] == name] for name in dict.fromkeys(r["dataset"] for r in rows)},
        title=f"Test loss against area reduction ({len(args.seeds)} seeds)"))
    print(f"{len(rows)} runs in {wall / 60:.1f} min; see {RESULTS / 'quality_seeds.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
