"""``summary.json``: what a finished (or stopped) stage did, in one JSON object, and the
publication of the kept model it describes (``final/``).

Its presence marks the run folder as ended (see :mod:`ct.training.run_dir`); the model card
and ``ct export`` read it to describe how the kept model was trained; ``ct tune`` reads its
objective from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from ct.config import config_to_dict
from ct.export.save import publish_encoder, publish_model_copy
from ct.export.training_record import training_record
from ct.training.dev_evaluation import (DEFAULT_SELECTION_METRIC, config_tasks,
                                        format_score, kept_task_scores, selection_label)
from ct.training.metrics_log import METRICS_FILE


def last_logged(run_dir: Path, key: str) -> Optional[float]:
    """The last value of ``key`` in the run's ``metrics.jsonl``, or None."""
    path = Path(run_dir) / METRICS_FILE
    if not path.exists():
        return None
    for line in reversed(path.read_text().splitlines()):
        if line.strip():
            record = json.loads(line)
            if key in record:
                return record[key]
    return None


def kept_description(kept: Optional[dict]) -> str:
    """``"model 1 at step 200, STS-B dev 87.24"`` (or ``..., best retrieval:ndcg@10 0.5123``
    when kept by another selection metric), saying when the kept model is the untouched
    starting model (step 0 scored best)."""
    if not kept:
        return "-"
    metric = kept.get("selection_metric", DEFAULT_SELECTION_METRIC)
    score = kept.get("score", kept.get("stsb_dev_spearman"))
    text = f"model {kept['model']} at step {kept['step']}"
    if score is not None:
        name = "STS-B dev" if metric == DEFAULT_SELECTION_METRIC else selection_label(metric)
        text += f", {name} {format_score(metric, score)}"
    if kept.get("step") == 0:
        text += (" - the untouched starting model: no evaluated step of this run scored "
                 "better than the model it started from")
    return text


def build_summary(trainer, wall_seconds: float, final_dir: Optional[Path],
                  status: str = "finished", reason: Optional[str] = None) -> dict:
    """The summary of ``trainer``'s stage (a :class:`ct.training.trainer.CTTrainer`)."""
    config, stage, window = trainer.config, trainer.stage, trainer.window
    kept = trainer.selection.best
    if kept and "stsb_dev_spearman" not in kept:  # kept by another metric: its STS-B dev too
        record = next((r for r in trainer.selection.evaluations if r["step"] == kept["step"]),
                      {})
        if f"stsb_dev_model_{kept['model']}" in record:
            kept = {**kept, "stsb_dev_spearman": record[f"stsb_dev_model_{kept['model']}"]}
    summary = {
        "status": status,
        "reason": reason,
        "stage": stage.name,
        "config": config_to_dict(config),
        "seed": config.seed,
        "steps": trainer.steps_done,
        "driver": config.driver,
        "strategy": config.strategy,
        "replicas": trainer.num_replicas,
        "precision": config.precision,
        "model_dir": str(trainer.model_dir),
        **stage.data_summary(),
        "wall_time_s": round(wall_seconds, 2),
        "train_time_s": round(window.train_seconds, 2),
        # after the first step of the process, which includes tracing
        **window.throughput(stage.batch_size),
        "final_loss": last_logged(trainer.output_dir, "loss"),
        "nonfinite_steps": window.nonfinite_steps,
        "stsb_dev": trainer.selection.before_after(),
        "selection_metric": trainer.selection.metric,
        "selection": trainer.selection.selection_before_after(),
        "kept": kept,
        # every metric of the user's dev sets, for the kept model at the kept step
        "eval_tasks": kept_task_scores(trainer.selection.evaluations, kept,
                                       config_tasks(config)),
        "kept_is_starting_model": trainer.selection.kept_is_untouched(),
        "final_model": str(final_dir) if final_dir else None,
    }
    summary["stages"] = [stage_row(1, summary, trainer.run_dir)]
    if trainer.model is not None and trainer.model.uses_loss_scaling:
        summary["loss_scale"] = window.loss_scale
        summary["overflow_skips"] = window.overflow_steps
    return summary


def publish_final(output_dir: Path, summary: dict, kept_encoder=None) -> Path:
    """Publishes ``OUTPUT_DIR/final``, complete with the model card of ``summary``: a copy of
    ``best/`` (``kept_encoder`` None), or ``kept_encoder`` saved as it is now."""
    final_dir = Path(output_dir) / "final"
    if kept_encoder is None:
        return publish_model_copy(Path(output_dir) / "best", final_dir, [summary])
    return publish_encoder(kept_encoder, final_dir, training_record([summary]),
                           model_id=str(final_dir))


def stage_row(index: int, summary: dict, folder: Path) -> dict:
    """One line of the stages table from a stage's ``summary.json``."""
    stsb = summary.get("stsb_dev") or {}
    kept = summary.get("kept") or {}
    before = max(stsb.get("before", {}).values(), default=None)
    selection = summary.get("selection") or {}
    return {"stage": index, "name": summary.get("stage", "ct"), "folder": str(folder),
            "start_model": summary.get("model_dir"), "steps": summary.get("steps"),
            "stsb_dev_before": before, "stsb_dev_after": kept.get("stsb_dev_spearman"),
            "selection_metric": summary.get("selection_metric", DEFAULT_SELECTION_METRIC),
            "selection_before": max(selection.get("before", {}).values(), default=None),
            "selection_after": kept.get("score", kept.get("stsb_dev_spearman")),
            "eval_tasks": summary.get("eval_tasks"),
            "kept": kept, "kept_is_starting_model": summary.get("kept_is_starting_model", False),
            "wall_time_s": summary.get("wall_time_s"),
            "final_model": summary.get("final_model")}
