"""Neighbourhoods of the seen samples, on which a candidate must keep the accuracy budget too:
copies of every sample moved a level (:func:`level_neighbourhood`) or as far as unseen samples
lie from the seen ones (:func:`reach_neighbourhood`)."""
from __future__ import annotations


import numpy as np


def level_neighbourhood(codes: np.ndarray, labels: np.ndarray, copies: int,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``copies`` copies of every sample with each input code moved at random to the next
    lower code, the same code or the next higher code of that input *among the codes in
    ``codes``* (one step for a feature that takes all 16 codes; the next level for one
    that takes five), each copy keeping its sample's label.

    A search that compares thousands of candidates on a few hundred samples finds ones
    that agree with the exact design on those samples only: their decision boundaries
    pass between the samples.  The neighbourhoods are where unseen samples of the same
    distribution lie, and the budget must hold there too: this one moves every input a
    little, :func:`reach_neighbourhood` moves a sample as far as unseen ones lie."""
    rng = np.random.default_rng(seed)
    codes = np.asarray(codes, np.int64)
    steps = rng.integers(-1, 2, (len(codes) * copies, codes.shape[1]))
    moved = np.repeat(codes, copies, axis=0)
    for k in range(codes.shape[1]):
        levels = np.unique(codes[:, k])
        index = np.clip(np.searchsorted(levels, moved[:, k]) + steps[:, k], 0, len(levels) - 1)
        moved[:, k] = levels[index]
    return moved, np.repeat(labels, copies)


def nearest_other_distance(points: np.ndarray, most: int = 16384) -> np.ndarray:
    """Per row of ``points`` (distinct rows of non-negative integers: codes), the Euclidean
    distance to the nearest other row (0 for a single row), exactly, by blocks of matrix
    products.  Beyond ``most`` rows, to the nearest of ``most`` evenly spaced ones (a slight
    overestimate, in bounded time).

    For rows a and reference rows b, ``|a - b|^2 = |a|^2 + 2 (|b|^2 / 2 - a.b)``: the
    bracket is minimized over b, ``|a|^2`` added after.  Every value in the bracket is a
    half-integer below ``max |b|^2``, exact in float32 when that is below 2^22 (7x faster
    than float64 on 4 000 rows of 16 codes), else computed in float64."""
    x = np.asarray(points, np.int64)
    if len(x) < 2:
        return np.zeros(len(x))
    stride = -(-len(x) // max(most, 2))  # the reference keeps at least two rows
    squares = (x * x).sum(axis=1)
    kind = np.float32 if int(squares.max()) < (1 << 22) else np.float64
    values = x.astype(kind)
    reference = values[::stride]
    half_squares = (squares[::stride] / 2).astype(kind)
    nearest = np.empty(len(x))
    block = max(1, (1 << 22) // len(reference))
    for first in range(0, len(x), block):
        rows = np.arange(first, min(first + block, len(x)))
        bracket = values[rows] @ reference.T
        np.subtract(half_squares[None, :], bracket, out=bracket)
        own = rows % stride == 0  # a row of the reference: not its own nearest
        bracket[np.flatnonzero(own), rows[own] // stride] = np.inf
        nearest[rows] = 2 * bracket.min(axis=1).astype(np.float64) + squares[rows]
    return np.sqrt(np.maximum(nearest, 0.0))


def reach_neighbourhood(codes: np.ndarray, labels: np.ndarray, copies: int,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``copies`` copies of every sample, each moved in a random direction as far as the
    sample lies from the nearest *other* distinct sample of ``codes`` (Euclidean distance
    over the input codes), then every code snapped to the nearest code of its input among
    those in ``codes``; each copy keeps its sample's label.

    This neighbourhood reaches as far as unseen samples lie from the seen ones, which
    depends on the dataset: the median distance from a test sample to the nearest seen one
    is about 1.1 code steps on iris, 4 on cardio and 6.3 on wine's 13 inputs, and the
    nearest-sample distance among the seen samples predicts it (``quality_seeds.md``).
    One-level moves (:func:`level_neighbourhood`) reach less than half as far on wine."""
    rng = np.random.default_rng(seed)
    codes = np.asarray(codes, np.int64)
    distinct, which = np.unique(codes, axis=0, return_inverse=True)
    radius = nearest_other_distance(distinct)
    origin = np.repeat(codes, copies, axis=0)
    direction = rng.standard_normal(origin.shape)
    direction /= np.maximum(np.linalg.norm(direction, axis=1, keepdims=True), 1e-12)
    target = origin + direction * np.repeat(radius[which.ravel()], copies)[:, None]
    moved = np.empty_like(origin)
    for k in range(codes.shape[1]):
        levels = np.unique(codes[:, k])
        upper = np.clip(np.searchsorted(levels, target[:, k]), 1, max(len(levels) - 1, 1))
        lower = levels[upper - 1]
        higher = levels[np.minimum(upper, len(levels) - 1)]
        moved[:, k] = np.where(target[:, k] - lower <= higher - target[:, k], lower, higher)
    return moved, np.repeat(labels, copies)
