"""The interface search: ADC references removed within the accuracy budget."""
import numpy as np
import pytest

import bespoke
from bespoke.approx.estimate import AreaModel
from bespoke.approx.interface import grid_interface, search_interface, sensor_map
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
    mapping = sensor_map(first, 10)
    assert np.array_equal(mapping >= 8, np.arange(1024) >= 512)
    assert result.loss_bound <= 0.0 and not result.budget_hit


def test_the_audit_walks_back_to_the_last_point_it_passes():
    """The hand-worked network of the test above (class 1 iff x0 >= 8): a trail whose
    last interface reads input 0 as a constant (half the answers lost) is walked back
    to the point before it; a trail that ends well keeps its end; one that fails from its
    first step on goes back to where it started."""
    from bespoke.approx.interface import _Audit, _walk_back
    from bespoke.ir.interface import Channel, Interface

    net = Network(4, (Layer((Neuron((10, 0), -75, None, (2, 0)),)),), "sign", 2)
    grid = grid_interface(net)
    needed = grid.with_channel(0, Channel((512,), (0, 8)))
    blind = grid.with_channel(0, Channel((), (0,)))
    sensor = np.array([[s, 0] for s in range(0, 1024, 4)], np.int64)
    labels = predict_codes(net, sensor >> 6)
    audit = _Audit(sensor, labels, np.ones(len(labels), bool))
    assert isinstance(grid, Interface)

    def trail(*interfaces):
        return [(net, interface) for interface in interfaces]

    assert _walk_back(trail(grid, needed, blind), audit, 0.01) == (1, 0.0)
    assert _walk_back(trail(grid, needed), audit, 0.01) == (1, 0.0)
    assert _walk_back(trail(grid, blind, blind), audit, 0.01) == (0, 0.0)
    # a budget that allows reading input 0 as a constant keeps it
    assert _walk_back(trail(grid, needed, blind), audit, 0.5) == (2, 0.5)
    assert _walk_back(trail(grid, blind), None, 0.01) == (1, None)


def test_an_audit_is_held_out_only_where_the_budget_is_several_of_its_samples():
    """AUDIT_MIN_ANSWERS: 900 samples, a third held out, hold 300: a 1 % budget is 3 of
    them (an audit), a 0.5 % budget 1.5 (none: the searches see every sample)."""
    from bespoke.approx.interface import _hold_out_audit

    net = Network(4, (Layer((Neuron((10, 0), -75, None, (2, 0)),)),), "sign", 2)
    rng = np.random.default_rng(0)
    sensor = rng.integers(0, 1024, (900, 2))
    labels = predict_codes(net, sensor >> 6)
    seen, seen_labels, audit = _hold_out_audit(net, sensor, labels, 6, 1 / 3, 0.01)
    assert len(seen) == len(seen_labels) == 600 and len(audit.labels) == 300
    rows = {tuple(row) for row in seen.tolist()}
    assert sorted(rows | {tuple(row) for row in audit.sensor.tolist()}) == sorted(
        {tuple(row) for row in sensor.tolist()})
    assert audit.exact_right.all()  # the labels are the exact design's answers here
    seen, _, audit = _hold_out_audit(net, sensor, labels, 6, 1 / 3, 0.005)
    assert audit is None and len(seen) == 900


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


def test_the_core_searched_behind_the_adcs_keeps_the_budget_against_the_exact_design(
        monkeypatch):
    from bespoke.approx import interface
    from bespoke.approx.interface import fit_interface

    monkeypatch.setattr(interface, "AUDIT_MIN_ANSWERS", 1)  # an audit on these few samples

    model, X_train, X_test, y_train, _ = trained("cancer", "relu", (3,))
    exact = bespoke.compile(model, X_train, y_train)
    index = bespoke.model.align_labels(y_train, exact.classes)
    codes, sensor = exact.codes(X_train), exact.sensor(X_train)
    half = len(codes) // 2
    core, result = fit_interface(exact.network, exact.network, sensor[:half], index[:half],
                                 sensor[half:], index[half:], load_adc_model(),
                                 max_accuracy_loss=0.02, time_budget_s=4)
    assert result.loss_bound <= 0.02 + 1e-12
    # scored afresh: the core behind its ADCs, against the exact design on the codes
    scorer = Scorer(exact.network, codes[:half], index[:half], codes[half:], index[half:],
                    AreaModel.bundled(), 0.02, 16384, result.interface,
                    (sensor[:half], sensor[half:]))
    (candidate,) = scorer.confirm(scorer([core], ["chosen"]))
    assert candidate.loss_bound <= 0.02 + 1e-12
    # the training samples held out of the ADC search as its audit: the system loses at
    # most the budget there too, and the result's figure is that loss
    from bespoke.approx.interface import AUDIT_FRACTION
    from bespoke.model.data import split

    _, held, _, held_labels = split(sensor[:half], index[:half], AUDIT_FRACTION, 0, "audit")
    system = predict_codes(core, result.interface.codes(held)) == held_labels
    exact_right = predict_codes(exact.network, held >> 6) == held_labels
    loss = np.mean(exact_right) - np.mean(system)
    assert result.audit_loss == pytest.approx(loss) and loss <= 0.02 + 1e-12
    assert result.interface.comparators < 15 * sum(c.comparators > 0
                                                   for c in result.interface.channels)
    # the scorer's codes are what the system reads from the sensor values
    assert np.array_equal(scorer.splits[0][0], exact.with_interface(result.interface)
                          .network.interface.codes(sensor[half:]))


def test_the_placement_costs_are_the_decisions_each_code_gets_wrong():
    """Worked by hand: class 1 iff 10 * ((x0 >> 2) << 2) - 75 > 0, i.e. iff code x0 >= 8.
    A sample labelled 1 costs 1 at codes 0-7 and nothing at 8-15, whatever its sensor value;
    one labelled 0 the other way round."""
    from bespoke.approx.interface import _InterfaceScorer

    net = Network(4, (Layer((Neuron((10, 0), -75, None, (2, 0)),)),), "sign", 2)
    codes = np.array([[3, 0], [9, 5], [12, 1], [2, 2]], np.int64)
    labels = np.array([0, 1, 0, 1])  # the last two: the exact design gets them wrong
    sensor = codes * 64 + 17
    scorer = Scorer(net, codes, labels, codes[:1], labels[:1], AreaModel.bundled(), 0.0,
                    sensor=(sensor, sensor[:1]))
    evaluator = _InterfaceScorer(net, scorer)
    evaluator.rebase([sensor_map(c, 10) for c in grid_interface(net).channels])
    values, costs = evaluator.code_costs(0)
    assert np.array_equal(values, sensor[:, 0])
    above = np.arange(16) >= 8
    assert np.array_equal(costs, np.array([above, ~above, above, ~above], float))


def test_the_batched_bounds_equal_rescoring_each_candidate_from_scratch():
    """Every candidate ADC of one input, scored together, has the bound a fresh evaluator
    gives the interface with that ADC; one above the limit is reported above it."""
    from bespoke.approx.interface import _InterfaceScorer

    model, X_train, _, y_train, _ = trained("iris", "relu", (5,))
    design = bespoke.compile(model, X_train, y_train)
    net, codes = design.network, design.codes(X_train)
    index = bespoke.model.align_labels(y_train, design.classes)
    rng = np.random.default_rng(1)
    sensor = codes * 64 + rng.integers(0, 64, codes.shape)
    half = len(codes) // 2
    scorer = Scorer(net, codes[:half], index[:half], codes[half:], index[half:],
                    AreaModel.bundled(), 0.02, 64, sensor=(sensor[:half], sensor[half:]))
    maps = [sensor_map(c, 10) for c in grid_interface(net).channels]
    evaluator = _InterfaceScorer(net, scorer)
    evaluator.rebase(maps)
    channel = grid_interface(net).channels[2]
    candidates = [sensor_map(channel.without_threshold(j, keep), 10)
                  for j in range(0, 15, 2) for keep in ("lower", "upper")]
    expected = []
    for mapping in candidates:
        fresh = _InterfaceScorer(net, scorer)
        expected.append(fresh.rebase(maps[:2] + [mapping] + maps[3:]))
    expected = np.array(expected)
    assert len(set(expected.round(12))) > 1  # the candidates differ
    got = evaluator.bounds(2, candidates, np.inf)
    assert np.allclose(got, expected, rtol=0, atol=1e-12)
    limit = float(np.median(expected))
    pruned = evaluator.bounds(2, candidates, limit)
    within = expected <= limit
    assert np.allclose(pruned[within], expected[within], rtol=0, atol=1e-12)
    assert np.all(pruned[~within] > limit)
    # the placement costs kept between calls follow a change to another input's ADC (the
    # candidate that changes the most answers, so that some of input 0's costs move)
    before = evaluator.code_costs(0)
    changed = candidates[int(np.argmax(expected))]
    evaluator.accept(2, changed)
    fresh = _InterfaceScorer(net, scorer)
    fresh.rebase(maps[:2] + [changed] + maps[3:])
    after, expected_costs = evaluator.code_costs(0), fresh.code_costs(0)
    assert np.array_equal(after[0], expected_costs[0])
    assert np.array_equal(after[1], expected_costs[1])
    assert not np.array_equal(after[1], before[1])  # the change moved some decisions


def test_sensor_values_whose_top_bits_are_not_the_codes_are_refused():
    net = Network(4, (Layer((Neuron((10, 0), -75, None),)),), "sign", 2)
    codes = np.array([[3, 0], [9, 5]], np.int64)
    with pytest.raises(ValueError, match="top bits"):
        Scorer(net, codes, np.array([0, 1]), codes, np.array([0, 1]), AreaModel.bundled(), 0.0,
               sensor=(codes * 64 + 64, codes * 64))


def test_neighbourhood_copies_keep_their_place_within_the_code():
    """A neighbourhood copy moved by some code steps moves its sensor value by as many
    steps of 64: its top bits are the copy's codes, its low bits the sample's."""
    net = Network(4, (Layer((Neuron((10, 3), -75, None),)),), "sign", 2)
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 16, (40, 2))
    sensor = codes * 64 + rng.integers(0, 64, (40, 2))
    labels = predict_codes(net, codes)
    scorer = Scorer(net, codes[:20], labels[:20], codes[20:], labels[20:], AreaModel.bundled(),
                    0.0, 400, sensor=(sensor[:20], sensor[20:]))
    origin = np.repeat(np.concatenate([sensor[20:], sensor[:20]]), scorer.copies, axis=0)
    for split in range(Scorer.NEIGHBOURHOOD, len(scorer.splits)):
        assert np.array_equal(scorer.sensor[split] >> 6, scorer.splits[split][0])
        assert np.array_equal(scorer.sensor[split] & 63, origin & 63)


def test_references_kept_on_the_grid_when_asked():
    """``off_grid=False`` (``--adc-references grid``): a standard ladder, every reference a
    multiple of a conventional flash's step, no placement step taken."""
    from bespoke.approx.interface import fit_interface

    model, X_train, _, y_train, _ = trained("iris", "relu", (5,))
    exact = bespoke.compile(model, X_train, y_train)
    index = bespoke.model.align_labels(y_train, exact.classes)
    sensor = exact.sensor(X_train)
    half = len(sensor) // 2
    _, result = fit_interface(exact.network, exact.network, sensor[:half], index[:half],
                              sensor[half:], index[half:], load_adc_model(),
                              max_accuracy_loss=0.02, time_budget_s=20, off_grid=False)
    assert all(t % 64 == 0 for c in result.interface.channels for t in c.thresholds)
    assert not any("placed" in step for step in result.steps)
    assert result.loss_bound <= 0.02 + 1e-12


def test_another_finalist_is_kept_only_where_its_system_is_clearly_smaller():
    """``alternatives``: the search's other finalists get their ADCs too; one replaces the
    search's choice only where its estimated system is ALTERNATIVE_MARGIN smaller, and
    the result is then that core's own."""
    from dataclasses import replace

    from bespoke.approx.candidates import SearchOptions
    from bespoke.approx.greedy import greedy_search
    from bespoke.approx.interface import ALTERNATIVE_MARGIN, fit_interface

    model, X_train, _, y_train, _ = trained("iris", "relu", (6,))
    exact = bespoke.compile(model, X_train, y_train)
    index = bespoke.model.align_labels(y_train, exact.classes)
    codes, sensor = exact.codes(X_train), exact.sensor(X_train)
    half = len(codes) // 2
    small = greedy_search(exact.network, codes[:half], codes[half:], index[half:],
                          AreaModel.bundled(), SearchOptions(0.02, 10, retrain=False),
                          train_labels=index[:half]).chosen.network
    adc = load_adc_model()

    def fitted(network, alternatives=()):
        return fit_interface(exact.network, network, sensor[:half], index[:half], sensor[half:],
                             index[half:], adc, max_accuracy_loss=0.02,
                             time_budget_s=20 * (1 + len(alternatives)),
                             alternatives=alternatives)

    def system(fit):
        core, found = fit
        return adc.interface_cost(found.interface)[0] + AreaModel.bundled().area_um2(
            replace(core, interface=found.interface))

    alone = {"small": fitted(small), "exact": fitted(exact.network)}
    assert not any(found.budget_hit for _, found in alone.values())

    def clearly_smaller(name, than):
        return system(alone[name]) < (1 - ALTERNATIVE_MARGIN) * system(alone[than])

    # the search's choice is the exact core, the smaller core an alternative: it replaces it
    assert clearly_smaller("small", than="exact")  # (1.8x on this split)
    core, found = fitted(exact.network, (small,))
    assert found.core_index == 1
    assert found.interface == alone["small"][1].interface and core == alone["small"][0]
    assert found.loss_bound <= 0.02 + 1e-12
    # the other way round: the exact core stays an alternative unless clearly smaller
    kept = clearly_smaller("exact", than="small")
    core, found = fitted(small, (exact.network,))
    assert found.core_index == (1 if kept else 0)
    assert found.interface == alone["exact" if kept else "small"][1].interface
    assert core == alone["exact" if kept else "small"][0]
    _, tie = fitted(small, (small,))  # the same core again: the search's choice stays
    assert tie.core_index == 0 and tie.interface == alone["small"][1].interface
    # the search's choice is fitted first, in the time it would have alone; an alternative
    # only in what that leaves (here: under MIN_ALTERNATIVE_S, so none)
    _, short = fit_interface(exact.network, small, sensor[:half], index[:half], sensor[half:],
                             index[half:], adc, max_accuracy_loss=0.02, time_budget_s=1.0,
                             alternatives=(exact.network,))
    assert short.core_index == 0 and short.loss_bound <= 0.02 + 1e-12
