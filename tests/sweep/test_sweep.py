"""bespoke sweep: specifications, jobs on a real two-worker Dask LocalCluster (one job failing
on purpose, one worker killed mid-job), reruns, determinism and the CLI's errors."""
from __future__ import annotations

import json
import logging
import os
import re
import signal
import threading
import time
from pathlib import Path
from dataclasses import replace

import joblib
import numpy as np
import psutil
import pytest

from bespoke.cli import main
from bespoke.cluster import local_cluster, quiet_dask
from bespoke.errors import BespokeError
from bespoke.hw.adc import load_adc_model
from bespoke.sweep import load_spec, pareto, plan, run_sweep
from bespoke.sweep.results import JobResult, accuracy_area_svg
from bespoke.sweep.run import Payload, _payload, run_job

from ..conftest import trained, write_csv

#: Three good jobs (one synthesized, one approximated with its ADCs) and one whose data does
#: not fit its model; each source's own input_bits replaces the swept list.  Small: iris
#: 4-3-3, few random vectors, the core alone but for the approximated job (its ADC model
#: travels with it).
SPEC = """
name = "test"

[options]
approximate = false
synthesize = false
adc = false
random_vectors = 40
input_bits = [3, 4]

[[model]]
name = "broken"
file = "iris.joblib"
data = "wine.csv"
[model.options]
input_bits = 4

[[train]]
sklearn = "iris"
hidden = [3]
inits = 1
[train.options]
input_bits = 3

[[train]]
sklearn = "iris"
name = "iris-synth"
hidden = [3]
inits = 1
[train.options]
input_bits = 4
synthesize = true
formal_max_cells = 0

[[train]]
sklearn = "iris"
name = "iris-approx"
hidden = [3]
inits = 1
[train.options]
input_bits = 4
approximate = true
search_time = 1
adc = true
adc_model = "adc.json"
"""


def _inputs(folder: Path) -> None:
    from sklearn.datasets import load_wine

    model = trained("iris", "relu", (3,))[0]
    joblib.dump(model, folder / "iris.joblib")
    X, y = load_wine(return_X_y=True)
    write_csv(folder / "wine.csv", X, y)
    # another technology's ADC figures: the bundled ones with comparators twice as large
    adc = load_adc_model()
    (folder / "adc.json").write_text(replace(
        adc, name="twice-the-comparators", comparator_area_um2=2 * adc.comparator_area_um2).to_json())


def _workers_of_this_process() -> list[str]:
    """Command lines of live worker processes (spawned children) of this process; the
    multiprocessing resource tracker lives as long as this process and is not one."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            cmdline = " ".join(child.cmdline())
            if "spawn_main" in cmdline and child.status() != psutil.STATUS_ZOMBIE:
                found.append(cmdline)
        except psutil.NoSuchProcess:
            pass
    return found


def _kill_worker_running(cluster, prefix: str, after_s: float, killed: list) -> None:
    """Wait until the job whose name starts with ``prefix`` is on a worker, let it run
    ``after_s``, then SIGKILL that worker's process (its nanny starts a new one)."""
    from distributed import Client

    with Client(cluster) as client:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            hit = [w for w, keys in client.processing().items()
                   if any(str(k).startswith(f"bespoke-{prefix}") for k in keys)]
            if hit:
                time.sleep(after_s)
                pid = client.run(os.getpid, workers=hit[:1])[hit[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.1)


@pytest.mark.long_running(seconds=32)
def test_sweep_survives_a_failing_job_and_a_killed_worker(tmp_path, capfd):
    _inputs(tmp_path)
    (tmp_path / "sweep.toml").write_text(SPEC)
    spec = load_spec(tmp_path / "sweep.toml")
    out = tmp_path / "out"
    killed: list[int] = []
    with quiet_dask(), local_cluster(2) as cluster:
        killer = threading.Thread(target=_kill_worker_running,
                                  args=(cluster, "iris-3", 1.0, killed))
        killer.start()
        try:
            summary = run_sweep(spec, out, scheduler=cluster.scheduler_address,
                                progress_every_s=2)
        finally:
            killer.join()
    assert killed, "no iris-3 job ever reached a worker"
    by_name = {r.name: r for r in summary.results}
    assert len(by_name) == len(summary.results) == 4

    failed = [r for r in summary.results if r.status == "failed"]
    assert [r.source for r in failed] == ["broken"]
    assert failed[0].attempts == 2 and len(failed[0].errors) == 2
    assert "13 features but the model expects 4" in failed[0].errors[0]
    assert "/" not in failed[0].errors[0].split(" has ")[0]  # no worker scratch path
    assert (out / "failed" / f"{failed[0].name}.log").is_file()

    good = [r for r in summary.results if r.status == "ok"]
    assert len(good) == 3
    assert {r.source for r in good} == {"iris-3", "iris-synth-3", "iris-approx-3"}
    assert {r.dataset for r in summary.results} == {"iris", "wine"}
    # the job whose worker was killed ran again on the worker that replaced it
    [lost] = [r for r in good if r.attempts == 2]
    assert lost.source == "iris-3" and lost.errors[0].startswith("worker lost")
    # each source's own input_bits, not the [options] list
    assert {r.source: r.options["input_bits"] for r in good} == {
        "iris-3": 3, "iris-synth-3": 4, "iris-approx-3": 4}
    synth = next(r for r in good if r.source == "iris-synth-3")
    assert synth.area_cm2 > 0 and synth.cells > 0 and synth.power_mw > 0
    # every good result is present exactly once, whole, and nothing else is
    assert sorted(p.name for p in (out / "jobs").iterdir()) == sorted(r.name for r in good)
    for r in good:
        folder = out / "jobs" / r.name
        report = json.loads((folder / "report.json").read_text())
        assert report["verification"]["mismatches"] == 0
        assert report["verification"]["simulator"].lower().startswith("icarus")
        assert json.loads((folder / "job.json").read_text())["key"] == r.key
        assert (folder / "model.joblib").is_file() and (folder / "top.v").is_file()
        assert r.accuracy["rtl"] == r.accuracy["quantized"] > 0.8
    approx = out / "jobs" / next(r.name for r in good if r.source == "iris-approx-3")
    approx_report = json.loads((approx / "report.json").read_text())
    assert "approximation" in approx_report
    # the job's ADC model travelled with it (the worker reads no file of the sweep's machine)
    adc = approx_report["system"]
    assert adc["adc_model"] == "twice-the-comparators"
    assert adc["adc"]["area_cm2"] * 1e8 == pytest.approx(sum(
        load_adc_model(tmp_path / "adc.json").area_um2(e["comparators"]) for e in adc["inputs"]))
    # the search's restarts ran in the job's worker: the sweep's parallelism is its jobs
    assert "4 restarts on this Dask worker" in (approx / "compile.log").read_text()
    table = json.loads((out / "results.json").read_text())
    assert [row["name"] for row in table["results"]] == [r.name for r in summary.results]
    assert table["ok"] == 3 and table["failed"] == 1
    markdown = (out / "results.md").read_text()
    assert all(r.name in markdown for r in summary.results) and "Failed jobs" in markdown
    assert (out / "accuracy_area.svg").read_text().startswith("<svg")

    time.sleep(0.5)
    assert not _workers_of_this_process(), "the local cluster left worker processes behind"
    captured = capfd.readouterr()
    assert "Traceback" not in captured.out + captured.err

    # a rerun skips the complete jobs (untouched) and tries the failed one again
    stamps = {r.name: (out / "jobs" / r.name / "job.json").stat().st_mtime_ns for r in good}
    assert main(["sweep", str(tmp_path / "sweep.toml"), "-o", str(out), "--workers", "1"]) == 1
    assert {r.name: (out / "jobs" / r.name / "job.json").stat().st_mtime_ns
            for r in good} == stamps
    captured = capfd.readouterr()
    assert "3 ok (3 from a previous run), 1 failed" in captured.out
    assert "Traceback" not in captured.out + captured.err
    assert not _workers_of_this_process()


@pytest.mark.long_running(seconds=11)
def test_same_spec_gives_identical_verilog_and_a_complete_rerun_starts_no_cluster(
        tmp_path, monkeypatch):
    spec_path = tmp_path / "one.toml"
    spec_path.write_text('[options]\napproximate = false\nsynthesize = false\nadc = false\n'
                         'random_vectors = 20\n[[train]]\nsklearn = "iris"\nhidden = [3]\n'
                         'inits = 1\n')
    spec = load_spec(spec_path)
    first = run_sweep(spec, tmp_path / "a", workers=1)
    [a] = first.ok
    # the same job again, trained and compiled in this process instead of on a worker
    [job] = plan(spec, {})
    assert job.name == a.name
    again_here = run_job(_payload(job, 1, {}, {}))
    assert again_here.ok, again_here.error
    for name in ("top.v", "design.json"):
        assert again_here.files[name] == (tmp_path / "a" / "jobs" / a.name / name).read_bytes()

    def no_cluster(*args, **kwargs):
        raise AssertionError("a rerun with every job complete started a cluster")

    # run_sweep looks local_cluster up in bespoke.sweep.run when it starts a cluster
    monkeypatch.setattr("bespoke.sweep.run.local_cluster", no_cluster)
    again = run_sweep(spec, tmp_path / "a", workers=1)
    assert [r.from_previous_run for r in again.results] == [True]


def _write_spec(folder: Path, text: str) -> Path:
    (folder / "data.csv").write_text("a;b;Y\n1;2;0\n3;4;1\n")
    (folder / "m.pkl").write_bytes(b"not a model")
    path = folder / "sweep.toml"
    path.write_text(text)
    return path


TRAIN = '[[train]]\nsklearn = "iris"\nhidden = [3]\n'


@pytest.mark.parametrize("text, message", [
    ("name = [", "is not valid TOML"),
    ("workers = 2\n" + TRAIN, "unknown key 'workers'"),
    ("[options]\ninput_bits = 4\n", "nothing to sweep"),
    ("[options]\ninput_bit = 4\n" + TRAIN, "unknown option 'input_bit'"),
    ("[options]\ninput_bits = 'four'\n" + TRAIN, "input_bits: expected an integer"),
    ("[options]\ninput_bits = true\n" + TRAIN, "input_bits: expected an integer"),
    ("[options]\napproximate = 1\n" + TRAIN, "approximate: expected true or false"),
    ("[options]\nmax_accuracy_loss = 200\n" + TRAIN, "out of range"),
    ("[options]\ninput_bits = []\n" + TRAIN, "an empty list gives no jobs"),
    ("[options]\ninput_bits = [4, 4]\n" + TRAIN, "listed twice"),
    ("[options]\nliberty = 'missing.lib'\n" + TRAIN, "missing.lib does not exist"),
    ("[options]\nadc_model = 'missing.json'\n" + TRAIN, "missing.json does not exist"),
    ("[options]\nadc_references = 'free'\n" + TRAIN, "anywhere or grid"),
    ('[[model]]\nfile = "nope.pkl"\ndata = "data.csv"\n', "nope.pkl does not exist"),
    ('[[model]]\nfile = "m.pkl"\n', "give 'data'"),
    ('[[model]]\nfile = "m.pkl"\ndata = "data.csv"\nlabel_column = "Z"\n', "no column 'Z'"),
    ('[[train]]\nhidden = [3]\n', "give either 'data'"),
    ('[[train]]\nsklearn = "iris"\ndata = "data.csv"\nhidden = [3]\n', "give either 'data'"),
    ('[[train]]\nsklearn = "mnist"\nhidden = [3]\n', "unknown dataset 'mnist'"),
    ('[[train]]\nsklearn = "iris"\n', "give 'hidden'"),
    ('[[train]]\nsklearn = "iris"\nhidden = [0]\n', "expected an integer >= 1"),
    ('[[train]]\nsklearn = "iris"\nhidden = "3"\n', "expected a list of layer sizes"),
    ('[[train]]\nsklearn = "iris"\nhidden = [3]\nactivation = "gelu"\n', "unknown activation"),
    ('[[train]]\nsklearn = "iris"\nhiden = [3]\n', "unknown key 'hiden'"),
    (TRAIN + TRAIN, "two sources are named 'iris-3'"),
    ('[[train]]\nsklearn = "iris"\nhidden = [3]\n[train.options]\nseed = -1\n', "seed: -1 is out"),
])
def test_bad_specifications_give_one_line_errors(tmp_path, text, message):
    path = _write_spec(tmp_path, text)
    with pytest.raises(BespokeError) as info:
        load_spec(path)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(info.value).startswith("sweep.toml")


def test_cli_exits_2_with_one_line_for_a_bad_spec_or_output_folder(tmp_path, capsys):
    bad = _write_spec(tmp_path, "[options]\ninput_bit = 4\n" + TRAIN)
    assert main(["sweep", str(bad), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bespoke: error: sweep.toml: [options]: unknown option 'input_bit'")
    assert err.count("\n") == 1
    assert main(["sweep", str(tmp_path / "absent.toml"), "-o", str(tmp_path / "out")]) == 2
    assert "does not exist" in capsys.readouterr().err
    good = _write_spec(tmp_path, TRAIN)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep me")
    assert main(["sweep", str(good), "-o", str(foreign)]) == 2
    assert "was not made by bespoke sweep" in capsys.readouterr().err
    assert main(["sweep", str(good), "-o", str(tmp_path / "o"), "--workers", "0"]) == 2
    assert main(["sweep", str(good), "-o", str(tmp_path / "o"), "--workers", "2",
                 "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert (foreign / "mine.txt").read_text() == "keep me"


def test_plan_combines_sources_and_options_and_keys_by_tool_versions(tmp_path):
    path = _write_spec(tmp_path, '[options]\ninput_bits = [3, 4]\nweight_bits = [6, 8]\n'
                       'approximate = false\n[[train]]\nsklearn = "iris"\nhidden = [[3], [5, 2]]\n')
    spec = load_spec(path)
    versions = {"bespoke": "x", "yosys (yowasp)": "Yosys 0.70"}
    jobs = plan(spec, versions)
    assert len(jobs) == 2 * 2 * 2 and len({j.name for j in jobs}) == 8
    assert [j.source.hidden for j in jobs[:4]] == [(3,)] * 4
    assert jobs[0].varied == {"input_bits": 3, "weight_bits": 6}
    upgraded = plan(spec, versions | {"bespoke": "y"})
    assert [j.ident for j in upgraded] == [j.ident for j in jobs]  # same folders ...
    assert all(a.key != b.key for a, b in zip(upgraded, jobs))  # ... recompiled
    # a default written out explicitly is the same job
    path.write_text(path.read_text().replace("approximate = false\n",
                                             "approximate = false\nseed = 0\n"))
    assert [j.key for j in plan(load_spec(path), versions)] == [j.key for j in jobs]


def test_a_worker_with_other_tool_versions_refuses_the_job(tmp_path):
    spec = load_spec(_write_spec(tmp_path, TRAIN))
    [job] = plan(spec, {"iverilog": "0.1"})
    payload = Payload(job, 1, None, b"", "iris.csv", {}, {"iverilog": "0.1"})
    outcome = run_job(payload)
    assert not outcome.ok and "runs iverilog" in outcome.error and "assumes 0.1" in outcome.error


def test_pareto_front_and_plot_are_deterministic():
    points = [(2.0, 90.0), (1.0, 80.0), (3.0, 85.0), (1.5, 80.0), (4.0, 95.0)]
    assert pareto(points) == [(1.0, 80.0), (2.0, 90.0), (4.0, 95.0)]
    results = [JobResult(f"j{i}", "s", "iris" if i % 2 else "wine", [4, 3, 3], {}, {}, "ok",
                         accuracy={"rtl": acc / 100}, area_cm2=area)
               for i, (area, acc) in enumerate(points)]
    svg = accuracy_area_svg(results)
    assert svg == accuracy_area_svg(results) and "iris" in svg and "wine" in svg


@pytest.mark.long_running(seconds=20)
def test_compile_runs_search_restarts_on_a_dask_scheduler_with_the_same_result(tmp_path, caplog):
    """``bespoke compile --scheduler``: the restarts run on the cluster (joblib's Dask
    backend) and the design is byte-identical to the one searched on this machine."""
    _inputs(tmp_path)
    model, X_train, X_test, y_train, y_test = trained("iris", "relu", (3,))
    import numpy as np

    write_csv(tmp_path / "iris.csv", np.vstack([X_train, X_test]), np.concatenate([y_train, y_test]))
    common = [str(tmp_path / "iris.joblib"), "--data", str(tmp_path / "iris.csv"), "--no-synth",
              "--no-adc", "--no-retrain", "--random-vectors", "20", "--search-time", "12",
              "--search-restarts", "2"]
    caplog.set_level(logging.INFO, logger="bespoke")
    assert main(["compile", *common, "-o", str(tmp_path / "here")]) == 0
    assert re.search(r"2 restarts on \d+ process", caplog.text)
    caplog.clear()
    with quiet_dask(), local_cluster(2) as cluster:
        assert main(["compile", *common, "-o", str(tmp_path / "there"),
                     "--scheduler", cluster.scheduler_address]) == 0
    assert "2 restarts on the Dask cluster" in caplog.text
    assert (tmp_path / "here" / "top.v").read_bytes() == (tmp_path / "there" / "top.v").read_bytes()
    report = json.loads((tmp_path / "there" / "report.json").read_text())
    assert report["approximation"]["knobs"]


def test_a_model_source_brings_its_own_test_data_and_input_scaler(tmp_path):
    """A [[model]] source's test_data, validation_data and input_scaler travel with its jobs
    (the worker reads no file of the sweep's machine) and mean what the compile options of
    the same name mean."""
    from sklearn.datasets import load_iris
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import MinMaxScaler

    X, y = load_iris(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:110], order[110:]
    scaler = MinMaxScaler().fit(X[train])
    model = MLPClassifier((4,), max_iter=2000, random_state=0).fit(scaler.transform(X[train]),
                                                                   y[train])
    joblib.dump(model, tmp_path / "external.joblib")
    joblib.dump(scaler, tmp_path / "scaler.joblib")
    write_csv(tmp_path / "train.csv", X[train], y[train])
    write_csv(tmp_path / "test.csv", X[test], y[test])
    (tmp_path / "sweep.toml").write_text(
        '[options]\napproximate = false\nsynthesize = false\nadc = false\nrandom_vectors = 20\n'
        '[[model]]\nfile = "external.joblib"\ndata = "train.csv"\ntest_data = "test.csv"\n'
        'input_scaler = "scaler.joblib"\n')
    spec = load_spec(tmp_path / "sweep.toml")
    [job] = plan(spec, {})
    outcome = run_job(_payload(job, 1, {}, {}))
    assert outcome.ok, outcome.error
    report = json.loads(outcome.files["report.json"])
    assert report["data"]["parts"]["test"] == {"source": "test.csv", "samples": len(test)}
    assert report["accuracy"]["float"] == model.score(scaler.transform(X[test]), y[test])
    # another test file is another job
    write_csv(tmp_path / "test2.csv", X[test][:-1], y[test][:-1])
    (tmp_path / "sweep.toml").write_text((tmp_path / "sweep.toml").read_text()
                                         .replace("test.csv", "test2.csv"))
    assert plan(load_spec(tmp_path / "sweep.toml"), {})[0].ident != job.ident
