"""Nothing lost: every bad input, a killed simulator and Ctrl-C leave the previous result of
an output folder byte for byte as it was, with a one-line error that says so.

``docs/hardening.md`` records how many bad inputs these tests try; a test keeps it current.
"""
import copy
import os
import re
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import MinMaxScaler

from bespoke.cli import main

from .conftest import trained, write_csv

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Good and bad model and data files, and a previous result in ``out``."""
    folder = tmp_path_factory.mktemp("hardening")
    model, X, _, y, _ = trained("iris", "relu")
    joblib.dump(model, folder / "good.pkl")
    joblib.dump(LogisticRegression(max_iter=500).fit(X, y), folder / "linear.pkl")
    joblib.dump(MLPClassifier(), folder / "unfitted.pkl")
    broken = copy.deepcopy(model)
    broken[-1].coefs_[0][0, 0] = np.nan
    joblib.dump(broken, folder / "nan_weights.pkl")
    write_csv(folder / "iris.csv", X, y)
    write_csv(folder / "narrow.csv", X[:, :3], y)
    for name, value in (("nan.csv", np.nan), ("inf.csv", np.inf)):
        bad = X.copy()
        bad[3, 1] = value
        write_csv(folder / name, bad, y)
    (folder / "text.csv").write_text((folder / "iris.csv").read_text().replace("\n5.", "\nabc", 1))
    write_csv(folder / "unseen.csv", X, np.where(y == 2, 7, y))
    write_csv(folder / "one_class.csv", X, np.zeros_like(y))
    write_csv(folder / "tiny.csv", X[:3], y[:3])
    (folder / "empty.csv").write_text("")
    (folder / "spec.json").write_text('{"input_bits": 4, "layers": []}')
    (folder / "adc.json").write_text('{"name": "half a model"}')
    (folder / "spec_adc.json").write_text(
        '{"input_bits": 2, "layers": [{"weights": [[1, -1]], "biases": [0]}], "interface": '
        '{"inputs": [{"thresholds": [9, 3], "levels": [0, 1, 2]}, {"levels": [0]}]}}')
    # a model fitted on features scaled outside it, and its scaler
    scaler = MinMaxScaler().fit(X)
    external = MLPClassifier((5,), max_iter=2000, random_state=0).fit(scaler.transform(X), y)
    joblib.dump(external, folder / "external.pkl")
    joblib.dump(scaler, folder / "scaler.pkl")
    joblib.dump(MLPClassifier((3,), max_iter=300, random_state=0).fit(X, np.eye(3)[y]),
                folder / "one_hot.pkl")
    write_csv(folder / "far.csv", X * 1000, y)
    one_hot = ["f0;f1;f2;f3;Y_0;Y_1;Y_2"] + [";".join([*map(repr, map(float, row)),
                                                       *("1" if k == label else "0" for k in range(3))])
                                             for row, label in zip(X, y)]
    (folder / "one_hot.csv").write_text("\n".join(one_hot) + "\n")
    (folder / "renamed.csv").write_text((folder / "iris.csv").read_text().replace("f0", "g0", 1))
    assert main(["-q", "compile", "--exact", "--no-synth", "--random-vectors", "20",
                 str(folder / "good.pkl"), "--data", str(folder / "iris.csv"),
                 "-o", str(folder / "out")]) == 0
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def no_staging_left(folder: Path) -> bool:
    return not [p for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.")]


#: (model file, data file, extra options, what the error says); model None: --integer-spec
BAD_INPUTS = [
    ("iris.csv", "iris.csv", [], "not a readable model file"),
    ("linear.pkl", "iris.csv", [], "not an MLPClassifier"),
    ("unfitted.pkl", "iris.csv", [], "not fitted"),
    ("nan_weights.pkl", "iris.csv", [], "NaN or infinite weights"),
    ("good.pkl", "narrow.csv", [], "has 3 features but the model expects 4"),
    ("good.pkl", "nan.csv", [], "NaN or infinite feature values"),
    ("good.pkl", "inf.csv", [], "NaN or infinite feature values"),
    ("good.pkl", "text.csv", [], "is not a number"),
    ("good.pkl", "iris.csv", ["--label-column", "species"], "no column 'species'"),
    ("good.pkl", "unseen.csv", [], "never seen by the model"),
    ("good.pkl", "one_class.csv", [], "one class only"),
    ("good.pkl", "tiny.csv", [], "one class only"),
    ("good.pkl", "empty.csv", [], "no data rows"),
    ("good.pkl", "missing.csv", [], "missing.csv"),
    ("good.pkl", "iris.csv", ["--input-bits", "0"], "--input-bits 0 is out of range"),
    ("good.pkl", "iris.csv", ["--weight-bits", "1"], "--weight-bits 1 is out of range"),
    ("good.pkl", "iris.csv", ["--activation-bits", "40"], "--activation-bits 40 is out of range"),
    ("good.pkl", "iris.csv", ["--test-size", "1.5"], "--test-size 1.5 is out of range"),
    ("good.pkl", "iris.csv", ["--approximate", "--max-accuracy-loss", "500"], "out of range"),
    ("good.pkl", "iris.csv", ["--approximate", "--search-time", "0"], "must be positive"),
    ("good.pkl", "iris.csv", ["--search-restarts", "0"], "--search-restarts 0 must be 1 or more"),
    (None, None, ["--integer-spec", "spec.json"], "'layers' must be a non-empty list"),
    (None, None, ["--integer-spec", "spec_adc.json"], "input 0: thresholds must be strictly"),
    ("good.pkl", "iris.csv", ["--adc-model", "adc.json"], "must hold exactly the fields"),
    ("good.pkl", "iris.csv", ["--adc-model", "missing_adc.json"], "does not exist"),
    ("external.pkl", "iris.csv", [], "not clearly above"),
    ("good.pkl", "far.csv", [], "far outside the range the model's scaler was fitted on"),
    ("one_hot.pkl", "iris.csv", [], "Y.argmax(axis=1)"),
    ("good.pkl", "one_hot.csv", [], "holds its labels one-hot in columns Y_0, Y_1, Y_2"),
    ("good.pkl", "iris.csv", ["--test-data", "renamed.csv"], "pass a file with the same header"),
    ("good.pkl", "iris.csv", ["--validation-data", "iris.csv"], "drop it with --exact"),
    ("external.pkl", "iris.csv", ["--input-scaler", "missing.pkl"], "does not exist"),
    ("external.pkl", "iris.csv", ["--input-scaler", "linear.pkl"], "not a MinMaxScaler"),
    ("good.pkl", "iris.csv", ["--input-scaler", "scaler.pkl"], "already scales its inputs"),
]


@pytest.mark.parametrize("model, data, extra, message", BAD_INPUTS)
def test_a_bad_input_is_one_line_exit_2_and_loses_nothing(inputs, capsys, model, data, extra,
                                                          message):
    out = inputs / "out"
    before = snapshot(out)
    files = ([str(inputs / model), "--data", str(inputs / data)] if model else [])
    extra = [str(inputs / e) if e.endswith((".json", ".csv", ".pkl")) else e for e in extra]
    mode = [] if "--approximate" in extra else ["--exact"]
    code = main(["-q", "compile", *mode, "--no-synth", *files, *extra, "-o", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("bespoke: error:") and "\n" not in err and message in err, err
    assert err.endswith(f"the previous result in {out} is intact")
    assert snapshot(out) == before and no_staging_left(out)


def test_a_killed_simulator_leaves_the_previous_result_and_says_so(inputs, capsys, monkeypatch,
                                                                   tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "vvp").write_text("#!/bin/sh\nkill -9 $$\n")  # the simulator dies at once
    (fake / "vvp").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    out = inputs / "out"
    before = snapshot(out)
    code = main(["-q", "compile", "--exact", "--no-synth", str(inputs / "good.pkl"), "--data",
                 str(inputs / "iris.csv"), "-o", str(out)])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code != 0 and "simulator stopped without answering" in err
    assert err.endswith(f"the previous result in {out} is intact")
    assert snapshot(out) == before and no_staging_left(out)


def test_ctrl_c_leaves_the_previous_result_and_says_so(inputs, capsys, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("bespoke.flow.verify", interrupt)  # Ctrl-C in the middle of the run
    out = inputs / "out"
    before = snapshot(out)
    code = main(["-q", "compile", "--exact", "--no-synth", str(inputs / "good.pkl"), "--data",
                 str(inputs / "iris.csv"), "-o", str(out)])
    assert code == 130
    assert capsys.readouterr().err.strip() == (f"bespoke: interrupted; the previous result in "
                                               f"{out} is intact")
    assert snapshot(out) == before and no_staging_left(out)


def test_a_simulation_too_long_is_refused_before_long_work_with_its_estimate(inputs, capsys):
    out = inputs / "out"
    before = snapshot(out)
    code = main(["-q", "compile", "--exact", str(inputs / "good.pkl"), "--data",
                 str(inputs / "iris.csv"), "--random-vectors", "100000000", "-o", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and re.search(r"estimated at \d+ minutes", err) and "--force" in err
    assert "--simulator verilator" in err  # the faster simulator is suggested
    assert snapshot(out) == before and no_staging_left(out)


def test_the_record_of_bad_inputs_is_current():
    text = (ROOT / "docs" / "hardening.md").read_text()
    counted = re.search(r"(\d+) bad inputs", text)
    assert counted and int(counted.group(1)) == len(BAD_INPUTS), "update docs/hardening.md"
