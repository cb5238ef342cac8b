"""Progress of long jobs: a live bar on a terminal, a plain line now and then elsewhere.

Training (every stage), ``ct tune`` and the align stage's teacher pass report through
:class:`Progress`. On a terminal it draws a tqdm bar (done/total, the job's figures such as
loss and pairs/s, elapsed time and ETA); off a terminal (CI, ``nohup``, a log file) it writes a
plain line every ``every`` units instead of redrawing a bar; with ``mode="off"`` (the CLI's
``-q``) it prints nothing. A phase (e.g. an evaluation) is shown as such while it runs.

Example:
    >>> progress = Progress("CT", total=300, mode="auto", every=10)
    >>> for step in range(1, 301):
    ...     progress.update(step, {"loss": 0.51, "pairs/s": 22.4})
    >>> progress.close()
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Optional

logger = logging.getLogger("ct.progress")

MODES = ("auto", "bar", "lines", "off")


def format_duration(seconds: float) -> str:
    """``"1h02m"``, ``"3m05s"`` or ``"42s"``."""
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{seconds:02d}s"
    return f"{seconds}s"


def _format_value(value, name: str = "") -> str:
    """Rates (``pairs/s``) with one decimal; small values such as losses with four."""
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 and not name.endswith("/s") else f"{value:.1f}"
    return str(value)


def resolve_mode(mode: str, stream=None) -> str:
    """``"bar"`` or ``"lines"`` for ``"auto"`` (a bar only on a terminal); others unchanged."""
    if mode not in MODES:
        raise ValueError(f"progress mode must be one of {MODES}, got {mode!r}")
    if mode != "auto":
        return mode
    stream = stream or sys.stderr
    return "bar" if getattr(stream, "isatty", lambda: False)() else "lines"


def as_mode(show_progress) -> str:
    """A progress mode from a flag or a mode: True -> ``auto``, False/None -> ``off``."""
    if isinstance(show_progress, str):
        return show_progress
    return "auto" if show_progress else "off"


class Progress:
    """One job's progress.

    Args:
        title: what runs (``"CT"``, ``"trial 2/10"``, ``"teacher"``).
        total: units of work (steps, sentences, trials).
        initial: units already done (a resumed run).
        unit: the unit's name.
        mode: ``auto`` (a bar on a terminal, else lines), ``bar``, ``lines`` or ``off``.
        every: lines mode: write a line every this many units (and at the end).
        leave: bar mode: keep the finished bar on screen.
    """

    def __init__(self, title: str, total: int, initial: int = 0, unit: str = "step",
                 mode: str = "auto", every: int = 10, leave: bool = True):
        self.title, self.total, self.unit = title, int(total), unit
        self.mode = resolve_mode(mode)
        self.every = max(int(every), 1)
        self.done = int(initial)
        self._first = int(initial)
        self._start = time.time()
        self._figures: dict = {}
        self._last_line = self.done
        self._bar = None
        if self.mode == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, initial=self.done, desc=title, unit=unit,
                             leave=leave, dynamic_ncols=True, file=sys.stderr)

    def elapsed(self) -> float:
        return time.time() - self._start

    def eta(self) -> Optional[float]:
        """Seconds left at this process's rate so far, or None before the first unit."""
        done_here = self.done - self._first
        if done_here <= 0:
            return None
        return (self.total - self.done) * self.elapsed() / done_here

    def update(self, done: int, figures: Optional[dict] = None) -> None:
        """Sets the units done (absolute) and, optionally, the figures shown beside them."""
        advance = done - self.done
        self.done = done
        if figures:
            self._figures = dict(figures)
        if self._bar is not None:
            if figures:
                self._bar.set_postfix({k: _format_value(v, k) for k, v in figures.items()},
                                      refresh=False)
            self._bar.update(advance)
        elif self.mode == "lines" and (done - self._last_line >= self.every
                                       or done >= self.total):
            self._last_line = done
            logger.info(self.line())

    def set_total(self, total: int) -> None:
        """Changes the total (a job whose length is learnt as it runs, e.g. Hyperband)."""
        self.total = int(total)
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def advance(self, units: int = 1, figures: Optional[dict] = None) -> None:
        """Adds ``units`` done."""
        self.update(self.done + units, figures)

    def line(self, phase: Optional[str] = None) -> str:
        """The plain progress line: ``CT step 100/300 (33%): loss 0.4123, ... elapsed 1m02s,
        ETA 2m05s``."""
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        parts = [f"{name} {_format_value(value, name)}" for name, value in self._figures.items()]
        parts.append(f"elapsed {format_duration(self.elapsed())}")
        eta = self.eta()
        if eta is not None and self.done < self.total:
            parts.append(f"ETA {format_duration(eta)}")
        head = f"{self.title} {self.unit} {self.done}/{self.total}{share}"
        if phase:
            return f"{head}: {phase}"
        return f"{head}: " + ", ".join(parts)

    def phase(self, name: Optional[str]) -> None:
        """Shows that a phase (e.g. ``"evaluating STS-B dev"``) runs; None ends it."""
        if self._bar is not None:
            self._bar.set_description(f"{self.title} [{name}]" if name else self.title)
        elif self.mode == "lines" and name:
            logger.info(self.line(phase=name))

    def write(self, message: str) -> None:
        """A message that does not break the bar (lines mode: logged)."""
        if self._bar is not None:
            self._bar.write(message, file=sys.stderr)
        elif self.mode != "off":
            logger.info(message)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
