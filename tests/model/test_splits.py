"""The training, validation and test data of a compile: split from one CSV, or the user's own."""
import numpy as np
import pytest

from bespoke.errors import BespokeError
from bespoke.model.data import read_csv
from bespoke.model.splits import load_splits

from ..conftest import write_csv

CLASSES = np.array(["0", "1", "2"])


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = np.arange(90) % 3
    write_csv(tmp_path / "train.csv", X[:60], y[:60])
    write_csv(tmp_path / "test.csv", X[60:75], y[60:75])
    write_csv(tmp_path / "val.csv", X[75:], y[75:])
    # three test rows that are training rows too
    write_csv(tmp_path / "leaky.csv", np.vstack([X[60:72], X[:3]]), np.r_[y[60:72], y[:3]])
    return tmp_path


def _splits(folder, **given):
    options = {"label_column": "Y", "test_data": None, "validation_data": None,
               "test_size": 0.2, "validation_size": 0.25, "seed": 0, "search": True} | given
    return load_splits(read_csv(folder / "train.csv"), folder / "train.csv", CLASSES, **options)


def test_one_file_is_split_into_training_validation_and_test(files):
    splits = _splits(files)
    assert [len(p.y) for p in (splits.training, splits.search_training, splits.validation,
                               splits.test)] == [48, 36, 12, 12]
    assert "20 % test split" in splits.test.source and not splits.warnings


def test_own_test_data_makes_all_of_the_data_training_data(files):
    splits = _splits(files, test_data=files / "test.csv")
    assert len(splits.training.y) == 60 and len(splits.test.y) == 15
    assert np.array_equal(splits.test.X, read_csv(files / "test.csv").X)
    assert len(splits.search_training.y) + len(splits.validation.y) == 60
    assert splits.describe()["test"] == {"source": "test.csv", "samples": 15}


def test_own_validation_data_lets_the_search_train_on_all_training_data(files):
    splits = _splits(files, test_data=files / "test.csv", validation_data=files / "val.csv")
    assert splits.search_training is splits.training and len(splits.validation.y) == 15
    assert splits.describe()["validation"]["source"] == "val.csv"


def test_test_rows_that_are_training_rows_are_warned_about(files):
    splits = _splits(files, test_data=files / "leaky.csv")
    assert splits.warnings == ("3 of the 15 rows of leaky.csv also appear in train.csv: its "
                               "accuracy is not on unseen data",)


def test_no_validation_part_without_a_search(files):
    splits = _splits(files, search=False)
    assert splits.validation is None and splits.search_training is None
    with pytest.raises(BespokeError, match="drop it with --exact"):
        _splits(files, search=False, validation_data=files / "val.csv")
