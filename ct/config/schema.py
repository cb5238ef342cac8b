"""The config schema: dataclasses, their defaults, and the checks of ranges and cross-field rules.

The defaults are the values of the CT paper (Carlsson et al., ICLR 2021) and of the authors'
original code; each is cited where it is declared. Every option carries a one-line help text
(``option(..., help=...)``), from which ``docs/config.md`` is generated
(:mod:`ct.config.reference`), so the documented keys cannot drift from the code. The option
lists that other modules need (strategies, pooling modes, stage names, precisions) are the
``Literal`` types declared here, read with :func:`choices`.

Loading YAML and ``--set`` overrides into these classes is :mod:`ct.config.loader`'s job.
Validation is per stage: options of a stage that is not in ``stages`` are not checked.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from typing import Any, Literal, Optional

from ct.errors import ConfigError
from ct.templates import check_template

# The option lists, in one place (other modules derive theirs with `choices`).
StageName = Literal["ct", "nli", "stsb", "align"]
CTObjective = Literal["ct", "ct_ibn"]
PoolingMode = Literal["mean", "cls"]
StrategyName = Literal["auto", "default", "one_device", "mirrored", "multi_worker", "tpu",
                       "parameter_server"]
Precision = Literal["float32", "mixed_float16", "mixed_bfloat16"]
OptimizerName = Literal["rmsprop", "adam", "adamw", "sgd"]
NLIObjective = Literal["softmax", "in_batch_negatives"]
AlignLoss = Literal["mse", "cosine", "contrastive"]
# The evaluator kinds of ct.evaluation.tasks.EVALUATORS.
EvalTaskKind = Literal["sts", "retrieval", "reranking", "pairs"]


def choices(literal_type: Any) -> tuple:
    """The values of a ``Literal`` option type, e.g. ``choices(StrategyName)``."""
    return typing.get_args(literal_type)


def option(default: Any = dataclasses.MISSING, *, help: str, factory: Any = None) -> Any:
    """A dataclass field with a help text (shown in ``docs/config.md``).

    Args:
        default: the default value (immutable).
        help: one line: what the option does, its unit, and where the default comes from.
        factory: a callable making the default, for lists and sections.
    """
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


STAGE_NAMES = choices(StageName)


@dataclasses.dataclass
class OptimizerConfig:
    """Optimizer and learning-rate schedule.

    CT paper / original code: RMSprop, learning rate 1e-5 that steps down to 8e-6, 6e-6, 4e-6
    and 2e-6 at steps 500, 1000, 1500 and 2000 (a piecewise-constant decay).
    """

    name: OptimizerName = option("rmsprop", help="optimizer (CT paper: RMSprop)")
    learning_rate: float = option(1e-5, help="the (initial or peak) learning rate (CT paper: "
                                             "1e-5)")
    lr_boundaries: list[int] = option(
        help="piecewise schedule: steps at which the rate changes (CT code: 500, 1000, 1500, "
             "2000)", factory=lambda: [500, 1000, 1500, 2000])
    lr_values: list[float] = option(
        help="piecewise schedule: the rate after each boundary (CT code: 8e-6 ... 2e-6)",
        factory=lambda: [8e-6, 6e-6, 4e-6, 2e-6])
    weight_decay: float = option(0.0, help="decoupled weight decay (adamw only)")
    clipnorm: Optional[float] = option(None, help="clip each gradient to this norm (off when "
                                                  "null)")
    schedule: Literal["piecewise", "warmup_linear"] = option(
        "piecewise", help="piecewise: the CT schedule above; warmup_linear: linear warm-up over "
                          "warmup_ratio of the steps, then linear decay to 0 "
                          "(sentence-transformers' WarmupLinear)")
    warmup_ratio: float = option(0.1, help="warmup_linear: share of the stage's steps spent "
                                           "warming up")
    jit_compile: bool = option(
        False, help="XLA-compile the optimizer's update (tf-keras turns it on by itself when it "
                    "sees a GPU; off by default because the word-embedding gradient's row count "
                    "changes every step, and each new count recompiles)")

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

    name: Optional[str] = option(None, help="a TFDS name, e.g. snli, glue/stsb, "
                                            "wikipedia/20230601.en (unused when null)")
    split: str = option("train", help="TFDS split, slicing allowed (train[:10%])")
    data_dir: Optional[str] = option(None, help="where the prepared data is (TFDS' default "
                                                "when null)")
    text_field: Optional[str] = option(
        None, help="corpus_tfds only: the text feature (default: the only text feature, else "
                   "text); NLI and STS datasets read their sentence features by name")
    download: bool = option(False, help="let ct download and prepare the dataset (needs "
                                        "network)")


@dataclasses.dataclass
class EvalTaskConfig:
    """A dev set of the user's own task, scored at every evaluation (see
    ``docs/guides/evaluation.md`` for the file formats and metrics)."""

    kind: Optional[EvalTaskKind] = option(None, help="retrieval (a BEIR folder), reranking "
                                                     "(JSONL), pairs (TSV/CSV/JSONL "
                                                     "sentence1, sentence2, label) or sts")
    path: str = option("", help="the folder (retrieval) or file")
    name: Optional[str] = option(None, help="the task's name in logs and selection_metric "
                                            "(default: the kind)")


def _check_positive(config: Any, *names: str, prefix: str = "") -> None:
    for name in names:
        value = getattr(config, name)
        if value <= 0:
            raise ConfigError(f"{prefix}{name} must be > 0, got {value}")


def _check_supervised_lengths(section: Any, name: str) -> None:
    _check_positive(section, "epochs", "batch_size", prefix=name + ".")
    for key in ("steps", "eval_every"):
        if getattr(section, key) < 0:
            raise ConfigError(f"{name}.{key} must be >= 0 (0: from epochs), got "
                              f"{getattr(section, key)}")
    section.optimizer.validate(f"{name}.optimizer")


def _check_has_training_data(section: Any, name: str) -> None:
    if not section.train and not any(source.name for source in section.train_tfds):
        raise ConfigError(
            f"stage {name!r} has no training data: set {name}.train to files or "
            f"{name}.train_tfds to a tensorflow-datasets name")


@dataclasses.dataclass
class NLIStageConfig:
    """The supervised NLI stage (the CT paper's "NLI-CT" models train this before CT).

    Sentence-BERT (Reimers & Gurevych, 2019): one epoch over SNLI + MultiNLI, batch 16, a
    softmax classifier over ``[u; v; |u-v|]``, AdamW 2e-5 with 10% linear warm-up.
    ``in_batch_negatives`` (entailment as positive, contradiction as hard negative, scaled
    cosine similarities; Gao et al., 2021) is the stronger alternative.
    """

    train: list[str] = option(help="SNLI/MultiNLI JSONL, TSV, Parquet or Arrow files, datasets "
                                   "folders or globs (.gz/.bz2/.xz/.zst too)", factory=list)
    train_tfds: list[TFDSSource] = option(help="TFDS NLI datasets (snli, multi_nli)",
                                          factory=list)
    objective: NLIObjective = option(
        "softmax", help="softmax: Sentence-BERT's classifier over [u; v; |u-v|]; "
                        "in_batch_negatives: entailment positive, contradiction hard negative")
    scale: float = option(20.0, help="in_batch_negatives: cosine similarities times this")
    epochs: int = option(1, help="passes over the training pairs (Sentence-BERT: 1)")
    steps: int = option(0, help="optimizer steps (0: epochs x pairs // batch_size)")
    batch_size: int = option(16, help="pairs per step (Sentence-BERT: 16)")
    optimizer: OptimizerConfig = option(help="AdamW 2e-5, weight decay 0.01, 10% warm-up "
                                             "(Sentence-BERT)", factory=supervised_optimizer)
    dropout: bool = option(True, help="train with the backbone's dropout on (Sentence-BERT)")
    eval_every: int = option(1000, help="steps between STS-B dev evaluations (0: once per "
                                        "epoch)")

    def validate(self) -> None:
        """Checks the stage's options; raises ConfigError naming ``nli.key``."""
        _check_supervised_lengths(self, "nli")
        _check_has_training_data(self, "nli")


@dataclasses.dataclass
class STSBStageConfig:
    """The supervised STS-B stage (the CT paper's "CT-STSb" models train this after CT).

    Sentence-BERT's STS-B recipe: cosine similarity of the pooled embeddings regressed onto the
    gold score / 5 (mean squared error), 4 epochs, batch 16, AdamW 2e-5 with 10% linear warm-up,
    model selected on STS-B dev (``sts_dev``).
    """

    train: list[str] = option(help="STS-B style files, or Parquet/Arrow files or datasets "
                                   "folders (the bundled STS-B train by default)",
                              factory=lambda: ["bundled:stsb-train"])
    train_tfds: list[TFDSSource] = option(help="TFDS STS datasets (glue/stsb)", factory=list)
    epochs: int = option(4, help="passes over the training pairs (Sentence-BERT: 4)")
    steps: int = option(0, help="optimizer steps (0: epochs x pairs // batch_size)")
    batch_size: int = option(16, help="pairs per step (Sentence-BERT: 16)")
    optimizer: OptimizerConfig = option(help="AdamW 2e-5, weight decay 0.01, 10% warm-up "
                                             "(Sentence-BERT)", factory=supervised_optimizer)
    dropout: bool = option(True, help="train with the backbone's dropout on")
    eval_every: int = option(0, help="steps between STS-B dev evaluations (0: once per epoch)")

    def validate(self) -> None:
        """Checks the stage's options; raises ConfigError naming ``stsb.key``."""
        _check_supervised_lengths(self, "stsb")
        _check_has_training_data(self, "stsb")


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

    train: list[str] = option(help="text files, folders or globs (.gz/.bz2/.xz/.zst too): one "
                                   "sentence a line, or source<TAB>translation; Parquet/Arrow: "
                                   "a text column, or source and translation", factory=list)
    format: Literal["auto", "text", "parallel"] = option(
        "auto", help="parallel: source<TAB>translation lines; auto: parallel if lines hold a "
                     "tab")
    teacher: Optional[str] = option(None, help="a model folder, hub name or bundled: name "
                                               "whose vectors are the targets")
    targets: Optional[str] = option(None, help=".npy (memory-mapped) or .npz of target vectors, "
                                               "one row per train line")
    targets_key: Optional[str] = option(None, help=".npz: the array's name (default: the only "
                                                   "one)")
    loss: AlignLoss = option(
        "mse", help="mse (Multilingual-CLIP), cosine (1 - cos), or contrastive (symmetric "
                    "in-batch InfoNCE, KoCLIP / LiT)")
    scale: float = option(20.0, help="contrastive: cosine similarities x scale")
    projection: Literal["auto", "linear", "none"] = option(
        "auto", help="a linear map onto the target dimension, trained and exported "
                     "(auto: only if the dimensions differ)")
    template: Optional[str] = option(None, help='prompt template for the student\'s inputs, '
                                                'e.g. "This is a photo of {}."')
    epochs: int = option(1, help="passes over the training lines")
    steps: int = option(0, help="optimizer steps (0: epochs x lines // batch_size)")
    batch_size: int = option(64, help="sentences per step")
    optimizer: OptimizerConfig = option(help="AdamW 2e-5, weight decay 0.01, 10% warm-up",
                                        factory=supervised_optimizer)
    dropout: bool = option(True, help="train with the backbone's dropout on")
    eval_every: int = option(0, help="steps between STS-B dev evaluations (0: once per epoch)")
    teacher_batch_size: int = option(64, help="sentences per batch when the teacher encodes "
                                              "the training lines")
    # Distillation (RankCSE, Liu et al. 2023; SCT, Limkonchotiwat et al. 2023; DistilBERT)
    student_layers: list[int] = option(
        help="start the student from these layers of the stage's model (embeddings kept), e.g. "
             "[0, 2, 4] of a 6-layer teacher; empty: the whole model", factory=list)
    loss_weight: float = option(1.0, help="weight of `loss` (the vector loss) in the total")
    listwise_weight: float = option(
        0.0, help="weight of listwise distillation: KL between the teacher's and the student's "
                  "softmax over each row of in-batch cosine similarities (RankCSE's ListNet)")
    listmle_weight: float = option(0.0, help="weight of RankCSE's ListMLE: the student ranks "
                                             "each row of the batch in the teacher's order")
    rank_temperature: float = option(0.05, help="temperature of the listwise and ListMLE "
                                                "similarity distributions")
    layer_weight: float = option(
        0.0, help="weight of intermediate-layer matching: each student layer's mean-pooled "
                  "output regresses onto that of the teacher layer it was copied from (needs "
                  "student_layers and a teacher)")

    def validate(self) -> None:
        """Checks the stage's options; raises ConfigError naming ``align.key``."""
        _check_supervised_lengths(self, "align")
        if not self.train:
            raise ConfigError("stage 'align' has no training data: set align.train to text "
                              "files (one sentence per line, or source<TAB>translation)")
        if bool(self.teacher) == bool(self.targets):
            raise ConfigError("stage 'align' needs exactly one source of target vectors: "
                              "align.teacher (a model) or align.targets (a .npy/.npz file)")
        check_template(self.template, "align.template")
        weights = {key: getattr(self, key) for key in ("loss_weight", "listwise_weight",
                                                       "listmle_weight", "layer_weight")}
        for key, weight in weights.items():
            if weight < 0:
                raise ConfigError(f"align.{key} must be >= 0, got {weight}")
        if not any(weights.values()):
            raise ConfigError("align: every loss weight is 0; give loss_weight, "
                              "listwise_weight, listmle_weight or layer_weight a positive value")
        if self.layer_weight and not (self.student_layers and self.teacher):
            raise ConfigError("align.layer_weight matches the student's layers with the "
                              "teacher's: it needs align.student_layers and align.teacher")
        if self.rank_temperature <= 0:
            raise ConfigError(f"align.rank_temperature must be > 0, got {self.rank_temperature}")
        if len(set(self.student_layers)) != len(self.student_layers) or \
                any(i < 0 for i in self.student_layers):
            raise ConfigError(f"align.student_layers {self.student_layers}: distinct layer "
                              "numbers from 0")
        if self.scale <= 0:
            raise ConfigError(f"align.scale must be > 0, got {self.scale}")
        _check_positive(self, "teacher_batch_size", prefix="align.")


@dataclasses.dataclass
class TrainConfig:
    """Everything ``ct train`` needs. Flat for the options users change most.

    The top level configures the CT stage and what all stages share (model, pooling,
    max_length, evaluation, execution, checkpoints); ``nli:``, ``stsb:`` and ``align:`` hold
    the other stages' own data and hyperparameters. ``stages`` lists what runs, in order.
    """

    stages: list[str] = option(
        help="stages in order, each starting from the model the previous one kept: ct, nli, "
             "stsb, align (e.g. [nli, ct] or [ct, stsb])", factory=lambda: ["ct"])

    # The model
    model: str = option("bundled:all-MiniLM-L6-v2",
                        help="a local checkpoint folder, a hub name, or bundled:all-MiniLM-L6-v2")
    pooling: PoolingMode = option("mean", help="mean: attention-masked mean over real tokens "
                                               "(CT paper); cls: the first token")
    max_length: int = option(75, help="truncation length in tokens (CT code: max_sent_len=75)")
    serve_max_length: Optional[int] = option(
        None, help="the truncation length the kept model is saved with (what "
                   "SentenceTransformer, ct encode and exports use; training uses max_length); "
                   "null: the starting model's (its sentence-transformers max_seq_length, e.g. "
                   "256 for all-MiniLM-L6-v2), else max_length")
    dropout: bool = option(False, help="CT: run both models with dropout on (the original code "
                                       "trains with dropout off)")

    # The CT corpus
    corpus: list[str] = option(
        help="files, folders (read recursively) or globs (** for any depth): one sentence a "
             "line (.gz/.bz2/.xz/.zst too), or .jsonl / .csv / .parquet / .arrow or a datasets "
             "save_to_disk folder with text_field",
        factory=lambda: ["bundled:wiki_sentences"])
    corpus_format: Literal["auto", "text", "jsonl", "csv", "parquet", "arrow"] = option(
        "auto", help="auto: from the file suffix (.jsonl/.json, .csv/.tsv, .parquet, .arrow, "
                     "else text; before .gz/.bz2/.xz/.zst)")
    text_field: Optional[str] = option(None, help="JSONL key or CSV/Parquet/Arrow column "
                                                  "holding the sentence (default: text)")
    on_bad_line: Literal["error", "skip"] = option(
        "error", help="an undecodable or malformed corpus line: error (naming file and line) "
                      "or skip and count")
    max_bad_line_share: float = option(0.01, help="with on_bad_line: skip, refuse a corpus with "
                                                  "a larger share of bad lines")
    corpus_index_dir: Optional[str] = option(
        None, help="where corpus line indexes are cached (default: $CT_CACHE_DIR/corpus-index "
                   "or ~/.cache/ct/corpus-index); never part of a run's identity")
    corpus_changed: Literal["error", "rebuild"] = option(
        "error", help="a corpus file that changed since the run started, on resume: error, or "
                      "rebuild its index and continue on the changed corpus (ct train "
                      "--rebuild-corpus-index); never part of a run's identity")
    group_batches: int = option(
        0, help="length grouping, an option that changes the batches: the sentences of this "
                "many consecutive batches are sorted by token count and regrouped into batches "
                "of similar length, in a random order (almost no padding); 0: off (the paper)")
    padding: Literal["longest", "max_length"] = option(
        "longest", help="longest: pad each batch to its longest sentence; max_length: fixed "
                        "shapes (XLA, TPUs)")
    corpus_tfds: TFDSSource = option(help="read the CT corpus from tensorflow-datasets instead "
                                          "(used when it has a name)", factory=TFDSSource)

    # The CT objective
    objective: CTObjective = option(
        "ct", help="ct: the paper's objective; ct_ibn: in-batch negatives "
                   "(sentence-transformers' ContrastiveTensionLossInBatchNegatives)")
    batch_size: int = option(16, help="CT: sentence pairs per step (CT paper: 16); ct_ibn: "
                                      "sentences per step")
    num_negatives: int = option(7, help="ct: K negative pairs per positive pair (CT paper: 7)")
    ibn_similarity: Literal["cosine", "dot"] = option("cosine",
                                                      help="ct_ibn: the similarity")
    ibn_scale: float = option(20.0, help="ct_ibn: similarities x scale (sentence-transformers' "
                                         "default)")
    ibn_learn_scale: bool = option(True, help="ct_ibn: train log(scale), as "
                                              "sentence-transformers does")

    # Length and optimisation of the CT stage
    steps: int = option(5000, help="CT optimizer steps (CT code: 10 epochs x 500 batches)")
    seed: int = option(42, help="seed of the weights' initial state, sampling and shuffling")
    optimizer: OptimizerConfig = option(help="the CT stage's optimizer (CT paper: RMSprop with "
                                             "a step-wise decaying rate)",
                                        factory=OptimizerConfig)

    # Evaluation and model selection
    sts_dev: Optional[str] = option("bundled:stsb-dev", help="STS file for model selection "
                                                             "(null: no evaluation)")
    eval_tasks: list[EvalTaskConfig] = option(
        help="your own dev sets, scored with every STS-B dev evaluation: a list of {kind, "
             "path, name}", factory=list)
    selection_metric: str = option(
        "stsb_dev:spearman", help="TASK:METRIC whose best value keep: best keeps, e.g. "
                                  "retrieval:ndcg@10 (a task of eval_tasks, by name); "
                                  "stsb_dev:spearman is STS-B dev (sts_dev)")
    eval_every: int = option(500, help="CT: steps between STS-B dev evaluations (CT code: "
                                       "between epochs of 500 steps)")
    eval_batch_size: int = option(64, help="sentences per batch when evaluating")
    keep: Literal["best", "last"] = option(
        "best", help="best: the better model at its best STS-B dev score (step 0 included); "
                     "last: the better model at the end")

    # Execution
    driver: Literal["loop", "fit"] = option(
        "loop", help="loop: ct's custom loop; fit: Keras model.fit (standard callbacks work); "
                     "both call the same train_step")
    strategy: StrategyName = option("default", help="tf.distribute strategy (see "
                                                    "ct/distribute.py)")
    virtual_devices: int = option(0, help="split the CPU into N logical devices (to run "
                                          "mirrored on a CPU)")
    require_accelerator: bool = option(False, help="refuse to run mirrored/auto without a GPU "
                                                   "or TPU")
    precision: Precision = option(
        "float32", help="mixed_bfloat16: TPUs, Ampere+ GPUs and CPUs with AVX512-BF16; "
                        "mixed_float16: GPUs, with dynamic loss scaling")
    loss_scale_initial: float = option(32768.0, help="mixed_float16: the initial loss scale "
                                                     "(2^15, as Keras)")
    loss_scale_growth_steps: int = option(
        2000, help="mixed_float16: the scale doubles after this many finite steps in a row and "
                   "halves at every overflow (as Keras)")
    jit_compile: bool = option(False, help="XLA-compile the forward and backward pass (pair "
                                           "with padding: max_length)")
    cpu_parallelism: Literal["models", "ops"] = option(
        "models", help="on a CPU without accelerators: models runs the independent encoder "
                       "passes of a step (CT's two models, a pair's columns) side by side, each "
                       "on half the cores (measured +28% pairs/s on 2 cores); ops gives every op "
                       "all cores (TensorFlow's default). Set before TensorFlow starts")
    length_buckets: int = option(
        0, help="encode each padded batch as this many sub-batches of similar length: the same "
                "embeddings with less padding (1: off; not used with jit_compile or padding: "
                "max_length, whose shapes must stay fixed); 0: 4 on CPUs, 1 on GPUs and TPUs "
                "(where more kernel launches cost more than padding)")
    deterministic: bool = option(True, help="TensorFlow op determinism while training: the same "
                                            "seed gives the same loss curve")

    # Reliability
    checkpoint_every: int = option(500, help="steps between checkpoints (both encoders, "
                                             "optimizer, step, data position); 0: off")
    keep_last: int = option(3, help="complete checkpoints kept")
    on_nonfinite: Literal["stop", "skip"] = option(
        "stop", help="a NaN/inf loss or gradient that loss scaling does not explain: stop the "
                     "run (exit 3) or skip the batch and count it")
    log_every: int = option(10, help="steps between metrics lines and progress lines")
    tensorboard: bool = option(True, help="write TensorBoard summaries to "
                                          "OUTPUT_DIR/tensorboard")
    output_dir: Optional[str] = option(None, help="where the run goes (--output-dir; default "
                                                  "runs/ct-TIME)")

    nli: NLIStageConfig = option(help="the NLI stage (stages: [nli, ...])",
                                 factory=NLIStageConfig)
    stsb: STSBStageConfig = option(help="the STS-B stage (stages: [..., stsb])",
                                   factory=STSBStageConfig)
    align: AlignStageConfig = option(help="the align stage (stages: [align])",
                                     factory=AlignStageConfig)

    def validate(self) -> None:
        """Checks ranges and cross-field rules of the shared options and of each stage in
        ``stages`` (only those); raises ConfigError naming the key."""
        self._validate_stage_list()
        _check_positive(self, "max_length", "eval_batch_size", "log_every")
        if self.max_length < 3:
            raise ConfigError(f"max_length must be >= 3, got {self.max_length}")
        if self.serve_max_length is not None and self.serve_max_length < 3:
            raise ConfigError(f"serve_max_length must be >= 3 (or null: the starting model's), "
                              f"got {self.serve_max_length}")
        if self.checkpoint_every < 0:
            raise ConfigError(f"checkpoint_every must be >= 0 (0: off), got "
                              f"{self.checkpoint_every}")
        if self.keep_last < 1:
            raise ConfigError(f"keep_last must be >= 1, got {self.keep_last}")
        if self.virtual_devices < 0:
            raise ConfigError(f"virtual_devices must be >= 0, got {self.virtual_devices}")
        if self.length_buckets < 0:
            raise ConfigError(f"length_buckets must be >= 0 (0: by device), got "
                              f"{self.length_buckets}")
        if self.loss_scale_initial < 1:
            raise ConfigError(f"loss_scale_initial must be >= 1, got {self.loss_scale_initial}")
        _check_positive(self, "loss_scale_growth_steps")
        self._validate_selection()
        for name in self.stages:
            if name == "ct":
                self.validate_ct()
            else:
                getattr(self, name).validate()

    def validate_ct(self) -> None:
        """Checks the CT stage's options (the top level)."""
        _check_positive(self, "batch_size", "steps", "eval_every")
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
        if self.group_batches < 0:
            raise ConfigError(f"group_batches must be >= 0 (0: off), got {self.group_batches}")
        if not 0.0 <= self.max_bad_line_share <= 1.0:
            raise ConfigError(f"max_bad_line_share must be between 0 and 1, got "
                              f"{self.max_bad_line_share}")
        if not self.corpus and not self.corpus_tfds.name:
            raise ConfigError("corpus is empty: give at least one file or glob, or "
                              "corpus_tfds.name")
        self.optimizer.validate("optimizer")

    def _validate_selection(self) -> None:
        """``eval_tasks`` names and ``selection_metric`` against what is evaluated."""
        from ct.config.eval_tasks import check_kind, named_tasks, split_metric

        for index, task in enumerate(self.eval_tasks):
            if task.kind is None or not task.path:
                raise ConfigError(f"eval_tasks[{index}] needs kind (one of "
                                  f"{', '.join(choices(EvalTaskKind))}) and path")
            check_kind(task.kind, f"eval_tasks[{index}]")
        tasks = named_tasks(self.eval_tasks)
        if "stsb_dev" in {task.name for task in tasks}:
            raise ConfigError("eval_tasks: the name stsb_dev is the STS-B dev set of sts_dev; "
                              "name the task differently")
        if self.selection_metric == "stsb_dev:spearman":
            if tasks and not self.sts_dev:
                raise ConfigError("selection_metric stsb_dev:spearman needs sts_dev, which is "
                                  "null; set selection_metric to a metric of eval_tasks, e.g. "
                                  f"{tasks[0].name}:ndcg@10")
            return
        name, metric = split_metric(self.selection_metric, tasks,
                                    extra_tasks={"stsb_dev": "sts"} if self.sts_dev else {})
        if name == "stsb_dev" and metric != "spearman":
            raise ConfigError(f"selection_metric {self.selection_metric}: STS-B dev (sts_dev) "
                              "is scored by spearman only; add the file to eval_tasks as "
                              "kind sts for its other metrics")
        if metric.endswith("_threshold"):
            raise ConfigError(f"selection_metric {self.selection_metric}: a threshold is not "
                              "a score to maximise; choose ap, f1 or accuracy")

    def _validate_stage_list(self) -> None:
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

    @property
    def positives_per_batch(self) -> int:
        """Number of positive pairs (identical sentences) in one batch."""
        if self.objective == "ct_ibn":
            return self.batch_size
        return self.batch_size // (self.num_negatives + 1)


# Options that do not change what a run computes: a run resumes when only these differ.
NOT_PART_OF_A_RUN = ("output_dir", "corpus_index_dir", "corpus_changed")

# Options that existed in earlier versions, with what replaced them.
REMOVED_OPTIONS = {
    "shuffle_buffer": "shuffle_buffer was removed: every pass over the corpus is now a seeded "
                      "permutation of all its sentences (uniform sampling at any size); drop "
                      "the key",
}
