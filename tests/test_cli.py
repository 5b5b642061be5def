"""The command line end to end: real Icarus simulation, real files."""
import json
import pickle
import re
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from bespoke.cli import main
from bespoke.model.data import read_csv

from .conftest import ill_conditioned, trained, write_csv


def test_compile_a_shared_dataset_with_a_pipeline(shared_datasets, tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = read_csv(shared_datasets / "seeds.csv", "Y")
    model = make_pipeline(StandardScaler(), MLPClassifier((4,), activation="tanh", max_iter=2000,
                                                          random_state=0))
    model.fit(data.X, data.y.astype(int))
    joblib.dump(model, tmp_path / "seeds.joblib")
    out = tmp_path / "out"
    assert main(["-q", "compile", "--exact", str(tmp_path / "seeds.joblib"), "--data",
                 str(shared_datasets / "seeds.csv"), "-o", str(out), "--seed", "1", "--no-synth"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["verification"]["mismatches"] == 0
    assert report["model"]["topology"] == [7, 4, 3]
    assert report["accuracy"]["quantized"] >= report["accuracy"]["float"] - 0.1


def test_binary_pickle_with_comma_csv_and_text_labels(tmp_path):
    model, X_train, X_test, y_train, y_test = trained("cancer", "logistic", scaler=False)
    X = np.concatenate([X_train, X_test])
    labels = np.where(np.concatenate([y_train, y_test]) == 1, "benign", "malignant")
    clf = make_pipeline(MinMaxScaler(), MLPClassifier((3,), activation="logistic", max_iter=500,
                                                      random_state=0))
    clf.fit(X_train, np.where(y_train == 1, "benign", "malignant"))
    with open(tmp_path / "m.pkl", "wb") as handle:
        pickle.dump(clf, handle)
    write_csv(tmp_path / "d.csv", X, labels, delimiter=",")
    assert main(["-q", "compile", "--exact", str(tmp_path / "m.pkl"), "--data", str(tmp_path / "d.csv"),
                 "-o", str(tmp_path / "out"), "--random-vectors", "200", "--no-synth",
                 "--no-adc"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["model"]["classes"] == ["benign", "malignant"]
    assert report["verification"]["mismatches"] == 0
    assert report["accuracy"]["quantized"] > 0.8


def test_a_constant_classifier_compiles_to_no_gates(tmp_path):
    """An unscaled, barely trained model predicts one class everywhere: refused as a model
    that does not fit its data; with --force, synthesis proves it constant and the flow
    still verifies and reports (zero cells, no critical path), the finding as a warning."""
    _, X_train, X_test, y_train, y_test = trained("cancer", "relu")
    clf = MLPClassifier((3,), activation="logistic", max_iter=20, random_state=0).fit(X_train, y_train)
    assert len(set(clf.predict(X_test))) == 1
    joblib.dump(clf, tmp_path / "m.pkl")
    write_csv(tmp_path / "d.csv", np.concatenate([X_train, X_test]), np.concatenate([y_train, y_test]))
    argv = ["-q", "compile", "--exact", str(tmp_path / "m.pkl"), "--data", str(tmp_path / "d.csv"),
            "-o", str(tmp_path / "out"), "--random-vectors", "100"]
    assert main(argv) == 2 and not (tmp_path / "out").exists()
    assert main(argv + ["--force"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["warnings"][0].startswith("--force: the model's accuracy on d.csv is")
    assert report["cells"] == 0 and report["area"]["um2"] == 0
    assert report["gate_level"]["verification"]["mismatches"] == 0


def test_a_model_its_widths_cannot_resolve_is_compiled_with_a_warning_naming_wider_ones(
        tmp_path, caplog):
    """The exact design of a model whose decisions hinge on a few tenths between weights
    of 100 loses most of its accuracy at 8-bit weights: the report and the log say so, and
    which wider options would keep it; with those the warning is gone."""
    model, X, y = ill_conditioned()
    joblib.dump(model, tmp_path / "m.pkl")
    write_csv(tmp_path / "d.csv", X, y)
    argv = ["compile", "--exact", "--no-adc", "--no-synth", str(tmp_path / "m.pkl"),
            "--data", str(tmp_path / "d.csv"), "--random-vectors", "10"]
    assert main([*argv, "-o", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    [warning] = [w for w in report["warnings"] if "training accuracy against the float" in w]
    assert warning in caplog.text
    assert report["accuracy"]["quantized"] < report["accuracy"]["float"] - 0.2
    # the options it names keep the model's accuracy
    wider = re.search(r"with ((?:--\S+ \d+ ?)+) it loses", warning).group(1).split()
    assert "--weight-bits" in wider
    assert main([*argv, "-o", str(tmp_path / "wide"), *wider]) == 0
    report = json.loads((tmp_path / "wide" / "report.json").read_text())
    assert not any("training accuracy against the float" in w for w in report["warnings"])
    assert report["accuracy"]["quantized"] >= report["accuracy"]["float"] - 0.02


@pytest.fixture
def csv_and_models(tmp_path):
    model, X_train, _, y_train, _ = trained("iris", "relu")
    write_csv(tmp_path / "iris.csv", X_train, y_train)
    joblib.dump(model, tmp_path / "good.pkl")
    joblib.dump(LogisticRegression(max_iter=500).fit(X_train, y_train), tmp_path / "linear.pkl")
    joblib.dump(MLPClassifier(), tmp_path / "unfitted.pkl")
    write_csv(tmp_path / "narrow.csv", X_train[:, :3], y_train)
    return tmp_path


@pytest.mark.parametrize("model, data, extra, message", [
    ("linear.pkl", "iris.csv", [], "not an MLPClassifier"),
    ("unfitted.pkl", "iris.csv", [], "not fitted"),
    ("good.pkl", "narrow.csv", [], "has 3 features but the model expects 4"),
    ("good.pkl", "iris.csv", ["--label-column", "species"], "no column 'species'"),
    ("good.pkl", "iris.csv", ["--input-bits", "0"], "out of range"),
    ("iris.csv", "iris.csv", [], "not a readable model file"),
])
def test_bad_input_exits_2_with_one_line(csv_and_models, capsys, model, data, extra, message):
    out = csv_and_models / "out"
    code = main(["-q", "compile", "--exact", str(csv_and_models / model), "--data",
                 str(csv_and_models / data), "-o", str(out), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and "\n" not in err and err.startswith("bespoke: error:")
    assert not out.exists()  # nothing half-written


def test_a_foreign_output_folder_is_never_overwritten(csv_and_models, capsys):
    foreign = csv_and_models / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    code = main(["-q", "compile", "--exact", str(csv_and_models / "good.pkl"), "--data",
                 str(csv_and_models / "iris.csv"), "-o", str(foreign)])
    assert code == 2 and "not made by bespoke" in capsys.readouterr().err
    assert (foreign / "thesis.tex").read_text() == "precious"


def test_installed_command_reports_errors_with_exit_code_2(csv_and_models):
    result = subprocess.run([sys.executable, "-m", "bespoke.cli", "compile", "--exact",
                             str(csv_and_models / "unfitted.pkl"), "--data",
                             str(csv_and_models / "iris.csv"), "-o", str(csv_and_models / "o")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("bespoke: error:")]
    assert errors == ["bespoke: error: the MLPClassifier is not fitted: call fit() before saving it"]
    assert "Traceback" not in result.stderr


def test_a_malicious_model_file_exits_2_and_runs_nothing(csv_and_models, capsys):
    from .model.test_ingest import _Evil

    marker = csv_and_models / "pwned"
    joblib.dump(_Evil(marker), csv_and_models / "evil.pkl")
    code = main(["-q", "compile", "--exact", str(csv_and_models / "evil.pkl"), "--data",
                 str(csv_and_models / "iris.csv"), "-o", str(csv_and_models / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--trust-model" in err and "\n" not in err
    assert not marker.exists() and not (csv_and_models / "out").exists()


def test_a_design_too_large_to_print_is_refused_before_long_work(tmp_path, capsys):
    model = MLPClassifier((60, 60), max_iter=30, random_state=0)
    _, X_train, X_test, y_train, y_test = trained("cancer", "relu")
    model.fit(X_train, y_train)
    joblib.dump(model, tmp_path / "big.pkl")
    write_csv(tmp_path / "d.csv", np.concatenate([X_train, X_test]), np.concatenate([y_train, y_test]))
    args = ["-q", "compile", "--exact", str(tmp_path / "big.pkl"), "--data", str(tmp_path / "d.csv"),
            "-o", str(tmp_path / "out"), "--no-synth", "--random-vectors", "10"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "A4 sheet" in err and "--force" in err and not (tmp_path / "out").exists()


def test_retraining_is_on_by_default_and_no_retrain_turns_it_off():
    from bespoke.cli import build_parser
    from bespoke.flow import CompileConfig

    parse = build_parser().parse_args
    assert parse(["compile", "m.pkl", "--data", "d.csv", "-o", "out"]).retrain is True
    assert parse(["compile", "m.pkl", "--data", "d.csv", "-o", "out", "--no-retrain"]).retrain is False
    assert CompileConfig("m.pkl", "d.csv", "out").retrain is True  # the API agrees


def test_the_system_by_default_and_the_core_alone_with_no_adc(tmp_path):
    model, X_train, X_test, y_train, y_test = trained("iris", "relu", (3,))
    joblib.dump(model, tmp_path / "model.pkl")
    write_csv(tmp_path / "iris.csv", np.concatenate([X_train, X_test]),
              np.concatenate([y_train, y_test]))
    common = ["-q", "compile", "--exact", "--no-synth", "--random-vectors", "100",
              str(tmp_path / "model.pkl"), "--data", str(tmp_path / "iris.csv")]
    assert main([*common, "-o", str(tmp_path / "system")]) == 0
    assert main([*common, "--no-adc", "-o", str(tmp_path / "core")]) == 0
    system = json.loads((tmp_path / "system" / "report.json").read_text())
    core = json.loads((tmp_path / "core" / "report.json").read_text())
    assert "system" not in core and not (tmp_path / "core" / "system.v").exists()
    assert "input [3:0] x0" in (tmp_path / "core" / "top.v").read_text()
    # with ADCs: top reads each conventional flash's 15 comparator bits
    assert "input [14:0] x0" in (tmp_path / "system" / "top.v").read_text()
    assert "module system" in (tmp_path / "system" / "system.v").read_text()
    assert system["system_verification"]["mismatches"] == 0
    assert system["system"]["core"]["source"].startswith("estimate")
    assert system["system"]["total"]["power_mw"] is None  # not synthesized: no power
    # the same classifier either way
    assert system["accuracy"] == core["accuracy"]
    design = json.loads((tmp_path / "system" / "design.json").read_text())
    assert len(design["network"]["interface"]["channels"]) == 4


@pytest.mark.parametrize("simulator, environment, message", [
    ("modelsim", {}, "invalid choice: 'modelsim'"),
    ("verilator", {"BESPOKE_VERILATOR": "/nonexistent/verilator"}, "apt-get install verilator"),
])
def test_a_missing_or_unknown_simulator_is_refused_before_long_work(
        csv_and_models, capsys, monkeypatch, simulator, environment, message):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    out = csv_and_models / "out"
    try:
        code = main(["-q", "compile", str(csv_and_models / "good.pkl"), "--data",
                     str(csv_and_models / "iris.csv"), "-o", str(out), "--simulator", simulator])
    except SystemExit as exit:  # argparse's own refusal
        code = exit.code
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and message in err
    assert not out.exists()
