"""`bespoke compile --approximate` end to end: search, verification, synthesis, baseline."""
import json

import joblib
import numpy as np
import pytest

from bespoke.cli import main
from bespoke.ir import TABLE_MAX_BITS

from .conftest import trained, write_csv


@pytest.mark.long_running(seconds=14)
def test_approximate_compile_reports_knobs_baseline_and_front(tmp_path):
    model, X_train, X_test, y_train, y_test = trained("iris", "relu", (3,))
    joblib.dump(model, tmp_path / "m.pkl")
    write_csv(tmp_path / "d.csv", np.concatenate([X_train, X_test]), np.concatenate([y_train, y_test]))
    out = tmp_path / "out"
    assert main(["-q", "compile", str(tmp_path / "m.pkl"), "--data", str(tmp_path / "d.csv"),
                 "-o", str(out), "--approximate", "--max-accuracy-loss", "2",
                 "--search-time", "4", "--random-vectors", "300"]) == 0
    report = json.loads((out / "report.json").read_text())
    approx, base = report["approximation"], report["baseline"]
    assert approx["steps"] and approx["knobs"]["neurons"]
    va = approx["validation_accuracy"]
    assert va["chosen"] >= va["exact"] - 0.02
    assert report["verification"]["mismatches"] == 0
    assert report["gate_level"]["verification"]["mismatches"] == 0
    assert base["area_um2"] > report["area"]["um2"]
    # both netlists, the approximate one and the exact baseline, are proven equal to their RTL
    assert report["gate_level"]["equivalence"]["status"] == "proven"
    assert base["equivalence"]["status"] == "proven"
    assert base["area_reduction"] == base["area_um2"] / report["area"]["um2"] > 1
    for name in ("front.csv", "front.json", "front.svg"):
        assert (out / "approximation" / name).is_file()
    assert "Approximation search" in (out / "report.html").read_text()
    # the report says whether the output layer became a decision table, as top.v has it
    table = report["circuit"]["decision_table"]
    assert (table is not None) == ("l1_n0" not in (out / "top.v").read_text())
    assert table is None or table["bits"] <= TABLE_MAX_BITS
    # the whole system: the searched ADCs, verified from sensor value to class, against the
    # exact design with a conventional flash ADC on every input
    system, base_system = report["system"], base["system"]
    assert report["system_verification"]["mismatches"] == 0
    assert system["adc"]["comparators"] < base_system["adc"]["comparators"] == 4 * 15
    assert system["total"]["area_cm2"] < base_system["total"]["area_cm2"]
    assert system["total"]["power_mw"] < base_system["total"]["power_mw"]
    # the budget, unless the core it starts from is above it on the samples it searched
    interface = approx["interface"]
    assert interface["loss_bound"] <= interface["bound_kept"] + 1e-12
    assert interface["bound_kept"] >= 0.02
    # iris's few training samples hold no audit of the ADC search (AUDIT_MIN_ANSWERS;
    # tests/approx/test_interface.py checks an audit's figure)
    assert interface["audit_loss"] is None and interface["audit_undone"] == 0
    assert interface["steps"]
    assert "System power" in (out / "report.html").read_text()
    # the baseline's core is the design `--exact --no-adc` builds from the same data and seed
    assert main(["-q", "compile", str(tmp_path / "m.pkl"), "--data", str(tmp_path / "d.csv"),
                 "-o", str(tmp_path / "exact"), "--exact", "--no-adc", "--no-synth",
                 "--random-vectors", "50"]) == 0
    assert (tmp_path / "exact" / "top.v").read_bytes() == (out / "baseline" / "top.v").read_bytes()


def test_the_accuracy_budget_is_checked(tmp_path, capsys):
    model, X_train, X_test, y_train, y_test = trained("iris", "relu", (3,))
    joblib.dump(model, tmp_path / "m.pkl")
    write_csv(tmp_path / "d.csv", X_train, y_train)
    assert main(["-q", "compile", str(tmp_path / "m.pkl"), "--data", str(tmp_path / "d.csv"),
                 "-o", str(tmp_path / "out"), "--approximate", "--max-accuracy-loss", "150"]) == 2
    assert "out of range" in capsys.readouterr().err


@pytest.mark.long_running(seconds=15)
def test_the_same_seed_gives_the_same_approximate_design(tmp_path):
    model, X_train, X_test, y_train, y_test = trained("iris", "relu", (3,))
    joblib.dump(model, tmp_path / "m.pkl")
    write_csv(tmp_path / "d.csv", np.concatenate([X_train, X_test]), np.concatenate([y_train, y_test]))
    outputs = []
    for name in ("a", "b"):
        assert main(["-q", "compile", str(tmp_path / "m.pkl"), "--data", str(tmp_path / "d.csv"),
                     "-o", str(tmp_path / name), "--no-synth", "--random-vectors", "50",
                     "--seed", "3", "--search-time", "12", "--search-restarts", "2"]) == 0
        outputs.append({f: (tmp_path / name / f).read_bytes() for f in ("top.v", "design.json", "report.json")})
    assert outputs[0] == outputs[1]
    # the same design only as long as no time budget cut a search short (a loaded machine)
    approximation = json.loads(outputs[0]["report.json"])["approximation"]
    assert approximation["time_budget_hit"] is False
    assert approximation["interface"]["time_budget_hit"] is False
