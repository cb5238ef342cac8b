"""Where and how a stage computes: the strategy's replica split, the precision policy, seeds
and op determinism, set for the duration of a training run and restored after it.

Example:
    >>> with training_environment(config):
    ...     model = stage.build_model(...)
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys

from ct._keras import keras, tf
from ct.config import TrainConfig
from ct.errors import ConfigError

logger = logging.getLogger(__name__)


def configure_cpu_parallelism(mode: str, passes: int = 2) -> str:
    """Sets TensorFlow's CPU thread pools for training; returns what was done.

    ``models``: intra-op threads = half the cores, inter-op threads = 2, so that the two
    encoders of CT (or a pair's text columns) run side by side instead of one after the other
    on all cores (small matrices use many cores poorly). ``ops``: TensorFlow's defaults.
    Does nothing with a GPU, for a stage with one encoder pass per step (``passes``), or once
    TensorFlow has started (thread pools are fixed then).
    """
    if mode != "models" or passes < 2:
        return "TensorFlow's thread defaults"
    if tf.config.list_physical_devices("GPU"):
        return "TensorFlow's thread defaults (GPU)"
    cores = os.cpu_count() or 1
    intra = max(cores // passes, 1)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(passes)
    except RuntimeError:  # TensorFlow already started in this process
        return "TensorFlow's thread pools as already started"
    return f"{passes} encoder passes side by side, {intra} thread(s) each"


def check_replica_split(batch_size: int, group_size: int, num_replicas: int, key: str,
                        num_negatives: int) -> None:
    """Refuses a global batch that cannot be cut into equal per-replica batches of whole
    groups (CT: one positive + K negatives).

    Raises:
        ConfigError: naming ``key`` and the multiple to use.
    """
    if batch_size % (num_replicas * group_size):
        what = (f"in whole groups of 1 positive + {num_negatives} negatives"
                if group_size > 1 else "evenly")
        raise ConfigError(
            f"{key} {batch_size} cannot be split over {num_replicas} replicas {what}; "
            f"use a multiple of {num_replicas * group_size}")


@contextlib.contextmanager
def precision_policy(name: str):
    """Keras' global mixed-precision policy set to ``name`` (``float32``, ``mixed_float16``,
    ``mixed_bfloat16``) while models are built, and restored after."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _determinism_switch():
    """TensorFlow's ``(is_enabled, disable)`` pair for op determinism, if it can be found.

    TensorFlow exports ``enable_op_determinism`` but not its inverse; both live in the module
    that defines the exported function, which is where this looks (no import of
    ``tensorflow.python``), so that a run can leave the process as it found it.
    """
    module = sys.modules.get(tf.config.experimental.enable_op_determinism.__module__)
    is_enabled = getattr(module, "is_op_determinism_enabled", None)
    disable = getattr(module, "disable_op_determinism", None)
    return (is_enabled, disable) if is_enabled and disable else (None, None)


@contextlib.contextmanager
def op_determinism(enabled: bool):
    """TensorFlow op determinism on (the same seed gives the same loss curve) for the block,
    restored to its previous state after it where TensorFlow allows.

    TensorFloat-32 is off too: on Ampere and newer GPUs, TensorFlow's default computes float32
    matrix products with 10-bit mantissas, which changes results with the GPU model.
    """
    if not enabled:
        yield
        return
    is_enabled, disable = _determinism_switch()
    was_enabled = is_enabled() if is_enabled else True
    tf32 = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_op_determinism()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    try:
        yield
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(tf32)
        if not was_enabled and disable is not None:
            disable()


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy and TensorFlow, and sets a seeded global TF generator (saved in
    checkpoints, so a resumed run draws the same numbers)."""
    keras.utils.set_random_seed(seed)
    tf.random.set_global_generator(tf.random.Generator.from_seed(seed))


def describe_precision(config: TrainConfig) -> str:
    """``"float32"`` or ``"mixed_float16 (loss scale 32768)"`` for the start-up line."""
    if config.precision == "mixed_float16":
        return f"mixed_float16 (dynamic loss scale from {config.loss_scale_initial:g})"
    return config.precision


def describe_plan(stage, config: TrainConfig, num_replicas: int, disk: dict,
                  threads: str = "", devices: str = "") -> str:
    """The start-up line: what runs, where (``devices``, see
    :func:`ct.devices.describe_devices`), in which precision, and the disk it will use
    (see :func:`ct.training.run_dir.estimate_disk_use`)."""
    checkpoints = (f"{config.keep_last + 1} checkpoints of "
                   f"{disk['checkpoints'] / (config.keep_last + 1) / 1e9:.2f} GB"
                   if disk["checkpoints"] else "no checkpoints")
    threads = f", {threads}" if threads else ""
    devices = f" on {devices}" if devices else ""
    return (f"{stage.title}: {stage.steps} steps of {stage.batch_size}, {config.strategy}, "
            f"{num_replicas} replica(s){devices}, {describe_precision(config)}{threads}; disk: about "
            f"{disk['total'] / 1e9:.2f} GB ({checkpoints}, best/ and final/ "
            f"{disk['models'] / 1e9:.2f} GB)")
