import pytest
from hypothesis import given, strategies as st

from bespoke.ir import (ClampActivation, Interval, Layer, Network, Neuron, Term, ThresholdActivation,
                        csd_digits)


@given(st.integers(-10**6, 10**6), st.integers(0, 10**6))
def test_interval_width_holds_both_ends_and_is_minimal(lo, span):
    iv = Interval(lo, lo + span)
    w = iv.width
    if iv.signed:
        assert -(1 << (w - 1)) <= iv.lo and iv.hi < (1 << (w - 1))
        assert w == 1 or not (-(1 << (w - 2)) <= iv.lo and iv.hi < (1 << (w - 2)))
    else:
        assert iv.hi < (1 << w)
        assert w == 1 or iv.hi >= (1 << (w - 1))


@given(st.integers(-(1 << 20), 1 << 20))
def test_csd_digits_sum_to_value_and_are_non_adjacent(value):
    digits = csd_digits(value)
    assert sum(sign << shift for shift, sign in digits) == value
    shifts = [s for s, _ in digits]
    assert all(b - a >= 2 for a, b in zip(shifts, shifts[1:]))
    assert len(digits) <= bin(abs(value)).count("1")


def test_csd_of_powers_of_two_and_zero():
    assert csd_digits(0) == ()
    assert csd_digits(-8) == ((3, -1),)
    assert csd_digits(7) == ((0, -1), (3, 1))


def small_network(weights1, bias1, act, weights2, bias2, output="argmax"):
    hidden = tuple(Neuron(tuple(w), b, act) for w, b in zip(weights1, bias1))
    out = tuple(Neuron(tuple(w), b, None) for w, b in zip(weights2, bias2))
    n_classes = 2 if output == "sign" else len(out)
    return Network(4, (Layer(hidden), Layer(out)), output, n_classes)


def test_intervals_are_exact():
    net = small_network([[3, -2]], [5], ClampActivation(shift=1, bits=3), [[1], [-4]], [0, 7])
    acc = net.analysis[0].accumulators[0]
    assert (acc.lo, acc.hi) == (5 - 2 * 15, 5 + 3 * 15)
    out = net.analysis[0].outputs[0]
    assert (out.lo, out.hi) == (0, 7)  # (50 >> 1) saturates at 7
    assert net.analysis[1].accumulators[1] == Interval(7 - 28, 7)


def test_threshold_output_interval_counts_reachable_levels():
    act = ThresholdActivation((-100, 0, 100))
    assert act.output_interval(Interval(-5, 5)) == Interval(1, 2)


def test_round_trip_through_dict():
    net = small_network([[3, -2], [0, 1]], [5, -1], ThresholdActivation((-3, 0, 4)),
                        [[1, 2]], [-3], output="sign")
    assert Network.from_dict(net.to_dict()) == net


@pytest.mark.parametrize("bad", [
    lambda: ThresholdActivation((3, 1)),
    lambda: ClampActivation(-1, 4),
    lambda: small_network([[1, 2]], [0], None, [[1]], [0]),
    lambda: small_network([[1, 2]], [0], ClampActivation(0, 4), [[1]], [0], output="argmax"),
])
def test_invalid_networks_are_rejected(bad):
    with pytest.raises(ValueError):
        bad()


@given(st.integers(0, 10_000), st.sampled_from(["clamp", "threshold"]))
def test_every_value_lies_in_its_interval(seed, activation):
    """The widths are derived from the intervals: no value may ever escape them."""
    import numpy as np

    from bespoke.ir.emulate import trace

    from ..conftest import random_network

    net = random_network(seed, activation=activation)
    rng = np.random.default_rng(seed)
    codes = np.concatenate([rng.integers(0, 16, (200, net.n_inputs)),
                            np.zeros((1, net.n_inputs), int), np.full((1, net.n_inputs), 15)])
    t = trace(net, codes)
    for info, acc, out in zip(net.analysis, t.accumulators, t.codes + (None,)):
        for j, iv in enumerate(info.accumulators):
            assert iv.lo <= acc[:, j].min() and acc[:, j].max() <= iv.hi
        if out is not None:
            for j, iv in enumerate(info.outputs):
                assert iv.lo <= out[:, j].min() and out[:, j].max() <= iv.hi


def test_truncation_drops_the_low_columns_of_each_digit():
    n = Neuron((7,), 0, None, (), truncation=2)  # 7 = 8 - 1: digits at shifts 3 and 0
    assert n.terms(0) == (Term(0, 0, -1, 2), Term(0, 3, 1, 0))
    assert n.masked_weights() == {2: {0: -1}, 0: {0: 8}}
    # x = 5: 8*5 - ((5 >> 2) << 2) = 40 - 4
    assert n.connection_interval(0, Interval(5, 5)) == Interval(36, 36)
    # enumerated exactly over 0..15: min at x=0, max at x=15 -> 120 - 12
    assert n.connection_interval(0, Interval(0, 15)) == Interval(0, 108)


def test_table_inputs_are_the_narrow_unsigned_inputs_the_output_layer_reads():
    from bespoke.ir import TABLE_MAX_BITS, Interval, table_inputs

    out = Layer((Neuron((1, 0, 2, 3), 0, None), Neuron((1, 0, -1, 0), 0, None)))
    three = Interval(0, 7)
    # input 1 has no weight, input 3 is a constant: neither is read
    assert table_inputs(out, (three, three, Interval(0, 3), Interval(5, 5))) == (0, 2)
    assert table_inputs(out, (three, three, Interval(-1, 3), three)) is None  # signed
    wide = Interval(0, (1 << (TABLE_MAX_BITS - 4)) - 1)  # with 1 and 3 more bits: exactly full
    assert table_inputs(out, (wide, three, Interval(0, 1), three)) == (0, 2, 3)
    assert table_inputs(out, (wide, three, Interval(0, 3), three)) is None  # one bit too many


def test_rebuilt_is_dataclasses_replace_and_rejects_unknown_fields():
    from dataclasses import replace

    from bespoke.ir.network import rebuilt

    neuron = Neuron((3, -1), 5, ClampActivation(shift=1, bits=3), input_masks=(0, 1),
                    truncation=1)
    assert rebuilt(neuron, bias=7) == replace(neuron, bias=7)
    assert rebuilt(neuron, weights=(0, 2), truncation=0) == replace(neuron, weights=(0, 2),
                                                                      truncation=0)
    with pytest.raises(TypeError, match="no fields"):
        rebuilt(neuron, biass=7)
    with pytest.raises(ValueError):  # validated as the constructor validates
        rebuilt(neuron, truncation=-1)
