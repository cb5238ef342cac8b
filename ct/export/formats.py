"""The export formats of ``ct export --format``, by name: one module per format.

Each format's module defines ``export(source, out, *, overwrite=False, **options) -> Path``
(``source``: a model folder, a ``ct train`` run folder or ``bundled:NAME``); a format whose
exports ``ct encode`` can run also defines ``is_export(path) -> bool`` and
``load_encoder(path)`` (an object with ``encode()`` and ``embedding_dim``). Modules are
imported when a format is used, so ``ct --help`` does not load TensorFlow.

Example:
    >>> get_export_format("saved_model").module().export("runs/ct", "exports/ct-savedmodel")
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Optional

from ct.errors import ConfigError


@dataclass(frozen=True)
class ExportFormat:
    """One ``--format`` choice: its module and the format-specific options it takes."""

    name: str
    summary: str
    module_name: str
    options: tuple[str, ...] = ()  # e.g. ("quantize",): refused for the other formats
    pushable: bool = False  # --push-to-hub applies

    def module(self) -> ModuleType:
        return importlib.import_module(self.module_name)


EXPORT_FORMATS = {f.name: f for f in (
    ExportFormat("huggingface", "a model folder for transformers (TF and PyTorch) and "
                 "sentence-transformers, with a model card", "ct.export.save", pushable=True),
    ExportFormat("saved_model", "a TensorFlow SavedModel: strings in, embeddings out "
                 "(TF Serving, Vertex AI, TF Hub)", "ct.export.saved_model"),
    ExportFormat("tflite", "a TFLite model with the same string signature (mobile, edge)",
                 "ct.export.tflite", options=("quantize",)),
)}
DEFAULT_FORMAT = "huggingface"


def get_export_format(name: str) -> ExportFormat:
    """The format called ``name``; raises ConfigError naming the known ones."""
    if name not in EXPORT_FORMATS:
        raise ConfigError(f"unknown export format {name!r}; known: {', '.join(EXPORT_FORMATS)}")
    return EXPORT_FORMATS[name]


def exported_format_of(path: str | Path) -> Optional[ExportFormat]:
    """The deployment format (SavedModel, TFLite) that wrote ``path``, or None (a model
    folder, a hub name, ``bundled:``...)."""
    for export_format in EXPORT_FORMATS.values():
        module = export_format.module()
        if hasattr(module, "is_export") and module.is_export(Path(path)):
            return export_format
    return None
