"""The greedy approximation search: within budget, smaller, deterministic, Pareto front."""
from dataclasses import replace

import numpy as np
import pytest

import bespoke
import bespoke.emulate
from bespoke.estimate import FEATURES, AreaModel
from bespoke.search import SearchOptions, greedy_search, pareto_front, Candidate

from .conftest import trained

UNIT_COSTS = AreaModel((1.0,) * len(FEATURES))


@pytest.fixture(scope="module")
def problem():
    model, X_train, X_test, y_train, y_test = trained("iris", "relu", (4,))
    design = bespoke.compile(model, X_train, y_train)
    half = len(X_train) // 2
    return design, design.codes(X_train[:half]), design.codes(X_train[half:]), y_train[half:]


def test_search_stays_in_budget_and_shrinks_the_design(problem):
    design, train, val, y_val = problem
    result = greedy_search(design.network, train, val, y_val, UNIT_COSTS,
                           SearchOptions(max_accuracy_loss=0.02, time_budget_s=30))
    assert result.chosen.accuracy >= result.exact.accuracy - 0.02
    assert result.chosen.area_um2 < 0.8 * result.exact.area_um2
    assert result.steps and result.evaluations > len(result.steps)
    chosen_accuracy = np.mean(bespoke.emulate.predict_codes(result.chosen.network, val) == y_val)
    assert chosen_accuracy == result.chosen.accuracy


def test_search_is_deterministic(problem):
    design, train, val, y_val = problem
    options = SearchOptions(max_accuracy_loss=0.02, time_budget_s=30)
    a = greedy_search(design.network, train, val, y_val, UNIT_COSTS, options)
    b = greedy_search(design.network, train, val, y_val, UNIT_COSTS, options)
    assert a.steps == b.steps and a.chosen.network == b.chosen.network


def test_pareto_front_keeps_only_undominated_points():
    c = lambda area, acc: Candidate(None, acc, area, "")  # noqa: E731
    front = pareto_front([c(10, 0.9), c(5, 0.8), c(6, 0.7), c(4, 0.8), c(12, 0.95), c(11, 0.9)])
    assert [(x.area_um2, x.accuracy) for x in front] == [(4, 0.8), (10, 0.9), (12, 0.95)]


def test_zero_budget_never_loses_validation_accuracy(problem):
    design, train, val, y_val = problem
    result = greedy_search(design.network, train, val, y_val, UNIT_COSTS,
                           SearchOptions(max_accuracy_loss=0.0, time_budget_s=30))
    assert result.chosen.accuracy >= result.exact.accuracy


def test_restarts_merge_fronts_and_do_not_depend_on_where_they_run(problem):
    """Four NSGA-II restarts never choose a larger design than one, and give the same
    design run one after another or in two processes."""
    from bespoke.search import search

    design, train, val, y_val = problem
    options = SearchOptions(max_accuracy_loss=0.02, time_budget_s=120)
    one = search(design.network, train, val, y_val, UNIT_COSTS, replace(options, restarts=1))
    serial = search(design.network, train, val, y_val, UNIT_COSTS,
                    replace(options, restarts=4, jobs=1))
    parallel = search(design.network, train, val, y_val, UNIT_COSTS,
                      replace(options, restarts=4, jobs=2))
    assert serial.chosen.area_um2 <= one.chosen.area_um2
    assert serial.chosen.network == parallel.chosen.network
    assert [c.area_um2 for c in serial.front] == [c.area_um2 for c in parallel.front]
    assert not serial.budget_hit and not parallel.budget_hit
