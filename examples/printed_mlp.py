"""Train a printed-MLP-paper topology on a UCI dataset and compile it with bespoke.

    python examples/printed_mlp.py                         # Cardio 21-3-3, ReLU
    python examples/printed_mlp.py --dataset ../shared/datasets/seeds.csv --hidden 4 \
        --activation tanh -o build/examples/seeds

It saves the fitted Pipeline(MinMaxScaler, MLPClassifier) as a pickle, exactly as a user
would, then runs the same flow as `bespoke compile MODEL --data CSV -o OUTDIR`.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import joblib
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from bespoke.cli import main as bespoke_main
from bespoke.model.data import read_csv

DEFAULT_DATASET = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "cardio.csv"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--label-column", default="Y")
    parser.add_argument("--hidden", type=int, nargs="+", default=[3])
    parser.add_argument("--activation", default="relu",
                        choices=["identity", "relu", "tanh", "logistic"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", type=Path, default=Path("build/examples/cardio"))
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if not args.dataset.is_file():
        print(f"example: {args.dataset} not found: pass --dataset PATH", file=sys.stderr)
        return 2
    data = read_csv(args.dataset, args.label_column)
    # the splits bespoke compile makes (test 0.2, then validation 0.25 of the rest, stratified,
    # --seed): the model must see neither, so the approximation search can tell what generalizes
    X_train, _, y_train, _ = train_test_split(data.X, data.y, test_size=0.2,
                                              random_state=args.seed, stratify=data.y)
    X_train, _, y_train, _ = train_test_split(X_train, y_train, test_size=0.25,
                                              random_state=args.seed, stratify=y_train)
    model = make_pipeline(MinMaxScaler(), MLPClassifier(tuple(args.hidden), activation=args.activation,
                                                        max_iter=3000, random_state=args.seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    model_path = args.output.parent / f"{args.output.name}-model.pkl"
    joblib.dump(model, model_path)
    return bespoke_main(["compile", str(model_path), "--data", str(args.dataset),
                         "--label-column", args.label_column, "--seed", str(args.seed),
                         "-o", str(args.output)])


if __name__ == "__main__":
    sys.exit(main())
