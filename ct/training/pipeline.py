"""Multi-stage training: ``stages: [nli, ct]``, ``[ct, stsb]``, ``[nli, ct, stsb]``.

The CT paper's strongest models chain stages (Carlsson et al., ICLR 2021): NLI training then CT
("NLI-CT"), and CT then STS-B fine-tuning ("CT-STSb"). Each stage starts from the model the
previous stage kept, has its own hyperparameters, evaluates STS-B dev before and after, and
writes its own folder::

    OUTPUT_DIR/config.yaml               the whole pipeline's config
    OUTPUT_DIR/stage-1-ct/               a complete run folder (config.yaml, metrics.jsonl,
                                         checkpoints/, best/, final/, summary.json, ...)
    OUTPUT_DIR/stage-2-stsb/             the next stage, started from stage-1-ct/final
    OUTPUT_DIR/final/                    the last stage's kept model
    OUTPUT_DIR/summary.json              a table of all stages, and the final model

A single-stage config (the default ``stages: [ct]``) writes its run folder directly in
OUTPUT_DIR. An interrupted pipeline resumes where it stopped: finished stages are not rerun,
the unfinished one resumes from its latest checkpoint.

Example:
    >>> summary = TrainingPipeline(load_config("configs/ct_stsb.yaml"), "runs/ct-stsb").run()
    >>> [(row["name"], row["stsb_dev_before"], row["stsb_dev_after"])
    ...  for row in summary["stages"]]
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Optional

from ct.config import TrainConfig, config_to_dict
from ct.distribute import is_chief
from ct.export.save import publish_model_copy
from ct.training.run_dir import RunDirectory, run_finished
from ct.training.stages import STAGES
from ct.training.summary import stage_row
from ct.training.trainer import CTTrainer

logger = logging.getLogger(__name__)


class TrainingPipeline:
    """Runs the stages of ``config.stages`` in order.

    Args:
        config: the validated config (top level: CT and shared options; ``nli:``/``stsb:``).
        output_dir: where the run goes.
        resume: as for :class:`ct.training.trainer.CTTrainer`: None resumes an unfinished
            run of the same config, True insists on resuming, False refuses a started folder.
        progress: how training shows progress (see :mod:`ct.progress`).

    Every stage's data is read and checked here, before any training starts.
    """

    def __init__(self, config: TrainConfig, output_dir: str | os.PathLike,
                 resume: Optional[bool] = None, progress: str = "auto"):
        self.config = config
        self.run_dir = Path(output_dir)
        self.directory = RunDirectory(self.run_dir, kind="pipeline")
        self.is_chief = is_chief(config.strategy)
        self.single = len(config.stages) == 1
        self.progress = progress
        if self.single:
            self.trainer = CTTrainer(config, self.run_dir, resume=resume,
                                     progress=progress).check()
            return
        self.resuming = self.directory.inspect(config_to_dict(config), resume)
        self.folders = [self.run_dir / f"stage-{i}-{name}"
                        for i, name in enumerate(config.stages, start=1)]
        self.stage_configs = []
        for index, name in enumerate(config.stages):
            start = config.model if index == 0 else str(self.folders[index - 1] / "final")
            self.stage_configs.append(dataclasses.replace(config, stages=[name], model=start))
        # Stages check their data on creation: a bad file in stage 3 fails before stage 1.
        self.stages = [STAGES[name](stage_config)
                       for name, stage_config in zip(config.stages, self.stage_configs)]
        # The first stage to train checks its model, tokenizer and strategy now (later
        # stages start from a model that does not exist yet).
        self.next_trainer: Optional[CTTrainer] = None
        pending = [i for i, folder in enumerate(self.folders) if not run_finished(folder)]
        if pending and (pending[0] == 0 or run_finished(self.folders[pending[0] - 1])):
            index = pending[0]
            self.next_trainer = CTTrainer(self.stage_configs[index], self.folders[index],
                                          stage=self.stages[index], progress=progress).check()

    def run(self) -> dict:
        """Trains every stage; returns the run summary (also in ``OUTPUT_DIR/summary.json``)."""
        if self.single:
            return self.trainer.train()
        if self.is_chief:
            self.directory.write_config(config_to_dict(self.config))
        summaries = []
        for index, (stage, stage_config, folder) in enumerate(
                zip(self.stages, self.stage_configs, self.folders), start=1):
            if run_finished(folder):
                logger.info("stage %d (%s) already finished in %s", index, stage.name, folder)
                summaries.append(RunDirectory(folder).summary())
                continue
            logger.info("stage %d of %d: %s, starting from %s", index, len(self.stages),
                        stage.title, stage_config.model)
            trainer = self.next_trainer if self.next_trainer is not None \
                and self.next_trainer.run_dir == folder else CTTrainer(
                    stage_config, folder, stage=stage, progress=self.progress)
            self.next_trainer = None
            summaries.append(trainer.train())
        rows = [stage_row(i, s, f) for i, (s, f) in enumerate(zip(summaries, self.folders),
                                                             start=1)]
        final_dir = self.run_dir / "final"
        if self.is_chief:  # complete or absent, replacing a copy a killed run left
            publish_model_copy(self.folders[-1] / "final", final_dir, summaries)
        summary = {
            "status": "finished",
            "config": config_to_dict(self.config),
            "stages": rows,
            "stsb_dev": {"before": rows[0]["stsb_dev_before"],
                         "after": rows[-1]["stsb_dev_after"]},
            # every stage keeps its model by the same selection metric
            "selection": {"metric": rows[-1]["selection_metric"],
                          "before": rows[0]["selection_before"],
                          "after": rows[-1]["selection_after"]},
            "eval_tasks": rows[-1]["eval_tasks"],
            "wall_time_s": round(sum(row["wall_time_s"] or 0.0 for row in rows), 2),
            "final_model": str(final_dir),
        }
        if self.is_chief:
            self.directory.write_summary(summary)
        return summary
