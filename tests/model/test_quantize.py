import math
import re

import numpy as np
import pytest

from bespoke.model.data import align_labels
from bespoke.ir.emulate import predict_codes
from bespoke.errors import BespokeError
from bespoke.model.ingest import from_estimator
from bespoke.ir import ClampActivation, ThresholdActivation
from bespoke.model.quantize import (InputQuantizer, QuantizeOptions, comparator_decode,
                              comparator_thresholds, quantize)

from ..conftest import ACTIVATIONS, ill_conditioned, trained


@pytest.mark.parametrize("activation", ["logistic", "tanh"])
@pytest.mark.parametrize("bits, e, bias", [(4, 3, 0), (3, 5, -17), (2, 0, 4)])
def test_comparator_bank_equals_the_quantized_activation(activation, bits, e, bias):
    """The bank's count is the nearest output level of f((acc + bias) * 2**-e)."""
    f = {"logistic": lambda z: 1 / (1 + math.exp(-z)), "tanh": math.tanh}[activation]
    offset, gain = comparator_decode(activation, bits)
    thresholds = comparator_thresholds(activation, bits, e, bias)
    checked = 0
    for acc in range(-40 * 2 ** e, 40 * 2 ** e + 1):
        level = (f((acc + bias) * 2.0 ** -e) - offset) / gain
        if abs(level - math.floor(level) - 0.5) < 1e-9:
            continue  # exactly on a midpoint: either answer is a nearest level
        assert sum(acc >= t for t in thresholds) == round(level)
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dataset", ["iris", "cancer"])
@pytest.mark.parametrize("hidden", [(4,), (4, 3), (4, 3, 3)])
def test_integer_network_follows_the_float_model(activation, dataset, hidden):
    model, X_train, X_test, y_train, y_test = trained(dataset, activation, hidden)
    mlp = from_estimator(model)
    options = QuantizeOptions(input_bits=8, weight_bits=10, activation_bits=6)
    network, quantizer = quantize(mlp, X_train, align_labels(y_train, mlp.classes), options)
    kinds = {type(n.activation) for layer in network.layers[:-1] for n in layer.neurons}
    assert kinds == ({ThresholdActivation} if activation in ("tanh", "logistic")
                     else {ClampActivation})
    assert network.output == ("sign" if dataset == "cancer" else "argmax")
    emulated = mlp.classes[predict_codes(network, quantizer.codes(X_test))]
    agreement = np.mean(emulated == model.predict(X_test))
    assert agreement >= 0.9, agreement


def test_input_codes_use_the_full_range_and_clip():
    X = np.array([[0.0, 5.0], [10.0, 5.0], [5.0, 5.0]])
    q = InputQuantizer.fit(X, 4)
    assert q.codes(X).tolist() == [[0, 0], [15, 0], [8, 0]]
    assert q.codes(np.array([[-3.0, 9.0], [99.0, 1.0]])).tolist() == [[0, 15], [15, 0]]
    assert InputQuantizer.from_dict(q.to_dict()) == q


def test_calibration_never_raises_the_training_loss():
    model, X_train, _, y_train, _ = trained("cancer", "relu")
    mlp = from_estimator(model)
    y = align_labels(y_train, mlp.classes)
    plain = InputQuantizer.fit(X_train, 4)
    tuned = InputQuantizer.calibrate(X_train, 4, mlp, y)
    loss = lambda q: mlp.log_loss(q.decode(q.codes(X_train)), y)  # noqa: E731
    assert loss(tuned) <= loss(plain)


def test_calibration_clips_a_far_tail_at_the_tenth_quantile_where_that_keeps_the_model():
    """A feature whose top 8 % lie far from the rest (sensor saturation, outliers): the
    model decides inside the bulk, so min/max (or the 5 % quantile, still in the tail)
    would put the whole bulk in one or two codes; the 0.1 quantile of CLIP_QUANTILES
    spends the 16 levels on the bulk."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(0, 1, 460), rng.uniform(60, 100, 40)])
    X = np.column_stack([x, rng.uniform(0, 1, len(x))])
    y = np.where(x > 1, 0, (x > 0.5).astype(int))
    model = make_pipeline(MinMaxScaler(), MLPClassifier((16,), solver="lbfgs", max_iter=3000,
                                                        random_state=0)).fit(X, y)
    mlp = from_estimator(model)
    index = align_labels(y, mlp.classes)
    loss = lambda q: mlp.log_loss(q.decode(q.codes(X)), index)  # noqa: E731
    tuned = InputQuantizer.calibrate(X, 4, mlp, index)
    top = tuned.lo[0] + 15 * tuned.step[0]
    assert top == pytest.approx(np.quantile(x, 0.9))  # inside the bulk, below the tail
    assert 0.5 < top < 1.0 and tuned.step[0] < 0.1
    without = InputQuantizer.calibrate(X, 4, mlp, index, quantiles=(0.0, 0.005, 0.01, 0.02, 0.05))
    assert without.lo[0] + 15 * without.step[0] > 60  # every other candidate is in the tail
    assert loss(tuned) < loss(without) / 2


@pytest.mark.parametrize("kwargs", [{"input_bits": 0}, {"weight_bits": 1},
                                    {"activation_bits": 17}, {"input_bits": 40}])
def test_bit_widths_out_of_range_are_refused(kwargs):
    with pytest.raises(BespokeError, match="out of range"):
        QuantizeOptions(**kwargs)


def test_comparator_banks_wider_than_8_bits_are_refused():
    with pytest.raises(BespokeError, match="comparators per neuron"):
        QuantizeOptions(activation_bits=9).hidden_bits("tanh")


def test_a_model_that_its_widths_cannot_resolve_gets_a_warning_naming_wider_ones():
    from bespoke.model.quantize import precision_warning, training_loss_points

    model, X, y = ill_conditioned()
    mlp = from_estimator(model)
    index = align_labels(y, mlp.classes)
    options = QuantizeOptions()
    network, quantizer = quantize(mlp, X, index, options)
    assert training_loss_points(mlp, X, index, network, quantizer) > 20  # 4-bit codes suffice
    warning = precision_warning(mlp, X, index, options, network, quantizer)
    assert warning is not None and "8-bit weights" in warning
    # the widths it names keep the float model's accuracy, and get no warning
    named = dict(re.findall(r"--(weight|input)-bits (\d+)", warning))
    assert "weight" in named
    wider = QuantizeOptions(input_bits=int(named.get("input", 4)), weight_bits=int(named["weight"]))
    network, quantizer = quantize(mlp, X, index, wider)
    assert training_loss_points(mlp, X, index, network, quantizer) < 1
    assert precision_warning(mlp, X, index, wider, network, quantizer) is None
    # ordinary models get none: a 3-class one and a binary one (a sign output)
    for dataset in ("iris", "cancer8"):
        model, X_train, _, y_train, _ = trained(dataset, "relu")
        mlp = from_estimator(model)
        index = align_labels(y_train, mlp.classes)
        network, quantizer = quantize(mlp, X_train, index, options)
        assert abs(training_loss_points(mlp, X_train, index, network, quantizer)) < 2
        assert precision_warning(mlp, X_train, index, options, network, quantizer) is None
    # too narrow on purpose: a binary model with 3-bit weights and 1-bit hidden codes is
    # told to widen its hidden codes too
    network, quantizer = quantize(mlp, X_train, index, QuantizeOptions(4, 3, 1))
    warning = precision_warning(mlp, X_train, index, QuantizeOptions(4, 3, 1), network, quantizer)
    assert warning is not None and "--activation-bits 8" in warning
