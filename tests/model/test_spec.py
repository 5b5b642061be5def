"""Integer specifications: weights and biases given directly, compiled and verified."""
import json

import numpy as np
import pytest

import bespoke
from bespoke.ir.emulate import predict_codes
from bespoke.model.spec import load_integer_spec

from ..conftest import SHARED

SPEC = {"name": "tiny", "input_bits": 3, "layers": [
    {"weights": [[1, -2, 3], [-1, 1, 0]], "biases": [2, -1], "activation": "relu", "output_bits": 5},
    {"weights": [[2, -1], [-1, 3], [0, 1]], "biases": [-6, -4, -2], "activation": "relu"}]}


def reference(codes: np.ndarray) -> np.ndarray:
    """The specification's arithmetic, written out with numpy."""
    w1, b1 = np.array(SPEC["layers"][0]["weights"]), np.array(SPEC["layers"][0]["biases"])
    w2, b2 = np.array(SPEC["layers"][1]["weights"]), np.array(SPEC["layers"][1]["biases"])
    hidden = np.maximum(codes @ w1.T + b1, 0)
    return np.argmax(np.maximum(hidden @ w2.T + b2, 0), axis=1)  # ties: lowest index


def test_a_specification_means_exactly_its_arithmetic(tmp_path):
    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    name, network = load_integer_spec(tmp_path / "spec.json")
    codes = np.array(np.meshgrid(*[range(8)] * 3)).reshape(3, -1).T
    assert name == "tiny" and network.output_relu
    assert predict_codes(network, codes).tolist() == reference(codes).tolist()


def test_a_specification_compiles_to_verilog_that_verifies(tmp_path):
    (tmp_path / "spec.json").write_text(json.dumps({"designs": [SPEC, {**SPEC, "name": "other"}]}))
    design = bespoke.Design.from_integer_spec(tmp_path / "spec.json", "tiny")
    codes = np.array([[0, 0, 0], [7, 7, 7], [1, 5, 2]])
    assert design.predict(codes).tolist() == reference(codes).tolist()
    result = design.verify(codes, n_random=300, workdir=tmp_path / "sim")
    assert result.passed and result.vectors == 3 + 2 + 3 + 300


@pytest.mark.parametrize("change, message", [
    ({"input_bits": 0}, "input_bits"),
    ({"layers": []}, "non-empty"),
    ({"layers": [{"weights": [[1, 2]], "biases": [1, 2]}]}, "biases"),
    ({"layers": [{"weights": [[1, 2], [3]], "biases": [0, 0]}]}, "entries"),
    ({"layers": [{"weights": [[1.5, 2]], "biases": [0]}]}, "integers"),
    ({"layers": [{"weights": [[1, 2]], "biases": [0], "activation": "tanh"},
                 {"weights": [[1]], "biases": [0]}]}, "not supported"),
    ({"layers": [{"weights": [[7, 7]], "biases": [0], "output_bits": 3},
                 {"weights": [[1]], "biases": [0]}]}, "cannot hold"),
    ({"input_signed": True}, "signed"),
])
def test_bad_specifications_get_a_one_line_error(tmp_path, change, message):
    (tmp_path / "spec.json").write_text(json.dumps({**SPEC, **change}))
    with pytest.raises(bespoke.BespokeError, match=message) as error:
        load_integer_spec(tmp_path / "spec.json")
    assert "\n" not in str(error.value)


def test_a_file_of_several_designs_needs_a_name(tmp_path):
    (tmp_path / "spec.json").write_text(json.dumps({"designs": [SPEC, {**SPEC, "name": "b"}]}))
    with pytest.raises(bespoke.BespokeError, match="--design"):
        load_integer_spec(tmp_path / "spec.json")
    with pytest.raises(bespoke.BespokeError, match="no design 'c'"):
        load_integer_spec(tmp_path / "spec.json", "c")


def test_the_published_reference_designs_load():
    path = SHARED / "reference" / "exact_mlps.json"
    if not path.is_file():
        pytest.skip("../shared/reference is not present")
    for name, topology in (("cardio", [21, 3, 3]), ("pendigits", [16, 3, 10])):
        _, network = load_integer_spec(path, name)
        assert [network.n_inputs] + [len(layer.neurons) for layer in network.layers] == topology
        assert network.output_relu and network.input_bits == 4


def test_the_cli_compiles_a_specification_end_to_end(tmp_path):
    from bespoke.cli import main

    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    assert main(["-q", "compile", "--integer-spec", str(tmp_path / "spec.json"), "--no-adc",
                 "-o", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert "system" not in report and not (tmp_path / "out" / "system.v").exists()
    assert report["accuracy"] is None and report["model"]["name"] == "tiny"
    assert report["verification"]["mismatches"] == 0
    assert report["gate_level"]["verification"]["mismatches"] == 0
    assert report["gate_level"]["evaluation_exhaustive"]  # 9 input bits: every input checked
    assert report["cells"] > 0 and "no accuracy" in (tmp_path / "out" / "report.md").read_text()


INTERFACE = {"sensor_bits": 8, "inputs": [
    {"thresholds": [40, 200], "levels": [0, 3, 7]},
    {"thresholds": [], "levels": [2]},
    {"thresholds": [17], "levels": [1, 6], "encoding": "thermometer"}]}


def test_a_specification_with_its_own_adcs_compiles_as_a_system(tmp_path):
    """The specification's ADCs are the system's: ``system.v`` simulated from sensor values
    to class, the references priced by the ADC model; without ADCs in the specification, a
    conventional flash on every input."""
    from bespoke.cli import main

    (tmp_path / "spec.json").write_text(json.dumps({**SPEC, "interface": INTERFACE}))
    assert main(["-q", "compile", "--integer-spec", str(tmp_path / "spec.json"),
                 "--no-synth", "-o", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["system_verification"]["mismatches"] == 0
    assert report["system_verification"]["vectors"] > 1000
    system = report["system"]
    assert [e["thresholds"] for e in system["inputs"]] == [[40, 200], [], [17]]
    assert system["adc"]["comparators"] == 3 and system["sensor_bits"] == 8
    assert "module system" in (tmp_path / "out" / "system.v").read_text()
    _, network = load_integer_spec(tmp_path / "spec.json")
    sensor = np.array([[39, 0, 16], [40, 255, 17], [255, 9, 255]])
    assert network.interface.codes(sensor).tolist() == [[0, 2, 1], [3, 2, 6], [7, 2, 6]]

    (tmp_path / "plain.json").write_text(json.dumps(SPEC))
    assert main(["-q", "compile", "--integer-spec", str(tmp_path / "plain.json"),
                 "--no-synth", "-o", str(tmp_path / "plain")]) == 0
    report = json.loads((tmp_path / "plain" / "report.json").read_text())
    assert [e["comparators"] for e in report["system"]["inputs"]] == [7, 7, 7]
    assert report["system_verification"]["mismatches"] == 0


@pytest.mark.parametrize("interface, message", [
    ({"inputs": []}, "has 3 inputs"),
    ({"inputs": [{"thresholds": [5, 3], "levels": [0, 1, 2]}] * 3}, "increasing"),
    ({"inputs": [{"thresholds": [5], "levels": [0, 9]}] * 3}, "3-bit codes"),
    ({"sensor_bits": 2, "inputs": [{"levels": [0]}] * 3}, "sensor_bits"),
    ({"inputs": [{"thresholds": [5], "levels": [0, 1], "encoding": "gray"}] * 3}, "encoding"),
    ([1, 2], "object"),
])
def test_bad_interfaces_in_a_specification_get_a_one_line_error(tmp_path, interface, message):
    (tmp_path / "spec.json").write_text(json.dumps({**SPEC, "interface": interface}))
    with pytest.raises(bespoke.BespokeError, match=message) as error:
        load_integer_spec(tmp_path / "spec.json")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("argv, message", [
    (["compile", "-o", "out"], "--integer-spec"),
    (["compile", "model.pkl", "--integer-spec", "spec.json", "-o", "out"], "not both"),
])
def test_the_cli_wants_a_model_and_data_or_a_specification(tmp_path, capsys, argv, message):
    from bespoke.cli import main

    assert main(argv) == 2
    assert message in capsys.readouterr().err
