"""A model that does not fit its data is caught before any long work."""
import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from bespoke.errors import BespokeError
from bespoke.model.fit_check import check_fit, refuse_unless_fits
from bespoke.model.ingest import from_estimator

from ..conftest import trained


def test_a_model_on_its_own_data_fits():
    model, X, _, y, _ = trained("iris", "relu")
    check = check_fit(from_estimator(model), X, y, "iris.csv")
    assert check.findings == () and check.accuracy > 0.9 and check.far_share == 0.0
    refuse_unless_fits(check, force=False)


def test_a_model_scaled_outside_and_given_raw_features_is_refused_with_what_was_measured():
    _, X, _, y, _ = trained("iris", "relu")
    scaler = MinMaxScaler().fit(X)
    model = MLPClassifier((5,), max_iter=2000, random_state=0).fit(scaler.transform(X), y)
    mlp = from_estimator(model)
    check = check_fit(mlp, X, y, "iris.csv")
    majority = np.bincount(y).max() / len(y)
    assert check.majority_rate == majority
    assert check.margin == pytest.approx(2 * np.sqrt(majority * (1 - majority) / len(y)))
    assert check.accuracy <= majority + check.margin and check.far_share is None
    with pytest.raises(BespokeError, match="not clearly above") as error:
        refuse_unless_fits(check, force=False)
    assert "--input-scaler" in str(error.value) and "--force" in str(error.value)
    refuse_unless_fits(check, force=True)  # --force goes on
    # with its scaler folded in front, it is the model scikit-learn computes on raw features
    joined = mlp.with_input_scaler(scaler)
    assert np.array_equal(joined.predict(X), model.predict(scaler.transform(X)))
    hidden = np.maximum(scaler.transform(X) @ model.coefs_[0] + model.intercepts_[0], 0)
    assert np.allclose(joined.logits(X), hidden @ model.coefs_[1] + model.intercepts_[1])
    assert check_fit(joined, X, y, "iris.csv").findings == ()


@pytest.mark.parametrize("scaler, factor, far", [
    (MinMaxScaler(), 1.0, 0.0), (MinMaxScaler(), 1000.0, 1.0),
    (StandardScaler(), 1.0, 0.0), (StandardScaler(), 1000.0, 1.0)])
def test_feature_values_far_outside_what_the_scaler_saw_are_counted(scaler, factor, far):
    from sklearn.pipeline import make_pipeline

    _, X, _, y, _ = trained("iris", "relu")
    model = make_pipeline(scaler, MLPClassifier((5,), max_iter=2000, random_state=0)).fit(X, y)
    check = check_fit(from_estimator(model), X * factor, y, "data.csv")
    assert check.far_share == pytest.approx(far, abs=0.05)
    assert any("far outside" in f for f in check.findings) == (far > 0.5)
