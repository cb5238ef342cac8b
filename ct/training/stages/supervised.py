"""The supervised stages: NLI (before CT in the paper's NLI-CT models) and STS-B (after CT in
its CT-STSb models), trained as in Sentence-BERT (Reimers & Gurevych, EMNLP 2019) on labelled
examples held in memory."""

from __future__ import annotations

import logging
from typing import Optional

import numpy as np

from ct.config import TrainConfig
from ct.data.nli import NLIPairs, nli_triplets, read_nli_files
from ct.data.pair_dataset import make_pair_dataset_fn
from ct.data.sts import read_sts_file
from ct.data.tfds_source import tfds_nli_pairs, tfds_sts_pairs
from ct.errors import DataError
from ct.modeling.encoder import SentenceEncoder
from ct.modeling.supervised_model import SupervisedPairModel
from ct.training.stages.base import Stage

logger = logging.getLogger(__name__)


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
        config = self.config
        encoder = SentenceEncoder.from_pretrained(model_dir, pooling=config.pooling,
                                                  max_length=config.max_length,
                                                  tokenizer=tokenizer, name="encoder")
        self.prepare_encoder(encoder)
        return SupervisedPairModel(encoder, self.objective,
                                   scale=getattr(self.section, "scale", 20.0),
                                   dropout=self.section.dropout, **self.model_options(),
                                   **self.objective_options())

    def objective_options(self) -> dict:
        """Further options of the stage's objective (the align stage's distillation)."""
        return {}

    def dataset_fn(self, tokenizer, start_position):
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
        section = self.section
        parts = [read_nli_files(section.train)] if section.train else []
        if section.train_tfds:
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
        section = self.section
        parts, skipped = [read_sts_file(path) for path in section.train], 0
        if section.train_tfds:
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
