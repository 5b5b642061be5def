"""Where each accuracy comes from: the training, validation and test data of a compile.

By default ``bespoke compile`` splits the one CSV it is given (``--data``): a stratified
test split, and for the search a validation split of the rest.  Users who keep their own
split (as every published study does, to compare with its tables) give the test data
(``--test-data``: then all of ``--data`` is training data) and the search's validation
data (``--validation-data``: then the search trains on all of the training data) as files
of their own, with the same columns as ``--data``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BespokeError
from .data import Dataset, align_labels, read_csv, split

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Part:
    """Samples of one role, their class indices (into the model's ``classes_``) and where
    they come from."""

    X: np.ndarray
    y: np.ndarray
    source: str

    def describe(self) -> dict:
        return {"source": self.source, "samples": len(self.y)}


@dataclass(frozen=True)
class Splits:
    training: Part  # what the model is calibrated on (quantization), the search's data
    test: Part  # what every reported accuracy is measured on
    #: the search's own split of ``training``: what it trains on, what it validates on
    search_training: Part | None = None
    validation: Part | None = None
    warnings: tuple[str, ...] = ()

    def describe(self) -> dict:
        parts = {"training": self.training, "search_training": self.search_training,
                 "validation": self.validation, "test": self.test}
        return {name: part.describe() for name, part in parts.items() if part is not None}


def _other_file(path: Path, label_column: str, data: Dataset, data_path: Path,
                classes: np.ndarray) -> Part:
    """A test or validation file: the same columns as ``--data``, labels the model knows."""
    other = read_csv(path, label_column)
    if other.feature_names != data.feature_names:
        theirs = set(other.feature_names) ^ set(data.feature_names)
        detail = (f"columns {', '.join(sorted(theirs)[:4])} are in one file only" if theirs
                  else "the columns are in another order")
        raise BespokeError(f"{path} does not have the columns of {data_path.name} ({detail}): "
                           "pass a file with the same header as --data")
    return Part(other.X, align_labels(other.y, classes), path.name)


def _shared_rows(a: np.ndarray, b: np.ndarray) -> int:
    """How many rows of ``b`` also appear in ``a`` (identical feature values)."""
    seen = {row.tobytes() for row in np.ascontiguousarray(a, dtype=float)}
    return sum(row.tobytes() in seen for row in np.ascontiguousarray(b, dtype=float))


def load_splits(data: Dataset, data_path: Path, classes: np.ndarray, *, label_column: str,
                test_data: Path | None, validation_data: Path | None, test_size: float,
                validation_size: float, seed: int, search: bool) -> Splits:
    """The training, test and (with ``search``) validation parts of a compile (see the
    module docstring); warns when rows of the test or validation file also appear in the
    training data."""
    y = align_labels(data.y, classes)
    data_path = Path(data_path)
    if validation_data is not None and not search:
        raise BespokeError("--validation-data is the search's: drop it with --exact")
    warnings = []
    if test_data is not None:
        training = Part(data.X, y, f"{data_path.name} (all of it)")
        test = _other_file(Path(test_data), label_column, data, data_path, classes)
    else:
        X_train, X_test, y_train, y_test = split(data.X, y, test_size, seed)
        training = Part(X_train, y_train, f"{data_path.name} less its test split")
        test = Part(X_test, y_test, f"{data_path.name}: stratified {100 * test_size:g} % "
                                    f"test split, seed {seed}")
    if len(np.unique(test.y)) < 2 and test_data is not None:
        log.warning("%s holds one class only: its accuracy says little", test.source)
    search_training = validation = None
    if search and validation_data is not None:
        validation = _other_file(Path(validation_data), label_column, data, data_path, classes)
        search_training = training
    elif search:
        X_fit, X_val, y_fit, y_val = split(training.X, training.y, validation_size, seed,
                                           "validation")
        search_training = Part(X_fit, y_fit, f"{training.source}, less the validation split")
        validation = Part(X_val, y_val, f"{training.source}: stratified "
                                        f"{100 * validation_size:g} % validation split, seed {seed}")
    for part, given in ((test, test_data), (validation, validation_data)):
        if part is not None and given is not None:
            shared = _shared_rows(training.X, part.X)
            if shared:
                warnings.append(f"{shared} of the {len(part.y)} rows of {part.source} also "
                                f"appear in {data_path.name}: its accuracy is not on unseen data")
                log.warning(warnings[-1])
    return Splits(training, test, search_training, validation, tuple(warnings))
