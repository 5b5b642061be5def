"""Hardware-aware training in the float domain: its forward pass is the circuit's arithmetic,
its projection is the cheapest weight for the penalty, it is reproducible, it makes weights
cheaper as the penalty rises, and the search keeps only what stays within the budget."""
from dataclasses import replace

import numpy as np
import pytest

import bespoke
from bespoke.approx import qat
from bespoke.approx.candidates import SearchOptions
from bespoke.approx.estimate import AreaModel
from bespoke.approx.search import _trained
from bespoke.ir import csd_digits
from bespoke.ir.emulate import trace

from ..conftest import random_network, trained


def _codes(network, n=400, seed=1):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 1 << network.input_bits, (n, network.n_inputs))


@pytest.mark.parametrize("seed", range(4))
def test_forward_pass_is_the_emulator(seed):
    """The training's float forward pass gives the emulator's logits, bit for bit, on a
    random exact network of two hidden layers (shifts and clamps of every kind)."""
    network = random_network(seed, approximate=False, sizes=(6, 5, 4, 3))
    assert qat.trainable(network)
    codes = _codes(network)
    logits, inputs, slopes = qat.forward(*qat.arrays(network), codes)
    emulated = trace(network, codes)
    assert np.array_equal(logits.astype(np.int64), emulated.accumulators[-1])
    for x, codes_out in zip(inputs[1:], emulated.codes):
        assert np.array_equal(x.astype(np.int64), codes_out)
    assert len(slopes) == 2


def test_a_forward_pass_without_the_floor_is_caught():
    """The equality above can fail: rounding the hidden codes instead of flooring them
    (a shift is a floor in the circuit) changes the logits."""
    network = random_network(0, approximate=False, sizes=(6, 5, 4, 3))
    codes = _codes(network)
    weights, biases, shifts, tops = qat.arrays(network)
    x = codes.astype(float)
    for li in range(2):
        x = np.clip(np.rint((x @ weights[li].T + biases[li]) / 2.0 ** shifts[li]), 0, tops[li])
    rounded = x @ weights[2].T + biases[2]
    assert not np.array_equal(rounded.astype(np.int64), trace(network, codes).accumulators[-1])


def test_cheap_weights_minimize_distance_plus_digit_penalty():
    rng = np.random.default_rng(0)
    shadow = rng.uniform(-130, 130, 300)
    assert np.array_equal(qat.cheap_weights(shadow, 127, 0.0),
                          np.clip(np.rint(shadow), -127, 127))
    for penalty in (0.001, 0.01, 0.1):
        chosen = qat.cheap_weights(shadow, 127, penalty)
        values = np.arange(-127, 128)
        digits = np.array([len(csd_digits(int(v))) for v in values])
        for w, c in zip(shadow, chosen):
            cost = ((w - values) / 127) ** 2 + penalty * digits
            assert abs(c) <= 127
            assert ((w - c) / 127) ** 2 + penalty * len(csd_digits(int(c))) == pytest.approx(cost.min())
    totals = [sum(len(csd_digits(int(v))) for v in qat.cheap_weights(shadow, 127, p))
              for p in (0.0, 0.001, 0.01, 0.1, 1.0)]
    assert totals == sorted(totals, reverse=True) and totals[-1] < totals[0] / 3


@pytest.fixture(scope="module")
def cancer():
    model, X_train, X_test, y_train, y_test = trained("cancer", "relu", (4,))
    design = bespoke.compile(model, X_train, y_train)
    return design, design.codes(X_train), y_train, design.codes(X_test), y_test


def test_training_is_reproducible_and_cheapens_the_weights(cancer):
    design, codes, labels, _, _ = cancer
    options = qat.QatOptions(penalties=(0.0, 0.01, 0.1), steps=60, snapshots=2)
    first = qat.train(design.network, codes, labels, options)
    again = qat.train(design.network, codes, labels, options)
    assert first.networks == again.networks  # the same seed, the same networks
    assert first.penalties == (0.0, 0.0, 0.01, 0.01, 0.1, 0.1) * 2  # and the pruning pass
    assert all(n != design.network for n in first.networks[1:])  # it did train

    def digits(network):
        return sum(len(csd_digits(w)) for layer in network.layers for n in layer.neurons
                   for w in n.weights)

    assert digits(first.networks[-1]) < digits(first.networks[0]) / 2
    # the structure is the exact design's: only weights and biases change
    for net in first.networks:
        assert [[n.activation for n in layer.neurons] for layer in net.layers] == \
            [[n.activation for n in layer.neurons] for layer in design.network.layers]


def test_comparator_banks_are_not_trained():
    model, X_train, _, y_train, _ = trained("iris", "logistic")
    design = bespoke.compile(model, X_train, y_train)
    assert not qat.trainable(design.network)
    assert qat.train(design.network, design.codes(X_train), y_train).networks == ()


@pytest.mark.parametrize("budget", [0.0, 0.02])
def test_search_keeps_only_trained_networks_within_the_budget(cancer, budget):
    design, codes, labels, val_codes, val_labels = cancer
    options = SearchOptions(max_accuracy_loss=budget, time_budget_s=20, neighbourhood=2048)
    kept, cut = _trained(design.network, codes, val_codes, val_labels, AreaModel.bundled(),
                         options, 0, labels, None)
    assert not cut
    assert all(c.loss_bound <= budget + 1e-12 for c in kept)
    assert all(c.move.startswith("hardware-aware training") for c in kept)
    if budget:
        assert kept  # on this model some trained networks stay within 2 points
        exact_area = AreaModel.bundled().area_um2(design.network)
        assert min(c.area_um2 for c in kept) < exact_area


def test_the_pruning_pass_cuts_inputs_and_leaves_the_first_pass_alone(cancer):
    """The second pass reads ever fewer inputs (the share cut before each penalty after the
    first, every cut input staying cut); the first pass is the same with or without it."""
    design, codes, labels, _, _ = cancer
    plain_options = qat.QatOptions(penalties=(0.0, 0.0, 0.0), steps=40, snapshots=1,
                                   input_pruning=0.0)
    plain = qat.train(design.network, codes, labels, plain_options)
    both = qat.train(design.network, codes, labels, replace(plain_options, input_pruning=0.25))
    assert both.networks[:3] == plain.networks and len(both.networks) == 6
    assert plain.inputs == (30, 30, 30)  # no penalty on digits: nothing else zeroes a column

    def read(network):
        return {k for k in range(network.n_inputs)
                if any(n.weights[k] for n in network.layers[0].neurons)}

    pruned = [read(n) for n in both.networks[3:]]
    assert [len(r) for r in pruned] == [30, 22, 16] == list(both.inputs[3:])
    assert pruned[2] < pruned[1] < pruned[0]


def test_least_needed_inputs_are_those_whose_removal_costs_least():
    """With a loss that rises by ``cost[k]`` when input k is cut, the cheapest quarter of
    the live inputs goes (never an input already cut, never the last one)."""
    cost = np.array([5.0, 0.1, 3.0, 0.2, 9.0, 0.3, 7.0, 0.05])
    live = np.array([True] * 7 + [False])
    weights = [np.ones((2, 8)), np.ones((3, 2))]
    weights[0][:, ~live] = 0

    def loss_of(q_weights, q_biases, rows):
        return -float(np.sum(cost * np.any(q_weights[0] != 0, axis=0)))

    options = qat.QatOptions(input_pruning=0.25)
    rng = np.random.default_rng(0)
    assert qat._least_needed((weights, [np.zeros(2), np.zeros(3)]), live, loss_of, rng, 10,
                             options) == [1, 3]
    one_left = np.array([False, False, True] + [False] * 5)
    assert qat._least_needed((weights, [np.zeros(2), np.zeros(3)]), one_left, loss_of, rng,
                             10, options) == []
