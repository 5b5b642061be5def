"""The on-sensor system in Verilog: ``top`` reading ADC thermometer bits (binary-encoded or
straight into the adder trees), and ``system`` from sensor values to class, both equal to
the emulator on every vector in Icarus; a changed reference or level is caught."""
from dataclasses import replace

import numpy as np
import pytest

from bespoke.ir.emulate import predict_sensor, predict_vectors
from bespoke.ir.interface import Channel, Interface
from bespoke.rtl.lower import to_verilog
from bespoke.rtl.system import sensor_vectors, system_verilog
from bespoke.rtl.verify import verification_vectors, verify, verify_system

import bespoke

from ..conftest import random_network, trained


def _interface(n_inputs: int) -> Interface:
    """One input of each kind: a conventional flash (binary), pruned references with
    their own levels (binary and thermometer), references off the grid, and no ADC."""
    conventional = Interface.conventional(n_inputs, 4, 10).channels[0]
    kinds = [conventional,
             Channel((192, 512, 640), (1, 5, 9, 14)),
             Channel((128, 320, 832), (0, 4, 7, 15), "thermometer"),
             Channel((), (0,)),
             Channel((77, 500), (3, 3, 12), "thermometer")]
    return Interface(10, 4, tuple(kinds[i % len(kinds)] for i in range(n_inputs)))


@pytest.fixture(scope="module", params=[0, 1])
def system_design(request, tmp_path_factory):
    network = random_network(request.param, sizes=(5, 4, 3))
    network = replace(network, interface=_interface(network.n_inputs))
    folder = tmp_path_factory.mktemp(f"system{request.param}")
    (folder / "top.v").write_text(to_verilog(network))
    (folder / "system.v").write_text(system_verilog(network))
    return network, folder


def test_top_reads_thermometer_bits_and_equals_the_emulator(system_design, tmp_path):
    network, folder = system_design
    names = dict(network.ports())
    assert names == {"x0": 15, "x1": 3, "x2": 3, "x4": 2}  # input 3 has no ADC, no port
    vectors = verification_vectors(network, None, 600, 0)
    assert vectors[:, 1].max() <= 3 and vectors[:, 3].max() == 0
    result = verify(folder / "top.v", network, vectors, tmp_path / "sim")
    assert result.vectors == len(vectors) and result.mismatches == 0


def test_the_system_equals_the_emulator_from_sensor_value_to_class(system_design, tmp_path):
    network, folder = system_design
    sensor = sensor_vectors(network, None, 400, 1)
    # every kept reference is driven just below, at and just above
    for i, channel in enumerate(network.interface.channels):
        for t in channel.thresholds:
            assert {t - 1, t, t + 1} <= set(sensor[:, i])
    result = verify_system(folder / "system.v", folder / "top.v", network, sensor,
                           tmp_path / "sim")
    assert result.mismatches == 0
    assert np.array_equal(result.expected, predict_sensor(network, sensor))


@pytest.fixture(scope="module")
def iris_system(tmp_path_factory):
    """A trained iris design behind ADCs of every kind (its answers depend on its inputs,
    so a changed reference or level shows)."""
    model, X_train, X_test, y_train, _ = trained("iris", "relu", (5,))
    design = bespoke.compile(model, X_train, y_train)
    interface = Interface(10, 4, (
        Interface.conventional(1, 4, 10).channels[0],
        Channel((192, 512, 640), (1, 5, 9, 14)),
        Channel((128, 320, 832), (0, 4, 7, 15), "thermometer"),
        Channel((320, 500), (3, 6, 12), "thermometer")))
    design = design.with_interface(interface)
    folder = tmp_path_factory.mktemp("iris_system")
    (folder / "top.v").write_text(design.verilog())
    (folder / "system.v").write_text(design.system_verilog())
    return design, folder, X_test


def test_a_moved_reference_in_the_system_is_caught(iris_system, tmp_path):
    design, folder, X_test = iris_system
    network = design.network
    text = (folder / "system.v").read_text()
    assert "s2 >= 10'd320" in text
    mutated = tmp_path / "system.v"
    mutated.write_text(text.replace("s2 >= 10'd320", "s2 >= 10'd400"))
    sensor = sensor_vectors(network, design.sensor(X_test), 300, 2)
    moved = replace(network.interface, channels=tuple(
        Channel((128, 400, 832), c.levels, c.encoding) if i == 2 else c
        for i, c in enumerate(network.interface.channels)))
    assert not np.array_equal(predict_sensor(replace(network, interface=moved), sensor),
                              predict_sensor(network, sensor))
    assert verify_system(folder / "system.v", folder / "top.v", network, sensor,
                         tmp_path / "ok").mismatches == 0
    result = verify_system(mutated, folder / "top.v", network, sensor, tmp_path / "sim")
    assert result.mismatches > 0


def test_a_changed_level_in_top_is_caught(iris_system, tmp_path):
    design, folder, X_test = iris_system
    network = design.network
    channels = list(network.interface.channels)
    channels[2] = Channel((128, 320, 832), (0, 4, 12, 15), "thermometer")  # level 2: 7 -> 12
    other = replace(network, interface=replace(network.interface, channels=tuple(channels)))
    (tmp_path / "top.v").write_text(to_verilog(other))
    vectors = verification_vectors(network, design.vectors(X_test), 600, 0)
    assert not np.array_equal(predict_vectors(other, vectors), predict_vectors(network, vectors))
    assert verify(folder / "top.v", network, vectors, tmp_path / "ok").mismatches == 0
    result = verify(tmp_path / "top.v", network, vectors, tmp_path / "sim")
    assert result.mismatches > 0


def test_the_encoding_changes_the_hardware_not_the_answers(system_design):
    network, _ = system_design
    as_binary = replace(network, interface=replace(network.interface, channels=tuple(
        replace(c, encoding="binary") for c in network.interface.channels)))
    vectors = verification_vectors(network, None, 300, 3)
    assert np.array_equal(predict_vectors(network, vectors), predict_vectors(as_binary, vectors))
    assert to_verilog(network) != to_verilog(as_binary)


def test_system_verilog_is_deterministic(system_design):
    network, folder = system_design
    assert system_verilog(network) == (folder / "system.v").read_text()
    assert to_verilog(network) == (folder / "top.v").read_text()
