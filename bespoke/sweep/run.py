"""Running a sweep: a job trained (when asked) and compiled on a Dask worker
(:func:`run_job`), the runner that submits, retries and stores jobs, the output folder's
lock, and :func:`run_sweep`."""
from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import traceback
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..version import __version__
from ..cluster import connect, local_cluster, quiet_dask
from ..errors import BespokeError, one_line
from ..flow import _check_outdir as check_outdir, _replace
from .jobs import Job, plan, tool_versions
from .results import JobResult, SweepSummary, write_results
from .spec import FILE_OPTIONS, OPTIONS, Source, SweepSpec

log = logging.getLogger(__name__)

#: Written into a sweep's output folder; a folder without it is never written to.
SWEEP_MARKER = ".bespoke-sweep"
JOB_RECORD = "job.json"
MAX_ATTEMPTS = 2  # a failed job is submitted once more


@dataclass(frozen=True)
class Payload:
    """What a worker needs for one job: it reads no file of the sweep's machine."""

    job: Job
    attempt: int
    model: bytes | None  # the fitted model file
    data: bytes
    data_name: str
    #: the file options' contents (FILE_OPTIONS, unless bundled) and the source's own files
    files: dict[str, bytes]
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
            files = {}  # each file, written beside the inputs, by its CompileConfig field
            for name, (field, origin) in _job_files(job).items():
                files[field] = inputs / name / origin.name
                files[field].parent.mkdir()
                files[field].write_bytes(payload.files[name])
            if job.source.trained:
                model_path = inputs / "model.joblib"
                joblib.dump(train(job.source, data, options), model_path)
            else:
                model_path = inputs / job.source.model.name
                model_path.write_bytes(payload.model)
            out = work / "out"
            kwargs = {OPTIONS[name].field: value for name, value in options.items()
                      if name not in FILE_OPTIONS}
            kwargs["max_accuracy_loss"] = options["max_accuracy_loss"] / 100.0
            kwargs["adc_off_grid"] = options["adc_references"] != "grid"
            run_compile(CompileConfig(model_path, data, out, label_column=job.source.label_column,
                                      trust_model=job.source.trust, **kwargs, **files))
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


def _job_files(job: Job) -> dict[str, tuple[str, Path]]:
    """The files a job takes besides its model and data: ``name: (CompileConfig field,
    the file on the sweep's machine)``."""
    files = {name: (OPTIONS[name].field, Path(job.options[name])) for name in FILE_OPTIONS
             if job.options[name] != "bundled"}
    return files | {name: (name, path) for name, path in job.source.files}


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
    files = {name: read(origin) for name, (_, origin) in _job_files(job).items()}
    needed = {k: v for k, v in versions.items()
              if not k.startswith("yosys (") or k == f"yosys ({job.options['yosys']})"}
    return Payload(job, attempt, None if source.trained else read(source.model), data, data_name,
                   files, needed)


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
            # a retry goes first: a job whose worker died mid-run (often a long one) then
            # does not start last and run alone at the end, and a broken job fails fast
            self.queue.appendleft((job, attempt + 1))
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


def _yosys_choices(spec: SweepSpec) -> tuple[str, ...]:
    choices = {"yowasp"}
    for options in [spec.options] + [s.options for s in spec.sources]:
        choices |= set(dict(options).get("yosys", ()))
    return tuple(sorted(choices))


def run_sweep(spec: SweepSpec, outdir: str | Path, *, scheduler: str | None = None,
              workers: int | None = None, progress_every_s: float = 15.0) -> SweepSummary:
    """Run every job of ``spec`` that has no complete result in ``outdir`` yet, on a
    ``LocalCluster`` of ``workers`` processes or on the Dask cluster at ``scheduler``;
    write ``results.json``, ``results.md`` and ``accuracy_area.svg``."""
    start = time.perf_counter()
    outdir = Path(outdir)
    check_outdir(outdir, SWEEP_MARKER, "bespoke sweep")
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
