"""Hardware-aware retraining: its fast scoring equals the emulator, it never grows the
design or adds signed digits, it lowers its objective, and the search uses it."""
from dataclasses import replace

import numpy as np
import pytest

import bespoke
from bespoke.approx import retrain as rt
from bespoke.approx import greedy as greedy_module
from bespoke.ir.emulate import accumulate, trace
from bespoke.approx.estimate import FEATURES, AreaModel
from bespoke.ir import csd_digits
from bespoke.approx.candidates import SearchOptions
from bespoke.approx.greedy import greedy_search, RETRAINED

from ..conftest import random_network, trained

UNIT_COSTS = AreaModel((1.0,) * len(FEATURES))


def _codes(network, n=300, seed=1):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 1 << network.input_bits, (n, network.n_inputs))


@pytest.mark.parametrize("activation", ["clamp", "threshold"])
@pytest.mark.parametrize("seed", range(4))
def test_one_neuron_scoring_equals_the_emulator(seed, activation):
    """Swapping one connection's contribution, and a hidden neuron's column into the next
    layers, gives the logits the emulator computes for the changed network (masks,
    truncation, comparator banks and a second hidden layer included)."""
    network = random_network(seed, activation=activation, sizes=(5, 4, 3, 3))
    codes = _codes(network)
    labels = np.zeros(len(codes), np.int64)
    state = rt._State(network, codes, rt.Objective(labels, labels == 0, 0.01))
    rng = np.random.default_rng(seed)
    for li in range(len(network.layers)):
        j = int(rng.integers(len(network.layers[li].neurons)))
        neuron = network.layers[li].neurons[j]
        k = int(rng.integers(len(neuron.weights)))
        values = [0, 37, -5, 64]
        x = state.inputs[li][:, k]
        accs = np.stack([state.accs[li][:, j] - rt._contribution(neuron, k, neuron.weights[k], x)
                         + rt._contribution(neuron, k, v, x) for v in values])
        logits = state.logits_with(li, j, accs)
        for c, v in enumerate(values):
            changed = rt._replace_neuron(network, li, j, replace(
                neuron, weights=neuron.weights[:k] + (v,) + neuron.weights[k + 1:]))
            assert np.array_equal(accs[c], accumulate(changed.layers[li], state.inputs[li])[:, j])
            assert np.array_equal(logits[c], trace(changed, codes).accumulators[-1])


def test_a_wrong_contribution_is_caught():
    """The equality above can fail: a contribution that ignores the input masks differs."""
    network = random_network(3, sizes=(5, 4, 3))
    neuron = next(n for n in network.layers[0].neurons if any(n.input_masks) and any(n.weights))
    k = next(i for i, m in enumerate(neuron.input_masks) if m and neuron.weights[i])
    x = _codes(network)[:, k]
    unmasked = neuron.weights[k] * x
    assert not np.array_equal(unmasked, rt._contribution(neuron, k, neuron.weights[k], x))


@pytest.fixture(scope="module")
def iris():
    model, X_train, X_test, y_train, y_test = trained("iris", "relu", (4,))
    design = bespoke.compile(model, X_train, y_train)
    half = len(X_train) // 2
    return design, X_train, y_train, half


def test_retraining_lowers_the_objective_without_growing_the_design(iris):
    design, X_train, y_train, _ = iris
    codes, labels = design.codes(X_train), y_train
    before = design.network
    result = rt.retrain(before, codes, labels, UNIT_COSTS)
    after = result.network
    assert result.changes > 0 and result.loss_after < result.loss_before
    assert UNIT_COSTS.area_um2(after) <= UNIT_COSTS.area_um2(before)
    for old_layer, new_layer in zip(before.layers, after.layers):
        for old, new in zip(old_layer.neurons, new_layer.neurons):
            for w_old, w_new in zip(old.weights, new.weights):
                assert len(csd_digits(w_new)) <= len(csd_digits(w_old))
                assert w_old or not w_new  # a pruned connection stays pruned
    # the reported loss is the objective of the returned network, recomputed from scratch
    reference_right = trace(before, codes).prediction == labels
    objective = rt.Objective(labels, reference_right, rt.RetrainOptions().cross_entropy_weight)
    assert objective(after, trace(after, codes).accumulators[-1][None])[0] == \
        pytest.approx(result.loss_after, abs=1e-12)
    assert result.accuracy_after >= result.accuracy_before
    again = rt.retrain(before, codes, labels, UNIT_COSTS)
    assert again.network == after  # deterministic
    assert not result.cut_short and not again.cut_short


def test_retraining_out_of_time_says_so(iris):
    design, X_train, y_train, _ = iris
    result = rt.retrain(design.network, design.codes(X_train), y_train, UNIT_COSTS,
                        rt.RetrainOptions(time_budget_s=0.0))
    assert result.cut_short and result.changes == 0 and result.network == design.network


def test_objective_is_the_paired_bound_plus_cross_entropy():
    """Against a reference that is right on half the samples: a candidate right on every
    sample has lost 0 and won half; the cross-entropy term follows the logits' scale."""
    from bespoke.ir import Layer, Network, Neuron

    network = Network(2, (Layer((Neuron((1, 0), 0, None), Neuron((0, 1), 0, None))),),
                      "argmax", 2)
    labels = np.array([0, 0, 1, 1])
    reference_right = np.array([True, False, True, False])
    logits = np.array([[[4, 0], [4, 0], [0, 4], [0, 4]]])  # all right
    objective = rt.Objective(labels, reference_right, 0.0)
    assert objective(network, logits)[0] == pytest.approx((0 - 2 + 2 * np.sqrt(2)) / 4)
    wrong = logits[:, :, ::-1].copy()  # all wrong: lost the reference's two
    assert objective(network, wrong)[0] == pytest.approx((2 + 2 * np.sqrt(2)) / 4)
    with_ce = rt.Objective(labels, reference_right, 1.0)
    assert with_ce(network, logits)[0] == pytest.approx(
        objective(network, logits)[0] + np.log1p(np.exp(-4.0)))


def test_greedy_search_with_retraining_never_ends_larger(iris):
    """Retraining only continues a greedy search where it stopped, so the design it ends
    with is never larger; every retrained step is within the budget."""
    design, X_train, y_train, half = iris
    train, val = design.codes(X_train[:half]), design.codes(X_train[half:])
    options = SearchOptions(max_accuracy_loss=0.0, time_budget_s=60)
    plain = greedy_search(design.network, train, val, y_train[half:], UNIT_COSTS, options,
                          train_labels=y_train[:half])
    retrained = greedy_search(design.network, train, val, y_train[half:], UNIT_COSTS,
                              replace(options, retrain=True), train_labels=y_train[:half])
    assert retrained.chosen.area_um2 <= plain.chosen.area_um2
    assert retrained.steps[:len(plain.steps)] == plain.steps
    assert retrained.chosen.loss_bound <= options.max_accuracy_loss + 1e-12
    assert retrained.retrained and not plain.retrained
    assert all(step.endswith(RETRAINED) or "retrained" not in step for step in retrained.steps)
    assert not retrained.budget_hit


def test_greedy_search_whose_retraining_runs_out_of_time_reports_its_budget_hit(iris, monkeypatch):
    """A retraining cut short by its time makes the result depend on the machine's speed:
    the search says so, as when its own budget runs out."""
    design, X_train, y_train, half = iris
    train, val = design.codes(X_train[:half]), design.codes(X_train[half:])
    options = SearchOptions(max_accuracy_loss=0.0, time_budget_s=60, retrain=True)
    monkeypatch.setattr(greedy_module, "RETRAIN_SHARE", 0.0)
    result = greedy_search(design.network, train, val, y_train[half:], UNIT_COSTS, options,
                           train_labels=y_train[:half])
    assert result.budget_hit and result.seconds < options.time_budget_s
    assert not any(step.endswith(RETRAINED) for step in result.steps)


def test_retraining_a_binary_classifier_with_one_sign_output():
    """A binary design decides on one logit's sign: the objective follows that rule."""
    model, X_train, X_test, y_train, y_test = trained("cancer", "relu", (3,))
    design = bespoke.compile(model, X_train, y_train)
    assert design.network.output == "sign"
    codes = design.codes(X_train)
    result = rt.retrain(design.network, codes, y_train, UNIT_COSTS,
                        rt.RetrainOptions(passes=1))
    assert result.loss_after <= result.loss_before
    assert UNIT_COSTS.area_um2(result.network) <= UNIT_COSTS.area_um2(design.network)
    reference_right = trace(design.network, codes).prediction == y_train
    objective = rt.Objective(y_train, reference_right, rt.RetrainOptions().cross_entropy_weight)
    logits = trace(result.network, codes).accumulators[-1][None]
    assert objective(result.network, logits)[0] == pytest.approx(result.loss_after, abs=1e-12)
    right = trace(result.network, codes).prediction == y_train
    assert result.accuracy_after == pytest.approx(right.mean())
