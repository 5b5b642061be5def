import numpy as np
import pytest

from bespoke.model.data import align_labels, read_csv, split
from bespoke.errors import BespokeError


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_reads_any_common_delimiter(tmp_path, sep):
    path = tmp_path / "d.csv"
    path.write_text(sep.join(["a", "Y", "b"]) + "\n" + sep.join(["1.5", "2", "-3"]) + "\n")
    data = read_csv(path, "Y")
    assert data.feature_names == ("a", "b")
    assert data.X.tolist() == [[1.5, -3.0]]
    assert data.y.tolist() == ["2"]


def test_reads_the_shared_datasets(shared_datasets):
    data = read_csv(shared_datasets / "seeds.csv", "Y")
    assert data.X.shape == (210, 7)
    assert sorted(set(data.y)) == ["1", "2", "3"]


@pytest.mark.parametrize("text, label, message", [
    ("a;b\n1;2\n", "Y", "no column 'Y'"),
    ("a;Y\nx;1\n", "Y", "is not a number"),
    ("a;Y\nnan;1\n", "Y", "NaN"),
    ("a;Y\n", "Y", "no data rows"),
    ("a;Y\n1;2;3\n", "Y", "has 3 fields"),
    ("a;Y_0;Y_1;Y_2\n1;0;1;0\n2;1;0;0\n", "Y",
     "one-hot in columns Y_0, Y_1, Y_2: .* df\\['Y'\\] = df\\[\\['Y_0', 'Y_1', 'Y_2'\\]\\]"
     "\\.values\\.argmax\\(axis=1\\)"),
])
def test_bad_files_get_one_line_errors(tmp_path, text, label, message):
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(BespokeError, match=message) as info:
        read_csv(path, label)
    assert "\n" not in str(info.value)


def test_labels_align_to_numeric_and_text_classes():
    assert align_labels(np.array(["2", "1.0", "3"]), np.array([1, 2, 3])).tolist() == [1, 0, 2]
    # integer labels against float classes_, and the other way round: only the type differs
    assert align_labels(np.array(["2", "1"]), np.array([1.0, 2.0])).tolist() == [1, 0]
    assert align_labels(np.array(["0.0", "1.0"]), np.array([0, 1])).tolist() == [0, 1]
    assert align_labels(np.array(["yes", "no"]), np.array(["no", "yes"])).tolist() == [1, 0]
    assert align_labels(np.array(["b", "a"]), np.array(["a", "b"])).tolist() == [1, 0]
    with pytest.raises(BespokeError, match="never seen"):
        align_labels(np.array(["4"]), np.array([1, 2, 3]))


def test_split_is_stratified_and_repeatable():
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.array([0] * 15 + [1] * 5)
    X_rest, X_part, y_rest, y_part = split(X, y, 0.2, seed=3)
    assert len(y_part) == 4 and np.count_nonzero(y_part == 1) == 1  # one in five, as in y
    assert sorted(X_rest[:, 0].tolist() + X_part[:, 0].tolist()) == X[:, 0].tolist()
    again = split(X, y, 0.2, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip((X_rest, X_part, y_rest, y_part), again))


@pytest.mark.parametrize("y, size, message", [
    ([0] * 10 + [1] * 10, 1.5, "out of range"),
    ([0] * 19 + [1], 0.5, "one class only"),  # the lone sample of class 1 lands on one side
])
def test_split_refuses_useless_splits(y, size, message):
    with pytest.raises(BespokeError, match=message):
        for seed in range(20):  # the one-class part shows up for some seed
            split(np.zeros((len(y), 1)), np.array(y), size, seed)
