"""The interface search: ADC references removed within the accuracy budget."""
import numpy as np

import bespoke
from bespoke.approx.estimate import AreaModel
from bespoke.approx.interface import code_map, grid_interface, search_interface
from bespoke.approx.scoring import Scorer
from bespoke.hw.adc import load_adc_model
from bespoke.ir import Layer, Network, Neuron
from bespoke.ir.emulate import predict_codes

from ..conftest import trained


def _scorer(network, codes, budget, neighbourhood=0):
    labels = predict_codes(network, codes)
    half = len(codes) // 2
    return Scorer(network, codes[:half], labels[:half], codes[half:], labels[half:],
                  AreaModel.bundled(), budget, neighbourhood)


def test_only_the_reference_the_decision_needs_is_kept():
    """Worked by hand: class 1 iff 10 * ((x0 >> 2) << 2) - 75 > 0, i.e. iff x0 >= 8; x1
    has weight 0.  Input 1 needs no ADC; of input 0's fifteen references only the one
    at code 8 (sensor value 8 * 64 = 512) changes an answer, so all others go at no cost."""
    net = Network(4, (Layer((Neuron((10, 0), -75, None, (2, 0)),)),), "sign", 2)
    codes = np.array([[a, b] for a in range(16) for b in range(16)] * 2, np.int64)
    result = search_interface(net, _scorer(net, codes, 0.0), load_adc_model(), time_budget_s=60)
    first, second = result.interface.channels
    assert second.comparators == 0
    assert first.thresholds == (512,)
    mapping = code_map(first, 4, 10)
    assert np.array_equal(mapping >= 8, np.arange(16) >= 8)
    assert result.loss_bound <= 0.0 and not result.budget_hit


def test_an_input_the_core_ignores_has_no_adc():
    net = Network(4, (Layer((Neuron((10, 0, 3), -75, None),)),), "sign", 2)
    assert [c.comparators for c in grid_interface(net).channels] == [15, 0, 15]


def test_a_trained_design_keeps_its_budget_with_far_fewer_comparators():
    model, X_train, X_test, y_train, _ = trained("iris", "relu", (5,))
    design = bespoke.compile(model, X_train, y_train)
    codes = design.codes(X_train)
    index = bespoke.model.align_labels(y_train, design.classes)
    half = len(codes) // 2
    scorer = Scorer(design.network, codes[:half], index[:half], codes[half:], index[half:],
                    AreaModel.bundled(), 0.02, 2048)
    result = search_interface(design.network, scorer, load_adc_model(), time_budget_s=60)
    again = search_interface(design.network, scorer, load_adc_model(), time_budget_s=60)
    assert result.interface == again.interface and result.steps == again.steps
    assert result.interface.comparators < 60 // 3
    assert result.loss_bound <= 0.02 + 1e-12
    # the chosen interface, emulated from sensor values, agrees with its search's figure
    system = design.with_interface(result.interface)
    lost = np.mean(system.predict(X_train[half:]) != design.predict(X_train[half:]))
    assert lost <= 0.02 + 2 / (len(X_train) - half) ** 0.5


def test_the_core_searched_behind_the_adcs_keeps_the_budget_against_the_exact_design():
    from bespoke.approx.interface import fit_interface

    model, X_train, X_test, y_train, _ = trained("cancer", "relu", (3,))
    exact = bespoke.compile(model, X_train, y_train)
    index = bespoke.model.align_labels(y_train, exact.classes)
    codes = exact.codes(X_train)
    half = len(codes) // 2
    core, result = fit_interface(exact.network, exact.network, codes[:half], index[:half],
                                 codes[half:], index[half:], load_adc_model(),
                                 max_accuracy_loss=0.02, time_budget_s=30)
    assert result.loss_bound <= 0.02 + 1e-12
    # scored afresh: the core behind its ADCs, against the exact design on the codes
    maps = tuple(code_map(c, 4, 10) for c in result.interface.channels)
    scorer = Scorer(exact.network, codes[:half], index[:half], codes[half:], index[half:],
                    AreaModel.bundled(), 0.02, 16384, maps)
    (candidate,) = scorer.confirm(scorer([core], ["chosen"]))
    assert candidate.loss_bound <= 0.02 + 1e-12
    assert result.interface.comparators < 15 * sum(c.comparators > 0
                                                   for c in result.interface.channels)
    # the scorer's codes are what the system reads from sensor values at each code's start
    assert np.array_equal(scorer.splits[0][0], result.interface.codes_of_levels(
        np.stack([np.searchsorted(np.asarray(c.thresholds), codes[half:, k] * 64, side="right")
                  for k, c in enumerate(result.interface.channels)], axis=1)))
