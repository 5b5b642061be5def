"""Reading tabular data: a CSV with a header row and one label column."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BespokeError


@dataclass(frozen=True)
class Dataset:
    X: np.ndarray  # float features, shape (n, f)
    y: np.ndarray  # labels as strings, exactly as written in the file
    feature_names: tuple[str, ...]


def read_csv(path: str | Path, label_column: str = "Y") -> Dataset:
    """Read a semicolon-, comma- or tab-separated file with a header row."""
    path = Path(path)
    if not path.is_file():
        raise BespokeError(f"data file {path} does not exist: pass a CSV with a header row")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise BespokeError(f"{path} is not a UTF-8 text file: pass a CSV with a header row") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        raise BespokeError(f"{path} has no data rows: pass a CSV with a header row and samples")
    delimiter = max(";,\t", key=lines[0].count)
    rows = list(csv.reader(lines, delimiter=delimiter))
    header = [h.strip() for h in rows[0]]
    if label_column not in header:
        _refuse_one_hot(path, header, rows[1:], label_column)
        raise BespokeError(f"{path} has no column {label_column!r} (columns: "
                           f"{', '.join(header[:8])}{', ...' if len(header) > 8 else ''}): "
                           "pass --label-column NAME")
    label_index = header.index(label_column)
    features = [h for i, h in enumerate(header) if i != label_index]
    if not features:
        raise BespokeError(f"{path} has no feature columns besides {label_column!r}")
    X = np.empty((len(rows) - 1, len(features)))
    y = []
    for r, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise BespokeError(f"{path} line {r} has {len(row)} fields, the header has "
                               f"{len(header)}: fix the file")
        values = [v.strip() for i, v in enumerate(row) if i != label_index]
        for c, value in enumerate(values):
            try:
                X[r - 2, c] = float(value)
            except ValueError:
                raise BespokeError(f"{path} line {r}, column {features[c]!r}: {value!r} is not "
                                   "a number; encode categorical features numerically") from None
        y.append(row[label_index].strip())
    if not np.all(np.isfinite(X)):
        raise BespokeError(f"{path} contains NaN or infinite feature values: remove or impute them")
    return Dataset(X, np.asarray(y), tuple(features))


def _refuse_one_hot(path: Path, header: list[str], rows: list[list[str]], label: str) -> None:
    """Refuse, with the fix, labels given one-hot: columns named after the label column
    (``Y_0``, ``Y_1``, ...) holding 0 or 1 with exactly one 1 per row."""
    columns = [i for i, h in enumerate(header) if h.startswith(label) and h != label]
    if len(columns) < 2:
        return
    try:
        values = np.array([[float(row[i]) for i in columns] for row in rows])
    except (ValueError, IndexError):
        return
    if np.isin(values, (0, 1)).all() and (values.sum(axis=1) == 1).all():
        names = [header[i] for i in columns]
        raise BespokeError(
            f"{path} holds its labels one-hot in columns {', '.join(names)}: bespoke reads one "
            f"label column; add a column {label} with each row's class (pandas: df[{label!r}] = "
            f"df[{names!r}].values.argmax(axis=1)) and drop those, then pass --label-column {label}")


def align_labels(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Map labels read as text onto the model's ``classes_`` (returns class indices)."""
    def key(value) -> str:
        text = str(value)
        try:
            number = float(text)
        except ValueError:
            return text
        return repr(int(number)) if number.is_integer() else repr(number)

    index = {key(c): i for i, c in enumerate(classes)}
    unknown = sorted({str(v) for v in labels if key(v) not in index})
    if unknown:
        raise BespokeError(f"labels {', '.join(unknown[:5])} were never seen by the model "
                           f"(its classes: {', '.join(map(str, classes))}): check --label-column")
    return np.array([index[key(v)] for v in labels], dtype=np.int64)


def split(X: np.ndarray, y_index: np.ndarray, test_size: float, seed: int,
          what: str = "test"):
    """Split ``X`` and its class indices ``y_index`` as ``bespoke compile`` does: a shuffled
    split, stratified when every class has two samples, of ``test_size`` (a fraction) into
    ``X_rest, X_part, y_rest, y_part``; ``what`` names the part in errors."""
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise BespokeError(f"--test-size {test_size} is out of range: use a fraction in (0, 1)")
    counts = np.bincount(y_index)
    stratify = y_index if counts[counts > 0].min() >= 2 else None
    try:
        parts = train_test_split(X, y_index, test_size=test_size, random_state=seed,
                                 stratify=stratify)
    except ValueError as exc:
        raise BespokeError(f"cannot split {len(X)} samples with --test-size {test_size}: {exc}") from None
    if len(parts[3]) == 0 or len(parts[2]) == 0:
        raise BespokeError(f"the training or {what} split is empty: use more data or another "
                           "--test-size")
    if len(np.unique(parts[3])) < 2:
        raise BespokeError(f"the {what} split ({len(parts[3])} samples) holds one class only, so "
                           "its accuracy means nothing: use more data, or a larger --test-size")
    return parts
