"""bespoke: trained scikit-learn MLPs to verified bespoke circuits for printed electronics.

    >>> design = bespoke.compile(clf, X_train, y_train)
    >>> design.predict(X_test)          # bit-exact integer emulator
    >>> small = design.approximate(X_train, y_train, X_val, y_val)  # within 1 point
    >>> design.verilog()                # module `top`
    >>> design.verify(X_test)           # Icarus through cocotb, exact equality
"""
from .design import Design, compile
from .errors import BespokeError, ToolMissingError, VerificationError
from .version import __version__

__all__ = ["Design", "compile", "BespokeError", "ToolMissingError", "VerificationError",
           "__version__"]
