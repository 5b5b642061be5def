import numpy as np
import pytest

from bespoke.emulate import predict_codes, trace
from bespoke.ir import ClampActivation, Layer, Network, Neuron, ThresholdActivation


def one_layer(weights, biases, output="argmax"):
    neurons = tuple(Neuron(tuple(w), b, None) for w, b in zip(weights, biases))
    return Network(4, (Layer(neurons),), output, 2 if output == "sign" else len(neurons))


def test_argmax_ties_go_to_the_first_index_like_scikit_learn():
    net = one_layer([[1, 0], [0, 1], [1, 0]], [0, 0, 0])
    codes = np.array([[3, 3], [2, 5], [5, 2], [0, 0]])
    assert predict_codes(net, codes).tolist() == [0, 1, 0, 0]


def test_sign_output_is_strictly_positive():
    net = one_layer([[1, -1]], [0], output="sign")
    assert predict_codes(net, np.array([[3, 3], [4, 3], [3, 4]])).tolist() == [0, 1, 0]


def test_clamp_floors_negative_values_and_saturates():
    hidden = Layer((Neuron((1,), -8, ClampActivation(shift=1, bits=2)),))
    out = Layer((Neuron((1,), 0, None), Neuron((-1,), 0, None)))
    net = Network(4, (hidden, out), "argmax", 2)
    t = trace(net, np.arange(16).reshape(-1, 1))
    acc = np.arange(16) - 8
    assert t.codes[0][:, 0].tolist() == np.clip(acc // 2, 0, 3).tolist()


def test_threshold_bank_counts_thresholds_reached():
    hidden = Layer((Neuron((1,), 0, ThresholdActivation((2, 2, 9))),))
    out = Layer((Neuron((1,), 0, None), Neuron((0,), 1, None)))
    net = Network(4, (hidden, out), "argmax", 2)
    t = trace(net, np.array([[0], [1], [2], [8], [9], [15]]))
    assert t.codes[0][:, 0].tolist() == [0, 0, 2, 2, 3, 3]


def test_out_of_range_codes_are_rejected():
    net = one_layer([[1]], [0], output="sign")
    with pytest.raises(ValueError):
        predict_codes(net, np.array([[16]]))
