"""The searches score their candidates with one BLAS thread (bespoke.approx.threads)."""
import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import bespoke.approx.greedy
from bespoke.approx.candidates import SearchOptions
from bespoke.approx.greedy import greedy_search
from bespoke.approx.threads import one_blas_thread

from .test_search import UNIT_COSTS, problem  # noqa: F401  (the fixture)

np.ones((2, 2)) @ np.ones((2, 2))  # numpy's BLAS loaded


def _blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


pytestmark = pytest.mark.skipif(not _blas_threads(),
                                reason="no BLAS library whose threads threadpoolctl sets")


def test_one_blas_thread_inside_and_the_setting_restored_after():
    with threadpool_limits(2, user_api="blas"):
        assert one_blas_thread(_blas_threads)() == {1}
        assert _blas_threads() == {2}


def test_the_setting_is_restored_when_the_call_raises():
    @one_blas_thread
    def fails():
        assert _blas_threads() == {1}
        raise KeyError("inside")

    with threadpool_limits(2, user_api="blas"):
        with pytest.raises(KeyError, match="inside"):
            fails()
        assert _blas_threads() == {2}


def test_the_greedy_search_scores_with_one_blas_thread(problem, monkeypatch):  # noqa: F811
    design, train, val, y_val = problem
    seen = []
    step = bespoke.approx.greedy._step

    def spy(*args, **kwargs):
        seen.append(_blas_threads())
        return step(*args, **kwargs)

    monkeypatch.setattr(bespoke.approx.greedy, "_step", spy)
    with threadpool_limits(2, user_api="blas"):
        greedy_search(design.network, train, val, y_val, UNIT_COSTS,
                      SearchOptions(max_accuracy_loss=0.02, time_budget_s=30))
        assert _blas_threads() == {2}
    assert seen and all(threads == {1} for threads in seen)
