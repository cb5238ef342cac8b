"""One factory from a strategy name to a ``tf.distribute`` strategy."""

from __future__ import annotations

from ct._keras import tf
from ct.errors import ConfigError

STRATEGIES = ("default", "one_device")


def get_strategy(name: str = "default") -> tf.distribute.Strategy:
    """Returns the strategy called ``name``.

    Args:
        name: ``"default"`` (no distribution) or ``"one_device"`` (first GPU, else CPU).

    Raises:
        ConfigError: an unknown name.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    raise ConfigError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
