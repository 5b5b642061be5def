"""The sweep specification: the compile options a sweep may vary (OPTIONS), where each
job's model comes from (Source), and :func:`load_spec`, which reads and checks a TOML
specification."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BespokeError
from ..hw.formal import DEFAULT_MAX_CELLS
from ..rtl.verify import DEFAULT_SIMULATOR, SIMULATORS

SKLEARN_DATASETS = ("iris", "wine", "breast_cancer", "digits")
ACTIVATIONS = ("identity", "relu", "tanh", "logistic")


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
    "formal_max_cells": OptionSpec(int, DEFAULT_MAX_CELLS, "formal_max_cells", lambda v: v >= 0, "0 or more"),
    "simulator": OptionSpec(str, DEFAULT_SIMULATOR, "simulator", lambda v: v in SIMULATORS,
                            " or ".join(SIMULATORS)),
    "force": OptionSpec(bool, False, "force"),
    "adc": OptionSpec(bool, True, "adc"),
    "adc_model": OptionSpec(str, "bundled", "adc_model"),
    "adc_references": OptionSpec(str, "anywhere", "adc_off_grid",
                                 lambda v: v in ("anywhere", "grid"), "anywhere or grid"),
}
#: options whose value is a file (or "bundled"): it travels to the workers with the job
FILE_OPTIONS = ("liberty", "adc_model")
#: files a [[model]] source may bring besides its data (bespoke compile --test-data, ...)
MODEL_FILES = ("test_data", "validation_data", "input_scaler")
_SOURCE_KEYS = {
    "model": {"name", "file", "data", "dataset", "label_column", "trust", "options",
              "test_data", "validation_data", "input_scaler"},
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
    #: a fitted model's own files (MODEL_FILES: the compile options of the same name)
    files: tuple[tuple[str, Path], ...] = ()

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
        if name in FILE_OPTIONS:
            values = [v if v == "bundled" else str(_resolve(path, v, f"{section} {name}"))
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
            files = tuple((key, _resolve(path, entry[key], f"{what} {key}"))
                          for key in MODEL_FILES if key in entry)
            for key, file in files:
                if key != "input_scaler":
                    _check_label(path, file, label, f"{what} {key}")
            sources.append(Source(name, dataset, data, label, model=model, trust=trust,
                                  options=options, files=files))
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
