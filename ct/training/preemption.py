"""Workers that stop together: a preemption notice agreed across the cluster, a lost worker
reported on one line.

Under ``strategy: multi_worker`` every step is a collective: a worker that stops on its own
leaves the others blocked in their next all-reduce. Two cases:

- **A preemption notice** (SIGTERM, or Ctrl-C) reaches one worker. :class:`StopAgreement`
  turns it into a stop *every* worker takes after the same step: each worker keeps a local
  flag (set by its :class:`~ct.training.signal_guard.SignalGuard`), and at agreed steps (the
  steps whose metrics the trainer reads, the same on every worker) the workers all-reduce
  their flags, one number per worker. When any is set, all of them save the checkpoint of that
  step and exit; the same command on every worker resumes from it. This is what TensorFlow's
  ``tf.distribute.experimental.PreemptionCheckpointHandler`` does through the coordination
  service, done with one small all-reduce so that ct keeps its own checkpoints
  (:mod:`ct.training.checkpointing`) and a notice waits at most ``log_every`` steps.
- **A worker is killed** (SIGKILL, a machine lost): TensorFlow's coordination service notices
  the missing heartbeats (about 10-20 s) and aborts the collectives of the others.
  :func:`lost_worker_errors` turns that error into :class:`WorkerLostError`, one
  ``ct: error:`` line naming the lost worker instead of a traceback.

Example:
    >>> agreement = StopAgreement(strategy, multi_worker=True)
    >>> with lost_worker_errors("multi_worker", lambda: step):
    ...     if step % log_every == 0 and agreement.agreed(guard.received):
    ...         save_and_stop()
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from typing import Callable, Optional

from ct._keras import tf
from ct.errors import CTError

# Exit status of a worker that stopped because another one was lost: EX_TEMPFAIL (sysexits.h),
# "try again": the same command on every worker resumes from the last checkpoint.
LOST_WORKER_EXIT = 75

_TASK = re.compile(r"/job:(\w+)/replica:\d+/task:(\d+)")


class WorkerLostError(CTError):
    """Another worker of a multi-worker run stopped responding; this one stopped too."""

    exit_status = LOST_WORKER_EXIT


def cluster_tasks() -> list[tuple[str, int, str]]:
    """``(job, index, address)`` of every task in ``TF_CONFIG`` (empty without it)."""
    try:
        cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    except ValueError:
        return []
    return [(job, index, address) for job, addresses in cluster.items()
            for index, address in enumerate(addresses)]


def this_task() -> tuple[str, int]:
    """``(job, index)`` of this process in ``TF_CONFIG`` (``("worker", 0)`` without it)."""
    try:
        task = json.loads(os.environ.get("TF_CONFIG") or "{}").get("task", {})
        return str(task.get("type", "worker")), int(task.get("index", 0))
    except (ValueError, TypeError, AttributeError):
        return "worker", 0


def describe_task(job: str, index: int) -> str:
    """``"worker 1 (10.0.0.2:2222)"``: a task as a user finds it in ``TF_CONFIG``."""
    addresses = {(j, i): address for j, i, address in cluster_tasks()}
    address = addresses.get((job, index))
    return f"{job} {index}" + (f" ({address})" if address else "")


def lost_tasks(message: str) -> list[str]:
    """The tasks an error message of TensorFlow's collectives names, described, except this
    process itself (the one that reports the error)."""
    me = this_task()
    found = []
    for job, index in _TASK.findall(message):
        if (job, int(index)) != me:
            described = describe_task(job, int(index))
            if described not in found:
                found.append(described)
    return found


@contextlib.contextmanager
def lost_worker_errors(strategy_name: str, current_step: Callable[[], int]):
    """Under ``multi_worker``, turns the error TensorFlow raises in a worker whose peer was
    lost into :class:`WorkerLostError` (other strategies: errors pass through).

    Args:
        strategy_name: the config's ``strategy``.
        current_step: the last step this worker finished (for the message).
    """
    if strategy_name != "multi_worker":
        yield
        return
    try:
        yield
    except (tf.errors.UnavailableError, tf.errors.AbortedError, tf.errors.CancelledError,
            tf.errors.DeadlineExceededError, tf.errors.InternalError) as exc:
        message = str(exc)
        lost = lost_tasks(message)
        if not lost and not re.search(r"unhealthy|heartbeat|unavailable|Socket closed|"
                                      r"Connection reset|failed to connect", message, re.I):
            raise
        who = " and ".join(lost) if lost else "another worker"
        raise WorkerLostError(
            f"{who} of the cluster stopped responding (killed or lost) after step "
            f"{current_step()}; this worker stopped too. Run the same command on every worker "
            "to resume from the last checkpoint") from None


class StopAgreement:
    """Agrees on the step at which every worker stops after one received a stop signal.

    Args:
        strategy: the run's strategy.
        multi_worker: True under ``strategy: multi_worker`` (several processes); otherwise a
            worker's own signal is the decision and nothing is exchanged.

    :meth:`agreed` must be called by every worker at the same steps (an all-reduce): the
    trainer calls it at the steps whose metrics it reads.
    """

    def __init__(self, strategy: tf.distribute.Strategy, multi_worker: bool):
        self.multi_worker = multi_worker
        self.requested_by: list[str] = []
        if not multi_worker:
            return
        tasks = [(job, index) for job, index, _ in cluster_tasks()] or [this_task()]
        self._tasks = tasks
        position = tasks.index(this_task()) if this_task() in tasks else 0
        self._mine = tf.one_hot(position, len(tasks), dtype=tf.float32)
        with tf.device("/cpu:0"):  # a host-side flag, outside the strategy's variables
            self._flag = tf.Variable(tf.zeros([len(tasks)]), trainable=False,
                                     name="stop_requests")

        @tf.function
        def exchange():
            per_replica = strategy.run(lambda: tf.identity(self._flag))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

        self._exchange = exchange

    def agreed(self, received: Optional[int]) -> bool:
        """True when this worker or any other received a stop signal (``received``: this
        worker's). Sets :attr:`requested_by` to the workers that received one."""
        if not self.multi_worker:
            self.requested_by = ["this process"] if received else []
            return bool(received)
        if received:
            self._flag.assign(self._mine)
        requests = self._exchange().numpy()
        self.requested_by = [describe_task(*task) for task, count
                             in zip(self._tasks, requests) if count > 0]
        return bool(self.requested_by)
