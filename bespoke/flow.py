"""The ``bespoke compile`` flow: named, timed steps from files to a complete output folder.

Everything is written into a temporary folder beside ``OUTDIR`` and moved into place
only when complete, so an interrupted run never leaves a half-written result.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .version import __version__
from .report import pages as report
from .model.data import read_csv
from .model.fit_check import FitCheck, check_fit, refuse_unless_fits
from .model.splits import Splits, load_splits
from .model.quantize import precision_warning
from .design import Design, compile
from .errors import BespokeError, VerificationError
from .model.ingest import load_input_scaler, load_model
from .hw.formal import DEFAULT_MAX_CELLS
from .approx.knobs import describe
from .approx.estimate import AreaModel
from .hw.implement import ImplementOptions, implement, measure
from .approx import RETRAINED, SearchOptions, SearchResult
from .approx.search import close_finalists, search as approximation_search, write_front
from .ir.network import csd_digits
from .rtl.system import sensor_vectors
from .rtl.verify import (DEFAULT_SIMULATOR, GATE_SIMULATION_COST, find_simulator,
                          verification_vectors, verify, verify_system)
from .approx.interface import fit_finalists, grid_interface
from .hw.adc import AdcModel, load_adc_model
from .hw.system import conventional_system, system_report
from .ir.interface import SENSOR_BITS

log = logging.getLogger(__name__)

#: Written into every output folder; a folder without it is never overwritten.
MARKER = ".bespoke-output"


@dataclass(frozen=True)
class CompileConfig:
    model: Path
    data: Path
    outdir: Path
    label_column: str = "Y"
    input_bits: int = 4
    weight_bits: int = 8
    activation_bits: int | None = None
    test_size: float = 0.2
    seed: int = 0
    random_vectors: int = 1000
    synthesize: bool = True
    liberty: Path | None = None  # None: the bundled printed EGFET library
    yosys: str = "yowasp"
    formal_max_cells: int = DEFAULT_MAX_CELLS
    approximate: bool = True
    max_accuracy_loss: float = 0.01  # fraction of validation accuracy the search may give up
    search_time_s: float = 60.0
    search_restarts: int = 4  # NSGA-II runs from different seeds, in parallel
    retrain: bool = True  # hardware-aware retraining inside the search (bespoke.retrain)
    #: a Dask scheduler (tcp://HOST:PORT) the search's restarts run on; None: this machine
    scheduler: str | None = None
    validation_size: float = 0.25  # fraction of the training split the search validates on
    trust_model: bool = False  # unpickle the model file without restrictions
    force: bool = False  # go on even when the exact design is estimated too large
    #: compile an integer specification (see bespoke.spec) instead of ``model`` + ``data``
    integer_spec: Path | None = None
    design_name: str | None = None  # which design of a multi-design specification
    #: the whole on-sensor system: bespoke ADCs searched, verified and priced with the core;
    #: False: the core alone, for sensors with digital outputs
    adc: bool = True
    adc_model: Path | None = None  # None: the bundled EGFET flash ADC model
    adc_off_grid: bool = True  # references anywhere; False: on a conventional flash's grid
    #: the user's own test data (then all of ``data`` is training data) and the search's
    #: validation data (then the search trains on all of the training data); same columns
    test_data: Path | None = None
    validation_data: Path | None = None
    #: a fitted scaler the model's data went through outside the model (folded in front)
    input_scaler: Path | None = None
    simulator: str = DEFAULT_SIMULATOR  # of the RTL and gate-level checks (rtl.verify)


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def step(self, name: str):
        log.info("[%s] ...", name)
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start
        log.info("[%s] done in %.2f s", name, self.seconds[name])


def _check_outdir(outdir: Path, marker: str = MARKER, made_by: str = "bespoke") -> None:
    """Refuse an output folder that holds something ``made_by`` did not write (no
    ``marker`` file in it)."""
    if outdir.exists() and (not outdir.is_dir() or (any(outdir.iterdir())
                                                    and not (outdir / marker).exists())):
        raise BespokeError(f"{outdir} exists and was not made by {made_by}: choose another -o "
                           "folder or remove it")


@contextmanager
def _search_cluster(scheduler: str | None):
    """With a scheduler address, the search's restarts run as tasks of that Dask cluster
    (through joblib's Dask backend); without one, on this machine."""
    if scheduler is None:
        yield
        return
    import joblib

    from .cluster import connect

    with connect(scheduler), joblib.parallel_config(backend="dask"):
        yield


def run_compile(config: CompileConfig) -> dict:
    """Compile, verify and report; returns the report. Raises on failed verification."""
    if config.integer_spec is not None:
        return run_integer_spec(config)
    outdir = Path(config.outdir)
    _check_outdir(outdir)
    find_simulator(config.simulator)  # unknown or missing: refused before any long work
    if not 0 <= config.max_accuracy_loss <= 1:
        raise BespokeError(f"--max-accuracy-loss {100 * config.max_accuracy_loss:g} is out of range: "
                           "use 0 to 100 percentage points")
    if config.search_time_s <= 0:
        raise BespokeError(f"--search-time {config.search_time_s:g} must be positive")
    if config.search_restarts < 1:
        raise BespokeError(f"--search-restarts {config.search_restarts} must be 1 or more")
    timer = _Timer()
    with timer.step("ingest"):
        mlp = load_model(config.model, trust=config.trust_model)
        if config.input_scaler is not None:
            mlp = mlp.with_input_scaler(load_input_scaler(config.input_scaler,
                                                          trust=config.trust_model))
        data = read_csv(config.data, config.label_column)
        if data.X.shape[1] != mlp.n_features:
            raise BespokeError(f"{config.data} has {data.X.shape[1]} features but the model "
                               f"expects {mlp.n_features}: pass the data the model was trained on")
        adc_model = load_adc_model(config.adc_model) if config.adc else None
        splits = load_splits(data, config.data, mlp.classes, label_column=config.label_column,
                             test_data=config.test_data, validation_data=config.validation_data,
                             test_size=config.test_size, validation_size=config.validation_size,
                             seed=config.seed, search=config.approximate)
        fit = check_fit(mlp, splits.training.X, splits.training.y, Path(config.data).name)
        refuse_unless_fits(fit, config.force)
        if fit.findings:
            log.warning("--force: %s", "; ".join(fit.findings))
        X_train, y_train = splits.training.X, splits.training.y
        X_test, y_test = splits.test.X, splits.test.y
    with timer.step("quantize"):  # on all the training data: --exact builds the same design
        design = compile(mlp, X_train, mlp.classes[y_train], input_bits=config.input_bits,
                         weight_bits=config.weight_bits, activation_bits=config.activation_bits,
                         feature_names=data.feature_names)
        precision = precision_warning(mlp, X_train, y_train, design.options, design.network,
                                      design.quantizer)
        if precision:
            log.warning("%s", precision)
    if config.approximate:  # what the search trains and validates on
        X_train, y_train = splits.search_training.X, splits.search_training.y
        X_val, y_val = splits.validation.X, splits.validation.y
    _check_size(design.network, config.force,
                len(X_test) + design.network.n_inputs + 2 + config.random_vectors, config.synthesize,
                config.simulator)
    exact_design, search = design, None
    if config.approximate:
        with timer.step("search"), _search_cluster(config.scheduler):
            search = approximation_search(
                design.network, design.codes(X_train), design.codes(X_val), y_val,
                AreaModel.bundled(),
                SearchOptions(config.max_accuracy_loss, config.search_time_s,
                              restarts=config.search_restarts, retrain=config.retrain),
                seed=config.seed, train_labels=y_train,
                progress=lambda line: log.info("[search] %s", line))
            design = replace(design, network=search.chosen.network)
    interface_search = None
    if adc_model is not None:
        with timer.step("interface"):
            if config.approximate:
                core, interface_search, search = fit_finalists(
                    exact_design.network, search, design.sensor(X_train), y_train,
                    design.sensor(X_val), y_val, adc_model,
                    max_accuracy_loss=config.max_accuracy_loss,
                    time_budget_s=max(config.search_time_s, 1.0), off_grid=config.adc_off_grid,
                    progress=lambda line: log.info("[interface] %s", line))
                design = replace(design, network=core)
                interface = interface_search.interface
            else:  # a conventional flash ADC on every input the core reads
                interface = grid_interface(design.network)
            design = design.with_interface(interface)
    test_vectors = design.vectors(X_test)
    vectors = verification_vectors(design.network, test_vectors, config.random_vectors, config.seed)
    sensor = None
    if design.network.interface is not None:
        sensor = sensor_vectors(design.network, design.sensor(X_test), config.random_vectors,
                                config.seed)

    def complete(staging: Path, result) -> dict:
        result_report = _build_report(config, design, mlp, splits, fit, result, precision)
        if search is not None:
            result_report["approximation"] = _approximation_report(search, exact_design)
            write_front(search, staging / "approximation")
        if interface_search is not None:
            result_report["approximation"]["interface"] = {
                "steps": list(interface_search.steps),
                "evaluations": interface_search.evaluations,
                "loss_bound": interface_search.loss_bound,
                # the budget, or the bound of the core it starts from on the samples it
                # searched (the search's less the audit), if that is above
                "bound_kept": interface_search.budget,
                "time_budget_hit": interface_search.budget_hit,
                # the training samples the ADC search never saw: the accuracy its result
                # loses there against the exact design, and how many changes they undid
                "audit_loss": interface_search.audit_loss,
                "audit_undone": interface_search.undone,
                # the search's finalists that got their ADCs, and the one the system keeps
                "finalists": len(close_finalists(search)),
                "finalist_chosen": interface_search.core_index + 1}
        return result_report

    def baseline(staging: Path, result_report: dict) -> None:
        if search is not None:
            with timer.step("baseline"):
                (staging / "baseline").mkdir()
                (staging / "baseline" / "top.v").write_text(exact_design.verilog())
                result_report["baseline"] = _baseline_report(
                    exact_design, X_test, mlp.classes[y_test], staging / "baseline",
                    ImplementOptions(config.liberty, config.yosys), result_report,
                    exact_design.codes(X_test), adc_model)

    def system(result_report: dict) -> None:
        if adc_model is not None:
            bits = design.network.interface.sensor_bits
            _add_system(result_report, design, adc_model,
                        lambda i, t: design.quantizer.feature_value(i, t, bits),
                        _histograms(design.sensor(X_train), bits))

    return _publish(config, design, vectors, len(test_vectors), timer, complete, baseline,
                    sensor, system)


def _add_system(result_report: dict, design: Design, adc_model: AdcModel,
                feature_value=None, histograms=None) -> None:
    """``report.json``'s ``system``: ``design``'s ADCs priced by ``adc_model`` with its
    synthesized core (or the core's estimate, without synthesis)."""
    synthesized = "area" in result_report
    core_area = (result_report["area"]["um2"] if synthesized
                 else AreaModel.bundled().area_um2(design.network))
    result_report["system"] = system_report(
        design.network.interface, adc_model, core_area,
        result_report["power"]["mw"] if synthesized else None, design.feature_names,
        feature_value, "synthesis" if synthesized else "estimate (not synthesized)", histograms)


def _publish(config: CompileConfig, design: Design, vectors: np.ndarray, n_test: int,
             timer: "_Timer", complete, after_synthesis=None, sensor: np.ndarray | None = None,
             system=None) -> dict:
    """Generate, simulate, synthesize and report ``design`` into a staging folder beside
    the output folder, and move it into place only when complete.  ``complete(staging,
    result)`` builds the report from the verification result; ``after_synthesis(staging,
    report)`` adds to it, and ``system(report)`` the system's cost at the end.  With an
    interface, module ``system`` (comparators in front of ``top``) is also simulated on the
    ``sensor`` values.  Raises when the RTL, the system or the netlist differs from the
    emulator."""
    outdir = Path(config.outdir)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the result should not be
    try:
        with timer.step("generate"):
            (staging / "top.v").write_text(design.verilog())
            (staging / "design.json").write_text(design.to_json())
            if design.network.interface is not None:
                (staging / "system.v").write_text(design.system_verilog())
        with timer.step("simulate"):
            result = verify(staging / "top.v", design.network, vectors, staging / "sim",
                            simulator=config.simulator)
        system_result = None
        if design.network.interface is not None and sensor is not None:
            with timer.step("simulate system"):
                system_result = verify_system(staging / "system.v", staging / "top.v",
                                              design.network, sensor, staging / "sim_system",
                                              config.simulator)
        result_report = complete(staging, result)
        if system_result is not None:
            result_report["system_verification"] = {
                k: v for k, v in system_result.to_dict().items() if k != "seconds"}
        if config.synthesize and result.passed:
            with timer.step("synthesize"):
                hardware = implement(design.network, staging / "top.v", vectors, n_test,
                                     staging / "hw", ImplementOptions(
                                         config.liberty, config.yosys, config.formal_max_cells,
                                         simulator=config.simulator))
            result_report |= hardware.report_sections()
            if after_synthesis is not None:
                after_synthesis(staging, result_report)
            timer.seconds |= {"synthesize.yosys": hardware.synthesis.seconds,
                              "synthesize.gate_simulation": hardware.gate_verification.seconds,
                              "synthesize.formal": hardware.equivalence.seconds}
        if system is not None:
            system(result_report)
        timing = {k: round(v, 3) for k, v in timer.seconds.items()}
        (staging / "timing.json").write_text(json.dumps(timing, indent=1) + "\n")
        report.write(result_report, staging, timing)
        (staging / MARKER).write_text(f"bespoke {__version__}\n")
        _replace(staging, outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if result.mismatches:
        raise VerificationError(f"the RTL differs from the emulator on {result.mismatches} of "
                                f"{result.vectors} vectors: see {outdir / 'report.md'}")
    if system_result is not None and system_result.mismatches:
        raise VerificationError(f"the system (comparators + top) differs from the emulator on "
                                f"{system_result.mismatches} of {system_result.vectors} sensor "
                                f"vectors: see {outdir / 'report.md'}")
    gate = result_report.get("gate_level")
    if gate and (gate["verification"]["mismatches"] or not gate["evaluation_matches_emulator"]
                 or gate["equivalence"]["status"] == "failed"):
        raise VerificationError(f"the synthesized netlist differs from the emulator: see "
                                f"{outdir / 'report.md'}")
    return result_report


def run_integer_spec(config: CompileConfig) -> dict:
    """Compile, verify and report an integer specification (``config.integer_spec``): no
    model, no data, so no accuracy and no search; the vectors are the corners and
    ``config.random_vectors`` random codes, which also weigh the power."""
    _check_outdir(Path(config.outdir))
    find_simulator(config.simulator)
    timer = _Timer()
    with timer.step("ingest"):
        adc_model = load_adc_model(config.adc_model) if config.adc else None
        design = Design.from_integer_spec(config.integer_spec, config.design_name)
    if adc_model is None:  # the core alone, whatever ADCs the specification gives
        design = design.with_interface(None)
    elif design.network.interface is None:  # a conventional flash ADC on every input read
        design = design.with_interface(grid_interface(design.network))
    vectors = verification_vectors(design.network, None, config.random_vectors, config.seed)
    sensor = (sensor_vectors(design.network, None, config.random_vectors, config.seed)
              if adc_model is not None else None)
    _check_size(design.network, config.force, len(vectors), config.synthesize, config.simulator)
    network = design.network

    def complete(staging: Path, result) -> dict:
        return {
            "bespoke_version": __version__,
            "model": {"name": design.spec_name, "source": Path(config.integer_spec).name,
                      "topology": [network.n_inputs] + [len(l.neurons) for l in network.layers],
                      "activation": "relu", "n_classes": network.n_classes,
                      "classes": [str(c) for c in design.classes]},
            "options": {"input_bits": network.input_bits, "weight_bits": design.options.weight_bits,
                        "seed": config.seed, "random_vectors": config.random_vectors,
                        "synthesize": config.synthesize, "adc": config.adc,
                        "adc_model": Path(config.adc_model).name if config.adc_model else None},
            "accuracy": None,  # an integer specification comes without data
            "verification": {k: v for k, v in result.to_dict().items() if k != "seconds"},
            "circuit": _circuit(design),
        }

    def system(result_report: dict) -> None:
        if adc_model is not None:
            _add_system(result_report, design, adc_model)

    return _publish(config, design, vectors, len(vectors), timer, complete, sensor=sensor,
                    system=system)


#: An A4 sheet: beyond it a printed classifier is impractical, and synthesis and
#: gate-level simulation of it take long.
MAX_AREA_CM2 = 600.0
#: Longest gate-level simulation started without --force.
MAX_GATE_SIMULATION_S = 1800.0
#: The mean cell area (synthesis_quality.md), to turn an estimated area into cells.
UM2_PER_CELL = 3.0e5


def _check_size(network, force: bool, n_vectors: int, synthesize: bool,
                simulator: str = DEFAULT_SIMULATOR) -> None:
    """Refuse, before any long work, a design estimated larger than :data:`MAX_AREA_CM2`,
    or whose gate-level simulation would take longer than :data:`MAX_GATE_SIMULATION_S`."""
    area = AreaModel.bundled().area_um2(network)
    estimate = area / 1e8
    log.info("estimated area of the exact design: %.1f cm²", estimate)
    if estimate > MAX_AREA_CM2 and not force:
        raise BespokeError(f"the exact design is estimated at {estimate:.0f} cm², more than an A4 "
                           f"sheet ({MAX_AREA_CM2:.0f} cm²): synthesis and simulation would take "
                           "long; use fewer neurons or bits, or pass --force")
    seconds = GATE_SIMULATION_COST[simulator].seconds(area / UM2_PER_CELL, n_vectors)
    if synthesize and seconds > MAX_GATE_SIMULATION_S and not force:
        faster = "" if simulator == "verilator" else " --simulator verilator,"
        raise BespokeError(f"gate-level simulation of {n_vectors} vectors is estimated at "
                           f"{seconds / 60:.0f} minutes: pass{faster} fewer --random-vectors or "
                           "a smaller test split, or --force")


def _approximation_report(search: SearchResult, exact: Design) -> dict:
    return {
        "method": "greedy baseline + NSGA-II (pymoo)"
                  + (" + hardware-aware retraining" if search.retrained else "")
                  + ", smallest estimated area within the budget",
        "retrained_steps": sum(step.endswith(RETRAINED) for step in search.steps),
        "evaluations": search.evaluations,
        "time_budget_hit": search.budget_hit,
        "validation_accuracy": {"exact": search.exact.accuracy, "chosen": search.chosen.accuracy},
        "estimated_area_um2": {"exact": search.exact.area_um2, "chosen": search.chosen.area_um2},
        "steps": list(search.steps),
        "knobs": describe(exact.network, search.chosen.network),
        "max_accuracy_loss": search.exact.accuracy - search.floor,
        "front": [[c.area_um2, c.accuracy] for c in search.front],
        "front_files": "approximation/front.csv, front.json, front.svg",
    }


def _baseline_report(exact: Design, X_test, truth, workdir: Path, options: ImplementOptions,
                     approx: dict, test_codes, adc_model: AdcModel | None = None) -> dict:
    """The exact design's accuracy, area and power by the same flow, and the reductions;
    with an ADC model, the exact design's system with a conventional flash ADC on every
    input (the core's leakage: the baseline is not timed)."""
    figures = measure(exact.network, workdir / "top.v", test_codes, workdir, options)
    result = {"accuracy": float(np.mean(exact.predict(X_test) == truth))} | figures
    result["area_reduction"] = (figures["area_um2"] / approx["area"]["um2"]
                                if approx["area"]["um2"] else None)
    result["power_reduction"] = (figures["leakage_mw"] / approx["power"]["leakage_mw"]
                                 if approx["power"]["leakage_mw"] else None)
    if adc_model is not None:
        result["system"] = conventional_system(
            exact.network.n_inputs, exact.network.input_bits, adc_model, figures["area_um2"],
            figures["leakage_mw"], SENSOR_BITS, "synthesis (leakage)")
    return result


#: bins of the per-input histograms of the training data in report.json (for the plots)
HISTOGRAM_BINS = 32


def _histograms(sensor: np.ndarray, sensor_bits: int) -> list[list[int]]:
    """Each input's sensor values counted over :data:`HISTOGRAM_BINS` equal bins."""
    bins = np.minimum(sensor * HISTOGRAM_BINS >> sensor_bits, HISTOGRAM_BINS - 1)
    return [np.bincount(bins[:, i], minlength=HISTOGRAM_BINS).tolist()
            for i in range(sensor.shape[1])]


def _replace(staging: Path, outdir: Path) -> None:
    """Move a complete result into place; the previous one survives until then."""
    old = None
    if outdir.exists():
        old = outdir.with_name(f".{outdir.name}.old-{os.getpid()}")
        outdir.rename(old)
    staging.rename(outdir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _build_report(config: CompileConfig, design: Design, mlp, splits: Splits, fit: FitCheck,
                  result, precision: str | None) -> dict:
    n_test = len(splits.test.y)
    float_pred = mlp.predict(splits.test.X)
    quant_pred = design.predict(splits.test.X)
    rtl_pred = design.classes[result.observed[:n_test]]
    truth = mlp.classes[splits.test.y]
    return {
        "bespoke_version": __version__,
        "model": {"name": config.model.name, "topology": list(mlp.topology),
                  "activation": mlp.activation, "n_classes": len(mlp.classes),
                  "classes": [str(c) for c in mlp.classes]},
        "data": {"name": config.data.name, "label_column": config.label_column,
                 "n_train": len(splits.training.y), "n_test": n_test,
                 "parts": splits.describe(), "fit_check": fit.to_dict()},
        "warnings": list(splits.warnings) + [f"--force: {finding}" for finding in fit.findings]
        + ([precision] if precision else []),
        "options": {k: (v.name if isinstance(v, Path) else v) for k, v in asdict(config).items()
                    if k not in ("model", "data", "outdir")},
        "accuracy": {"float": float(np.mean(float_pred == truth)),
                     "quantized": float(np.mean(quant_pred == truth)),
                     "rtl": float(np.mean(rtl_pred == truth)),
                     "split": "test", "n_test": n_test},
        "verification": {k: v for k, v in result.to_dict().items() if k != "seconds"},
        "circuit": _circuit(design),
    }


def _circuit(design: Design) -> dict:
    """The report's description of the circuit's layers."""
    layers = []
    for layer, info in zip(design.network.layers, design.network.analysis):
        kinds = {type(n.activation).__name__ if n.activation else "logits" for n in layer.neurons}
        layers.append({
            "neurons": len(layer.neurons),
            "activation": ", ".join(sorted(k.replace("Activation", "").lower() for k in kinds)),
            "accumulator_widths": [a.width for a in info.accumulators],
            "nonzero_weights": sum(w != 0 for n in layer.neurons for w in n.weights),
            "signed_digits": sum(len(csd_digits(w)) for n in layer.neurons for w in n.weights),
        })
    table = design.network.table_inputs
    return {"inputs": design.network.n_inputs, "input_bits": design.network.input_bits,
            "output": design.network.output, "output_width": design.network.output_width,
            "layers": layers,
            # the output layer and decision built as one lookup table (ir.TABLE_MAX_BITS)
            "decision_table": None if table is None else {
                "inputs": list(table),
                "bits": sum(design.network.table_widths)}}
