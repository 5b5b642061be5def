"""A printed-MLP study's model and split, compiled as its scripts leave them (issue 22).

    .venv/bin/python benchmarks/own_split.py [--datasets DIR]

For each shared dataset: a stratified 70/30 split written as two CSV files, a MinMaxScaler
fitted on the training file and applied *outside* the model, an MLPClassifier (the
printed-MLP papers' topology) fitted on the scaled features; then ``bespoke compile
MODEL --data train.csv --test-data test.csv --input-scaler scaler.joblib --exact
--no-synth``.  The table sets the report's float accuracy beside scikit-learn's own
``score`` on the test file (they must be equal), and what the report says of the data.

Writes ``benchmarks/results/own_split.md``; never edit it by hand.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path

import joblib
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import MinMaxScaler

from bespoke.cli import main as bespoke_main

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import suite  # noqa: E402  (the suite's datasets and topologies)


def one(bench: suite.Benchmark, X, y, names, folder: Path) -> dict:
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                        stratify=y)
    scaler = MinMaxScaler().fit(X_train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier((bench.hidden,), max_iter=3000, random_state=0).fit(
            scaler.transform(X_train), y_train)
    joblib.dump(model, folder / "model.joblib")
    joblib.dump(scaler, folder / "scaler.joblib")
    suite.write_csv(folder / "train.csv", X_train, y_train, names)
    suite.write_csv(folder / "test.csv", X_test, y_test, names)
    code = bespoke_main(["-q", "compile", str(folder / "model.joblib"), "--data",
                         str(folder / "train.csv"), "--test-data", str(folder / "test.csv"),
                         "--input-scaler", str(folder / "scaler.joblib"), "--exact",
                         "--no-synth", "--no-adc", "-o", str(folder / "out")])
    report = json.loads((folder / "out" / "report.json").read_text()) if code == 0 else {}
    return {"dataset": bench.name, "exit": code,
            "sklearn_score": float(model.score(scaler.transform(X_test), y_test)),
            "report_float": report.get("accuracy", {}).get("float"),
            "quantized": report.get("accuracy", {}).get("quantized"),
            "parts": report.get("data", {}).get("parts", {}),
            "warnings": report.get("warnings", [])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=Path, default=HERE.parents[1] / "shared" / "datasets")
    args = parser.parse_args()
    rows = []
    for bench in suite.BENCHMARKS:
        data = suite.load(bench, args.datasets)
        if data is None:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(one(bench, *data, Path(tmp)))
        r = rows[-1]
        print(f"{bench.name}: report {r['report_float']}, scikit-learn {r['sklearn_score']}",
              flush=True)
    lines = ["# A study's own split and externally scaled model", "",
             "Produced by `benchmarks/own_split.py`; never edit by hand. Per dataset: a stratified",
             "70/30 split kept as two files, a MinMaxScaler fitted on the training file outside the",
             "model, an MLPClassifier (the suite's topology) fitted on the scaled features, then",
             "`bespoke compile MODEL --data train.csv --test-data test.csv --input-scaler "
             "scaler.joblib --exact --no-synth --no-adc`.", "",
             "| dataset | exit | scikit-learn score on test.csv | report: float | equal | "
             "report: quantized | training / test samples (report) | warnings |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        parts = r["parts"]
        lines.append(
            f"| {r['dataset']} | {r['exit']} | {r['sklearn_score']!r} | {r['report_float']!r} | "
            f"{'yes' if r['report_float'] == r['sklearn_score'] else 'NO'} | {r['quantized']!r} | "
            f"{parts.get('training', {}).get('samples')} / {parts.get('test', {}).get('samples')}"
            f" | {len(r['warnings'])} |")
    equal = sum(r["report_float"] == r["sklearn_score"] for r in rows)
    lines += ["", f"Report's float accuracy equal to scikit-learn's score: {equal} of {len(rows)}."]
    (HERE / "results" / "own_split.md").write_text("\n".join(lines) + "\n")
    return 0 if equal == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
