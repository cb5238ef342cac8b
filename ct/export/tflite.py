"""``ct export --format tflite``: a TFLite model with the SavedModel's string signature.

The model is the :mod:`ct.export.saved_model` export converted with
``tf.lite.TFLiteConverter``: the tensorflow-text tokenizer ops stay as custom ops (run by
``tensorflow_text``'s TFLite registrar, ``SELECT_TFTEXT_OPS``); everything else is TFLite
builtins (the in-graph tokenizer frames and pads with dense ops for that), so no select-ops
(Flex) runtime is needed. A prompt template (a string join) has no builtin: such a model is
refused; apply the template in the app and export the model without it. ``quantize``: ``none`` (float32), ``dynamic``
(dynamic-range quantization: int8 weights, float activations) or ``float16`` (float16 weights).

Running it from Python (tensorflow + tensorflow-text)::

    import numpy as np, tensorflow_text as tf_text
    from tensorflow.lite.python.interpreter import InterpreterWithCustomOps
    interpreter = InterpreterWithCustomOps(
        model_path="model.tflite",
        custom_op_registerers=tf_text.tflite_registrar.SELECT_TFTEXT_OPS)
    embed = interpreter.get_signature_runner("serving_default")
    vectors = embed(sentences=np.array([b"A dog runs."]))["embeddings"]

A mobile app needs the TFLite runtime with the Flex delegate (select TF ops) and the
tensorflow-text custom ops linked in (see docs/guides/tensorflow-deployment.md).

Example:
    >>> export("bundled:all-MiniLM-L6-v2", "exports/minilm-int8.tflite", quantize="dynamic")
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ct._keras import tf
from ct.errors import ExportError
from ct.export import saved_model
from ct.data.in_graph_tokenizer import import_tensorflow_text
from ct.export.runtime import StringEncoder

QUANTIZATIONS = ("none", "dynamic", "float16")


def convert_saved_model(directory: str | Path, quantize: str = "none") -> bytes:
    """The TFLite flatbuffer of a ct SavedModel's string signature and its token counts
    (its ``from_ids`` signature if it has no string signature)."""
    if quantize not in QUANTIZATIONS:
        raise ExportError(f"quantize must be one of {', '.join(QUANTIZATIONS)}, got {quantize!r}")
    loaded = tf.saved_model.load(str(directory))
    keys = ([saved_model.STRINGS_SIGNATURE]
            if saved_model.STRINGS_SIGNATURE in loaded.signatures else [saved_model.IDS_SIGNATURE])
    if saved_model.TOKEN_COUNTS_SIGNATURE in loaded.signatures:
        keys.append(saved_model.TOKEN_COUNTS_SIGNATURE)
    del loaded
    converter = tf.lite.TFLiteConverter.from_saved_model(str(directory), signature_keys=keys)
    # Builtins only, plus the tensorflow-text tokenizer ops as custom ops: no select-ops (Flex),
    # so the model runs on the plain TFLite runtime with tensorflow-text's op registrar.
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.allow_custom_ops = True
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def export(source: str, out: str | Path, *, overwrite: bool = False,
           quantize: str = "none") -> Path:
    """Exports ``source`` (a model folder, ``ct train`` run folder or ``bundled:NAME``) as
    ``out`` (a ``.tflite`` file, written to a temporary file and renamed).

    Raises:
        ExportError: ``out`` not ending in ``.tflite`` or in the way, or a source that is not a
            model.
    """
    from ct.export.save import load_export_source

    out = Path(out)
    if out.suffix != ".tflite":
        raise ExportError(f"--out {out} must be a FILE.tflite for --format tflite")
    if out.is_dir():
        raise ExportError(f"--out {out} is a folder; give a FILE.tflite")
    import_tensorflow_text()
    encoder, _, model_dir = load_export_source(source, out, overwrite)
    if encoder.template:
        raise ExportError(f"{source} has the prompt template {encoder.template!r}: TFLite has no "
                          "builtin string join; export --format saved_model, or apply the "
                          "template in the app to a model saved without it")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ct-tflite-") as scratch:
        saved = Path(scratch) / "saved_model"
        saved.mkdir()
        saved_model.write_saved_model(encoder, model_dir, saved,
                                      saved_model.publishable_source(source))
        flatbuffer = convert_saved_model(saved, quantize)
    staging = out.with_name(f".{out.name}.tmp")
    staging.write_bytes(flatbuffer)
    os.replace(staging, out)
    return out


def is_export(path: Path) -> bool:
    """True for a ``.tflite`` file."""
    return path.suffix == ".tflite" and path.is_file()


def interpreter(path: str | Path, num_threads: int | None = None):
    """A TFLite interpreter for ``path`` with the tensorflow-text ops registered (the route
    tensorflow-text documents: ``tf.lite.Interpreter`` itself takes no op registerers)."""
    from tensorflow.lite.python.interpreter import InterpreterWithCustomOps

    text = import_tensorflow_text()
    with warnings.catch_warnings():  # "deprecated, use LiteRT": TF 2.20's still runs these
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        return InterpreterWithCustomOps(
            model_path=str(path), num_threads=num_threads,
            custom_op_registerers=text.tflite_registrar.SELECT_TFTEXT_OPS)


def load_encoder(path: str | Path, num_threads: int | None = None) -> StringEncoder:
    """An encoder running the TFLite model at ``path`` (its string signature).

    Raises:
        ExportError: a model that takes token ids, not strings.
    """
    runner_of = interpreter(path, num_threads)
    signatures = runner_of.get_signature_list()
    if saved_model.STRINGS_SIGNATURE not in signatures:
        raise ExportError(f"{path} takes token ids ({', '.join(signatures)}), not strings: "
                          "ct encode cannot feed it sentences")
    runner = runner_of.get_signature_runner(saved_model.STRINGS_SIGNATURE)
    output = runner.get_output_details()["embeddings"]
    dim = int(output["shape_signature"][-1])

    def embed(batch: np.ndarray) -> np.ndarray:
        return runner(sentences=batch)["embeddings"]

    count_tokens = None
    if saved_model.TOKEN_COUNTS_SIGNATURE in signatures:  # exports before it: by characters
        counter = runner_of.get_signature_runner(saved_model.TOKEN_COUNTS_SIGNATURE)

        def count_tokens(batch: np.ndarray) -> np.ndarray:
            return counter(sentences=batch)["token_counts"]

    return StringEncoder(embed, dim, f"TFLite {path}", count_tokens)
