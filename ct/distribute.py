"""One factory from a strategy name to a ``tf.distribute`` strategy.

Names (config key ``strategy``):

- ``default``: no distribution (one device).
- ``one_device``: the first GPU, else the CPU.
- ``mirrored``: synchronous data parallelism over all local GPUs, else over the logical CPU
  devices (``virtual_devices: 2`` splits the CPU into two, to run it on a CPU-only machine).
- ``multi_worker``: ``MultiWorkerMirroredStrategy`` across processes/machines described by
  ``TF_CONFIG`` (run the same command on every worker).
- ``tpu``: ``TPUStrategy`` on a TPU found by ``TPUClusterResolver``.
- ``auto``: ``tpu`` if a TPU is resolvable, else ``mirrored`` over all GPUs, else ``default``.
- ``parameter_server``: recognised but refused: CT's two encoders are trained with synchronous
  updates; asynchronous parameter-server training is not supported for this model.

Example:
    >>> configure_virtual_devices(2)
    >>> strategy = get_strategy("mirrored")
    >>> strategy.num_replicas_in_sync
    2
"""

from __future__ import annotations

import json
import logging
import os

from ct._keras import tf
from ct.config.schema import StrategyName, choices
from ct.errors import ConfigError, CTError

logger = logging.getLogger(__name__)

STRATEGIES = choices(StrategyName)


class StrategyError(CTError):
    """A strategy that cannot start on this machine."""


def configure_virtual_devices(count: int) -> None:
    """Splits the first CPU into ``count`` logical devices (0 or 1: leave it alone).

    Must run before TensorFlow initialises its devices (before the first op).

    Raises:
        ConfigError: TensorFlow already started with a different device layout.
    """
    if count <= 1:
        return
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError:
        present = len(tf.config.list_logical_devices("CPU"))
        if present != count:
            raise ConfigError(f"virtual_devices={count} must be set before TensorFlow starts "
                              f"(it already runs with {present} CPU device(s)); set it in the "
                              "config of a fresh process") from None


def _gpus() -> list:
    return tf.config.list_logical_devices("GPU")


def _resolve_tpu():
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return resolver
    except (ValueError, RuntimeError, tf.errors.OpError) as exc:
        raise StrategyError(f"strategy 'tpu' cannot start: no TPU found "
                            f"({' '.join(str(exc).split())[:160]})") from None


# Strategies made in this process, by (name, virtual_devices, require_accelerator).
_STRATEGIES: dict = {}


def get_strategy(name: str = "default", virtual_devices: int = 0,
                 require_accelerator: bool = False) -> tf.distribute.Strategy:
    """Returns the strategy called ``name`` (see the module docstring).

    One strategy per process and setting: the stages of a pipeline (and repeated runs in one
    process) share it. Two strategies over the same devices would number their collective
    operations from the same keys, so the second stage's first all-reduce would meet the
    first stage's cached collective instance of another shape and abort.

    Args:
        name: one of :data:`STRATEGIES`.
        virtual_devices: logical CPU devices to create first (for ``mirrored`` on a CPU).
        require_accelerator: with ``mirrored``/``auto``, refuse to fall back to the CPU.

    Raises:
        ConfigError: an unknown name.
        StrategyError: a strategy that cannot start here.
    """
    if name not in STRATEGIES:
        raise ConfigError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    configure_virtual_devices(virtual_devices)
    key = (name, virtual_devices, require_accelerator)
    if key not in _STRATEGIES:
        _STRATEGIES[key] = _make_strategy(name, require_accelerator)
    return _STRATEGIES[key]


def _make_strategy(name: str, require_accelerator: bool) -> tf.distribute.Strategy:
    if name == "auto":
        try:
            return tf.distribute.TPUStrategy(_resolve_tpu())
        except StrategyError:
            pass
        if _gpus():
            return tf.distribute.MirroredStrategy()
        if require_accelerator:
            raise StrategyError("strategy 'auto' with require_accelerator: no GPU or TPU found")
        if len(tf.config.list_logical_devices("CPU")) > 1:
            return tf.distribute.MirroredStrategy(
                [d.name for d in tf.config.list_logical_devices("CPU")])
        return tf.distribute.get_strategy()
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        gpus = _gpus()
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        gpus = _gpus()
        if gpus:
            return tf.distribute.MirroredStrategy([d.name for d in gpus])
        if require_accelerator:
            raise StrategyError("strategy 'mirrored' with require_accelerator: no GPU found")
        return tf.distribute.MirroredStrategy(
            [d.name for d in tf.config.list_logical_devices("CPU")])
    if name == "multi_worker":
        _check_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        return tf.distribute.TPUStrategy(_resolve_tpu())
    raise StrategyError("strategy 'parameter_server' is not supported for CT: the two encoders "
                        "need synchronous updates; use mirrored or multi_worker")


def _check_tf_config() -> None:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        logger.info("multi_worker without TF_CONFIG: running as a single worker")
        return
    try:
        config = json.loads(raw)
        config["cluster"], config["task"]["type"], config["task"]["index"]
    except (ValueError, KeyError, TypeError):
        raise StrategyError("TF_CONFIG must be JSON with 'cluster' and 'task' {type, index}") \
            from None


def is_chief(strategy_name: str) -> bool:
    """True on the process that writes outputs: always, except on non-chief multi-workers.

    Read from ``TF_CONFIG`` (so it is known before the strategy starts): the ``chief`` task, or
    worker 0 when the cluster has no chief.
    """
    raw = os.environ.get("TF_CONFIG")
    if strategy_name != "multi_worker" or not raw:
        return True
    try:
        config = json.loads(raw)
        task_type, index = config["task"]["type"], int(config["task"]["index"])
        has_chief = "chief" in config["cluster"]
    except (ValueError, KeyError, TypeError):
        return True  # get_strategy reports the malformed TF_CONFIG
    return task_type == "chief" or (task_type == "worker" and index == 0 and not has_chief)
