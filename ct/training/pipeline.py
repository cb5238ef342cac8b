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
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Optional

import yaml

from ct.config import TrainConfig, config_to_dict, with_defaults
from ct.distribute import is_chief
from ct.errors import OutputDirError
from ct.export.save import add_model_card
from ct.training.run_dir import (CONFIG_FILE, SUMMARY_FILE, config_differences,
                                 run_finished)
from ct.training.stages import STAGES
from ct.training.trainer import CTTrainer

logger = logging.getLogger(__name__)


def stage_row(index: int, summary: dict, folder: Path) -> dict:
    """One line of the stages table from a stage's ``summary.json``."""
    stsb = summary.get("stsb_dev") or {}
    kept = summary.get("kept") or {}
    before = max(stsb.get("before", {}).values(), default=None)
    return {"stage": index, "name": summary.get("stage", "ct"), "folder": str(folder),
            "start_model": summary.get("model_dir"), "steps": summary.get("steps"),
            "stsb_dev_before": before, "stsb_dev_after": kept.get("stsb_dev_spearman"),
            "kept": kept, "wall_time_s": summary.get("wall_time_s"),
            "final_model": summary.get("final_model")}


class TrainingPipeline:
    """Runs the stages of ``config.stages`` in order.

    Args:
        config: the validated config (top level: CT and shared options; ``nli:``/``stsb:``).
        output_dir: where the run goes.
        resume: as for :class:`ct.training.trainer.CTTrainer`: None resumes an unfinished
            run of the same config, True insists on resuming, False refuses a started folder.

    Every stage's data is read and checked here, before any training starts.
    """

    def __init__(self, config: TrainConfig, output_dir: str | os.PathLike,
                 resume: Optional[bool] = None):
        self.config = config
        self.run_dir = Path(output_dir)
        self.is_chief = is_chief(config.strategy)
        self.single = len(config.stages) == 1
        if self.single:
            self.trainer = CTTrainer(config, self.run_dir, resume=resume)
            return
        self.resuming = self._inspect_run_dir(resume)
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
                                          stage=self.stages[index])

    def _inspect_run_dir(self, resume: Optional[bool]) -> bool:
        run_dir = self.run_dir
        if run_dir.exists() and not run_dir.is_dir():
            raise OutputDirError(f"output path {run_dir} exists and is not a directory")
        if (run_dir / SUMMARY_FILE).exists():
            raise OutputDirError(f"output directory {run_dir} already holds a finished "
                                 f"pipeline ({SUMMARY_FILE}); choose another --output-dir")
        if not (run_dir / CONFIG_FILE).exists():
            if resume:
                raise OutputDirError(f"--resume: {run_dir} holds no unfinished run")
            return False
        if resume is False:
            raise OutputDirError(f"output directory {run_dir} already holds a started run; "
                                 "choose another --output-dir")
        saved = with_defaults(yaml.safe_load((run_dir / CONFIG_FILE).read_text()) or {})
        differences = config_differences(saved, config_to_dict(self.config))
        if differences:
            raise OutputDirError(
                f"output directory {run_dir} holds an unfinished pipeline with a different "
                f"config ({'; '.join(differences[:5])}); resume with the same config or choose "
                "another --output-dir")
        return True

    def run(self) -> dict:
        """Trains every stage; returns the run summary (also in ``OUTPUT_DIR/summary.json``)."""
        if self.single:
            summary = self.trainer.train()
            summary["stages"] = [stage_row(1, summary, self.run_dir)]
            if self.is_chief:
                _write_json(self.run_dir / SUMMARY_FILE, summary)
            return summary
        if self.is_chief:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            (self.run_dir / CONFIG_FILE).write_text(
                yaml.safe_dump(config_to_dict(self.config), sort_keys=False))
        summaries = []
        for index, (stage, stage_config, folder) in enumerate(
                zip(self.stages, self.stage_configs, self.folders), start=1):
            if run_finished(folder):
                logger.info("stage %d (%s) already finished in %s", index, stage.name, folder)
                summaries.append(json.loads((folder / SUMMARY_FILE).read_text()))
                continue
            logger.info("stage %d of %d: %s, starting from %s", index, len(self.stages),
                        stage.title, stage_config.model)
            trainer = self.next_trainer if self.next_trainer is not None \
                and self.next_trainer.run_dir == folder else CTTrainer(stage_config, folder,
                                                                       stage=stage)
            self.next_trainer = None
            summaries.append(trainer.train())
        rows = [stage_row(i, s, f) for i, (s, f) in enumerate(zip(summaries, self.folders),
                                                             start=1)]
        final_dir = self.run_dir / "final"
        if self.is_chief:
            shutil.rmtree(final_dir, ignore_errors=True)
            shutil.copytree(self.folders[-1] / "final", final_dir)
            add_model_card(final_dir, summaries)
        summary = {
            "status": "finished",
            "config": config_to_dict(self.config),
            "stages": rows,
            "stsb_dev": {"before": rows[0]["stsb_dev_before"],
                         "after": rows[-1]["stsb_dev_after"]},
            "wall_time_s": round(sum(row["wall_time_s"] or 0.0 for row in rows), 2),
            "final_model": str(final_dir),
        }
        if self.is_chief:
            _write_json(self.run_dir / SUMMARY_FILE, summary)
        return summary


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")
