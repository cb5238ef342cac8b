"""Training stages: what differs between CT, NLI and STS-B training.

The trainer (:class:`ct.training.trainer.CTTrainer`) runs any stage the same way (strategy,
loop or ``fit``, evaluation on STS-B dev, checkpoints, best-model keeping); a stage supplies
its data, its model and its length:

- ``ct``: Contrastive Tension on an unlabelled corpus (the top level of the config);
- ``nli``: Sentence-BERT NLI training (``nli:``), before CT in the paper's NLI-CT models;
- ``stsb``: STS-B regression (``stsb:``), after CT in the paper's CT-STSb models.

Every stage reads and checks its data when it is created, before any weights load, so bad
input fails in one line.

Example:
    >>> stage = make_stage(load_config("configs/ct_stsb.yaml", ["stages=[stsb]"]))
    >>> stage.steps, stage.eval_every
"""

from __future__ import annotations

import logging
from typing import Optional

import numpy as np

from ct.config import OptimizerConfig, TrainConfig
from ct.data.corpus import Corpus
from ct.data.ct_dataset import make_dataset_fn
from ct.data.ct_sampling import sentences_per_batch
from ct.errors import ConfigError, DataError

logger = logging.getLogger(__name__)


class Stage:
    """Base class. Subclasses set the attributes below and implement the methods.

    Attributes:
        name: ``ct``, ``nli`` or ``stsb``.
        steps: the stage's length in optimizer steps.
        batch_size: global examples (pairs) per step.
        eval_every: steps between STS-B dev evaluations (the end is always evaluated).
        optimizer: the optimizer section that applies.
        group_size: per-replica batches must hold whole groups of this many examples.
        metric_names: what ``train_step`` reports besides ``tokens`` and ``nonfinite``.
    """

    name = ""
    title = ""
    group_size = 1
    metric_names: tuple[str, ...] = ("loss",)

    def __init__(self, config: TrainConfig):
        self.config = config
        self.steps = 0
        self.batch_size = 0
        self.eval_every = 0
        self.optimizer: OptimizerConfig = config.optimizer

    def build_model(self, model_dir: str, tokenizer):
        """The stage's Keras model (call inside the strategy scope)."""
        raise NotImplementedError

    def prepare(self, output_dir) -> None:
        """Heavy preparation once every check has passed, before the model is built (the
        align stage's teacher encodes the training sentences here)."""

    def dataset_fn(self, tokenizer, start_position):
        """``dataset_fn(input_context)`` of the stage's endless training stream."""
        raise NotImplementedError

    def data_summary(self) -> dict:
        """What the stage trained on, for ``summary.json``."""
        raise NotImplementedError


class CTStage(Stage):
    """Contrastive Tension (Carlsson et al., ICLR 2021) on the configured corpus."""

    name = "ct"
    title = "CT"
    metric_names = ("loss", "positive_loss", "negative_loss")

    def __init__(self, config: TrainConfig):
        super().__init__(config)
        self.steps, self.batch_size = config.steps, config.batch_size
        self.eval_every = config.eval_every
        if config.objective == "ct_ibn":
            self.title = "CT-IBN"
            self.metric_names = ("loss", "accuracy")
        else:
            self.group_size = config.num_negatives + 1
        self.corpus = Corpus.from_config(config)
        self.corpus_stats = self.corpus.validate(
            min_distinct=sentences_per_batch(config.batch_size, config.num_negatives,
                                             config.objective),
            max_bad_share=config.max_bad_line_share)

    def log_data(self) -> None:
        stats = self.corpus_stats
        logger.info("corpus: %d sentences in %s", stats.num_sentences,
                    self.corpus.description if self.corpus.tfds_source is not None
                    else f"{stats.num_files} file(s)")
        if stats.num_bad_lines:
            logger.warning("corpus: skipped %d bad line(s), e.g. %s", stats.num_bad_lines,
                           stats.first_bad_line)
        if self.config.objective == "ct_ibn" and not self.config.dropout:
            logger.warning(
                "objective ct_ibn with dropout off: both models see the same sentences and "
                "start equal, so their gradients are equal and they stay identical; set "
                "dropout: true (as sentence-transformers does) for two distinct models")

    def build_model(self, model_dir: str, tokenizer):
        from ct.modeling.ct_model import ContrastiveTensionModel

        config = self.config
        return ContrastiveTensionModel.from_pretrained(
            model_dir, pooling=config.pooling, max_length=config.max_length,
            dropout=config.dropout, tokenizer=tokenizer, jit_compile=config.jit_compile,
            objective=config.objective, ibn_similarity=config.ibn_similarity,
            ibn_scale=config.ibn_scale, ibn_learn_scale=config.ibn_learn_scale)

    def dataset_fn(self, tokenizer, start_position):
        config = self.config
        return make_dataset_fn(
            self.corpus, tokenizer, start_position=start_position,
            batch_size=config.batch_size, num_negatives=config.num_negatives,
            max_length=config.max_length, seed=config.seed,
            shuffle_buffer=config.shuffle_buffer, padding=config.padding,
            objective=config.objective)

    def data_summary(self) -> dict:
        corpus = ([str(f) for f in self.corpus.files] if self.corpus.tfds_source is None
                  else [self.corpus.description])
        return {"corpus": {"files": corpus, "sentences": self.corpus_stats.num_sentences},
                "corpus_bad_lines_skipped": self.corpus_stats.num_bad_lines}


class SupervisedStage(Stage):
    """A stage that trains one encoder on labelled examples held in memory.

    Subclasses fill ``columns`` (tuples of text arrays: 2 for pairs, 3 for triplets),
    ``labels`` and ``data`` (counts for the summary) in ``load_examples``.
    """

    objective = ""

    def __init__(self, config: TrainConfig, section):
        super().__init__(config)
        self.section = section
        self.columns: tuple[np.ndarray, ...] = ()
        self.labels: Optional[np.ndarray] = None
        self.data: dict = {}
        self.load_examples()
        examples = len(self.labels)
        self.batch_size, self.optimizer = section.batch_size, section.optimizer
        steps_per_epoch = examples // section.batch_size
        if steps_per_epoch == 0:
            raise DataError(f"stage {self.name!r}: {examples} training examples, fewer than one "
                            f"batch of {section.batch_size}")
        self.steps = section.steps or section.epochs * steps_per_epoch
        self.eval_every = section.eval_every or steps_per_epoch
        self.data.update(examples=examples, steps_per_epoch=steps_per_epoch)

    def load_examples(self) -> None:
        raise NotImplementedError

    def prepare_encoder(self, encoder) -> None:
        """Adjusts the loaded encoder before training (the align stage adds a projection)."""

    def log_data(self) -> None:
        logger.info("%s: %d training examples (%s), %d steps", self.title, len(self.labels),
                    ", ".join(self.data.get("sources", [])), self.steps)

    def build_model(self, model_dir: str, tokenizer):
        from ct.modeling.encoder import SentenceEncoder
        from ct.modeling.supervised_model import SupervisedPairModel

        config = self.config
        encoder = SentenceEncoder.from_pretrained(model_dir, pooling=config.pooling,
                                                  max_length=config.max_length,
                                                  tokenizer=tokenizer, name="encoder")
        self.prepare_encoder(encoder)
        return SupervisedPairModel(encoder, self.objective,
                                   scale=getattr(self.section, "scale", 20.0),
                                   dropout=self.section.dropout, jit_compile=config.jit_compile)

    def dataset_fn(self, tokenizer, start_position):
        from ct.data.pair_dataset import make_pair_dataset_fn

        config = self.config
        return make_pair_dataset_fn(self.columns, self.labels, tokenizer,
                                    start_position=start_position, batch_size=self.batch_size,
                                    max_length=config.max_length, seed=config.seed,
                                    padding=config.padding)

    def data_summary(self) -> dict:
        return {"data": dict(self.data)}


class NLIStage(SupervisedStage):
    """Sentence-BERT NLI training (Reimers & Gurevych, 2019) on SNLI/MultiNLI pairs."""

    name = "nli"
    title = "NLI"

    def __init__(self, config: TrainConfig):
        self.objective = ("softmax_nli" if config.nli.objective == "softmax"
                          else "in_batch_negatives")
        self.metric_names = ("loss", "accuracy") if config.nli.objective == "softmax" \
            else ("loss",)
        super().__init__(config, config.nli)

    def load_examples(self) -> None:
        from ct.data.nli import NLIPairs, nli_triplets, read_nli_files

        section = self.section
        parts = [read_nli_files(section.train)] if section.train else []
        if section.train_tfds:
            from ct.data.tfds_source import tfds_nli_pairs

            parts += [tfds_nli_pairs(source, "nli.train_tfds") for source in section.train_tfds
                      if source.name]
        pairs = NLIPairs.concatenate(parts)
        self.data = {"sources": list(pairs.sources), "pairs": len(pairs),
                     "skipped_no_gold_label": pairs.num_skipped,
                     "labels": pairs.label_counts(), "objective": section.objective}
        if section.objective == "softmax":
            self.columns = (np.asarray(pairs.premises, dtype=object),
                            np.asarray(pairs.hypotheses, dtype=object))
            self.labels = np.asarray(pairs.labels, dtype=np.int32)
        else:
            anchors, positives, negatives = nli_triplets(pairs, seed=self.config.seed)
            self.columns = tuple(np.asarray(c, dtype=object)
                                 for c in (anchors, positives, negatives))
            self.labels = np.zeros(len(anchors), np.int32)  # the positive is the label
            self.data["triplets"] = len(anchors)


class STSBStage(SupervisedStage):
    """STS-B regression (Sentence-BERT's CosineSimilarityLoss) on gold-scored pairs."""

    name = "stsb"
    title = "STS-B"
    objective = "cosine_similarity"

    def __init__(self, config: TrainConfig):
        super().__init__(config, config.stsb)

    def load_examples(self) -> None:
        from ct.data.sts import read_sts_file

        section = self.section
        parts, skipped = [read_sts_file(path) for path in section.train], 0
        if section.train_tfds:
            from ct.data.tfds_source import tfds_sts_pairs

            for source in section.train_tfds:
                if source.name:
                    pairs, missing = tfds_sts_pairs(source, "stsb.train_tfds")
                    parts.append(pairs)
                    skipped += missing
        scores = np.concatenate([np.asarray(p.scores, np.float32) for p in parts])
        if scores.max() > 5.0 or scores.min() < 0.0:
            raise DataError(f"stsb.train: gold scores must lie in [0, 5] (STS-B), found "
                            f"{scores.min():g} to {scores.max():g}")
        self.columns = tuple(np.asarray(sum((list(getattr(p, key)) for p in parts), []),
                                        dtype=object)
                             for key in ("sentences_1", "sentences_2"))
        self.labels = scores / 5.0  # CosineSimilarityLoss: cosine vs gold / 5
        self.data = {"sources": [p.source for p in parts], "pairs": int(len(scores)),
                     "skipped_no_gold_score": skipped}


class AlignStage(SupervisedStage):
    """Teach the encoder another model's embedding space (``align:``): Multilingual-CLIP's
    recipe (a student regresses onto a teacher's vectors) and KoCLIP/LiT's (contrastive
    against fixed target vectors). See :class:`ct.config.AlignStageConfig`."""

    name = "align"
    title = "Align"

    def __init__(self, config: TrainConfig):
        self.objective = f"align_{config.align.loss}"
        self.targets: Optional[np.ndarray] = None
        self.target_dim = 0
        super().__init__(config, config.align)

    def load_examples(self) -> None:
        from ct.data.align_data import load_target_vectors, read_align_examples
        from ct.data.templates import fill_template
        from ct.modeling.loading import embedding_dim_of, load_tokenizer

        section = self.section
        self.examples = read_align_examples(section.train, section.format)
        if section.targets:
            self.targets = load_target_vectors(section.targets, self.examples.num_lines,
                                               section.targets_key)
            self.target_dim = int(self.targets.shape[1])
        else:  # the teacher must load: its config and tokenizer are checked now
            self.target_dim = embedding_dim_of(section.teacher)
            load_tokenizer(section.teacher)
        student_dim = embedding_dim_of(self.config.model, missing_ok=True)
        if section.projection == "none" and student_dim and student_dim != self.target_dim:
            raise ConfigError(
                f"align: the student's embeddings have {student_dim} dimensions and the targets "
                f"{self.target_dim}; set align.projection to auto or linear to learn a map")
        texts = fill_template(section.template, self.examples.texts)
        self.columns = (np.asarray(texts, dtype=object),)
        self.labels = self.examples.rows
        self.data = {"sources": self.examples.sources, "lines": self.examples.num_lines,
                     "parallel": self.examples.parallel,
                     "blank_lines_skipped": self.examples.blank_lines,
                     "targets": section.targets or f"teacher {section.teacher}",
                     "target_dim": self.target_dim, "loss": section.loss}

    def prepare(self, output_dir) -> None:
        if self.targets is not None:
            return
        from pathlib import Path

        from ct.data.align_data import TEACHER_TARGETS, compute_teacher_targets
        from ct.modeling.encoder import SentenceEncoder

        teacher = SentenceEncoder.from_pretrained(self.section.teacher)
        logger.info("Align: the teacher (%s) encodes %d sentences once", self.section.teacher,
                    len(self.examples.sentences) - self.examples.blank_lines)
        self.targets = compute_teacher_targets(
            teacher, self.examples.sentences, Path(output_dir) / TEACHER_TARGETS,
            batch_size=self.section.teacher_batch_size)
        del teacher

    def prepare_encoder(self, encoder) -> None:
        mode, dim = self.section.projection, self.target_dim
        if mode == "none" and encoder.embedding_dim != dim:
            raise ConfigError(
                f"align: the student's embeddings have {encoder.embedding_dim} dimensions and "
                f"the targets {dim}; set align.projection to auto or linear to learn a map")
        if mode == "linear" and (encoder.projection is None or encoder.embedding_dim != dim):
            encoder.add_projection(dim)
        elif mode == "auto" and encoder.embedding_dim != dim:
            encoder.add_projection(dim)
        if self.section.template:
            encoder.template = self.section.template

    def dataset_fn(self, tokenizer, start_position):
        from ct.data.align_data import make_align_dataset_fn

        config = self.config
        return make_align_dataset_fn(self.columns[0], self.labels, self.targets, tokenizer,
                                     start_position=start_position, batch_size=self.batch_size,
                                     max_length=config.max_length, seed=config.seed,
                                     padding=config.padding)


STAGES = {"ct": CTStage, "nli": NLIStage, "stsb": STSBStage, "align": AlignStage}


def make_stage(config: TrainConfig) -> Stage:
    """The stage a single-stage config runs (``config.stages`` holds one name)."""
    if len(config.stages) != 1:
        raise ConfigError(f"a trainer runs one stage, got stages {config.stages}; "
                          "run several with ct.training.pipeline.TrainingPipeline")
    return STAGES[config.stages[0]](config)
