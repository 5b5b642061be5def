"""Shared fixtures: small fitted MLPs, and the team's shared datasets when present."""
from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# CI machines vary in speed: no per-example deadline; the same examples on every run
settings.register_profile("bespoke", deadline=None, derandomize=True)
settings.load_profile("bespoke")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's, which reads the groups
def pytest_collection_modifyitems(items):
    """``make test`` hands the tests out to its workers one at a time (pytest-xdist's
    ``--dist loadgroup``), in this order, which balances them better than a file at a time;
    the tests of a file that share a fixture of the file's own with a wider scope than a
    test (a compiled design) are one group, so that one worker builds it once.  The tests
    marked ``long_running`` (the longest in ``pytest --durations``) go first, the longest
    first, so that none of them starts last and keeps one worker busy while the other
    idles."""
    def seconds(item) -> float:
        marker = item.get_closest_marker("long_running")
        return marker.kwargs["seconds"] if marker else 0.0

    items.sort(key=seconds, reverse=True)  # stable: the rest keep their order
    for item in items:
        module = item.nodeid.split("::")[0]
        info = getattr(item, "_fixtureinfo", None)
        shared = info is not None and any(
            definition.scope != "function" and definition.baseid == module
            for definitions in info.name2fixturedefs.values() for definition in definitions)
        if shared:
            item.add_marker(pytest.mark.xdist_group(module))


DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ACTIVATIONS = ("identity", "relu", "tanh", "logistic")


@lru_cache(maxsize=None)
def trained(dataset: str, activation: str, hidden: tuple[int, ...] = (4,), scaler: bool = True):
    """``(model, X_train, X_test, y_train, y_test)`` for a small MLP, cached per process and
    on disk (:func:`_disk_cached`: ``make test``'s workers would each train it again).
    ``cancer8``: the breast cancer data's first 8 features (a binary classifier whose
    circuit simulates four times faster than the 30-input one)."""
    return _disk_cached(_train, dataset, activation, hidden, scaler)


def _disk_cached(function, *args):
    """``function(*args)``, kept in the temporary folder under a key made of the arguments,
    the function's source and the versions of scikit-learn and numpy (so an edit or an
    upgrade trains again); written whole (a rename), so racing workers are safe."""
    import hashlib
    import inspect
    import os
    import pickle
    import tempfile

    import sklearn

    key = hashlib.sha256(repr((args, inspect.getsource(function), sklearn.__version__,
                               np.__version__)).encode()).hexdigest()[:24]
    folder = Path(tempfile.gettempdir()) / f"bespoke-test-models-{os.getuid()}"  # this user's
    path = folder / f"{function.__name__}-{key}.pkl"
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError):
        pass
    result = function(*args)
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}")
        partial.write_bytes(pickle.dumps(result))
        os.replace(partial, path)
    except OSError:
        pass
    return result


def _train(dataset: str, activation: str, hidden: tuple[int, ...], scaler: bool):
    from sklearn.datasets import load_breast_cancer, load_iris
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    X, y = {"iris": load_iris, "cancer": load_breast_cancer,
            "cancer8": load_breast_cancer}[dataset](return_X_y=True)
    if dataset == "cancer8":
        X = X[:, :8]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    # L-BFGS converges on data this small in a tenth of Adam's time (a fresh machine trains
    # every one of these models once: 21 s of CPU with Adam, 2 s so); a little more weight
    # decay than the default keeps its models well conditioned (at the default, an iris
    # 4-3-3 is one whose decisions 10-bit weights cannot resolve: test_quantize.py)
    mlp = MLPClassifier(hidden, activation=activation, solver="lbfgs", alpha=1e-3,
                        max_iter=1500, random_state=0)
    model = make_pipeline(MinMaxScaler(), mlp) if scaler else mlp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    return model, X_train, X_test, y_train, y_test


def ill_conditioned():
    """One hidden ReLU ``h = 100 x`` and three logits ``100 h``, ``100.3 h - 3``,
    ``100.6 h - 9``: class 1 from h = 10, class 2 from h = 20, decided by differences of a
    few tenths between weights of 100, which 8 bits under one scale cannot tell apart (as
    an L-BFGS model can be: logits of 40 000 that differ by 30).  Inputs 0 to 0.3."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X = np.linspace(0.0, 0.3, 301)[:, None]
    y = np.digitize(100 * X[:, 0], [10, 20])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier((1,), max_iter=5, random_state=0).fit(X, y)  # its shape, classes
    model.coefs_ = [np.array([[100.0]]), np.array([[100.0, 100.3, 100.6]])]
    model.intercepts_ = [np.array([0.0]), np.array([0.0, -3.0, -9.0])]
    assert model.score(X, y) > 0.99
    return model, X, y


@pytest.fixture
def shared_datasets() -> Path:
    path = SHARED / "datasets"
    if not path.is_dir():
        pytest.skip("../shared/datasets is not present")
    return path


@pytest.fixture(params=["table", "arithmetic"])
def tail(request, monkeypatch) -> str:
    """Both ways of building an output layer: as a decision table where its inputs are
    narrow enough (the default rule), or always as adders and comparators."""
    if request.param == "arithmetic":
        monkeypatch.setattr("bespoke.ir.network.TABLE_MAX_BITS", 0)
    return request.param


def tabulated_network(output: str = "argmax", seed: int = 0):
    """A random two-layer network whose hidden codes (3 + 2 + 3 bits) are narrow enough
    for its output layer and decision to be one table."""
    from bespoke.ir import ClampActivation, Layer, Network, Neuron, ThresholdActivation

    rng = np.random.default_rng(seed)
    hidden = Layer((Neuron(tuple(int(w) for w in rng.integers(-60, 61, 5)), 40, ClampActivation(7, 3)),
                    Neuron(tuple(int(w) for w in rng.integers(-60, 61, 5)), -10,
                           ThresholdActivation((-900, 0, 800))),
                    Neuron(tuple(int(w) for w in rng.integers(-60, 61, 5)), 0, ClampActivation(6, 3),
                           (1, 0, 2, 0, 0), 2)))
    outputs = 1 if output == "sign" else 3
    out = Layer(tuple(Neuron(tuple(int(w) for w in rng.integers(-40, 41, 3)),
                             int(rng.integers(-50, 50)), None) for _ in range(outputs)))
    return Network(4, (hidden, out), output, 2 if output == "sign" else 3,
                   decision_shift=0 if output == "sign" else 1)


def write_csv(path: Path, X: np.ndarray, y: np.ndarray, delimiter: str = ";") -> Path:
    header = [f"f{i}" for i in range(X.shape[1])] + ["Y"]
    lines = [delimiter.join(header)]
    lines += [delimiter.join([*(repr(float(v)) for v in row), str(label)]) for row, label in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


def random_network(seed: int, *, approximate: bool = True, activation: str = "clamp",
                   sizes: tuple[int, ...] = (5, 4, 3), input_bits: int = 4):
    """A random integer network, optionally with every approximation knob turned on."""
    from bespoke.ir import ClampActivation, Layer, Network, Neuron, ThresholdActivation

    rng = np.random.default_rng(seed)
    layers = []
    for li, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        last = li == len(sizes) - 2
        neurons = []
        for _ in range(n_out):
            weights = tuple(int(w) if rng.random() > 0.2 else 0 for w in rng.integers(-127, 128, n_in))
            bias = int(rng.integers(-2000, 2000))
            if last:
                act = None
            elif activation == "clamp":
                act = ClampActivation(int(rng.integers(0, 6)), int(rng.integers(1, 6)))
            else:
                act = ThresholdActivation(tuple(sorted(int(t) for t in rng.integers(-3000, 3000, 7))))
            masks, truncation = (), 0
            if approximate:
                masks = tuple(int(m) for m in rng.integers(0, 3, n_in))
                truncation = int(rng.integers(0, 6))
            neurons.append(Neuron(weights, bias, act, masks, truncation))
        layers.append(Layer(tuple(neurons)))
    shift = int(rng.integers(0, 4)) if approximate else 0
    return Network(input_bits, tuple(layers), "argmax", sizes[-1], decision_shift=shift)
