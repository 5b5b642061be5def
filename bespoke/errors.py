"""Errors a user can act on.  The CLI prints them as one line and exits with code 2."""


class BespokeError(Exception):
    """Bad input or environment: the message says what is wrong and what to do."""

    exit_code = 2


class ToolMissingError(BespokeError):
    """An external tool (simulator, synthesizer) is missing or too old."""


class VerificationError(BespokeError):
    """The RTL did not compute what the emulator computes."""

    exit_code = 1


def one_line(exc: BaseException) -> str:
    """``exc`` as one line: a :class:`BespokeError`'s message as it is, any other error
    with its type's name in front."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, BespokeError) else f"{type(exc).__name__}: {text}"
