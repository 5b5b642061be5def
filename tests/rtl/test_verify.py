"""Ladder step 3: the emitted Verilog, in Icarus through cocotb, equals the emulator."""
import numpy as np
import pytest

import bespoke
from bespoke.ir.emulate import predict_codes
from bespoke.ir import Layer, Network, Neuron
from bespoke.rtl.lower import to_verilog
from bespoke.rtl.verify import pack, simulate, verification_vectors, verify

from ..conftest import ACTIVATIONS, trained


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dataset", ["iris", "cancer8"])
def test_rtl_equals_emulator_on_every_vector(activation, dataset, tmp_path):
    model, X_train, X_test, y_train, _ = trained(dataset, activation)
    design = bespoke.compile(model, X_train, y_train)
    _every_vector_equal(design, X_test, 1000, tmp_path)


def test_the_30_input_rtl_equals_emulator_on_every_vector(tmp_path):
    """The breast cancer data's 30 inputs: wide adder trees (the activations are checked
    above on 8 of its inputs)."""
    model, X_train, X_test, y_train, _ = trained("cancer", "relu")
    design = bespoke.compile(model, X_train, y_train)
    # the 30-input RTL simulates at about 100 vectors/s in Icarus: fewer random ones
    _every_vector_equal(design, X_test, 300, tmp_path)


def _every_vector_equal(design, X_test, n_random: int, tmp_path) -> None:
    result = design.verify(X_test, n_random=n_random, workdir=tmp_path)
    assert result.vectors == len(X_test) + 2 + design.network.n_inputs + n_random
    assert result.mismatches == 0
    np.testing.assert_array_equal(result.observed, result.expected)
    assert "Icarus Verilog" in result.simulator and "cocotb" in result.simulator


@pytest.mark.parametrize("hidden", [(5, 4), (4, 3, 3)])
def test_deeper_networks_verify(hidden, tmp_path):
    model, X_train, X_test, y_train, _ = trained("iris", "relu", hidden)
    result = bespoke.compile(model, X_train, y_train).verify(X_test, n_random=1000, workdir=tmp_path)
    assert result.mismatches == 0


def test_rtl_argmax_ties_pick_the_first_index(tmp_path):
    same = Neuron((1, 2), -3, None)
    net = Network(4, (Layer((Neuron((0, 1), 0, None), same, same, Neuron((1, 2), -4, None))),),
                  "argmax", 4)
    (tmp_path / "top.v").write_text(to_verilog(net))
    codes = verification_vectors(net, None, 300, seed=3)
    result = verify(tmp_path / "top.v", net, codes, tmp_path / "sim")
    assert result.mismatches == 0
    assert 1 in result.observed and 2 not in result.observed


def _first_output_bias_mutated(net: Network) -> Network:
    """``net`` with its first output neuron's bias ``b`` become ``-b - 1``."""
    from dataclasses import replace

    out = net.layers[-1]
    wrong = replace(out.neurons[0], bias=-out.neurons[0].bias - 1)
    return replace(net, layers=net.layers[:-1] + (replace(out, neurons=(wrong,) + out.neurons[1:]),))


def test_a_mutated_constant_is_caught(tmp_path):
    """A check that cannot fail proves nothing: Verilog whose one output bias differs
    (b becomes -b - 1; the generator folds biases into a neuron's bit heap) must fail
    verification against the original design (in Verilator: the test below)."""
    model, X_train, X_test, y_train, _ = trained("cancer", "relu")
    design = bespoke.compile(model, X_train, y_train)
    net = design.network
    (tmp_path / "top.v").write_text(to_verilog(_first_output_bias_mutated(net)))
    # the test split and the corners alone already meet the changed bias (about 20 vectors)
    codes = verification_vectors(net, design.codes(X_test), 100, seed=0)
    result = verify(tmp_path / "top.v", net, codes, tmp_path / "sim")
    assert result.mismatches > 0
    assert not result.passed


@pytest.mark.long_running(seconds=16)
def test_verilator_and_icarus_give_the_same_answer_on_every_vector(tmp_path):
    """The second simulator answers exactly what the reference does, on the RTL and on the
    synthesized gate netlist (with the library's cell models), and both equal the emulator;
    a mutated design (one output bias changed) fails in Verilator too."""
    from bespoke.hw.pdk import bundled_cell_models, bundled_liberty
    from bespoke.hw.synth import synthesize

    model, X_train, X_test, y_train, _ = trained("iris", "relu", (3,))
    design = bespoke.compile(model, X_train, y_train)
    (tmp_path / "top.v").write_text(design.verilog())
    netlist = synthesize(tmp_path / "top.v", bundled_liberty(), tmp_path / "syn").netlist_bus
    codes = verification_vectors(design.network, design.codes(X_test), 500, seed=1)
    for level, source, extra in (("rtl", tmp_path / "top.v", []),
                                 ("gates", netlist, [bundled_cell_models()])):
        answers = {simulator: verify(source, design.network, codes, tmp_path / level / simulator,
                                     extra_sources=extra, simulator=simulator)
                   for simulator in ("icarus", "verilator")}
        np.testing.assert_array_equal(answers["verilator"].observed, answers["icarus"].observed)
        assert answers["verilator"].mismatches == 0 and answers["verilator"].vectors == len(codes)
        assert answers["verilator"].simulator.startswith("Verilator 5")
    (tmp_path / "mutated.v").write_text(to_verilog(_first_output_bias_mutated(design.network)))
    caught = verify(tmp_path / "mutated.v", design.network, codes, tmp_path / "mutated",
                    simulator="verilator")
    assert caught.mismatches > 0


def test_an_unknown_simulator_is_refused(tmp_path):
    from bespoke.errors import VerificationError

    model, X_train, _, y_train, _ = trained("iris", "relu", (3,))
    with pytest.raises(VerificationError, match="unknown simulator 'modelsim'.*icarus, verilator"):
        bespoke.compile(model, X_train, y_train).verify(n_random=5, workdir=tmp_path,
                                                        simulator="modelsim")


def test_pack_places_input_i_at_bits_i_times_width():
    assert pack(np.array([[1, 2, 3]]), 4) == [0x321]


def test_simulate_reports_outputs_even_when_they_differ(tmp_path):
    """simulate() returns what the RTL said; the comparison is the caller's."""
    net = Network(2, (Layer((Neuron((1, -1), 0, None),)),), "sign", 2)
    (tmp_path / "top.v").write_text(to_verilog(net))
    codes = np.array([[0, 0], [3, 1], [1, 3], [2, 2]])
    wrong = np.array([1, 1, 1, 1])
    observed, _ = simulate(tmp_path / "top.v", net, codes, tmp_path / "sim", expected=wrong)
    assert observed.tolist() == predict_codes(net, codes).tolist() == [0, 1, 0, 0]


def test_an_approximated_network_verifies_in_icarus(tmp_path):
    from ..conftest import random_network

    net = random_network(11)
    assert net.decision_shift and any(not n.exact for layer in net.layers for n in layer.neurons)
    (tmp_path / "top.v").write_text(to_verilog(net))
    result = verify(tmp_path / "top.v", net, verification_vectors(net, None, 1000, 0), tmp_path / "sim")
    assert result.mismatches == 0


def test_a_tabulated_output_layer_verifies_in_icarus_and_a_changed_table_is_caught(tmp_path):
    """The decision table against the emulator on every vector; and a check that can fail:
    one output bias one lower changes some entries of the table, and Icarus sees it."""
    from dataclasses import replace

    from bespoke.ir.emulate import decision_table

    from ..conftest import tabulated_network

    net = tabulated_network("argmax", 1)
    codes = verification_vectors(net, None, 2000, 0)
    (tmp_path / "top.v").write_text(to_verilog(net))
    assert verify(tmp_path / "top.v", net, codes, tmp_path / "sim").mismatches == 0
    out = net.layers[-1]
    wrong = replace(out.neurons[1], bias=out.neurons[1].bias - 1)
    mutated = replace(net, layers=net.layers[:-1] + (replace(out, neurons=(out.neurons[0], wrong,
                                                                           *out.neurons[2:])),))
    assert mutated.table_inputs is not None
    assert 0 < np.count_nonzero(decision_table(mutated) != decision_table(net)) < 16
    (tmp_path / "bad.v").write_text(to_verilog(mutated))
    result = verify(tmp_path / "bad.v", net, codes, tmp_path / "bad")
    assert result.mismatches > 0 and not result.passed


def test_a_relu_on_the_logits_before_argmax_verifies_in_icarus(tmp_path):
    """As in published designs: argmax over max(logit, 0), so class 0 wins when no logit
    is positive (the corner vectors include such inputs)."""
    from dataclasses import replace

    from ..conftest import random_network

    base = random_network(12, approximate=False)
    out = base.layers[-1]  # lower the output biases, so that often no logit is positive
    out = replace(out, neurons=tuple(replace(n, bias=n.bias - 4000) for n in out.neurons))
    net = replace(base, layers=base.layers[:-1] + (out,), output_relu=True)
    codes = verification_vectors(net, None, 2000, 0)
    plain = replace(net, output_relu=False)
    assert not np.array_equal(predict_codes(net, codes), predict_codes(plain, codes))
    (tmp_path / "top.v").write_text(to_verilog(net))
    assert verify(tmp_path / "top.v", net, codes, tmp_path / "sim").mismatches == 0
    # the same Verilog without the ReLU is caught
    (tmp_path / "plain.v").write_text(to_verilog(plain))
    assert verify(tmp_path / "plain.v", net, codes, tmp_path / "sim2").mismatches > 0


def test_the_gate_simulation_estimate_is_never_below_what_was_measured():
    """The flow refuses a gate-level simulation estimated too long (``--force`` overrides)
    from these costs: they must cover every run of benchmarks/results/simulation_throughput."""
    import json
    from pathlib import Path

    from bespoke.rtl.verify import GATE_SIMULATION_COST

    results = json.loads((Path(__file__).resolve().parents[2] / "benchmarks" / "results"
                          / "simulation_throughput.json").read_text())
    for row in results["rows"]:
        for route, simulator in (("cocotb + Icarus", "icarus"), ("Verilator", "verilator")):
            measured = row["gates"][route]["large_run_s"]
            estimate = GATE_SIMULATION_COST[simulator].seconds(row["cells"], row["vectors"][-1])
            assert measured <= estimate <= 10 * measured + 5, (row["design"], simulator)
