"""The optimal quantizer that places an input's ADC references off the uniform grid."""
import itertools

import numpy as np
import pytest

from bespoke.approx.placement import optimal_quantizer


def _cost(values, costs, thresholds, levels):
    """A quantizer's total cost, straight from its definition."""
    level = np.searchsorted(np.asarray(thresholds, np.int64), values, side="right")
    return float(costs[np.arange(len(values)), np.asarray(levels)[level]].sum())


def test_a_reference_goes_half_way_between_the_samples_it_separates():
    """Worked by hand: the three lower samples are right only at code 0, the three upper
    ones only at code 5; one reference half-way between 30 and 40 (at 36: 30 reads 0,
    40 reads 5) makes every sample right."""
    values = np.array([10, 20, 30, 40, 50, 60])
    costs = np.ones((6, 8))
    costs[:3, 0] = 0
    costs[3:, 5] = 0
    fit = optimal_quantizer(values, costs, 3)
    assert (fit.thresholds, fit.levels, fit.cost) == ((36,), (0, 5), 0.0)


def test_no_reference_reads_the_code_that_costs_least_over_all_samples():
    values = np.array([1, 2, 3])
    costs = np.array([[0, 1, 1], [1, 0, 1], [1, 0, 1]], float)
    fit = optimal_quantizer(values, costs, 0)
    assert (fit.thresholds, fit.levels, fit.cost) == ((), (1,), 1.0)


def test_samples_the_decision_does_not_depend_on_move_no_reference():
    """Density is not the measure: a thousand samples whose answer is the same at every code
    between two that are decided do not pull the reference towards them."""
    values = np.concatenate([np.full(1000, 100), [500, 600]])
    costs = np.zeros((1002, 4))
    costs[1000] = [0, 1, 1, 1]  # 500 must read 0
    costs[1001] = [1, 1, 1, 0]  # 600 must read 3
    fit = optimal_quantizer(values, costs, 2)
    assert fit.cost == 0 and fit.thresholds == (551,) and fit.levels == (0, 3)


def test_fewer_references_when_more_would_not_lower_the_cost():
    values = np.array([0, 10, 20])
    costs = np.array([[0, 1], [0, 1], [1, 0]], float)
    fit = optimal_quantizer(values, costs, 5)
    assert fit.thresholds == (16,) and fit.levels == (0, 1)


@pytest.mark.parametrize("seed", range(30))
def test_the_program_finds_the_least_cost_of_every_quantizer(seed):
    """Against every quantizer with at most ``r`` references between the distinct values and
    non-decreasing codes, enumerated."""
    rng = np.random.default_rng(seed)
    n, codes, r = int(rng.integers(2, 9)), int(rng.integers(2, 5)), int(rng.integers(0, 4))
    values = rng.integers(0, 6, n) * 7
    costs = rng.integers(0, 4, (n, codes)).astype(float) * rng.random((n, 1)).round(2)
    fit = optimal_quantizer(values, costs, r)
    distinct = np.unique(values)
    cuts = [(a + b) // 2 + 1 for a, b in zip(distinct, distinct[1:])]
    best = min(_cost(values, costs, t, levels)
               for m in range(min(r, len(cuts)) + 1)
               for t in itertools.combinations(cuts, m)
               for levels in itertools.combinations_with_replacement(range(codes), m + 1))
    assert fit.cost == pytest.approx(best)
    assert _cost(values, costs, fit.thresholds, fit.levels) == pytest.approx(fit.cost)
    assert len(fit.thresholds) <= r
    assert list(fit.levels) == sorted(fit.levels)
    assert all(a < b for a, b in zip(fit.levels, fit.levels[1:]))  # no reference wasted


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        optimal_quantizer(np.array([], np.int64), np.zeros((0, 2)), 1)
    with pytest.raises(ValueError):
        optimal_quantizer(np.array([1, 2]), np.zeros((3, 2)), 1)
