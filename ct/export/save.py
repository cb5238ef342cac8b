"""``ct export``: one folder that loads everywhere, with a model card.

The folder holds the TF weights (``tf_model.h5``), the same weights in PyTorch layout
(``model.safetensors``, converted with NumPy, no torch), ``config.json``, the tokenizer, the
sentence-transformers module files (pooling and max length as trained), ``ct_encoder.json``,
``ct_training.json`` (how it was trained) and ``README.md`` (the model card). It loads with TF
``transformers`` (4.x), PyTorch ``transformers`` (any version) and ``sentence-transformers``,
and all of them give ``ct encode``'s vectors.

The source is a model folder (e.g. ``runs/ct/final``), a ``ct train`` run folder (its kept
model ``final/`` is exported, described by the run's ``summary.json``), or ``bundled:NAME``.

Example:
    >>> export_model("runs/ct", "exports/my-ct-model")
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from ct.errors import ExportError
from ct.export.model_card import MODEL_CARD, build_model_card, write_model_card
from ct.export.training_record import public_record, training_record
from ct.files import copy_folder_atomically, publish_folder
from ct.modeling.encoder import SentenceEncoder
from ct.modeling.loading import resolve_model_dir
from ct.modeling.model_folder import (TRAINING_RECORD, read_encoder_settings,
                                      read_training_record, write_training_record)
from ct.modeling.sentence_transformers_layout import MODULES_FILE
from ct.resources import is_bundled

# What a complete export holds (besides the tokenizer files and 1_Pooling/).
EXPORT_FILES = ("config.json", "tf_model.h5", "model.safetensors", "modules.json",
                "sentence_bert_config.json", "ct_encoder.json", MODEL_CARD)
# Further files an export may hold: the tokenizer's (as transformers saves them, per tokenizer
# kind), the sentence-transformers prompts and the training record.
OPTIONAL_EXPORT_FILES = (
    "config_sentence_transformers.json", TRAINING_RECORD, "tokenizer.json",
    "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.txt",
    "vocab.json", "merges.txt", "sentencepiece.bpe.model", "spiece.model")


def run_stage_summaries(run_dir: Path) -> list[dict]:
    """The stage summaries of a finished ``ct train`` run folder, in training order.

    A single-stage run's ``summary.json`` is its stage summary; a pipeline's lists its stage
    folders, found inside ``run_dir`` (so a run folder that was moved still exports).
    """
    summary = json.loads((run_dir / "summary.json").read_text())
    if summary.get("status", "finished") != "finished":
        raise ExportError(f"{run_dir} holds a run that did not finish "
                          f"({summary.get('status')}: {summary.get('reason')}); nothing to export")
    if "stage" in summary:
        return [summary]
    return [json.loads((run_dir / Path(row["folder"]).name / "summary.json").read_text())
            for row in summary["stages"]]


def resolve_export_source(source: str) -> tuple[Path, Optional[dict]]:
    """Returns ``(model folder, training record or None)`` for a model or run folder.

    Raises:
        ExportError: ``source`` is neither a run folder nor a model folder.
    """
    if is_bundled(source):
        return resolve_model_dir(source), None
    path = Path(source).expanduser()
    if not path.exists():
        raise ExportError(f"nothing to export at {source}: no such file or directory")
    if not path.is_dir():
        raise ExportError(f"{source} is a file; give a model folder or a ct run folder")
    if (path / "summary.json").exists():
        if not (path / "final" / "config.json").exists():
            raise ExportError(f"{source} is a ct run folder without a kept model (final/); "
                              "was the run finished?")
        return path / "final", training_record(run_stage_summaries(path))
    if (path / "config.json").exists():
        record = read_training_record(path)
        if record is None and (path.parent / "summary.json").exists():
            record = training_record(run_stage_summaries(path.parent))
        return path, record
    raise ExportError(f"{source} is not a model: it holds neither config.json (a Hugging Face "
                      "model folder) nor summary.json (a ct run folder)")


def export_model(source: str, out_dir: str | Path, *, model_id: Optional[str] = None,
                 overwrite: bool = False) -> Path:
    """Exports a model or a run's kept model to ``out_dir``.

    Args:
        source: a model folder, a ``ct train`` run folder, or ``bundled:NAME``.
        out_dir: where the export goes; it appears complete or not at all (written to a
            staging folder and renamed, see :mod:`ct.files`).
        model_id: the name in the card's loading examples (a hub repo id); default: the
            folder's path.
        overwrite: replace an existing non-empty ``out_dir``.

    Returns:
        ``out_dir``.

    Raises:
        ExportError: a source that is not a model, or an ``out_dir`` in the way.
    """
    encoder, record, _ = load_export_source(source, out_dir, overwrite)
    return publish_encoder(encoder, out_dir, record, model_id=model_id or str(out_dir))


# The registry's entry point (ct.export.formats): the Hugging Face folder format.
export = export_model


def load_export_source(source: str, out: str | Path, overwrite: bool):
    """``(encoder, training record or None, model folder)`` for ``source``, after checking
    that ``out`` (the export's folder or file) may be written.

    Raises:
        ExportError: a source that is not a model, or an ``out`` in the way.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise ExportError(f"--out {out} exists and is not empty; choose another "
                          f"{'folder' if out.is_dir() else 'file'} or pass --overwrite")
    model_dir, record = resolve_export_source(source)
    if out.resolve() == model_dir.resolve():
        raise ExportError(f"--out {out} is the model folder being exported; choose another")
    return SentenceEncoder.from_pretrained(str(model_dir)), record, model_dir


def publish_encoder(encoder, target: str | Path, record: Optional[dict] = None,
                    model_id: Optional[str] = None) -> Path:
    """Writes a complete export of ``encoder`` (weights in both layouts, tokenizer,
    sentence-transformers files, training record and model card) that appears at ``target``
    in one rename, replacing what was there (see :mod:`ct.files`)."""
    target = Path(target)
    return publish_folder(
        lambda staging: write_export(encoder, staging, record, model_id=model_id or str(target)),
        target)


def publish_model_copy(source: str | Path, target: str | Path,
                       stage_summaries: list[dict]) -> Path:
    """Publishes a copy of the model folder ``source`` at ``target`` (in one rename), with the
    training record and model card of ``stage_summaries`` (how it was trained)."""
    target = Path(target)
    return copy_folder_atomically(
        source, target, then=lambda staging: add_model_card(staging, stage_summaries,
                                                            model_id=str(target)))


def write_export(encoder, directory: Path, record: Optional[dict],
                 model_id: Optional[str] = None) -> Path:
    """Saves ``encoder`` with its training record and model card into ``directory``."""
    encoder.save(directory)
    if record is not None:
        record = public_record(record)
        write_training_record(directory, record)
    write_model_card(directory, record, model_id)
    return directory


def add_model_card(model_dir: Path, stage_summaries: list[dict],
                   model_id: Optional[str] = None) -> None:
    """Adds the training record and model card of ``stage_summaries`` to a model folder;
    ``model_id`` is the name in the card's loading examples (default: the folder)."""
    record = training_record(stage_summaries)
    write_training_record(model_dir, record)
    write_model_card(model_dir, record, model_id or str(model_dir))


def rewrite_model_card(directory: str | Path, model_id: str) -> Path:
    """Regenerates an export's ``README.md`` for ``model_id`` (e.g. the hub repo it is pushed
    to): title and loading examples name the repo instead of a local folder. Written to a
    temporary file and renamed."""
    directory = Path(directory)
    staging = directory / f".{MODEL_CARD}.tmp"
    staging.write_text(build_model_card(read_training_record(directory), model_id,
                                        read_encoder_settings(directory)))
    os.replace(staging, directory / MODEL_CARD)
    return directory / MODEL_CARD


def published_files(directory: str | Path) -> list[str]:
    """The files of the export at ``directory`` that ct wrote, relative, sorted: what a push
    uploads. Anything else in the folder (hidden leftovers, a user's notes) is not published.
    """
    directory = Path(directory)
    names = [name for name in (*EXPORT_FILES, *OPTIONAL_EXPORT_FILES)
             if (directory / name).is_file()]
    modules = directory / MODULES_FILE
    folders = [entry.get("path") for entry in json.loads(modules.read_text())
               if entry.get("path")] if modules.exists() else []
    for folder in folders:  # the sentence-transformers module folders (1_Pooling, 2_Dense)
        if (directory / folder).is_dir() and not folder.startswith("."):
            names += [f"{folder}/{path.name}" for path in (directory / folder).iterdir()
                      if path.is_file() and not path.name.startswith(".")]
    return sorted(set(names))


def check_export_complete(directory: str | Path) -> None:
    """Raises ExportError unless ``directory`` holds a complete export (for pushing as is)."""
    directory = Path(directory)
    missing = [name for name in EXPORT_FILES if not (directory / name).exists()]
    if missing:
        raise ExportError(f"{directory} is not a complete ct export (missing "
                          f"{', '.join(missing)}); give --out DIR to export it first")
