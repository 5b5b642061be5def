"""Errors a user can act on.  The CLI prints them as one line and exits with code 2."""


class BespokeError(Exception):
    """Bad input or environment: the message says what is wrong and what to do."""

    exit_code = 2


class ToolMissingError(BespokeError):
    """An external tool (simulator, synthesizer) is missing or too old."""


class VerificationError(BespokeError):
    """The RTL did not compute what the emulator computes."""

    exit_code = 1
