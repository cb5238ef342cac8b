"""The ``align`` stage: a student encoder learns another model's embedding space."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import numpy as np

from ct.config import TrainConfig
from ct.data.align_data import (TEACHER_TARGETS, compute_teacher_targets, load_target_vectors,
                                make_align_dataset_fn, read_align_examples)
from ct.errors import ConfigError
from ct.modeling.encoder import SentenceEncoder
from ct.modeling.loading import embedding_dim_of, load_tokenizer
from ct.templates import fill_template
from ct.training.stages.supervised import SupervisedStage

logger = logging.getLogger(__name__)


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

    def prepare(self, output_dir: Path, progress_mode: str = "off") -> None:
        if self.targets is not None:
            return
        teacher = SentenceEncoder.from_pretrained(self.section.teacher)
        logger.info("Align: the teacher (%s) encodes %d sentences once", self.section.teacher,
                    len(self.examples.sentences) - self.examples.blank_lines)
        self.targets = compute_teacher_targets(
            teacher, self.examples.sentences, Path(output_dir) / TEACHER_TARGETS,
            batch_size=self.section.teacher_batch_size, progress_mode=progress_mode)
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
        config = self.config
        return make_align_dataset_fn(self.columns[0], self.labels, self.targets, tokenizer,
                                     start_position=start_position, batch_size=self.batch_size,
                                     max_length=config.max_length, seed=config.seed,
                                     padding=config.padding)
