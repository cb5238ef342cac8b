"""Error classes for mistakes a user can fix.

The CLI prints any :class:`CTError` as one line and exits with status 2; everything else is a
bug and keeps its traceback.
"""


class CTError(Exception):
    """Base class: a user-facing problem with a message that says what to change.

    ``exit_status`` is what the CLI exits with: 2 for bad input.
    """

    exit_status = 2


class ConfigError(CTError):
    """An unknown key, a wrong type or an out-of-range value in a config."""


class DataError(CTError):
    """A corpus or evaluation file that is missing, empty, undecodable or malformed."""


class ModelLoadError(CTError):
    """A model or tokenizer that cannot be found or loaded."""


class OutputDirError(CTError):
    """An output directory that cannot be used (e.g. it already holds a finished run)."""


class ExportError(CTError):
    """A folder that cannot be exported, or an export destination in the way."""


class HubError(CTError):
    """A bad hub repo name or a missing token (exit 2), or a failed upload (exit 1)."""


class SearchError(CTError):
    """A hyperparameter search (``ct tune``) that cannot go on or produced no finished trial."""


class NonFiniteLossError(CTError):
    """Training stopped on a NaN or infinite loss or gradient (``on_nonfinite: stop``)."""

    exit_status = 3


class RunInterrupted(CTError):
    """Training stopped by SIGINT/SIGTERM after saving a checkpoint; the run can resume."""

    def __init__(self, message: str, signal_number: int):
        super().__init__(message)
        self.exit_status = 128 + signal_number
