"""The errors a user can cause and fix: a bad file, key, value or shape.

Everything ``ssnlib`` raises for bad input derives from :class:`SSNError` (and from the
built-in class a caller would expect: ``ValueError`` or ``FileNotFoundError``). Its message is
one line that names the problem (which file, which key, both shapes) and what to do. The
``ssn`` command prints it as ``ssn <command>: error: <message>`` and exits with status 2, with
no traceback (``--debug`` or ``SSN_DEBUG=1`` shows one).
"""

from __future__ import annotations


class SSNError(Exception):
    """A problem with what the user gave; the message is a complete, one-line explanation."""


class InputError(SSNError, ValueError):
    """A bad value, file content or shape."""


class MissingFileError(SSNError, FileNotFoundError):
    """A file or folder the user named does not exist."""


class CheckpointError(InputError):
    """A checkpoint or weights file that cannot be used: truncated, not ours, unsafe, or of
    another architecture or size."""


def one_line(message: object) -> str:
    """``message`` with its line breaks folded, so an error stays one line."""
    return " ".join(str(message).split())
