"""Stopping cleanly on Ctrl-C and SIGTERM (preemption): finish the step, save, exit.

Inside :class:`SignalGuard`, SIGINT and SIGTERM do not interrupt the step being computed;
they set :attr:`SignalGuard.received`, which the trainer checks after each step before saving
a checkpoint and stopping. A second Ctrl-C aborts at once. The previous handlers are restored
on exit. Outside the main thread (where Python cannot install handlers) the guard does
nothing.

Example:
    >>> with SignalGuard() as guard:
    ...     while not guard.received:
    ...         train_one_step()
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Optional

logger = logging.getLogger(__name__)

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SignalGuard:
    """Turns SIGINT/SIGTERM into a request to stop after the current step.

    Args:
        agreed: the stop is agreed with other workers (:mod:`ct.training.preemption`), at the
            next step whose metrics are read, rather than taken after this step.
    """

    def __init__(self, agreed: bool = False):
        self.received: Optional[int] = None
        self.agreed = agreed
        self._previous: dict = {}

    @property
    def name(self) -> str:
        """The received signal's name (``SIGTERM``), or an empty string."""
        return signal.Signals(self.received).name if self.received else ""

    def _request_stop(self, number, frame) -> None:
        if self.received and number == signal.SIGINT:
            raise KeyboardInterrupt
        self.received = number
        when = ("with the other workers at the next agreed step" if self.agreed
                else "after this step")
        logger.warning("%s received: stopping %s and saving a checkpoint",
                       signal.Signals(number).name, when)

    def __enter__(self) -> "SignalGuard":
        if threading.current_thread() is threading.main_thread():
            for number in _SIGNALS:
                self._previous[number] = signal.getsignal(number)
                signal.signal(number, self._request_stop)
        return self

    def __exit__(self, *exc_info) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()
