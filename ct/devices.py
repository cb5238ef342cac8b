"""The devices a run computes on: what TensorFlow sees, what the machine has, and the settings
that depend on them.

A machine with an NVIDIA GPU but TensorFlow without its CUDA libraries trains on the CPU
without a word (TensorFlow's own warning is hidden by ``TF_CPP_MIN_LOG_LEVEL``).
:func:`check_gpus` compares ``nvidia-smi -L`` with TensorFlow's devices and says so in one
line naming the fix (``pip install -e .[gpu]``, i.e. ``tensorflow[and-cuda]`` at the pinned
version); with ``require_accelerator: true`` it is an error.

:func:`configure_gpus` turns GPU memory growth on (TensorFlow otherwise reserves the whole
memory of every GPU at start), before TensorFlow initialises its devices.

Example:
    >>> configure_gpus()
    >>> check_gpus(require_accelerator=False)
    >>> describe_devices(strategy)
    'CPU (2 cores)'
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess

from ct._keras import tf
from ct.errors import CTError

logger = logging.getLogger(__name__)

GPU_INSTALL = ("pip install -e .[gpu] (tensorflow[and-cuda] at the pinned version; "
               "make demo GPU=1 / make test GPU=1 in a clone)")


class AcceleratorError(CTError):
    """``require_accelerator: true`` on a machine where TensorFlow sees no GPU or TPU."""


def listed_nvidia_gpus(timeout: float = 20.0) -> list[str]:
    """The GPU names ``nvidia-smi -L`` lists (``[]`` without nvidia-smi, or when it fails)."""
    program = shutil.which("nvidia-smi")
    if program is None:
        return []
    try:
        result = subprocess.run([program, "-L"], capture_output=True, text=True,
                                timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    if result.returncode:
        return []
    return [match.group(1).strip() for match in
            re.finditer(r"^GPU \d+: (.+?)(?: \(UUID: [^)]*\))?$", result.stdout, re.M)]


def tensorflow_gpus() -> list:
    """The GPUs TensorFlow can use (physical devices; does not start TensorFlow's runtime)."""
    return tf.config.list_physical_devices("GPU")


def check_gpus(require_accelerator: bool = False) -> None:
    """Warns (or, with ``require_accelerator``, raises) when the machine has an NVIDIA GPU that
    TensorFlow cannot see.

    Raises:
        AcceleratorError: ``require_accelerator`` and TensorFlow sees no GPU but nvidia-smi
            lists one.
    """
    if tensorflow_gpus():
        return
    listed = listed_nvidia_gpus()
    if not listed:
        return
    names = ", ".join(sorted(set(listed)))
    message = (f"nvidia-smi lists {len(listed)} GPU(s) ({names}) but TensorFlow "
               f"{tf.__version__} sees none, so this run would use the CPU: install "
               f"TensorFlow's CUDA libraries with {GPU_INSTALL}")
    if require_accelerator:
        raise AcceleratorError(message + " (require_accelerator: true)")
    logger.warning(message)


def configure_gpus() -> None:
    """GPU memory growth on for every GPU (must run before TensorFlow initialises them; later
    it is left as it is)."""
    for gpu in tensorflow_gpus():
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except (RuntimeError, ValueError):  # TensorFlow already started on this GPU
            pass


def _strategy_devices(strategy: tf.distribute.Strategy) -> list[str]:
    try:
        return list(strategy.extended.worker_devices)
    except RuntimeError:  # the default strategy: TensorFlow's default placement
        gpus = tf.config.list_logical_devices("GPU")
        return [gpus[0].name if gpus else "/device:CPU:0"]


def accelerated(strategy: tf.distribute.Strategy) -> bool:
    """True when the strategy computes on GPUs or TPUs (not on CPUs)."""
    devices = _strategy_devices(strategy)
    return any(":GPU:" in name.upper() or ":TPU:" in name.upper() for name in devices)


def _gpu_name(device: str) -> str:
    index = int(device.rsplit(":", 1)[-1])
    gpus = tensorflow_gpus()
    if index < len(gpus):
        details = tf.config.experimental.get_device_details(gpus[index])
        return details.get("device_name", "GPU")
    return "GPU"


def describe_devices(strategy: tf.distribute.Strategy) -> str:
    """The devices this process computes on, for the start-up line: ``2 x GPU (NVIDIA A100)``,
    ``8 x TPU``, ``CPU (2 cores)`` or ``2 x CPU (virtual devices, 2 cores)``."""
    devices = _strategy_devices(strategy)
    gpus = [d for d in devices if ":GPU:" in d.upper()]
    if gpus:
        names = sorted({_gpu_name(d) for d in gpus})
        return f"{len(gpus)} x GPU ({', '.join(names)})"
    tpus = [d for d in devices if ":TPU:" in d.upper()]
    if tpus:
        return f"{len(tpus)} x TPU"
    cores = os.cpu_count() or 1
    if len(devices) > 1:
        return f"{len(devices)} x CPU (virtual devices, {cores} cores)"
    return f"CPU ({cores} cores)"
