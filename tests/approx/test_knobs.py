"""Approximation knobs: each a transformation of the IR that stays bit-exact and verifiable."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import bespoke
from bespoke.approx import knobs as ax
from bespoke.ir.emulate import predict_codes, trace
from bespoke.ir import ClampActivation, csd_digits

from ..conftest import trained


@given(st.integers(-300, 300), st.integers(0, 3))
def test_nearest_with_digits_is_the_nearest_such_value(value, digits):
    result = ax.nearest_with_digits(value, digits)
    assert len(csd_digits(result)) <= digits
    closer = [v for v in range(value - abs(value - result) + 1, value + abs(value - result))
              if len(csd_digits(v)) <= digits]
    assert not closer


@pytest.fixture(scope="module")
def exact():
    model, X_train, X_test, y_train, y_test = trained("iris", "relu", (4,))
    design = bespoke.compile(model, X_train, y_train)
    codes = design.codes(X_train)
    return design, codes, ax.InputStatistics.measure(design.network, codes)


def test_pruning_compensates_the_mean_in_the_bias(exact):
    design, codes, stats = exact
    net = design.network
    neuron = net.layers[0].neurons[1]
    k = int(np.argmax(np.abs(neuron.weights)))
    weights = tuple(0 if i == k else w for i, w in enumerate(neuron.weights))
    pruned = ax.set_weights(net, stats, 0, 1, weights)
    before = trace(net, codes).accumulators[0][:, 1]
    after = trace(pruned, codes).accumulators[0][:, 1]
    assert abs(np.mean(after - before)) <= 0.5 + 1e-9  # only the rounding of the bias remains
    naive = np.mean(-neuron.weights[k] * codes[:, k])
    assert abs(naive) > 1


def test_truncation_keeps_the_sum_unbiased(exact):
    design, codes, stats = exact
    net = ax.truncate(design.network, stats, 1, 0, 5)
    assert net.layers[1].neurons[0].truncation == 5
    before = trace(design.network, codes).accumulators[1][:, 0]
    after = trace(net, codes).accumulators[1][:, 0]
    assert abs(np.mean(after - before)) <= 0.5 + 1e-9
    assert np.any(after != before)


def test_masking_an_input_narrows_every_first_layer_neuron(exact):
    design, codes, stats = exact
    net = ax.mask_input(design.network, stats, 2, 2)
    assert all(n.input_masks[2] == 2 for n in net.layers[0].neurons)


def test_one_bit_narrower_activations_keep_the_function_close(exact):
    design, codes, _ = exact
    net = ax.reduce_activation_bits(design.network, 0)
    bits = {n.activation.bits for n in net.layers[0].neurons if isinstance(n.activation, ClampActivation)}
    assert bits == {7}
    agree = np.mean(predict_codes(net, codes) == predict_codes(design.network, codes))
    assert agree >= 0.95


def test_describe_lists_the_knobs(exact):
    design, codes, stats = exact
    net = ax.truncate(ax.set_decision_shift(design.network, 2), stats, 1, 2, 3)
    knobs = ax.describe(design.network, net)
    assert knobs["decision_shift"] == 2
    assert [n["truncation"] for n in knobs["neurons"] if n["neuron"] == "l1_n2"] == [3]


def test_saturating_one_level_lower_clips_only_the_top_codes(exact):
    design, codes, _ = exact
    net = ax.saturate_neuron(design.network, 0, 1)
    old, new = design.network.layers[0].neurons[1], net.layers[0].neurons[1]
    assert (new.activation.shift, new.activation.bits) == (old.activation.shift, old.activation.bits - 1)
    before = trace(design.network, codes).codes[0]
    after = trace(net, codes).codes[0]
    assert np.array_equal(after[:, 1], np.minimum(before[:, 1], (1 << new.activation.bits) - 1))
    assert np.array_equal(np.delete(after, 1, axis=1), np.delete(before, 1, axis=1))
    assert ax.saturate_neuron(design.network, 1, 0) is None  # the logits have no activation


def test_a_comparator_bank_saturates_by_losing_its_top_threshold():
    from ..conftest import random_network

    net = random_network(3, activation="threshold")
    lower = ax.saturate_neuron(net, 0, 2)
    assert lower.layers[0].neurons[2].activation.thresholds == net.layers[0].neurons[2].activation.thresholds[:-1]


def test_one_neuron_narrower_doubles_only_its_column_in_the_next_layer(exact):
    design, codes, _ = exact
    net = ax.narrow_neuron(design.network, 0, 2)
    old = design.network.layers[0].neurons[2].activation
    assert net.layers[0].neurons[2].activation.bits == old.bits - 1
    assert [n.activation for n in net.layers[0].neurons[:2]] == \
        [n.activation for n in design.network.layers[0].neurons[:2]]
    for a, b in zip(design.network.layers[1].neurons, net.layers[1].neurons):
        assert b.weights == a.weights[:2] + (2 * a.weights[2],) + a.weights[3:]
    before = trace(design.network, codes).codes[0][:, 2]
    after = trace(net, codes).codes[0][:, 2]
    assert np.max(np.abs(2 * after - before)) <= 1  # the same value, one bit coarser
    assert ax.narrow_neuron(design.network, 1, 0) is None


@pytest.mark.parametrize("saturate", [False, True])
def test_narrowing_to_a_width_equals_narrowing_step_by_step(saturate):
    """``narrow_to`` builds in one step what repeated one-bit moves build."""
    from ..conftest import random_network

    checked = 0
    for seed in range(12):
        net = random_network(seed, approximate=bool(seed % 2),
                             activation="clamp" if seed % 3 else "threshold")
        for k in range(4):
            for width in range(6):
                stepped = net
                while stepped is not None and stepped.analysis[0].outputs[k].width > width:
                    stepped = (ax.saturate_neuron if saturate else ax.narrow_neuron)(stepped, 0, k)
                assert ax.narrow_to(net, 0, {k: width}, saturate) == stepped
                checked += stepped is not None and stepped != net
    assert checked > 20  # most cases narrow something
    # several neurons at once: the same as one after another
    net = random_network(3)
    one_by_one = ax.narrow_to(ax.narrow_to(net, 0, {0: 2}, saturate), 0, {2: 1}, saturate)
    assert ax.narrow_to(net, 0, {0: 2, 2: 1}, saturate) == one_by_one != net


@pytest.mark.parametrize("up", [False, True])
def test_snapping_moves_the_costliest_thresholds_one_small_step(up):
    from dataclasses import replace

    from bespoke.ir import Interval, ThresholdActivation, trailing_zeros

    acc = Interval(-100, 100)
    # -36 = -9 * 4 and 20 = 5 * 4 have the fewest trailing zeros (2) of the crossable ones;
    # 0 compares the sign only, 500 and -300 are never crossed (constant comparisons)
    bank = (-300, -36, -32, 0, 20, 64, 500)
    neuron = replace(random_hidden_neuron(), activation=ThresholdActivation(bank))
    moved = ax.snapped(neuron, acc, up).activation.thresholds
    expected = (-300, -40, -32, 0, 16, 64, 500) if not up else (-300, -32, -32, 0, 24, 64, 500)
    assert moved == tuple(sorted(expected))
    assert min(trailing_zeros(t) for t in moved if t and -100 < t <= 100) == 3
    # repeated, every comparator the accumulator can cross ends up comparing fewer bits
    once = ax.snapped(replace(neuron, activation=ThresholdActivation(moved)), acc, up)
    assert min(trailing_zeros(t) for t in once.activation.thresholds
               if t and -100 < t <= 100) >= 4
    nothing = replace(neuron, activation=ThresholdActivation((-300, 0, 500)))
    assert ax.snapped(nothing, acc, up) is None  # nothing crossable
    assert ax.snapped(replace(neuron, activation=ClampActivation(0, 4)), acc, up) is None


def random_hidden_neuron():
    from ..conftest import random_network

    return random_network(3, activation="threshold").layers[0].neurons[0]


def test_snapping_thresholds_makes_the_estimated_comparators_cheaper():
    from bespoke.approx.estimate import features

    from ..conftest import random_network

    net = random_network(3, activation="threshold")
    snapped = ax.snap_thresholds(net, 0, 1, up=False)
    assert snapped.layers[0].neurons[0] is net.layers[0].neurons[0]  # one neuron changed
    assert features(snapped).comparator_bits < features(net).comparator_bits


def test_a_removed_neuron_outputs_its_mean_code_and_costs_no_adders(exact):
    """The hidden neuron becomes the constant nearest its mean code (the emulator agrees on
    every sample), the other neurons are untouched, and the estimated area drops by more
    than the neuron's adders alone (the next layer folds the constant); output neurons and
    neurons without weights are left alone."""
    from bespoke.approx.estimate import AreaModel

    design, codes, stats = exact
    net = design.network
    removed = ax.constant_neuron(net, stats, 0, 2)
    mean = trace(net, codes).codes[0][:, 2].mean()
    after = trace(removed, codes).codes[0]
    assert np.all(after[:, 2] == min(max(round(mean), 0), net.layers[0].neurons[2].activation.max_code))
    assert not any(removed.layers[0].neurons[2].weights)
    assert [n for i, n in enumerate(removed.layers[0].neurons) if i != 2] == \
        [n for i, n in enumerate(net.layers[0].neurons) if i != 2]
    assert removed.layers[1] is net.layers[1]
    assert removed.analysis[1].inputs[2].lo == removed.analysis[1].inputs[2].hi
    model = AreaModel.bundled()
    assert model.area_um2(removed) < model.area_um2(net)
    assert ax.constant_neuron(net, stats, 1, 0) is None  # an output neuron
    assert ax.constant_neuron(removed, stats, 0, 2) is None  # already without weights
