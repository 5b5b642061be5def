"""The area estimator against real synthesis, on a few designs (the full calibration is
benchmarks/estimator_calibration.py; its figures are in benchmarks/results)."""
import numpy as np
import pytest

import bespoke
from bespoke import approximate as ax
from bespoke.estimate import AreaModel, features
from bespoke.lower import to_verilog
from bespoke.pdk import bundled_liberty
from bespoke.synth import synthesize

from .conftest import trained


def test_full_adders_count_the_overlap_of_the_generated_tree():
    from bespoke.ir import Layer, Network, Neuron

    # 3*x + x: terms x<<1 + x + x (digits of 3 are 4 - 1: x<<2 - x), 4-bit x
    net = Network(4, (Layer((Neuron((3,), 0, None), Neuron((0,), 1, None))),), "argmax", 2)
    f = features(net)
    # positive tree: one term (x<<2); negative: one term (x); one subtraction: bits [0,4)
    # vs [2,6): two overlapping bits, two carried; plus the second neuron's constant 1
    assert f.full_adders == 2 and f.half_adders == 2 + 1


@pytest.fixture(scope="module")
def designs():
    model, X_train, _, y_train, _ = trained("iris", "relu", (3,))
    design = bespoke.compile(model, X_train, y_train)
    stats = ax.InputStatistics.measure(design.network, design.codes(X_train))
    lighter = ax.limit_digits(design.network, stats, 1, 0, 1)
    for li, layer in enumerate(design.network.layers):
        for ni in range(len(layer.neurons)):
            lighter = ax.truncate(lighter, stats, li, ni, 3)
    narrow = ax.reduce_activation_bits(ax.reduce_activation_bits(lighter, 0), 0)
    return [design.network, lighter, narrow]


def test_bundled_estimator_ranks_and_sizes_real_syntheses(designs, tmp_path):
    model = AreaModel.bundled()
    estimated, synthesized = [], []
    for i, network in enumerate(designs):
        (tmp_path / f"{i}.v").write_text(to_verilog(network))
        synthesized.append(synthesize(tmp_path / f"{i}.v", bundled_liberty(), tmp_path / f"s{i}").area_um2)
        estimated.append(model.area_um2(network))
    assert np.argsort(estimated).tolist() == np.argsort(synthesized).tolist()
    errors = np.abs(np.array(estimated) - synthesized) / np.array(synthesized)
    assert np.median(errors) <= 0.25, (estimated, synthesized)
