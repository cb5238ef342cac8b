"""Dataclass configs, loaded in layers: defaults, then a YAML file, then ``--set key=value``.

The defaults are the values of the CT paper (Carlsson et al., ICLR 2021) and of the authors'
original code; each is cited where it is declared. Unknown keys and wrong types are rejected
before anything heavy starts, with a "did you mean" suggestion.

Example:
    >>> config = load_config("configs/ct_paper.yaml", overrides=["steps=100"])
    >>> config.steps
    100
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import typing
from pathlib import Path
from typing import Any, Literal, Optional

import yaml

from ct.errors import ConfigError


@dataclasses.dataclass
class OptimizerConfig:
    """Optimizer and learning-rate schedule.

    CT paper / original code: RMSprop, learning rate 1e-5 that steps down to 8e-6, 6e-6, 4e-6
    and 2e-6 at steps 500, 1000, 1500 and 2000 (a piecewise-constant decay).
    """

    name: Literal["rmsprop", "adam", "adamw", "sgd"] = "rmsprop"
    learning_rate: float = 1e-5
    lr_boundaries: list[int] = dataclasses.field(default_factory=lambda: [500, 1000, 1500, 2000])
    lr_values: list[float] = dataclasses.field(default_factory=lambda: [8e-6, 6e-6, 4e-6, 2e-6])
    weight_decay: float = 0.0
    clipnorm: Optional[float] = None


@dataclasses.dataclass
class TrainConfig:
    """Everything ``ct train`` needs. Flat for the options users change most."""

    # Model: a local directory, a hub name, or ``bundled:all-MiniLM-L6-v2``.
    model: str = "bundled:all-MiniLM-L6-v2"
    pooling: Literal["mean", "cls"] = "mean"  # CT paper: mean pooling over non-padding tokens
    max_length: int = 75  # CT paper / original code: max_sent_len=75
    dropout: bool = False  # original code runs both models with training=False

    # Corpus: files (globs allowed), one sentence per line, or a JSONL field / CSV column.
    corpus: list[str] = dataclasses.field(default_factory=lambda: ["bundled:wiki_sentences"])
    corpus_format: Literal["auto", "text", "jsonl", "csv"] = "auto"
    text_field: Optional[str] = None  # JSONL key or CSV column name (default "text")
    on_bad_line: Literal["error", "skip"] = "error"  # undecodable/malformed corpus lines
    max_bad_line_share: float = 0.01  # with on_bad_line: skip, refuse a corpus worse than this
    shuffle_buffer: int = 100_000
    padding: Literal["longest", "max_length"] = "longest"

    # The CT objective: CT paper, 16 pairs per batch and K=7 negatives per positive
    # (so each batch holds 2 positive and 14 negative pairs).
    batch_size: int = 16
    num_negatives: int = 7

    # Length of training. Original code: 10 epochs of 500 batches.
    steps: int = 5000
    seed: int = 42
    optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)

    # Evaluation on STS-B dev (Spearman x100 of cosine similarity), as the original code does.
    sts_dev: Optional[str] = "bundled:stsb-dev"
    eval_every: int = 500
    eval_batch_size: int = 64
    keep: Literal["best", "last"] = "best"  # keep the better model at its best STS-B dev score

    # Execution: see ct/distribute.py. `driver: fit` trains through Keras `model.fit` (standard
    # callbacks work); `loop` is the custom loop. Both call the same `train_step`.
    driver: Literal["loop", "fit"] = "loop"
    strategy: Literal["auto", "default", "one_device", "mirrored", "multi_worker", "tpu",
                      "parameter_server"] = "default"
    virtual_devices: int = 0  # split the CPU into N logical devices (test mirrored on a CPU)
    require_accelerator: bool = False  # refuse to run mirrored/auto without a GPU or TPU
    precision: Literal["float32", "mixed_float16", "mixed_bfloat16"] = "float32"
    jit_compile: bool = False  # XLA for the forward/backward pass; pair with padding=max_length
    deterministic: bool = True  # same seed, same loss curve (tf op determinism)
    # Reliability: checkpoints (both encoders, optimizer, step, data position) every N steps,
    # the last `keep_last` kept; a non-finite loss or gradient stops the run or skips the batch.
    checkpoint_every: int = 500
    keep_last: int = 3
    on_nonfinite: Literal["stop", "skip"] = "stop"
    log_every: int = 10
    tensorboard: bool = True  # TensorBoard summaries in OUTPUT_DIR/tensorboard
    output_dir: Optional[str] = None

    def validate(self) -> None:
        """Checks ranges and cross-field rules; raises ConfigError naming the key."""
        _positive(self, "batch_size", "max_length", "steps", "eval_every", "eval_batch_size",
                  "log_every", "shuffle_buffer")
        if self.num_negatives < 1:
            raise ConfigError(f"num_negatives must be >= 1, got {self.num_negatives}")
        if self.batch_size % (self.num_negatives + 1):
            raise ConfigError(
                f"batch_size ({self.batch_size}) must be a multiple of num_negatives + 1 "
                f"({self.num_negatives + 1}): each positive pair comes with num_negatives "
                "negative pairs")
        if self.checkpoint_every < 0:
            raise ConfigError(f"checkpoint_every must be >= 0 (0: off), got "
                              f"{self.checkpoint_every}")
        if self.keep_last < 1:
            raise ConfigError(f"keep_last must be >= 1, got {self.keep_last}")
        if not 0.0 <= self.max_bad_line_share <= 1.0:
            raise ConfigError(f"max_bad_line_share must be between 0 and 1, got "
                              f"{self.max_bad_line_share}")
        if self.virtual_devices < 0:
            raise ConfigError(f"virtual_devices must be >= 0, got {self.virtual_devices}")
        if self.max_length < 3:
            raise ConfigError(f"max_length must be >= 3, got {self.max_length}")
        if not self.corpus:
            raise ConfigError("corpus is empty: give at least one file or glob")
        opt = self.optimizer
        if opt.learning_rate <= 0:
            raise ConfigError(f"optimizer.learning_rate must be > 0, got {opt.learning_rate}")
        if len(opt.lr_boundaries) != len(opt.lr_values):
            raise ConfigError(
                f"optimizer.lr_boundaries ({len(opt.lr_boundaries)} values) and "
                f"optimizer.lr_values ({len(opt.lr_values)} values) must have the same length")
        if list(opt.lr_boundaries) != sorted(set(opt.lr_boundaries)):
            raise ConfigError("optimizer.lr_boundaries must be strictly increasing")
        if any(v <= 0 for v in opt.lr_values):
            raise ConfigError("optimizer.lr_values must all be > 0")

    @property
    def positives_per_batch(self) -> int:
        """Number of positive pairs (identical sentences) in one batch."""
        return self.batch_size // (self.num_negatives + 1)


def _positive(config: Any, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        if value <= 0:
            raise ConfigError(f"{name} must be > 0, got {value}")


# --------------------------------------------------------------------------- loading

def config_to_dict(config: Any) -> dict:
    """Returns the config as plain YAML/JSON-serialisable data."""
    return dataclasses.asdict(config)


def config_from_dict(cls: type, data: dict, *, where: str = "config") -> Any:
    """Builds dataclass ``cls`` from ``data``, checking keys and types recursively."""
    return _build(cls, data, prefix="", where=where)


def load_config(path: Optional[str | os.PathLike] = None, overrides: Optional[list[str]] = None,
                cls: type = TrainConfig) -> Any:
    """Loads a config: dataclass defaults, then the YAML file, then ``key=value`` overrides.

    Args:
        path: YAML file, or None for the defaults alone.
        overrides: ``["steps=100", "optimizer.learning_rate=2e-5"]``; values are parsed as YAML.
        cls: the dataclass to build.

    Returns:
        A validated config instance.

    Raises:
        ConfigError: unreadable YAML, unknown keys, wrong types or invalid values.
    """
    data: dict = {}
    where = "defaults"
    if path is not None:
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {_one_line(exc)}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path} must hold a mapping of option: value at the top level")
        data = loaded
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        _set_dotted(data, key.strip(), _parse_override(raw))
    config = _build(cls, data, prefix="", where=where)
    if hasattr(config, "validate"):
        config.validate()
    return config


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _parse_override(raw: str) -> Any:
    try:
        return yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        return raw


def _set_dotted(data: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _build(cls: type, data: Any, prefix: str, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: {prefix.rstrip('.') or 'config'} must be a mapping, "
                          f"got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(_unknown_key_message(str(key), list(fields), prefix, where))
        kwargs[key] = _coerce(hints[key], value, prefix + key, where)
    return cls(**kwargs)


def _unknown_key_message(key: str, known: list[str], prefix: str, where: str) -> str:
    message = f"{where}: unknown config key '{prefix}{key}'"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        message += f"; did you mean '{prefix}{close[0]}'?"
    else:
        message += f"; known keys: {', '.join(prefix + k for k in known)}"
    return message


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin is typing.Union:
        return " or ".join(_type_name(a) for a in typing.get_args(tp) if a is not type(None))
    return getattr(tp, "__name__", str(tp))


def _coerce(tp: Any, value: Any, key: str, where: str) -> Any:
    """Checks ``value`` against type ``tp``; allows only lossless conversions."""
    origin = typing.get_origin(tp)
    bad = ConfigError(f"{where}: '{key}' must be {_type_name(tp)}, got {value!r}")
    if origin is typing.Union:
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, key, where)
            except ConfigError:
                continue
        raise bad
    if origin is Literal:
        if value in typing.get_args(tp):
            return value
        raise bad
    if origin is list:
        (item_type,) = typing.get_args(tp)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = [value]  # a single path or number where a list is expected
        if not isinstance(value, list):
            raise bad
        return [_coerce(item_type, v, f"{key}[{i}]", where) for i, v in enumerate(value)]
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, prefix=key + ".", where=where)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise bad
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise bad
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-5" as a string
            try:
                return float(value)
            except ValueError:
                raise bad from None
        raise bad
    if tp is str:
        if isinstance(value, str):
            return value
        raise bad
    raise bad
