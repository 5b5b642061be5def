"""Shared fixtures: small fitted MLPs, and the team's shared datasets when present."""
from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ACTIVATIONS = ("identity", "relu", "tanh", "logistic")


@lru_cache(maxsize=None)
def trained(dataset: str, activation: str, hidden: tuple[int, ...] = (4,), scaler: bool = True):
    """``(model, X_train, X_test, y_train, y_test)`` for a small MLP, cached per session."""
    from sklearn.datasets import load_breast_cancer, load_iris
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    X, y = {"iris": load_iris, "cancer": load_breast_cancer}[dataset](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    mlp = MLPClassifier(hidden, activation=activation, max_iter=1500, random_state=0)
    model = make_pipeline(MinMaxScaler(), mlp) if scaler else mlp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    return model, X_train, X_test, y_train, y_test


@pytest.fixture
def shared_datasets() -> Path:
    path = SHARED / "datasets"
    if not path.is_dir():
        pytest.skip("../shared/datasets is not present")
    return path


def write_csv(path: Path, X: np.ndarray, y: np.ndarray, delimiter: str = ";") -> Path:
    header = [f"f{i}" for i in range(X.shape[1])] + ["Y"]
    lines = [delimiter.join(header)]
    lines += [delimiter.join([*(repr(float(v)) for v in row), str(label)]) for row, label in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return path
