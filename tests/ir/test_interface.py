"""The sensor interface in the IR: references, levels, and the codes the core reads."""
import numpy as np
import pytest

from bespoke.ir.interface import Channel, Interface, thermometer_values
from bespoke.model.quantize import InputQuantizer


def test_a_conventional_flash_reads_the_top_bits_of_the_sensor_value():
    interface = Interface.conventional(2, 4, 10)
    sensor = np.array([[0, 1023], [63, 64], [64 * 7 + 5, 64 * 15]])
    assert np.array_equal(interface.level_indices(sensor), sensor >> 6)
    assert np.array_equal(interface.codes(sensor), sensor >> 6)
    assert interface.comparators == 30


def test_sensor_values_have_the_input_codes_as_their_top_bits():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3)) * [1, 10, 100]
    quantizer = InputQuantizer.fit(X[:300], 4)
    sensor = quantizer.sensor_values(X, 10)
    assert sensor.min() >= 0 and sensor.max() <= 1023
    assert np.array_equal(sensor >> 6, quantizer.codes(X))
    # a reference's feature value: the sensor value just there reads the next level
    t = 320
    x = quantizer.feature_value(1, t, 10)
    probe = np.array([[0.0, x + 1e-9 * abs(x) + 1e-12, 0.0]])
    assert quantizer.sensor_values(probe, 10)[0, 1] == t


def test_removing_a_reference_changes_exactly_the_codes_between_it_and_the_next():
    """Worked by hand: references at 64, 128, ..., 960 (codes 0..15).  Removing the one
    at 320 (j = 4) merges codes 4 (256..319) and 5 (320..383): keeping the lower level,
    the values 320..383 read 4; keeping the upper one, the values 256..319 read 5."""
    channel = Interface.conventional(1, 4, 10).channels[0]
    sensor = np.arange(1024)[:, None]
    before = Interface(10, 4, (channel,)).codes(sensor)[:, 0]
    lower = Interface(10, 4, (channel.without_threshold(4, "lower"),)).codes(sensor)[:, 0]
    upper = Interface(10, 4, (channel.without_threshold(4, "upper"),)).codes(sensor)[:, 0]
    assert np.array_equal(np.flatnonzero(lower != before), np.arange(320, 384))
    assert set(lower[320:384]) == {4}
    assert np.array_equal(np.flatnonzero(upper != before), np.arange(256, 320))
    assert set(upper[256:320]) == {5}
    assert channel.without_threshold(4, "lower").comparators == 14


def test_references_anywhere_and_any_levels():
    channel = Channel((100, 700), (2, 9, 15))
    interface = Interface(10, 4, (channel,))
    sensor = np.array([[0], [99], [100], [699], [700], [1023]])
    assert list(interface.level_indices(sensor)[:, 0]) == [0, 0, 1, 1, 2, 2]
    assert list(interface.codes(sensor)[:, 0]) == [2, 2, 9, 9, 15, 15]
    assert list(thermometer_values(np.array([0, 1, 2]))) == [0, 1, 3]


def test_the_interface_round_trips_and_rejects_what_cannot_be_built():
    interface = Interface(10, 4, (Channel((100, 700), (2, 9, 15), "thermometer"), Channel((), (0,))))
    assert Interface.from_dict(interface.to_dict()) == interface
    with pytest.raises(ValueError):
        Channel((700, 100), (0, 1, 2))
    with pytest.raises(ValueError):
        Channel((100,), (5, 1))
    with pytest.raises(ValueError):
        Channel((0,), (0, 1))
    with pytest.raises(ValueError):
        Interface(10, 4, (Channel((2000,), (0, 1)),))
    with pytest.raises(ValueError):
        Interface(10, 4, (Channel((100,), (0, 16)),))
