"""Ladder step 2: the Amaranth circuit, in Amaranth's own simulator, equals the emulator."""
import subprocess
import sys

import numpy as np
import pytest
from amaranth.sim import Simulator

import bespoke
from bespoke import tools
from bespoke.ir.emulate import predict_codes
from bespoke.ir import Layer, Network, Neuron
from bespoke.rtl.lower import MLPCircuit, input_name, to_verilog

from ..conftest import ACTIVATIONS, trained


def amaranth_outputs(network: Network, codes: np.ndarray) -> list[int]:
    dut = MLPCircuit(network)
    outputs = []

    async def bench(ctx):
        for row in codes:
            for i, value in enumerate(row):
                ctx.set(getattr(dut, input_name(i)), int(value))
            outputs.append(ctx.get(dut.y))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return outputs


def random_codes(network: Network, n: int, seed: int = 1) -> np.ndarray:
    top = (1 << network.input_bits) - 1
    rng = np.random.default_rng(seed)
    corners = np.array([[0] * network.n_inputs, [top] * network.n_inputs])
    return np.concatenate([corners, rng.integers(0, top + 1, (n, network.n_inputs))])


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dataset", ["iris", "cancer8"])
def test_amaranth_simulation_equals_emulator(activation, dataset):
    model, X_train, X_test, y_train, _ = trained(dataset, activation, (4, 3))
    design = bespoke.compile(model, X_train, y_train)
    # Amaranth's Python simulator is slow on a binary classifier's thousands of adder
    # signals (8 of its 30 inputs here); Icarus checks every vector of the 30-input designs
    # in tests/rtl/test_verify.py
    few = dataset == "cancer8"
    codes = np.concatenate([design.codes(X_test[:10 if few else 40]),
                            random_codes(design.network, 15 if few else 60)])
    assert amaranth_outputs(design.network, codes) == predict_codes(design.network, codes).tolist()


def test_amaranth_argmax_ties_pick_the_first_index():
    same = Neuron((1, 2), -3, None)
    net = Network(4, (Layer((Neuron((0, 1), 0, None), same, same, Neuron((1, 2), -4, None))),),
                  "argmax", 4)
    codes = random_codes(net, 30)
    expected = predict_codes(net, codes).tolist()
    assert amaranth_outputs(net, codes) == expected
    assert set(expected) <= {0, 1}  # neurons 1 and 2 always tie: 2 never wins


def test_verilog_is_byte_identical_across_processes():
    model, X_train, _, y_train, _ = trained("iris", "tanh")
    text = bespoke.compile(model, X_train, y_train).verilog()
    assert text == bespoke.compile(model, X_train, y_train).verilog()
    design_json = bespoke.compile(model, X_train, y_train).to_json()
    script = ("import json,sys,bespoke; d=bespoke.Design.from_dict(json.loads(sys.stdin.read()));"
              "sys.stdout.write(d.verilog())")
    other = subprocess.run([sys.executable, "-c", script], input=design_json, text=True,
                           capture_output=True, check=True).stdout
    # the header names features and classes the same way; the module must be identical
    assert other[other.index("module top"):] == text[text.index("module top"):]
    assert "(* src" not in text


def test_verilog_is_accepted_by_yosys(tmp_path):
    model, X_train, _, y_train, _ = trained("iris", "relu")
    (tmp_path / "top.v").write_text(bespoke.compile(model, X_train, y_train).verilog())
    result = subprocess.run(
        [tools.find(tools.YOSYS), "-q", "-p",
         "read_verilog top.v; hierarchy -check -top top; proc; check -assert"],
        cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize("seed", range(6))
def test_approximated_networks_equal_the_emulator_in_amaranth(seed, tail):
    """Masks, column truncation and an MSB-slice argmax, in every combination, with the
    output layer as a table where it is narrow enough and always as adders."""
    from ..conftest import random_network

    net = random_network(seed, activation="clamp" if seed % 2 else "threshold")
    codes = random_codes(net, 150, seed)
    assert amaranth_outputs(net, codes) == predict_codes(net, codes).tolist()


@pytest.mark.parametrize("output, seed", [("argmax", 0), ("argmax", 1), ("sign", 1), ("sign", 2)])
def test_a_tabulated_output_layer_equals_the_emulator_in_amaranth(output, seed):
    """Argmax and sign tables, and a constant one (sign, seed 2: class 0 everywhere)."""
    from ..conftest import tabulated_network

    net = tabulated_network(output, seed)
    pool = random_codes(net, 5000, seed)
    classes = predict_codes(net, pool)
    # up to 60 vectors of every class (rare classes are rare among random codes)
    codes = np.concatenate([pool[classes == c][:60] for c in range(net.n_classes)])
    expected = predict_codes(net, codes).tolist()
    assert amaranth_outputs(net, codes) == expected
    assert len(set(expected)) == (1 if (output, seed) == ("sign", 2) else net.n_classes)
    assert "l1_n" not in to_verilog(net)  # no output-layer neurons: they are inside the table
