"""Ingest: a fitted scikit-learn MLP (optionally behind a scaler) into plain float arrays."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BespokeError

log = logging.getLogger(__name__)

_FLOAT_ACTIVATIONS = {
    "identity": lambda h: h,
    "relu": lambda h: np.maximum(h, 0.0),
    "tanh": np.tanh,
    "logistic": lambda h: 0.5 * (1.0 + np.tanh(0.5 * h)),
}
HIDDEN_ACTIVATIONS = tuple(_FLOAT_ACTIVATIONS)


@dataclass(frozen=True)
class FloatMLP:
    """The float network exactly as scikit-learn computes it.

    The MLP sees ``x * input_scale + input_offset`` where ``x`` are the raw features
    (a folded ``MinMaxScaler``/``StandardScaler``; ones and zeros when there is none).
    ``coefs[k]`` has shape ``(n_in, n_out)`` as in scikit-learn.
    """

    coefs: tuple[np.ndarray, ...]
    intercepts: tuple[np.ndarray, ...]
    activation: str
    out_activation: str
    classes: np.ndarray
    input_scale: np.ndarray
    input_offset: np.ndarray
    estimator: Any  # the original object, used for the float reference predictions
    #: where the training data's scaled inputs lie, when a scaler shows it: a
    #: MinMaxScaler's feature_range, three standard deviations about a StandardScaler's mean
    trained_span: tuple[float, float] | None = None

    @property
    def n_features(self) -> int:
        return self.coefs[0].shape[0]

    @property
    def topology(self) -> tuple[int, ...]:
        return (self.n_features,) + tuple(c.shape[1] for c in self.coefs)

    def scaled(self, X: np.ndarray) -> np.ndarray:
        """Raw features as the first layer sees them (through the folded scaler)."""
        return np.asarray(X, dtype=float) * self.input_scale + self.input_offset

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Output-layer pre-activations, computed in numpy exactly as scikit-learn does."""
        h = self.scaled(X)
        for k, (coef, intercept) in enumerate(zip(self.coefs, self.intercepts)):
            h = h @ coef + intercept
            if k < len(self.coefs) - 1:
                h = _FLOAT_ACTIVATIONS[self.activation](h)
        return h

    def log_loss(self, X: np.ndarray, y_index: np.ndarray) -> float:
        """Mean cross-entropy of the class indices ``y_index``: the training objective."""
        z = self.logits(X)
        if z.shape[1] == 1:  # binary, logistic output: -log sigmoid(+-z)
            signed = np.where(y_index == 1, z[:, 0], -z[:, 0])
            return float(np.mean(np.logaddexp(0.0, -signed)))
        z = z - z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(z).sum(axis=1))
        return float(np.mean(log_norm - z[np.arange(len(z)), y_index]))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Float predictions of the original scikit-learn object (the reference)."""
        return np.asarray(self.estimator.predict(X))

    def with_input_scaler(self, scaler: Any) -> "FloatMLP":
        """This model behind a fitted scaler that was applied to its data outside it (as
        if the two were one Pipeline): its inputs are then the raw features."""
        from sklearn.pipeline import make_pipeline

        if np.any(self.input_scale != 1) or np.any(self.input_offset != 0):
            raise BespokeError("the model already scales its inputs (a Pipeline with a scaler): "
                               "drop --input-scaler")
        if getattr(scaler, "n_features_in_", self.n_features) != self.n_features:
            raise BespokeError(f"the input scaler was fitted on {scaler.n_features_in_} features, "
                               f"the model expects {self.n_features}: pass the scaler fitted on "
                               "the model's training data")
        scale, offset = _scaler_affine(scaler, self.n_features, "the input scaler's")
        return replace(self, input_scale=scale, input_offset=offset,
                       estimator=make_pipeline(scaler, self.estimator),
                       trained_span=_trained_span(scaler))


def _scaler_affine(step: Any, n: int, what: str = "the pipeline's") -> tuple[np.ndarray, np.ndarray]:
    """Per-feature ``(a, c)`` with ``step.transform(x) == x * a + c``; ``what`` names the
    scaler in errors."""
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    if isinstance(step, MinMaxScaler):
        if not hasattr(step, "scale_"):
            raise BespokeError(f"{what} MinMaxScaler is not fitted: fit it before saving it")
        if getattr(step, "clip", False):
            raise BespokeError("MinMaxScaler(clip=True) is not affine: refit it with clip=False")
        return np.asarray(step.scale_, float), np.asarray(step.min_, float)
    if isinstance(step, StandardScaler):
        if not hasattr(step, "n_features_in_"):
            raise BespokeError(f"{what} StandardScaler is not fitted: fit it before saving it")
        scale = np.ones(n) if step.scale_ is None else np.asarray(step.scale_, float)
        mean = np.zeros(n) if step.mean_ is None else np.asarray(step.mean_, float)
        return 1.0 / scale, -mean / scale
    raise BespokeError(
        f"pipeline step {type(step).__name__} is not supported: only MinMaxScaler or "
        "StandardScaler may precede the MLPClassifier")


def _trained_span(step: Any) -> tuple[float, float] | None:
    """Where a scaler puts its training data (see :attr:`FloatMLP.trained_span`)."""
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    if isinstance(step, MinMaxScaler):
        low, high = step.feature_range
        return float(low), float(high)
    if isinstance(step, StandardScaler) and step.with_mean and step.with_std:
        return -3.0, 3.0
    return None


def from_estimator(obj: Any) -> FloatMLP:
    """Unpack a fitted ``MLPClassifier`` or ``Pipeline(scaler..., MLPClassifier)``."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import Pipeline

    estimator = obj
    scalers: list[Any] = []
    if isinstance(obj, Pipeline):
        steps = [s for _, s in obj.steps if s is not None and s != "passthrough"]
        if not steps:
            raise BespokeError("the pipeline is empty: save a fitted MLPClassifier")
        scalers, obj = steps[:-1], steps[-1]
    if isinstance(obj, MLPRegressor):
        raise BespokeError("MLPRegressor is not supported yet: bespoke compiles MLPClassifier models")
    if not isinstance(obj, MLPClassifier):
        raise BespokeError(
            f"the model is a {type(obj).__name__}, not an MLPClassifier: save a fitted "
            "sklearn.neural_network.MLPClassifier (optionally in a Pipeline after a scaler)")
    if not hasattr(obj, "coefs_"):
        raise BespokeError("the MLPClassifier is not fitted: call fit() before saving it")
    if obj.activation not in HIDDEN_ACTIVATIONS:
        raise BespokeError(f"unknown hidden activation {obj.activation!r}")
    if obj.out_activation_ not in ("softmax", "logistic") or (
            obj.out_activation_ == "logistic" and obj.coefs_[-1].shape[1] != 1):
        raise BespokeError("the model was fitted on several label columns (one-hot or multi-"
                           "label), which bespoke does not compile: refit it on one label column "
                           "(for one-hot labels Y, on Y.argmax(axis=1))")
    coefs = tuple(np.asarray(c, dtype=float) for c in obj.coefs_)
    intercepts = tuple(np.asarray(b, dtype=float) for b in obj.intercepts_)
    for array in coefs + intercepts:
        if not np.all(np.isfinite(array)):
            raise BespokeError("the model has NaN or infinite weights: retrain it (lower the learning rate)")
    n = coefs[0].shape[0]
    scale, offset = np.ones(n), np.zeros(n)
    for step in scalers:
        a, c = _scaler_affine(step, n)
        scale, offset = scale * a, offset * a + c
    return FloatMLP(coefs, intercepts, obj.activation, obj.out_activation_,
                    np.asarray(obj.classes_), scale, offset, estimator,
                    _trained_span(scalers[-1]) if scalers else None)


#: Module prefixes whose *classes* a model file may name (never their functions).
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.")
#: The few functions (and builtin types) that pickles of those classes need.
_TRUSTED_NAMES = frozenset({
    ("builtins", n) for n in ("dict", "list", "tuple", "set", "frozenset", "slice", "complex",
                              "float", "int", "str", "bytes", "bytearray", "bool", "object")
} | {
    ("collections", "OrderedDict"), ("collections", "defaultdict"), ("copyreg", "_reconstructor"),
    ("_codecs", "encode"), ("joblib.numpy_pickle", "NumpyArrayWrapper"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.random._pickle", "__randomstate_ctor"), ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pickle", "__generator_ctor"),
})


class UntrustedModelError(BespokeError):
    """The model file names something a scikit-learn model does not need."""


def _checked_class(module: str, name: str, resolve):
    """Resolve ``module.name`` only if a scikit-learn model may legitimately need it."""
    if (module, name) in _TRUSTED_NAMES:
        return resolve(module, name)
    if module.startswith(_TRUSTED_PREFIXES) or module in ("numpy", "scipy"):
        obj = resolve(module, name)
        if isinstance(obj, type):
            return obj
    raise UntrustedModelError(
        f"the model file asks to run {module}.{name}, which a scikit-learn model does not need: "
        "it was not loaded; pass --trust-model only if you trust where the file comes from")


def _not_a_model(path: Path, exc: Exception) -> BespokeError:
    return BespokeError(f"{path} is not a readable model file ({type(exc).__name__}): "
                        "save the fitted model with joblib.dump or pickle.dump")


def _restricted_load(path: Path):
    """Unpickle a pickle or joblib file admitting only scikit-learn/numpy/scipy classes and
    the handful of helpers their pickles use: nothing in the file runs unless allowed."""
    from joblib import numpy_pickle

    class Restricted(numpy_pickle.NumpyUnpickler):
        def find_class(self, module, name):
            return _checked_class(module, name, super().find_class)

    try:
        with open(path, "rb") as handle:
            # joblib's reader also decompresses (zlib, gzip, ...) and reads its array wrappers
            with numpy_pickle._validate_fileobject_and_memmap(handle, str(path), None) as (fobj, _):
                if isinstance(fobj, str):
                    raise BespokeError(f"{path} was written by joblib < 0.10: re-save it with a "
                                       "current joblib")
                return Restricted(str(path), fobj, "auto").load()
    except BespokeError:  # an untrusted name, or the message above
        raise
    except Exception as exc:  # whatever else goes wrong, it is not a model file
        raise _not_a_model(path, exc) from exc


def _load_skops(path: Path, trust: bool):
    """A ``.skops`` file: no pickle at all; types outside scikit-learn/numpy/scipy must be
    trusted explicitly."""
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:
        raise _not_a_model(path, exc) from exc
    foreign = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
    if foreign and not trust:
        raise UntrustedModelError(
            f"{path} holds types that are not scikit-learn, numpy or scipy ({', '.join(foreign[:3])}): "
            "it was not loaded; pass --trust-model only if you trust where the file comes from")
    try:
        return sio.load(path, trusted=untrusted)
    except Exception as exc:
        raise _not_a_model(path, exc) from exc


def _load_object(path: Path, trust: bool):
    """The object in a model-like file, read as :func:`load_model` reads models."""
    import joblib

    if path.suffix == ".skops":
        return _load_skops(path, trust)
    if trust:
        try:
            return joblib.load(path)
        except Exception as exc:  # any unpickling failure means "not a model file"
            raise _not_a_model(path, exc) from exc
    return _restricted_load(path)


def load_model(path: str | Path, *, trust: bool = False) -> FloatMLP:
    """Load a pickled/joblib model file and unpack it.

    ``.skops`` files are read with skops (no pickle). Unpickling other files can run
    arbitrary code, so by default only scikit-learn, numpy and scipy classes may appear in
    them (:func:`_restricted_load`); ``trust=True`` loads them with plain joblib, for files
    whose origin the user trusts.
    """
    path = Path(path)
    if not path.is_file():
        raise BespokeError(f"model file {path} does not exist: pass the path of a saved MLPClassifier")
    obj = _load_object(path, trust)
    log.info("loaded %s from %s", type(obj).__name__, path)
    return from_estimator(obj)


def load_input_scaler(path: str | Path, *, trust: bool = False) -> Any:
    """A fitted ``MinMaxScaler`` or ``StandardScaler`` that scaled the model's data outside
    it (``--input-scaler``), read with the same restrictions as models."""
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    path = Path(path)
    if not path.is_file():
        raise BespokeError(f"input scaler file {path} does not exist: pass the fitted "
                           "MinMaxScaler or StandardScaler saved with joblib.dump")
    scaler = _load_object(path, trust)
    if not isinstance(scaler, (MinMaxScaler, StandardScaler)):
        raise BespokeError(f"{path} holds a {type(scaler).__name__}, not a MinMaxScaler or "
                           "StandardScaler: pass the scaler the model's data went through")
    _scaler_affine(scaler, getattr(scaler, "n_features_in_", 1), f"{path}:")  # fitted, affine
    return scaler
