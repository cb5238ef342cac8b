"""The files that make a model folder load with ``sentence_transformers.SentenceTransformer``.

sentence-transformers reads ``modules.json`` (the module pipeline: a Hugging Face
``Transformer`` at the folder's root, then ``Pooling``), ``sentence_bert_config.json`` (the
truncation length) and ``1_Pooling/config.json`` (the pooling mode). The module type names
used here are the classic ones, which every sentence-transformers release since 2.0 loads,
including 6.x. No sentence-transformers import is needed to write them.

Example:
    >>> write_sentence_transformers_files("runs/ct/final", embedding_dim=384, pooling="mean",
    ...                                   max_length=75)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

MODULES_FILE = "modules.json"
SENTENCE_BERT_CONFIG = "sentence_bert_config.json"
SENTENCE_TRANSFORMERS_CONFIG = "config_sentence_transformers.json"
POOLING_FOLDER = "1_Pooling"

_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"
# sentence-transformers' Normalize module has no files; its folder need not exist.
NORMALIZE_MODULE = {"path": "", "type": _NORMALIZE}


def pooling_config(embedding_dim: int, pooling: str) -> dict:
    """``1_Pooling/config.json`` for ct's pooling modes (``mean``: masked mean; ``cls``)."""
    if pooling not in ("mean", "cls"):
        raise ValueError(f"pooling {pooling!r} has no sentence-transformers equivalent")
    return {"word_embedding_dimension": int(embedding_dim),
            "pooling_mode_cls_token": pooling == "cls",
            "pooling_mode_mean_tokens": pooling == "mean",
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False}


def template_prefix(template: Optional[str]) -> Optional[str]:
    """The prefix a template amounts to (``"query: {}"`` -> ``"query: "``), or None if the
    template has text after the sentence (or there is no template)."""
    if template and template.endswith("{}") and template.count("{}") == 1:
        return template[:-2]
    return None


def prompts_config(template: Optional[str]) -> dict:
    """``config_sentence_transformers.json``: cosine similarity, and the template as the
    default prompt when it is a prefix."""
    prefix = template_prefix(template)
    return {"prompts": {"ct_template": prefix} if prefix else {},
            "default_prompt_name": "ct_template" if prefix else None,
            "similarity_fn_name": "cosine"}


def write_sentence_transformers_files(directory: str | Path, *, embedding_dim: int,
                                      pooling: str, max_length: int,
                                      extra_modules: tuple[dict, ...] = (),
                                      template: Optional[str] = None) -> list[Path]:
    """Writes the sentence-transformers module files into a Hugging Face model folder.

    Args:
        directory: a folder that already holds the transformers checkpoint and tokenizer.
        embedding_dim: the backbone's hidden size (what pooling outputs).
        pooling: ``"mean"`` or ``"cls"``, as used in training.
        max_length: truncation length in tokens (``max_seq_length``).
        extra_modules: further ``modules.json`` entries after pooling (e.g. a ``Dense``
            projection, then :data:`NORMALIZE_MODULE`), each ``{"path": ..., "type": ...}``;
            their folders are written by the caller.
        template: ct's prompt template. sentence-transformers prompts are prefixes, so a
            template that ends with ``{}`` becomes the default prompt; one with text after the
            sentence cannot be expressed and is left to the user (the model card says so).

    Returns:
        The files written.
    """
    directory = Path(directory)
    modules = [{"path": "", "type": _TRANSFORMER}, {"path": POOLING_FOLDER, "type": _POOLING},
               *extra_modules]
    entries = [{"idx": i, "name": str(i), **module} for i, module in enumerate(modules)]
    for entry in entries:  # sentence-transformers names a Normalize module's folder N_Normalize
        if entry["type"] == _NORMALIZE:
            entry["path"] = f"{entry['idx']}_Normalize"
    written = {
        directory / MODULES_FILE: entries,
        directory / SENTENCE_BERT_CONFIG: {"max_seq_length": int(max_length),
                                           "do_lower_case": False},
        directory / SENTENCE_TRANSFORMERS_CONFIG: prompts_config(template),
        directory / POOLING_FOLDER / "config.json": pooling_config(embedding_dim, pooling),
    }
    for path, content in written.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=2) + "\n")
    return list(written)


def read_sentence_transformers_settings(directory: str | Path) -> dict:
    """The pooling, truncation length and output normalisation a sentence-transformers folder
    declares, as ct names them (``{"pooling": "mean", "max_length": 256, "normalize": True}``);
    only what is present and has a ct equivalent (mean or CLS pooling). ``{}`` for a folder
    without those files."""
    directory = Path(directory)
    settings: dict = {}
    modules = directory / MODULES_FILE
    if modules.exists():
        types = [entry.get("type") for entry in json.loads(modules.read_text())]
        if _NORMALIZE in types:
            settings["normalize"] = True
    config = directory / SENTENCE_BERT_CONFIG
    if config.exists():
        length = json.loads(config.read_text()).get("max_seq_length")
        if isinstance(length, int) and length > 0:
            settings["max_length"] = length
    pooling = directory / POOLING_FOLDER / "config.json"
    if pooling.exists():
        modes = json.loads(pooling.read_text())
        active = [name for name in ("cls_token", "mean_tokens", "max_tokens",
                                    "mean_sqrt_len_tokens", "weightedmean_tokens",
                                    "lasttoken") if modes.get(f"pooling_mode_{name}")]
        if active == ["mean_tokens"]:
            settings["pooling"] = "mean"
        elif active == ["cls_token"]:
            settings["pooling"] = "cls"
    return settings
