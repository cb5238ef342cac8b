"""How ct's programs (the CLI and the example scripts) set up logging.

ct's own messages go to stderr as ``[ct] ...`` at INFO (WARNING with ``quiet``); other
libraries (TensorFlow, transformers) show warnings only, and TensorFlow's C++ INFO lines
(CUDA, oneDNN, CPU features) are silenced before TensorFlow loads, so none of them reads as a
ct message. The library itself never configures logging on import.

Example:
    >>> from ct.logging_setup import configure_logging
    >>> configure_logging()          # first thing in a script, before TensorFlow loads
"""

from __future__ import annotations

import logging
import os


def configure_logging(quiet: bool = False) -> None:
    """Sets up logging for a ct program.

    Args:
        quiet: only ct's warnings and errors.
    """
    # Read by TensorFlow when it loads: its C++ INFO, WARNING and ERROR lines (CUDA probing on
    # a CPU-only machine, oneDNN notes) are not shown; Python-level errors still are.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.basicConfig(level=logging.WARNING, format="[%(name)s] %(message)s")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[ct] %(message)s"))
    logger = logging.getLogger("ct")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    for name in ("tensorflow", "absl", "transformers", "h5py"):
        logging.getLogger(name).setLevel(logging.WARNING)
