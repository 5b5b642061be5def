"""A printed-MLP study's model and split as its scripts leave them: an MLPClassifier fitted on
features min-max scaled outside it, its own train and test files."""
import json

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import bespoke
from bespoke.cli import main

from .conftest import write_csv


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    X, y = load_wine(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=3,
                                                        stratify=y)
    scaler = MinMaxScaler().fit(X_train)
    model = MLPClassifier((3,), max_iter=3000, random_state=0).fit(scaler.transform(X_train),
                                                                   y_train)
    joblib.dump(model, folder / "model.joblib")
    joblib.dump(scaler, folder / "scaler.joblib")
    write_csv(folder / "train.csv", X_train, y_train)
    write_csv(folder / "test.csv", X_test, y_test)
    return folder, model, scaler, X_train, X_test, y_train, y_test


def test_the_report_is_on_the_studys_own_test_file(study):
    folder, model, scaler, X_train, X_test, y_train, y_test = study
    out = folder / "out"
    assert main(["-q", "compile", str(folder / "model.joblib"), "--data", str(folder / "train.csv"),
                 "--test-data", str(folder / "test.csv"), "--input-scaler",
                 str(folder / "scaler.joblib"), "--search-time", "1", "--random-vectors", "100",
                 "--no-synth", "-o", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    # scikit-learn's own score on the test file, exactly
    assert report["accuracy"]["float"] == model.score(scaler.transform(X_test), y_test)
    assert report["accuracy"]["n_test"] == len(y_test)
    parts = report["data"]["parts"]
    assert parts["test"] == {"source": "test.csv", "samples": len(y_test)}
    assert parts["training"]["samples"] == len(y_train)
    assert parts["search_training"]["samples"] + parts["validation"]["samples"] == len(y_train)
    assert report["verification"]["mismatches"] == 0
    assert report["system_verification"]["mismatches"] == 0
    assert report["warnings"] == []
    assert "Data: training (quantization): train.csv (all of it)" in (out / "report.md").read_text()


def test_a_scaler_outside_the_model_compiles_as_the_same_pipeline(study):
    """Folded in front, the scaler makes the same circuit as a Pipeline of the two: the
    quantization is in the features' own units."""
    folder, model, scaler, X_train, X_test, y_train, _ = study
    outside = bespoke.compile(model, X_train, y_train, input_scaler=folder / "scaler.joblib")
    pipeline = bespoke.compile(make_pipeline(scaler, model), X_train, y_train)
    assert outside.verilog() == pipeline.verilog()
    assert outside.quantizer == pipeline.quantizer
    assert np.array_equal(outside.predict(X_test), pipeline.predict(X_test))


def test_test_rows_seen_in_training_are_a_warning_in_the_report(study, tmp_path):
    folder, model, scaler, X_train, X_test, y_train, y_test = study
    write_csv(tmp_path / "leaky.csv", np.vstack([X_test, X_train[:4]]),
              np.r_[y_test, y_train[:4]])
    assert main(["-q", "compile", str(folder / "model.joblib"), "--data", str(folder / "train.csv"),
                 "--test-data", str(tmp_path / "leaky.csv"), "--input-scaler",
                 str(folder / "scaler.joblib"), "--exact", "--no-adc", "--no-synth",
                 "-o", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["warnings"] == [f"4 of the {len(y_test) + 4} rows of leaky.csv also appear in "
                                  "train.csv: its accuracy is not on unseen data"]
    assert "**Warning**: 4 of the" in (tmp_path / "out" / "report.md").read_text()
