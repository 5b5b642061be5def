import pytest

from bespoke.errors import VerificationError
from bespoke.rtl.ports import Port, read_ports

ANSI = """
module top(input [3:0] x0, input x1, output [1:0] y);
  assign y = x0[1:0] ^ {x1, x1};
endmodule
"""

NON_ANSI = """
module top(x1, y, x0);
  input [3:0] x0; wire [3:0] x0;
  input [0:3] x1;
  output [2:0] y;
  assign y = x0[2:0];
endmodule
"""


def test_ansi_ports():
    assert read_ports(ANSI) == (Port("x0", "input", 4), Port("x1", "input", 1),
                                Port("y", "output", 2))


def test_non_ansi_ports_keep_header_order():
    assert read_ports(NON_ANSI) == (Port("x1", "input", 4), Port("y", "output", 3),
                                    Port("x0", "input", 4))


def test_missing_module():
    with pytest.raises(VerificationError, match="no module 'top'"):
        read_ports(ANSI.replace("module top", "module other"))
