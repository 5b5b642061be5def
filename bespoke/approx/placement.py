"""Where an input's ADC references go: the optimal piecewise-constant quantizer of the
sensor values, by an exact dynamic program.

A printed ladder is sized per design, so an input's ``k`` references can sit at any sensor
value, not only on the uniform grid of a conventional flash.  Given the samples' sensor
values of one input and, per sample and per core code ``c``, the *cost* of that sample
reading ``c`` (how many of its answers the decision gets wrong with every other input
held where it is, :meth:`~.interface._InterfaceScorer.code_costs`), :func:`optimal_quantizer`
finds the ``k`` references and the ``k + 1`` codes between them (non-decreasing, as a
flash reads them) of least total cost, exactly.

The cost is what the classifier's decision needs, not the density of the samples (a
Lloyd-Max quantizer's measure): a sample whose answer does not depend on this input costs
the same at every code and does not move a reference at all; a reference goes between
the samples whose answers it decides.  References sit half-way between the neighbouring
distinct sensor values of the samples they separate, as far from both as possible.

The program runs over the ``V`` distinct sensor values in order: ``best[j][e][c]`` is the
least cost of the first ``e`` values split into ``j`` segments the last of which reads
code ``c``; with prefix sums ``P`` of the costs,

    best[j][e][c] = P[e][c] + min over s < e of ( min over c' <= c of best[j-1][s][c'] - P[s][c] )

and the inner minimum over ``s`` is a running minimum, so each segment count costs
``O(V * C)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Quantizer:
    thresholds: tuple[int, ...]  # sensor values, strictly increasing: s >= t reads the next code
    levels: tuple[int, ...]  # the code read below the first reference, between, above the last
    cost: float


def optimal_quantizer(values: np.ndarray, costs: np.ndarray, references: int) -> Quantizer:
    """The at most ``references`` thresholds and their non-decreasing codes of least total
    ``costs[n, c]`` (sample ``n`` reading code ``c``) over the samples' sensor ``values``
    (integers).  Among quantizers of equal cost, the one with fewer references, then the
    lower codes, then the references further left; adjacent segments never share a code
    (that reference would decide nothing)."""
    values = np.asarray(values, np.int64)
    costs = np.asarray(costs, np.float64)
    if values.ndim != 1 or costs.shape[0] != len(values) or len(values) == 0:
        raise ValueError("one row of costs per sample value is needed")
    distinct, group = np.unique(values, return_inverse=True)
    grouped = np.zeros((len(distinct), costs.shape[1]))
    np.add.at(grouped, group.ravel(), costs)
    n_values, n_codes = grouped.shape
    prefix = np.vstack([np.zeros((1, n_codes)), np.cumsum(grouped, axis=0)])  # P[e], e = 0..V
    segments = min(references, n_values - 1) + 1
    # best[j][e, c] for e = 1..V (row e - 1); start[j][e, c]: where its last segment starts;
    # below[j][e, c]: the code of the segment before it
    best = [prefix[1:]]
    start = [np.zeros((n_values, n_codes), np.int64)]
    below = [np.full((n_values, n_codes), -1, np.int64)]
    codes = np.arange(n_codes)
    for _ in range(1, segments):
        previous = best[-1]  # rows s = 1..V - 1 can end the previous segment
        lowest = np.minimum.accumulate(previous, axis=1)
        # the code c' <= c of that minimum (first occurrence)
        new_low = np.concatenate([np.ones((n_values, 1), bool),
                                  previous[:, 1:] < lowest[:, :-1]], axis=1)
        which = np.maximum.accumulate(np.where(new_low, codes, 0), axis=1)
        offered = lowest - prefix[1:]  # A[s][c] for s = 1..V (row s - 1)
        offered[-1] = np.inf  # a segment ending at V leaves nothing for the next one
        running = np.minimum.accumulate(offered, axis=0)
        first = np.concatenate([np.ones((1, n_codes), bool), offered[1:] < running[:-1]])
        at = np.maximum.accumulate(np.where(first, np.arange(n_values)[:, None], 0), axis=0)
        # best[j][e] uses s < e: the running minimum up to row e - 2
        total = np.full((n_values, n_codes), np.inf)
        total[1:] = prefix[2:] + running[:-1]
        origin = np.zeros((n_values, n_codes), np.int64)
        origin[1:] = at[:-1] + 1  # s, the number of values before the last segment
        best.append(total)
        start.append(origin)
        below.append(np.take_along_axis(which, origin - 1, axis=0))
    finals = np.array([b[-1].min() for b in best])
    j = int(np.flatnonzero(finals <= finals.min() + 1e-9)[0])
    code = int(np.argmin(best[j][-1]))
    cost = float(best[j][-1, code])
    end, bounds, levels = n_values, [], [code]
    while j > 0:
        s = int(start[j][end - 1, code])
        previous_code = int(below[j][end - 1, code])
        bounds.append(s)
        levels.append(previous_code)
        end, code, j = s, previous_code, j - 1
    bounds.reverse()
    levels.reverse()
    thresholds, kept = [], [levels[0]]
    for s, level in zip(bounds, levels[1:]):
        if level == kept[-1]:
            continue  # equal codes on both sides: the reference decides nothing
        thresholds.append(int((distinct[s - 1] + distinct[s]) // 2 + 1))
        kept.append(level)
    return Quantizer(tuple(thresholds), tuple(kept), cost)
