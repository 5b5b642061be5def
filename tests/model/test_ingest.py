import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bespoke.errors import BespokeError
from bespoke.model.ingest import from_estimator, load_model

from ..conftest import ACTIVATIONS, trained


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_logits_match_scikit_learn_with_the_scaler_folded(activation):
    model, X_train, *_ = trained("iris", activation)
    mlp = from_estimator(model)
    proba = model.predict_proba(X_train)
    z = mlp.logits(X_train)
    softmax = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(softmax / softmax.sum(1, keepdims=True), proba, rtol=1e-9)


def test_standard_scaler_folds_too():
    _, X, _, y, _ = trained("cancer", "relu")
    model = make_pipeline(StandardScaler(), MLPClassifier((3,), max_iter=300, random_state=0)).fit(X, y)
    mlp = from_estimator(model)
    z = mlp.logits(X)[:, 0]
    np.testing.assert_allclose(1 / (1 + np.exp(-z)), model.predict_proba(X)[:, 1], rtol=1e-9)
    assert mlp.out_activation == "logistic"


@pytest.mark.parametrize("obj, message", [
    (LogisticRegression(), "not an MLPClassifier"),
    (MLPClassifier(), "not fitted"),
    (MLPRegressor(), "MLPRegressor is not supported"),
])
def test_wrong_models_are_refused_with_a_reason(obj, message):
    with pytest.raises(BespokeError, match=message):
        from_estimator(obj)


def test_a_file_that_is_not_a_model(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_text("hello")
    with pytest.raises(BespokeError, match="not a readable model file"):
        load_model(path)
    with pytest.raises(BespokeError, match="does not exist"):
        load_model(tmp_path / "missing.pkl")


class _Evil:
    """A pickle that runs a shell command when loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_a_malicious_pickle_is_refused_and_never_runs(tmp_path, dump):
    import pickle

    import joblib

    marker = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    if dump == "pickle":
        path.write_bytes(pickle.dumps(_Evil(marker)))
    else:
        joblib.dump(_Evil(marker), path)
    with pytest.raises(BespokeError, match="--trust-model") as info:
        load_model(path)
    assert "system" in str(info.value)
    assert not marker.exists()
    # the restriction is what protects: trusted loading does run the file's code
    with pytest.raises(BespokeError):
        load_model(path, trust=True)
    assert marker.exists()


def test_trusted_and_restricted_loading_agree_on_real_models(tmp_path):
    import joblib

    model = trained("iris", "tanh")[0]
    for name, kwargs in (("plain.joblib", {}), ("packed.joblib", {"compress": 3})):
        joblib.dump(model, tmp_path / name, **kwargs)
        a, b = load_model(tmp_path / name), load_model(tmp_path / name, trust=True)
        assert all((x == y).all() for x, y in zip(a.coefs, b.coefs))


def test_skops_files_load_without_pickle(tmp_path):
    import skops.io as sio

    model = trained("iris", "relu")[0]
    sio.dump(model, tmp_path / "model.skops")
    mlp = load_model(tmp_path / "model.skops")
    assert mlp.topology == (4, 4, 3)
    (tmp_path / "broken.skops").write_bytes(b"not a zip")
    with pytest.raises(BespokeError, match="not a readable model file"):
        load_model(tmp_path / "broken.skops")


def test_an_input_scaler_file_must_hold_a_fitted_scaler(tmp_path):
    import joblib
    from sklearn.preprocessing import MinMaxScaler

    from bespoke.model.ingest import load_input_scaler

    joblib.dump(MinMaxScaler(), tmp_path / "unfitted.joblib")
    with pytest.raises(BespokeError, match="unfitted.joblib: MinMaxScaler is not fitted"):
        load_input_scaler(tmp_path / "unfitted.joblib")
    joblib.dump(MinMaxScaler().fit([[0.0], [2.0]]), tmp_path / "fitted.joblib")
    assert load_input_scaler(tmp_path / "fitted.joblib").data_max_[0] == 2.0
