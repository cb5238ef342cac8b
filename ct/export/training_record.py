"""What a model's training was, in one JSON-serialisable record: ``ct_training.json``.

A ``ct train`` run writes this record beside its kept model (``final/ct_training.json``) so that
the model card can be rebuilt by ``ct export`` from the model folder alone: the base model, the
stages in order with their objective, key hyperparameters and data, and the STS-B dev scores
each stage measured before and after. Nothing local is recorded: a base model, teacher or STS
file given by path is named "a local model" / "a local file" (:func:`public_reference`), since
the record is published with the model.

Example:
    >>> record = training_record([json.load(open("runs/ct/summary.json"))])
    >>> record["stages"][0]["objective"]
    'Contrastive Tension (Carlsson et al., ICLR 2021)'
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Optional, Sequence

from ct.version import __version__

OBJECTIVE_DESCRIPTIONS = {
    "ct": "Contrastive Tension (Carlsson et al., ICLR 2021)",
    "ct_ibn": "Contrastive Tension with in-batch negatives",
    "softmax": "Sentence-BERT softmax classifier over [u; v; |u-v|] (Reimers & Gurevych, 2019)",
    "in_batch_negatives": "in-batch negatives with contradiction hard negatives "
                          "(Gao et al., 2021)",
    "cosine_similarity": "cosine-similarity regression onto gold / 5 (Sentence-BERT)",
}
LOCAL_MODEL = "a local model"
LOCAL_FILE = "a local file"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")
# An absolute or home-relative path inside a sentence (e.g. "alignment to teacher /home/...").
_PATH_IN_TEXT = re.compile(r"(?<![\w.:/-])(?:~|/)[^\s,;:'\"()]*")
_OPTIMIZER_KEYS = ("name", "learning_rate", "lr_boundaries", "lr_values", "weight_decay",
                   "schedule", "warmup_ratio")


def public_reference(reference: Optional[str], local: str = LOCAL_MODEL) -> Optional[str]:
    """How a published record names a model or file: ``bundled:`` names and hub ids as they
    are, anything on this machine (a path, absolute or not) as ``local`` ("a local model").

    Example:
        >>> public_reference("/home/me/runs/ct/final")
        'a local model'
    """
    if reference is None:
        return None
    text = str(reference)
    if text.startswith("bundled:") or text in (LOCAL_MODEL, LOCAL_FILE):
        return text
    is_hub_id = (_HUB_ID.fullmatch(text) is not None and not text.startswith(".")
                 and not Path(text).expanduser().exists())
    return text if is_hub_id else local


def public_record(record: dict) -> dict:
    """``record`` with nothing local left: the base model and STS dev file as
    :func:`public_reference` names them, and any absolute path in the stage descriptions (a
    teacher given by path) replaced. For records written before ct named them so."""
    record = json.loads(json.dumps(record))
    record["base_model"] = public_reference(record.get("base_model"))
    record["sts_dev"] = public_reference(record.get("sts_dev"), LOCAL_FILE)
    for stage in record.get("stages", []):
        if isinstance(stage.get("objective"), str):
            stage["objective"] = _PATH_IN_TEXT.sub(LOCAL_MODEL, stage["objective"])
    return record


def _optimizer(section: dict) -> dict:
    """The optimizer settings that apply (e.g. no warm-up ratio for the piecewise schedule)."""
    optimizer = section.get("optimizer", {})
    settings = {key: optimizer[key] for key in _OPTIMIZER_KEYS if key in optimizer}
    if settings.get("schedule") == "piecewise":
        settings.pop("warmup_ratio", None)
    else:
        settings.pop("lr_boundaries", None), settings.pop("lr_values", None)
    if not settings.get("weight_decay"):
        settings.pop("weight_decay", None)
    return settings


def _stage_details(summary: dict) -> dict:
    """Objective, hyperparameters and data of one stage, from its ``summary.json``."""
    config, name = summary.get("config", {}), summary.get("stage", "ct")
    if name == "ct":
        objective = OBJECTIVE_DESCRIPTIONS.get(config.get("objective", "ct"), OBJECTIVE_DESCRIPTIONS["ct"])
        hyperparameters = {key: config.get(key) for key in (
            "batch_size", "num_negatives", "steps", "dropout", "seed")}
        hyperparameters["optimizer"] = _optimizer(config)
        corpus = summary.get("corpus") or {}
        data = {"corpus": [Path(f).name for f in corpus.get("files", [])],
                "sentences": corpus.get("sentences")}
        return {"objective": objective, "hyperparameters": hyperparameters, "data": data}
    section = config.get(name, {})
    if name == "align":
        source = (f"teacher {public_reference(section.get('teacher'))}" if section.get("teacher")
                  else f"precomputed targets {Path(str(section.get('targets'))).name}")
        terms = [f"{section.get('loss')} loss"
                 + (f" x {section['loss_weight']:g}" if section.get("loss_weight", 1) != 1
                    else "")] if section.get("loss_weight", 1) else []
        for key, name in (("listwise_weight", "listwise (ListNet) ranking distillation"),
                          ("listmle_weight", "ListMLE ranking distillation"),
                          ("layer_weight", "intermediate-layer matching")):
            if section.get(key):
                terms.append(f"{name} x {section[key]:g}")
        if section.get("listwise_weight") or section.get("listmle_weight"):
            terms[-1] += f" (temperature {section.get('rank_temperature', 0.05):g})"
        objective = (f"alignment to {source}: " + ", ".join(terms)
                     + (f", template {section['template']!r}" if section.get("template") else ""))
        if section.get("student_layers"):
            student_of = public_reference(config.get("model"))
            objective = (f"distillation into a student made of layers "
                         f"{section['student_layers']} of {student_of} (embeddings kept); "
                         + objective)
    else:
        objective = OBJECTIVE_DESCRIPTIONS.get(section.get("objective", "cosine_similarity"), name)
    hyperparameters = {key: section.get(key) for key in (
        "epochs", "steps", "batch_size", "dropout") if key in section}
    if not hyperparameters.get("steps"):  # 0: the length came from epochs
        hyperparameters.pop("steps", None)
    hyperparameters["optimizer"] = _optimizer(section)
    data = dict(summary.get("data") or {})
    data["sources"] = [Path(s).name if "/" in s else s for s in data.get("sources", [])]
    return {"objective": objective, "hyperparameters": hyperparameters, "data": data}


def training_record(stage_summaries: Sequence[dict]) -> dict:
    """Builds the record from the ``summary.json`` of each stage, in training order.

    Args:
        stage_summaries: one finished stage summary per stage (a single ``ct train`` run
            is one stage).
    """
    if not stage_summaries:
        raise ValueError("a training record needs at least one stage summary")
    first = stage_summaries[0].get("config", {})
    stages = []
    for index, summary in enumerate(stage_summaries, start=1):
        stsb = summary.get("stsb_dev") or {}
        kept = summary.get("kept") or {}
        stages.append({
            "stage": index, "name": summary.get("stage", "ct"), **_stage_details(summary),
            "steps_trained": summary.get("steps"),
            "stsb_dev_before": max(stsb.get("before", {}).values(), default=None),
            "stsb_dev_after": kept.get("stsb_dev_spearman"),
            "selection_metric": summary.get("selection_metric", "stsb_dev:spearman"),
            "selection_before": max((summary.get("selection") or {}).get("before", {}).values(),
                                    default=None),
            "selection_after": kept.get("score", kept.get("stsb_dev_spearman")),
            "eval_tasks": summary.get("eval_tasks"),
            "kept": kept, "wall_time_s": summary.get("wall_time_s")})
    return {
        "ct_version": __version__,
        "created": time.strftime("%Y-%m-%d"),
        "base_model": public_reference(first.get("model")),
        "pooling": first.get("pooling", "mean"),
        "max_length": first.get("max_length"),
        "sts_dev": public_reference(first.get("sts_dev"), LOCAL_FILE),
        "stages": stages,
    }
