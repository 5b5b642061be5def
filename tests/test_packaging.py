"""A non-editable install ships the templates and flows the code reads."""
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_templates_and_flows_and_they_load(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(tmp_path / "dist"), str(ROOT)], check=True, cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("bespoke-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "bespoke/rtl_templates/harness.v.tmpl" in names
    assert "bespoke/rtl_templates/batch.v.tmpl" in names
    assert "bespoke/rtl_templates/batch_main.cpp" in names
    assert "bespoke/rtl/cocotb_bench.py" in names
    assert "bespoke/approx/estimator.json" in names
    assert all(f"bespoke/{stage}/__init__.py" in names
               for stage in ("model", "ir", "approx", "rtl", "hw", "report", "sweep"))
    assert any(n.startswith("bespoke/flows/") for n in names)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                    str(tmp_path / "site"), str(wheel)], check=True, cwd=tmp_path)
    probe = ("import bespoke, importlib.resources as r;"
             "assert bespoke.__file__.startswith(%r), bespoke.__file__;"
             "print(r.files('bespoke.rtl_templates').joinpath('harness.v.tmpl').read_text()[:2])"
             % str(tmp_path / "site"))
    out = subprocess.run([sys.executable, "-c", probe], check=True, cwd=tmp_path, text=True,
                         capture_output=True, env={"PYTHONPATH": str(tmp_path / "site"),
                                                   "PATH": "/usr/bin:/bin"}).stdout
    assert out.startswith("//")
