"""The area estimator against real synthesis, on a few designs (the full calibration is
benchmarks/estimator_calibration.py; its figures are in benchmarks/results)."""
import numpy as np
import pytest

import bespoke
from bespoke.approx import knobs as ax
from bespoke.approx.estimate import AreaModel, features
from bespoke.rtl.lower import to_verilog
from bespoke.hw.pdk import bundled_liberty
from bespoke.hw.synth import synthesize

from ..conftest import trained


def test_full_adders_count_the_bits_of_the_heap_beyond_its_width(monkeypatch):
    from bespoke.ir import Layer, Network, Neuron

    monkeypatch.setattr("bespoke.ir.network.TABLE_MAX_BITS", 0)  # adders, not a decision table

    # 3*x of a 4-bit x is x<<2 - x: x's 4 bits at columns 2..5, the 4 inverted bits of x at
    # columns 0..3, and the constant 2**0 - 2**4 = -15 = 0b110001 (mod 2**6): three bits.
    # The sum needs 6 bits: 11 - 6 full adders, a 6-bit final adder.  The second neuron is
    # a constant: no adders at all.
    net = Network(4, (Layer((Neuron((3,), 0, None), Neuron((0,), 1, None))),), "argmax", 2)
    f = features(net)
    assert f.full_adders == 11 - 6 and f.half_adders == 6


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


def test_table_nodes_count_the_decision_diagram():
    from bespoke.approx.estimate import table_nodes

    assert table_nodes(np.zeros(16, np.int64)) == 0  # a constant needs no logic
    assert table_nodes(np.array([0, 1] * 8)) == 1  # the lowest index bit itself
    assert table_nodes(np.array([0, 1, 1, 0])) == 3  # exclusive or: one node, then two
    assert table_nodes(np.array([0, 1, 2, 0, 0, 1, 2, 0])) == 3  # the top bit is not read


def test_a_tabulated_output_layer_costs_its_table_not_its_adders():
    from dataclasses import replace

    from bespoke.ir.emulate import decision_table
    from bespoke.approx.estimate import table_nodes

    from ..conftest import tabulated_network

    net = tabulated_network()
    f = features(net)
    hidden_only = replace(net, layers=net.layers[:1] + (replace(net.layers[1], neurons=tuple(
        replace(n, weights=(0, 0, 0)) for n in net.layers[1].neurons)),))
    assert f.full_adders == features(hidden_only).full_adders  # the output layer adds none
    assert f.decision_bits == 0 and f.table_nodes == table_nodes(decision_table(net)) > 0


def test_the_estimator_reads_the_adcs_as_the_generator_builds_them(monkeypatch):
    """Worked by hand: one neuron 3*x, x read through an ADC with levels 0, 5, 15.
    Thermometer: the steps 15 and 30 are 0b1111 - 0b10000 + ... in signed digits: 15 =
    16 - 1 (two digits), 30 = 32 - 2 (two digits), so four 1-bit rows enter the heap
    instead of 3*x's eight partial-product bits; binary: the code keeps its four bits
    (levels up to 15) and the encoder adds one comparator bit per reference."""
    from dataclasses import replace

    from bespoke.ir import Layer, Network, Neuron
    from bespoke.ir.interface import Channel, Interface

    monkeypatch.setattr("bespoke.ir.network.TABLE_MAX_BITS", 0)  # adders, not a decision table
    net = Network(4, (Layer((Neuron((3,), 0, None), Neuron((1,), 0, None))),), "argmax", 2)
    thermometer = replace(net, interface=Interface(10, 4, (Channel((320, 960), (0, 5, 15),
                                                                   "thermometer"),)))
    binary = replace(net, interface=Interface(10, 4, (Channel((320, 960), (0, 5, 15)),)))
    plain = features(net)
    assert features(binary).comparator_bits == plain.comparator_bits + 2
    assert features(binary).full_adders == plain.full_adders
    assert features(thermometer).full_adders < plain.full_adders
    # an input without an ADC is a constant: no heap bits at all
    silent = replace(net, interface=Interface(10, 4, (Channel((), (7,)),)))
    assert features(silent).full_adders == 0 and features(silent).half_adders == 0
