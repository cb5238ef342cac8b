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

from ct.data.templates import check_template
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
    # "piecewise": the CT schedule above; "warmup_linear": linear warm-up over the first
    # `warmup_ratio` of the stage's steps, then linear decay to 0 (sentence-transformers' default
    # WarmupLinear, used for the supervised NLI and STS-B stages).
    schedule: Literal["piecewise", "warmup_linear"] = "piecewise"
    warmup_ratio: float = 0.1

    def validate(self, prefix: str = "optimizer") -> None:
        """Checks ranges; raises ConfigError naming ``prefix.key``."""
        if self.learning_rate <= 0:
            raise ConfigError(f"{prefix}.learning_rate must be > 0, got {self.learning_rate}")
        if len(self.lr_boundaries) != len(self.lr_values):
            raise ConfigError(
                f"{prefix}.lr_boundaries ({len(self.lr_boundaries)} values) and "
                f"{prefix}.lr_values ({len(self.lr_values)} values) must have the same length")
        if list(self.lr_boundaries) != sorted(set(self.lr_boundaries)):
            raise ConfigError(f"{prefix}.lr_boundaries must be strictly increasing")
        if any(v <= 0 for v in self.lr_values):
            raise ConfigError(f"{prefix}.lr_values must all be > 0")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError(f"{prefix}.warmup_ratio must be in [0, 1), got "
                              f"{self.warmup_ratio}")
        if self.weight_decay < 0:
            raise ConfigError(f"{prefix}.weight_decay must be >= 0, got {self.weight_decay}")


def supervised_optimizer() -> OptimizerConfig:
    """Sentence-BERT's fine-tuning optimizer (Reimers & Gurevych, 2019; sentence-transformers
    ``fit`` defaults): AdamW, learning rate 2e-5, weight decay 0.01, linear warm-up over 10% of
    the steps then linear decay."""
    return OptimizerConfig(name="adamw", learning_rate=2e-5, lr_boundaries=[], lr_values=[],
                           weight_decay=0.01, schedule="warmup_linear", warmup_ratio=0.1)


@dataclasses.dataclass
class TFDSSource:
    """A dataset from tensorflow-datasets (``pip install tensorflow-datasets``).

    ``name`` is a TFDS name, with a config where the dataset has several (``snli``,
    ``multi_nli``, ``glue/stsb``, ``wikipedia/20230601.en``); ``split`` accepts TFDS slicing
    (``train[:10%]``). Data must be prepared in ``data_dir`` (TFDS' default folder if unset);
    ``download: true`` lets ct download and prepare it first (needs network).
    """

    name: Optional[str] = None
    split: str = "train"
    data_dir: Optional[str] = None
    text_field: Optional[str] = None  # CT corpus: the text feature (default: the only one)
    download: bool = False


STAGE_NAMES = ("ct", "nli", "stsb", "align")


@dataclasses.dataclass
class NLIStageConfig:
    """The supervised NLI stage (the CT paper's "NLI-CT" models train this before CT).

    Sentence-BERT (Reimers & Gurevych, 2019): one epoch over SNLI + MultiNLI, batch 16, a
    softmax classifier over ``[u; v; |u-v|]``, AdamW 2e-5 with 10% linear warm-up.
    ``in_batch_negatives`` (entailment as positive, contradiction as hard negative, scaled
    cosine similarities; Gao et al., 2021) is the stronger alternative.
    """

    train: list[str] = dataclasses.field(default_factory=list)  # SNLI/MultiNLI JSONL or TSV
    train_tfds: list[TFDSSource] = dataclasses.field(default_factory=list)
    objective: Literal["softmax", "in_batch_negatives"] = "softmax"
    scale: float = 20.0  # in_batch_negatives: cosine similarities times this
    epochs: int = 1
    steps: int = 0  # 0: epochs x (training pairs // batch_size)
    batch_size: int = 16
    optimizer: OptimizerConfig = dataclasses.field(default_factory=supervised_optimizer)
    dropout: bool = True  # Sentence-BERT fine-tunes with the backbone's dropout on
    eval_every: int = 1000  # 0: once per epoch


@dataclasses.dataclass
class STSBStageConfig:
    """The supervised STS-B stage (the CT paper's "CT-STSb" models train this after CT).

    Sentence-BERT's STS-B recipe: cosine similarity of the pooled embeddings regressed onto the
    gold score / 5 (mean squared error), 4 epochs, batch 16, AdamW 2e-5 with 10% linear warm-up,
    model selected on STS-B dev (``sts_dev``).
    """

    train: list[str] = dataclasses.field(default_factory=lambda: ["bundled:stsb-train"])
    train_tfds: list[TFDSSource] = dataclasses.field(default_factory=list)  # e.g. glue/stsb
    epochs: int = 4
    steps: int = 0  # 0: epochs x (training pairs // batch_size)
    batch_size: int = 16
    optimizer: OptimizerConfig = dataclasses.field(default_factory=supervised_optimizer)
    dropout: bool = True
    eval_every: int = 0  # 0: once per epoch


@dataclasses.dataclass
class AlignStageConfig:
    """The ``align`` stage: teach the encoder another model's embedding space.

    As Multilingual-CLIP (Carlsson et al., LREC 2022) trains a text encoder to reproduce the
    English CLIP text encoder's vectors, and KoCLIP/LiT train a text encoder contrastively
    against image embeddings: the student (the stage's model) learns to map each sentence onto
    its target vector. Targets come from a ``teacher`` (any model ct can load; it encodes the
    training sentences once, before the first step) or from ``targets``, a precomputed
    ``.npy``/``.npz`` file whose row i belongs to line i of the ``train`` file(s).
    """

    train: list[str] = dataclasses.field(default_factory=list)  # text, or source<TAB>translation
    format: Literal["auto", "text", "parallel"] = "auto"  # auto: parallel if lines hold a tab
    teacher: Optional[str] = None  # a model folder, hub name or bundled: name
    targets: Optional[str] = None  # .npy (memory-mapped) or .npz, one row per train line
    targets_key: Optional[str] = None  # .npz: the array's name (default: the only one)
    # mse: Multilingual-CLIP's objective; cosine: 1 - cos; contrastive: symmetric in-batch
    # InfoNCE between student vectors and targets (image-text style, KoCLIP / LiT)
    loss: Literal["mse", "cosine", "contrastive"] = "mse"
    scale: float = 20.0  # contrastive: cosine similarities x scale
    # A linear map from the student's pooled output to the target dimension, trained with it
    # and exported (a sentence-transformers Dense module). auto: only if the dimensions differ.
    projection: Literal["auto", "linear", "none"] = "auto"
    template: Optional[str] = None  # e.g. "This is a photo of {}." for the student's inputs
    epochs: int = 1
    steps: int = 0  # 0: epochs x (training examples // batch_size)
    batch_size: int = 64
    optimizer: OptimizerConfig = dataclasses.field(default_factory=supervised_optimizer)
    dropout: bool = True
    eval_every: int = 0  # 0: once per epoch
    teacher_batch_size: int = 64


@dataclasses.dataclass
class TrainConfig:
    """Everything ``ct train`` needs. Flat for the options users change most.

    The top level configures the CT stage and what all stages share (model, pooling,
    max_length, evaluation, execution, checkpoints); ``nli:`` and ``stsb:`` hold the
    supervised stages' own data and hyperparameters. ``stages`` lists what runs, in order.
    """

    # Stages, in order: "ct", "nli", "stsb" (e.g. [nli, ct] or [ct, stsb]). Each starts from
    # the model the previous one kept.
    stages: list[str] = dataclasses.field(default_factory=lambda: ["ct"])

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
    corpus_tfds: TFDSSource = dataclasses.field(default_factory=TFDSSource)  # used if named

    # The CT objective: CT paper, 16 pairs per batch and K=7 negatives per positive
    # (so each batch holds 2 positive and 14 negative pairs).
    # `ct_ibn`: CT with in-batch negatives (sentence-transformers'
    # ContrastiveTensionLossInBatchNegatives): a batch is `batch_size` sentences that both models
    # embed; every other sentence of the (global) batch is a negative. See ct/losses.
    objective: Literal["ct", "ct_ibn"] = "ct"
    batch_size: int = 16
    num_negatives: int = 7  # objective: ct only
    ibn_similarity: Literal["cosine", "dot"] = "cosine"  # objective: ct_ibn only
    ibn_scale: float = 20.0  # ct_ibn: similarities x scale (sentence-transformers' default)
    ibn_learn_scale: bool = True  # ct_ibn: train log(scale), as sentence-transformers does

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

    nli: NLIStageConfig = dataclasses.field(default_factory=NLIStageConfig)
    stsb: STSBStageConfig = dataclasses.field(default_factory=STSBStageConfig)
    align: AlignStageConfig = dataclasses.field(default_factory=AlignStageConfig)

    def validate(self) -> None:
        """Checks ranges and cross-field rules; raises ConfigError naming the key."""
        _positive(self, "batch_size", "max_length", "steps", "eval_every", "eval_batch_size",
                  "log_every", "shuffle_buffer")
        if self.num_negatives < 1:
            raise ConfigError(f"num_negatives must be >= 1, got {self.num_negatives}")
        if self.objective == "ct_ibn":
            if self.batch_size < 2:
                raise ConfigError(f"batch_size must be >= 2 with objective: ct_ibn (the other "
                                  f"sentences of the batch are the negatives), got "
                                  f"{self.batch_size}")
            if self.ibn_scale <= 0:
                raise ConfigError(f"ibn_scale must be > 0, got {self.ibn_scale}")
        elif self.batch_size % (self.num_negatives + 1):
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
        if not self.corpus and not self.corpus_tfds.name:
            raise ConfigError("corpus is empty: give at least one file or glob, or "
                              "corpus_tfds.name")
        self.optimizer.validate("optimizer")
        self._validate_stages()

    def _validate_stages(self) -> None:
        if not self.stages:
            raise ConfigError(f"stages is empty: list one or more of {', '.join(STAGE_NAMES)}")
        for name in self.stages:
            if name not in STAGE_NAMES:
                message = f"unknown stage {name!r} in stages; known stages: " + \
                    ", ".join(STAGE_NAMES)
                close = difflib.get_close_matches(name, STAGE_NAMES, n=1, cutoff=0.5)
                raise ConfigError(message + (f" (did you mean {close[0]!r}?)" if close else ""))
        if len(set(self.stages)) != len(self.stages):
            raise ConfigError(f"stages {self.stages} names a stage twice; each stage runs once")
        if "align" in self.stages:
            self._validate_align()
        for name, stage in (("nli", self.nli), ("stsb", self.stsb), ("align", self.align)):
            if name not in self.stages:
                continue
            _positive(stage, "epochs", "batch_size", prefix=name + ".")
            for key in ("steps", "eval_every"):
                if getattr(stage, key) < 0:
                    raise ConfigError(f"{name}.{key} must be >= 0 (0: from epochs), got "
                                      f"{getattr(stage, key)}")
            stage.optimizer.validate(f"{name}.optimizer")
            if name == "align":
                continue  # checked in _validate_align
            if not stage.train and not any(source.name for source in stage.train_tfds):
                raise ConfigError(
                    f"stage {name!r} has no training data: set {name}.train to files or "
                    f"{name}.train_tfds to a tensorflow-datasets name")

    def _validate_align(self) -> None:
        align = self.align
        if not align.train:
            raise ConfigError("stage 'align' has no training data: set align.train to text "
                              "files (one sentence per line, or source<TAB>translation)")
        if bool(align.teacher) == bool(align.targets):
            raise ConfigError("stage 'align' needs exactly one source of target vectors: "
                              "align.teacher (a model) or align.targets (a .npy/.npz file)")
        check_template(align.template, "align.template")
        if align.scale <= 0:
            raise ConfigError(f"align.scale must be > 0, got {align.scale}")
        _positive(align, "teacher_batch_size", prefix="align.")

    @property
    def positives_per_batch(self) -> int:
        """Number of positive pairs (identical sentences) in one batch."""
        if self.objective == "ct_ibn":
            return self.batch_size
        return self.batch_size // (self.num_negatives + 1)


def _positive(config: Any, *names: str, prefix: str = "") -> None:
    for name in names:
        value = getattr(config, name)
        if value <= 0:
            raise ConfigError(f"{prefix}{name} must be > 0, got {value}")


# --------------------------------------------------------------------------- loading

def config_to_dict(config: Any) -> dict:
    """Returns the config as plain YAML/JSON-serialisable data."""
    return dataclasses.asdict(config)


def with_defaults(data: dict, cls: type = None) -> dict:
    """``data`` (a saved config) with every option it lacks set to its default.

    A run or search saved by an older ct has no entry for options added since; their defaults
    keep the old behaviour, so comparing a saved config with today's goes through this.
    """
    defaults = config_to_dict((cls or TrainConfig)())
    return _merge_missing(data, defaults)


def _merge_missing(data: dict, defaults: dict) -> dict:
    merged = dict(data)
    for key, default in defaults.items():
        if key not in merged:
            merged[key] = default
        elif isinstance(merged[key], dict) and isinstance(default, dict):
            merged[key] = _merge_missing(merged[key], default)
    return merged


def config_from_dict(cls: type, data: dict, *, where: str = "config", prefix: str = "") -> Any:
    """Builds dataclass ``cls`` from ``data``, checking keys and types recursively (ranges and
    cross-field rules are ``validate()``'s job). ``prefix`` names the section in messages."""
    return _build(cls, data, prefix=prefix, where=where)


def read_config_data(path: Optional[str | os.PathLike] = None,
                     overrides: Optional[list[str]] = None) -> tuple[dict, str]:
    """The YAML file's mapping with ``key=value`` overrides applied, not yet checked.

    Args:
        path: YAML file, or None for an empty mapping (the defaults).
        overrides: ``["steps=100", "optimizer.learning_rate=2e-5"]``; values are parsed as YAML.

    Returns:
        ``(data, where)``: the plain data and the name to use in messages (the file).

    Raises:
        ConfigError: a missing or unreadable file, invalid YAML, a malformed override.
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
        set_dotted(data, key.strip(), parse_override(raw))
    return data, where


def build_config(data: dict, cls: type = TrainConfig, where: str = "config") -> Any:
    """Builds and validates ``cls`` from plain data (e.g. from :func:`read_config_data`).

    Raises:
        ConfigError: unknown keys, wrong types or invalid values.
    """
    config = _build(cls, data, prefix="", where=where)
    if hasattr(config, "validate"):
        config.validate()
    return config


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
    data, where = read_config_data(path, overrides)
    return build_config(data, cls, where)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def parse_override(raw: str) -> Any:
    """The value of a ``--set key=value``: YAML, or the text itself if it is not YAML."""
    try:
        return yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        return raw


def set_dotted(data: dict, dotted: str, value: Any) -> None:
    """Sets ``data["a"]["b"] = value`` for ``"a.b"``, creating sections as needed."""
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
    if prefix + key == "tune":
        return message + ("; the tune: section is read by `ct tune` (train its result, "
                          "OUTPUT_DIR/best_config.yaml, with ct train)")
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
        if isinstance(value, (str, int, float, dict)) and not isinstance(value, bool):
            value = [value]  # a single path, number or mapping where a list is expected
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
