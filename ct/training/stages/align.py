"""The ``align`` stage: a student encoder learns another model's embedding space."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional

import numpy as np

from ct.config import TrainConfig
from ct.data.align_data import (TEACHER_TARGETS, compute_teacher_targets, load_target_vectors,
                                make_align_dataset_fn, read_align_examples)
from ct.errors import ConfigError
from ct.files import publish_folder
from ct.modeling.encoder import SentenceEncoder
from ct.modeling.layer_subset import save_layer_subset
from ct.modeling.loading import embedding_dim_of, layer_count_of, load_tokenizer
from ct.modeling.supervised_model import Distillation
from ct.templates import fill_template
from ct.training.stages.supervised import SupervisedStage

logger = logging.getLogger(__name__)

STUDENT_INIT = "student_init"


class AlignStage(SupervisedStage):
    """Teach the encoder another model's embedding space (``align:``): Multilingual-CLIP's
    recipe (a student regresses onto a teacher's vectors) and KoCLIP/LiT's (contrastive
    against fixed target vectors). See :class:`ct.config.AlignStageConfig`."""

    name = "align"
    title = "Align"
    parallel_passes = 1

    def __init__(self, config: TrainConfig):
        self.objective = f"align_{config.align.loss}"
        self.targets: Optional[np.ndarray] = None
        self.target_dim = 0
        self.student_dir: Optional[Path] = None
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
        if section.student_layers:
            depth = layer_count_of(self.config.model, missing_ok=True)
            if depth and max(section.student_layers) >= depth:
                raise ConfigError(f"align.student_layers {section.student_layers}: "
                                  f"{self.config.model} has layers 0 to {depth - 1}")
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
                     "target_dim": self.target_dim, "loss": section.loss,
                     **({"student_layers": list(section.student_layers)}
                        if section.student_layers else {})}

    def prepare(self, output_dir: Path, progress_mode: str = "off") -> None:
        section = self.section
        if section.student_layers:
            self.student_dir = self._student_init(Path(output_dir))
        if self.targets is not None:
            return
        teacher = SentenceEncoder.from_pretrained(section.teacher)
        logger.info("Align: the teacher (%s) encodes %d sentences once", section.teacher,
                    len(self.examples.sentences) - self.examples.blank_lines)
        self.targets = compute_teacher_targets(
            teacher, self.examples.sentences, Path(output_dir) / TEACHER_TARGETS,
            batch_size=section.teacher_batch_size, progress_mode=progress_mode,
            layers=section.student_layers if section.layer_weight else ())
        del teacher

    def _student_init(self, output_dir: Path) -> Path:
        """``RUN/student_init``: the model's embeddings and ``student_layers`` (built once;
        published whole, reused when the run resumes)."""
        folder = output_dir / STUDENT_INIT
        stamp = {"model": self.config.model, "layers": list(self.section.student_layers)}
        if (folder / "student_init.json").exists() and \
                json.loads((folder / "student_init.json").read_text()) == stamp:
            return folder

        def write(staging: Path) -> None:
            save_layer_subset(self.config.model, self.section.student_layers, staging)
            (staging / "student_init.json").write_text(json.dumps(stamp) + "\n")

        logger.info("Align: the student starts from layers %s of %s",
                    self.section.student_layers, self.config.model)
        return publish_folder(write, folder)

    def build_model(self, model_dir: str, tokenizer):
        return super().build_model(str(self.student_dir or model_dir), tokenizer)

    def objective_options(self) -> dict:
        section = self.section
        return {"distillation": Distillation(
            target_dim=self.target_dim, loss_weight=section.loss_weight,
            listwise_weight=section.listwise_weight, listmle_weight=section.listmle_weight,
            rank_temperature=section.rank_temperature, layer_weight=section.layer_weight)}

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
