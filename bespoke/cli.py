"""The command line: a thin layer over :mod:`bespoke.flow`."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .version import __version__
from .errors import BespokeError
from .hw.formal import DEFAULT_MAX_CELLS
from .rtl.verify import DEFAULT_SIMULATOR, SIMULATORS

log = logging.getLogger("bespoke")


def _add_compile_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input-bits", type=int, default=4, help="bits per input code (default 4)")
    parser.add_argument("--weight-bits", type=int, default=8, help="bits per weight (default 8)")
    parser.add_argument("--activation-bits", type=int, default=None,
                        help="bits per hidden activation (default 8 for relu/identity, "
                             "4 for the logistic/tanh comparator banks)")
    parser.add_argument("--test-size", type=float, default=0.2,
                        help="fraction of the data held out for testing (default 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and random vectors")
    parser.add_argument("--force", action="store_true",
                        help="compile even a design estimated larger than an A4 sheet, or a "
                             "model that does not fit its data (with a warning in the report)")
    parser.add_argument("--random-vectors", type=int, default=1000,
                        help="random vectors simulated besides the test split (default 1000)")
    parser.add_argument("--simulator", choices=tuple(SIMULATORS), default=DEFAULT_SIMULATOR,
                        help="the simulator of the RTL and gate-level checks: icarus (through "
                             "cocotb, the reference; the default) or verilator (a few seconds "
                             "to build, then far faster per vector: for large designs and "
                             "many vectors)")
    search = parser.add_argument_group("approximation")
    mode = search.add_mutually_exclusive_group()
    mode.add_argument("--approximate", dest="approximate", action="store_true", default=True,
                      help="search approximations of multipliers, accumulators and activations "
                           "for the smallest circuit within the accuracy budget (the default)")
    mode.add_argument("--exact", dest="approximate", action="store_false",
                      help="no approximation: the exact quantized network")
    search.add_argument("--max-accuracy-loss", type=float, default=1.0,
                        help="percentage points of validation accuracy the search may give up "
                             "(default 1.0)")
    search.add_argument("--search-time", type=float, default=60.0,
                        help="time budget of the search in seconds (default 60); a search that "
                             "finishes within it is reproducible with --seed")
    search.add_argument("--search-restarts", type=int, default=4,
                        help="NSGA-II runs from different seeds, run in parallel and merged "
                             "(default 4)")
    search.add_argument("--retrain", action=argparse.BooleanOptionalAction, default=True,
                        help="hardware-aware retraining (on by default): when the search is "
                             "stuck, its best moves beyond the budget are retrained through the "
                             "integer design on the training split and kept if back within it, "
                             "and the exact design is trained in the float domain with the "
                             "circuit in the loop; --no-retrain searches the knobs alone")
    search.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                        help="run the search's restarts on this Dask cluster (default: the "
                             "cores of this machine)")
    sensor = parser.add_argument_group("sensor interface")
    sensor.add_argument("--adc", action=argparse.BooleanOptionalAction, default=True,
                        help="the whole on-sensor system (on by default): a bespoke flash ADC per "
                             "input, its references searched with the core, verified from sensor "
                             "value to class and priced by the ADC model; --no-adc compiles the "
                             "core alone, for sensors with digital outputs")
    sensor.add_argument("--adc-model", type=Path, default=None, metavar="FILE",
                        help="ADC area and power figures (JSON; default: the bundled EGFET model, "
                             "flows/egfet_adc.json)")
    sensor.add_argument("--adc-references", choices=("anywhere", "grid"), default="anywhere",
                        help="where the ADCs' references may sit: anywhere (the ladder sized per "
                             "design, the default) or on the uniform grid of a conventional "
                             "flash (a standard ladder)")
    hw = parser.add_argument_group("synthesis")
    hw.add_argument("--no-synth", dest="synthesize", action="store_false",
                    help="stop after RTL verification (no area, power or timing)")
    hw.add_argument("--liberty", type=Path, default=None,
                    help="cell library to map to (default: the bundled printed EGFET library)")
    hw.add_argument("--yosys", default="yowasp",
                    help="'yowasp' (default, from PyPI), 'system' (yosys on PATH) or a path")
    hw.add_argument("--formal-max-cells", type=int, default=DEFAULT_MAX_CELLS,
                    help=f"largest netlist to prove equivalent to the RTL (default {DEFAULT_MAX_CELLS})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bespoke", description="Compile trained scikit-learn MLPs into verified bespoke "
                                    "circuits for printed electronics.")
    parser.add_argument("--version", action="version", version=f"bespoke {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show every tool step")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    comp = sub.add_parser("compile", help="compile a saved MLPClassifier into verified Verilog")
    comp.add_argument("model", type=Path, nargs="?",
                      help="fitted MLPClassifier or Pipeline (pickle/joblib, or .skops)")
    comp.add_argument("--data", type=Path,
                      help="CSV with a header row: the features the model was trained on, and the label")
    comp.add_argument("--integer-spec", type=Path, metavar="FILE",
                      help="compile integer weights and biases from a JSON specification instead "
                           "of a model and data (format: README, 'Integer specifications')")
    comp.add_argument("--design", dest="design_name", metavar="NAME",
                      help="the design to compile from a specification that holds several")
    comp.add_argument("--test-data", type=Path, metavar="CSV",
                      help="your own test data (same columns as --data), on which every accuracy "
                           "is reported; all of --data is then training data")
    comp.add_argument("--validation-data", type=Path, metavar="CSV",
                      help="the search's validation data (same columns as --data); the search then "
                           "trains on all of the training data")
    comp.add_argument("--input-scaler", type=Path, metavar="FILE",
                      help="a fitted MinMaxScaler or StandardScaler the model's data went through "
                           "outside the model (pickle/joblib/skops): folded into the input "
                           "quantization, so the circuit reads the features in their own units")
    comp.add_argument("--label-column", default="Y", help="name of the label column (default Y)")
    comp.add_argument("--trust-model", action="store_true",
                      help="unpickle the model file without restrictions (runs any code it "
                           "holds: only for files you trust); by default only scikit-learn, "
                           "numpy and scipy classes are admitted")
    comp.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    _add_compile_options(comp)

    demo = sub.add_parser("demo", help="train a small MLP on scikit-learn's breast-cancer data "
                                       "and compile it (no user data needed)")
    demo.add_argument("-o", "--output", type=Path, default=Path("build/demo"),
                      help="demo folder (default build/demo)")
    _add_compile_options(demo)

    sweep = sub.add_parser("sweep", help="compile every combination of a sweep specification "
                                         "(TOML) in parallel on Dask")
    sweep.add_argument("spec", type=Path, help="sweep specification (format: README, 'Sweeps')")
    sweep.add_argument("-o", "--output", type=Path, required=True,
                       help="sweep folder: jobs/, results.json, results.md, accuracy_area.svg")
    sweep.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="run on this existing Dask cluster (default: a local cluster)")
    sweep.add_argument("--workers", type=int, default=None,
                       help="processes of the local cluster (default: one per core)")

    sub.add_parser("doctor", help="list every tool the flow runs, its version and status")

    rep = sub.add_parser("report", help="re-render report.md and report.html of an output folder")
    rep.add_argument("outdir", type=Path)
    return parser


def _configure_logging(args) -> None:
    level = logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(message)s" if not args.verbose else
                        "%(levelname)s %(name)s: %(message)s")


def _summary(report: dict, outdir: Path) -> str:
    from .report.pages import headline

    return f"{outdir}:\n" + "\n".join(f"  {label}: {text}" for label, text in headline(report))


def _stamp(args) -> tuple | None:
    """Identity of the previous bespoke result in the output folder, if there is one."""
    from .flow import MARKER

    output = getattr(args, "output", None)
    marker = Path(output) / MARKER if output is not None else None
    if marker is None or not marker.is_file():
        return None
    info = marker.stat()
    return (info.st_ino, info.st_mtime_ns)


def _kept(args, before: tuple | None) -> str:
    """What a failed or interrupted run says of the output folder: a previous result that
    is still there untouched (results are staged beside it and moved in only when whole)."""
    if before is not None and _stamp(args) == before:
        return f"; the previous result in {args.output} is intact"
    return ""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args)
    from .flow import CompileConfig, run_compile

    if args.command == "doctor":
        from .doctor import doctor

        statuses = doctor()
        for t in statuses:
            print(f"{t.name:16s} {t.status:18s} {t.version:10s} {t.role}"
                  + (f"  ({t.hint})" if t.hint else ""))
        return 0 if all(t.ok for t in statuses) else 1
    before = _stamp(args)
    try:
        if args.command == "report":
            from .report.pages import rerender

            rerender(args.outdir)
            print(f"{args.outdir}: report.md and report.html re-rendered")
            return 0
        if args.command == "sweep":
            from .sweep import load_spec, run_sweep

            spec = load_spec(args.spec)
            try:
                summary = run_sweep(spec, args.output, scheduler=args.scheduler,
                                    workers=args.workers)
            except KeyboardInterrupt:
                print(f"bespoke: interrupted; finished jobs are kept in {args.output}: rerun "
                      "the sweep to go on", file=sys.stderr)
                return 130
            print(summary.text())
            return 1 if summary.failed else 0
        if args.command == "demo":
            from .demo import prepare_demo

            model, data, outdir, label_column = prepare_demo(args.output)
        else:
            model, data, outdir, label_column = args.model, args.data, args.output, args.label_column
            if args.integer_spec is None and (model is None or data is None):
                raise BespokeError("give a model file and --data CSV, or --integer-spec FILE")
            if args.integer_spec is not None and model is not None:
                raise BespokeError("give either a model file or --integer-spec, not both")
        config = CompileConfig(model, data, outdir, label_column, args.input_bits,
                               args.weight_bits, args.activation_bits, args.test_size,
                               args.seed, args.random_vectors, args.synthesize, args.liberty,
                               args.yosys, args.formal_max_cells, args.approximate,
                               args.max_accuracy_loss / 100.0, args.search_time,
                               search_restarts=args.search_restarts, scheduler=args.scheduler,
                               retrain=args.retrain,
                               trust_model=getattr(args, "trust_model", False), force=args.force,
                               integer_spec=getattr(args, "integer_spec", None),
                               design_name=getattr(args, "design_name", None),
                               adc=getattr(args, "adc", True),
                               adc_model=getattr(args, "adc_model", None),
                               adc_off_grid=getattr(args, "adc_references", "anywhere") != "grid",
                               test_data=getattr(args, "test_data", None),
                               validation_data=getattr(args, "validation_data", None),
                               input_scaler=getattr(args, "input_scaler", None),
                               simulator=args.simulator)
        report = run_compile(config)
    except BespokeError as exc:
        if args.debug:
            raise
        print(f"bespoke: error: {exc}{_kept(args, before)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"bespoke: interrupted{_kept(args, before) or '; nothing was written'}",
              file=sys.stderr)
        return 130
    print(_summary(report, config.outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
