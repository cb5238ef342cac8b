"""Tokenization that can be mapped over a ``tf.data`` pipeline.

transformers tokenizers run in Python, so they are wrapped in ``tf.py_function``; the output
shapes are declared so downstream code sees ``[batch, None]`` int32 tensors.
"""

from __future__ import annotations

import numpy as np

from ct._keras import tf


def make_pair_tokenizer(tokenizer, max_length: int, padding: str = "longest"):
    """Returns ``fn(texts_1, texts_2, labels) -> (features, labels)`` for ``Dataset.map``.

    Args:
        tokenizer: a transformers tokenizer.
        max_length: truncation length (CT paper: 75).
        padding: ``"longest"`` pads to the longest sentence of each side (fast on CPU/GPU);
            ``"max_length"`` gives fixed shapes (for XLA and TPUs).
    """

    def encode(texts: tf.Tensor):
        decoded = [t.decode("utf-8", errors="replace") for t in texts.numpy()]
        out = tokenizer(decoded, max_length=max_length, truncation=True, padding=padding,
                        return_tensors="np")
        return (out["input_ids"].astype(np.int32), out["attention_mask"].astype(np.int32))

    def tokenize_pair(texts_1, texts_2, labels):
        ids_1, mask_1 = tf.py_function(encode, [texts_1], [tf.int32, tf.int32])
        ids_2, mask_2 = tf.py_function(encode, [texts_2], [tf.int32, tf.int32])
        features = {"input_ids_1": ids_1, "attention_mask_1": mask_1,
                    "input_ids_2": ids_2, "attention_mask_2": mask_2}
        for tensor in features.values():
            tensor.set_shape([None, None])
        return features, tf.ensure_shape(labels, [None])

    return tokenize_pair
