"""``ct export --format saved_model``: a TensorFlow SavedModel that takes strings.

Signatures:

- ``serving_default``: ``sentences`` (1-D ``tf.string``) -> ``embeddings`` (float32
  ``[n, dim]``). The tokenizer runs in the graph (:mod:`ct.data.in_graph_tokenizer`,
  ``tensorflow-text``), truncating at the model's max length; the prompt template, pooling,
  projection and (if the model's sentence-transformers modules end in ``Normalize``)
  L2-normalisation are applied as ``ct encode`` applies them.
- ``from_ids``: ``input_ids``, ``attention_mask`` (int32 ``[n, length]``) -> ``embeddings``,
  for a server without the tensorflow-text ops (TF Serving's stock binary) or a tokenizer
  tensorflow-text cannot reproduce; then it is the only signature (a warning says why).

The folder loads with ``tensorflow`` and ``tensorflow-text`` alone (``import
tensorflow_text`` registers the ops; no transformers, no ct). ``assets.extra/ct_export.json``
describes it (signatures, dimension, max length, normalisation, tokenizer).

Example:
    >>> export("bundled:all-MiniLM-L6-v2", "exports/minilm-savedmodel")
    >>> model = tf.saved_model.load("exports/minilm-savedmodel")  # after import tensorflow_text
    >>> model.signatures["serving_default"](sentences=tf.constant(["A dog runs."]))
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional

import numpy as np

from ct._keras import tf
from ct.errors import ExportError
from ct.data.in_graph_tokenizer import build_in_graph_tokenizer, import_tensorflow_text
from ct.export.runtime import StringEncoder
from ct.export.training_record import public_reference
from ct.files import publish_folder
from ct.version import __version__

logger = logging.getLogger(__name__)

STRINGS_SIGNATURE = "serving_default"
IDS_SIGNATURE = "from_ids"
TOKEN_COUNTS_SIGNATURE = "token_counts"
EXPORT_INFO = Path("assets.extra") / "ct_export.json"


def build_serving_module(encoder, tokenizer=None) -> tf.Module:
    """A module with ``from_ids`` and (given an in-graph ``tokenizer``) ``from_strings``
    tf.functions computing ``encoder``'s embeddings, normalised if the encoder normalises."""
    module = tf.Module(name="ct_sentence_encoder")
    module.encoder_variables = list(encoder.variables)  # saved with the functions using them
    normalize = encoder.normalize_output

    def embed(input_ids, attention_mask):
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        vectors = tf.cast(encoder(inputs, training=False, length_buckets=1), tf.float32)
        if normalize:  # as sentence-transformers' Normalize: x / max(|x|, 1e-12)
            vectors /= tf.maximum(tf.norm(vectors, axis=1, keepdims=True), 1e-12)
        return {"embeddings": vectors}

    module.from_ids = tf.function(embed, input_signature=[
        tf.TensorSpec([None, None], tf.int32, name="input_ids"),
        tf.TensorSpec([None, None], tf.int32, name="attention_mask")])
    if tokenizer is not None:
        module.tokenizer = tokenizer

        def from_strings(sentences):
            return embed(*tokenizer(sentences))

        module.from_strings = tf.function(from_strings, input_signature=[
            tf.TensorSpec([None], tf.string, name="sentences")])

        def token_counts(sentences):
            # Tokens per sentence as the model sees them (framed, truncated): batching by
            # them pads far less than by characters (docs/benchmarks.md, "Exports").
            _, attention_mask = tokenizer(sentences)
            return {"token_counts": tf.reduce_sum(attention_mask, axis=1)}

        module.token_counts = tf.function(token_counts, input_signature=[
            tf.TensorSpec([None], tf.string, name="sentences")])
    return module


def write_saved_model(encoder, model_dir: Path, directory: Path,
                      source_name: str = "a local model") -> dict:
    """Saves ``encoder`` as a SavedModel into ``directory`` (existing, empty); returns what
    ``assets.extra/ct_export.json`` records."""
    tokenizer, reason = build_in_graph_tokenizer(encoder.tokenizer, model_dir,
                                                 encoder.max_length, encoder.template)
    module = build_serving_module(encoder, tokenizer)
    signatures = {IDS_SIGNATURE: module.from_ids.get_concrete_function()}
    if tokenizer is not None:
        signatures[STRINGS_SIGNATURE] = module.from_strings.get_concrete_function()
        signatures[TOKEN_COUNTS_SIGNATURE] = module.token_counts.get_concrete_function()
    else:
        logger.warning("no string signature: %s has no tensorflow-text equivalent (%s); "
                       "exported from_ids only", source_name, reason)
    tf.saved_model.save(module, str(directory), signatures=signatures)
    info = {"format": "saved_model", "ct_version": __version__, "source": source_name,
            "signatures": {name: _describe(function) for name, function in signatures.items()},
            "embedding_dim": encoder.embedding_dim, "max_length": encoder.max_length,
            "pooling": encoder.pooling, "normalize": encoder.normalize_output,
            "template": encoder.template,
            "tokenizer": tokenizer.kind if tokenizer is not None else None,
            "no_tokenizer_reason": reason or None,
            "requires": {"tensorflow": tf.__version__,
                         "tensorflow-text": import_tensorflow_text().__version__}}
    (directory / EXPORT_INFO).parent.mkdir(parents=True, exist_ok=True)
    (directory / EXPORT_INFO).write_text(json.dumps(info, indent=2) + "\n")
    return info


def _describe(function) -> dict:
    inputs = function.structured_input_signature[1]
    outputs = {name: f"{tensor.dtype.name} [n{', dim' if tensor.shape.rank == 2 else ''}]"
               for name, tensor in function.structured_outputs.items()}
    return {"inputs": {name: spec.dtype.name for name, spec in inputs.items()},
            "outputs": outputs}


def publishable_source(source: str) -> str:
    """How an export names its source without local facts: a ``bundled:`` or hub name as
    given, anything on this machine as "a local model"."""
    return public_reference(source)


def export(source: str, out: str | Path, *, overwrite: bool = False) -> Path:
    """Exports ``source`` (a model folder, ``ct train`` run folder or ``bundled:NAME``) as a
    SavedModel folder ``out``, which appears complete or not at all.

    Raises:
        ExportError: a source that is not a model, or an ``out`` in the way.
    """
    from ct.export.save import load_export_source

    import_tensorflow_text()
    encoder, _, model_dir = load_export_source(source, out, overwrite)
    return publish_folder(
        lambda staging: write_saved_model(encoder, model_dir, staging, publishable_source(source)),
        Path(out))


def is_export(path: Path) -> bool:
    """True for a SavedModel folder."""
    return path.is_dir() and (path / "saved_model.pb").exists()


def load_encoder(path: str | Path) -> StringEncoder:
    """An encoder running the SavedModel at ``path`` (its string signature).

    Raises:
        ExportError: a SavedModel without a string signature (exported ``from_ids`` only).
    """
    import_tensorflow_text()  # registers the tokenizer ops before loading
    model = tf.saved_model.load(str(path))
    if STRINGS_SIGNATURE not in model.signatures:
        raise ExportError(f"{path} has no string signature ({', '.join(model.signatures)} "
                          "only): it takes token ids, so ct encode cannot feed it sentences")
    function = model.signatures[STRINGS_SIGNATURE]
    dim = int(function.structured_outputs["embeddings"].shape[-1])

    def embed(batch: np.ndarray) -> np.ndarray:
        return function(sentences=tf.constant(batch, tf.string))["embeddings"].numpy()

    count_tokens = None
    if TOKEN_COUNTS_SIGNATURE in model.signatures:  # exports before it batch by characters
        counts = model.signatures[TOKEN_COUNTS_SIGNATURE]

        def count_tokens(batch: np.ndarray) -> np.ndarray:
            return counts(sentences=tf.constant(batch, tf.string))["token_counts"].numpy()

    return StringEncoder(embed, dim, f"SavedModel {path}", count_tokens)


def saved_model_info(path: str | Path) -> Optional[dict]:
    """``assets.extra/ct_export.json`` of a SavedModel ct wrote, or None."""
    info = Path(path) / EXPORT_INFO
    return json.loads(info.read_text()) if info.exists() else None
