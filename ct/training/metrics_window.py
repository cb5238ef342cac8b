"""The running account of training steps: the logging window and the run's throughput.

Every ``log_every`` steps the window's means become one line of ``metrics.jsonl`` (loss and the
stage's other metrics, the learning rate, pairs/s); the whole run accumulates the time and the
real tokens of its steps (the first step of a process is left out: it includes tracing), the
steps skipped as non-finite, and float16 overflow skips. All of it is saved in checkpoints, so
a resumed run logs and reports exactly what an uninterrupted one would.

Example:
    >>> window = MetricsWindow(("loss",))
    >>> window.add(step=1, values={"loss": 0.7, "tokens": 900.0}, seconds=0.5)
    >>> window.flush(step=1, batch_size=16)["loss"]
    0.7
"""

from __future__ import annotations

from typing import Optional


class MetricsWindow:
    """Accumulates per-step metrics between log lines, and the run's totals.

    Args:
        metric_names: what the model's ``train_step`` reports (``loss`` first).
    """

    def __init__(self, metric_names: tuple[str, ...]):
        self.metric_names = tuple(metric_names)
        self._sums = {key: 0.0 for key in self.metric_names}
        self._steps = 0
        self._seconds = 0.0
        self.timed_steps = 0
        self.train_seconds = 0.0
        self.tokens = 0.0
        self.nonfinite_steps: list[int] = []
        self.overflow_steps = 0
        self.loss_scale: Optional[float] = None
        self._timing_started = False

    def add(self, step: int, values: dict, seconds: float) -> None:
        """Accounts one finished, applied step."""
        if self._timing_started:  # the first step of a process includes tracing
            self.timed_steps += 1
            self.train_seconds += seconds
            self.tokens += values["tokens"]
        self._timing_started = True
        self._seconds += seconds
        for key in self.metric_names:
            self._sums[key] += values[key]
        self._steps += 1

    def skipped(self, step: int, nonfinite: bool) -> None:
        """Accounts a skipped step: non-finite (``nonfinite``) or a float16 overflow."""
        if nonfinite:
            self.nonfinite_steps.append(step)
        else:
            self.overflow_steps += 1

    @property
    def pending(self) -> bool:
        """True if steps were added since the last :meth:`flush`."""
        return self._steps > 0

    def flush(self, step: int, batch_size: int) -> dict:
        """The means since the last flush as a ``metrics.jsonl`` record, and a new window."""
        record = {"step": step, **{key: value / self._steps for key, value in self._sums.items()},
                  "pairs_per_s": self._steps * batch_size / max(self._seconds, 1e-9)}
        if self.loss_scale is not None:
            record["loss_scale"] = self.loss_scale
            record["overflow_skips"] = self.overflow_steps
        self._sums = {key: 0.0 for key in self.metric_names}
        self._steps, self._seconds = 0, 0.0
        return record

    def throughput(self, batch_size: int) -> dict:
        """The run's pairs/s and real tokens/s over its timed steps."""
        seconds = max(self.train_seconds, 1e-9)
        return {"pairs_per_s": round(self.timed_steps * batch_size / seconds, 2),
                "tokens_per_s": round(self.tokens / seconds, 1)}

    def state(self) -> dict:
        return {"window": self._sums, "window_steps": self._steps,
                "window_seconds": self._seconds, "train_seconds": self.train_seconds,
                "timed_steps": self.timed_steps, "tokens": self.tokens,
                "nonfinite_steps": self.nonfinite_steps, "overflow_steps": self.overflow_steps,
                "loss_scale": self.loss_scale}

    def load_state(self, state: dict) -> None:
        self._sums, self._steps = state["window"], state["window_steps"]
        self._seconds, self.train_seconds = state["window_seconds"], state["train_seconds"]
        self.timed_steps, self.tokens = state["timed_steps"], state["tokens"]
        self.nonfinite_steps = state["nonfinite_steps"]
        self.overflow_steps = state.get("overflow_steps", 0)
        self.loss_scale = state.get("loss_scale")
