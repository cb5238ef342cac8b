"""The small files ct adds to a saved model folder, and how to read them.

- ``ct_encoder.json``: the encoder's pooling, max length, prompt template and projection, so
  that loading the folder gives the encoder that was saved;
- ``ct_training.json``: how the model was trained (written by ``ct train`` and ``ct export``;
  see :mod:`ct.export.training_record`), read back so that a re-export keeps its model card.

Example:
    >>> read_encoder_settings("runs/ct/final")["pooling"]
    'mean'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from ct.errors import ConfigError
from ct.modeling.sentence_transformers_layout import read_sentence_transformers_settings

ENCODER_CONFIG = "ct_encoder.json"
TRAINING_RECORD = "ct_training.json"


def _read_json(path: Path) -> Optional[dict]:
    return json.loads(path.read_text()) if path.exists() else None


def read_encoder_settings(directory: str | Path) -> dict:
    """The encoder settings a model folder was saved with: ``ct_encoder.json`` (pooling,
    max_length, template, ...), else what its sentence-transformers files declare (pooling,
    max_length, as ``SentenceTransformer`` would use them), else ``{}``."""
    saved = _read_json(Path(directory) / ENCODER_CONFIG)
    return saved if saved is not None else read_sentence_transformers_settings(directory)


def check_serve_max_length(serve_max_length: Optional[int], directory: str | Path) -> None:
    """Refuses a ``serve_max_length`` longer than the positions the model folder's backbone
    has (``max_position_embeddings`` of its ``config.json``; RoBERTa-style models count two
    positions for padding).

    Raises:
        ConfigError: naming the option, the value and the model's limit.
    """
    config = _read_json(Path(directory) / "config.json") or {}
    positions = config.get("max_position_embeddings")
    if serve_max_length is None or not isinstance(positions, int):
        return
    limit = positions - 2 if "roberta" in str(config.get("model_type", "")) else positions
    if serve_max_length > limit:
        raise ConfigError(f"serve_max_length {serve_max_length} is longer than the "
                          f"{limit} positions of the model at {directory}; use at most {limit}")


def write_encoder_settings(directory: str | Path, settings: dict) -> Path:
    """Writes ``ct_encoder.json``."""
    path = Path(directory) / ENCODER_CONFIG
    path.write_text(json.dumps(settings, indent=2) + "\n")
    return path


def read_training_record(directory: str | Path) -> Optional[dict]:
    """The training record saved in a model folder (``ct_training.json``), or None."""
    return _read_json(Path(directory) / TRAINING_RECORD)


def write_training_record(directory: str | Path, record: dict) -> Path:
    """Writes ``record`` to ``directory/ct_training.json``."""
    path = Path(directory) / TRAINING_RECORD
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
