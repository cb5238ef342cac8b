"""A sentence encoder: a Hugging Face TF backbone, its tokenizer and a pooling mode.

One encoder object serves training (its ``call`` is differentiable and graph-friendly),
training-time evaluation and batch inference (``encode``), so embeddings are computed by one
code path everywhere.

Example:
    >>> encoder = SentenceEncoder.from_pretrained("bundled:all-MiniLM-L6-v2")
    >>> vectors = encoder.encode(["A man is playing a guitar.", "A dog runs."])
    >>> vectors.shape
    (2, 384)
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from ct._keras import keras, tf
from ct.modeling.loading import load_backbone, load_tokenizer, resolve_model_dir
from ct.modeling.pooling import get_pooling

logger = logging.getLogger(__name__)

ENCODER_CONFIG = "ct_encoder.json"


class SentenceEncoder(keras.layers.Layer):
    """Backbone + tokenizer + pooling.

    Args:
        backbone: a transformers TF model (``TFAutoModel``).
        tokenizer: the matching transformers tokenizer.
        pooling: ``"mean"`` (attention-masked mean, the CT paper's choice) or ``"cls"``.
        max_length: truncation length in tokens (CT paper: 75).
    """

    def __init__(self, backbone, tokenizer, pooling: str = "mean", max_length: int = 75,
                 **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbone
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.max_length = max_length
        self._pool = get_pooling(pooling)
        self._embed_function = None

    @classmethod
    def from_pretrained(cls, name_or_path: str, pooling: Optional[str] = None,
                        max_length: Optional[int] = None, **kwargs) -> "SentenceEncoder":
        """Loads backbone and tokenizer from a directory, hub name or ``bundled:`` name.

        Pooling and max length default to those saved by :meth:`save` (``ct_encoder.json``),
        else to mean pooling and 75 tokens.
        """
        model_dir = resolve_model_dir(name_or_path)
        saved = {}
        if (model_dir / ENCODER_CONFIG).exists():
            saved = json.loads((model_dir / ENCODER_CONFIG).read_text())
        return cls(load_backbone(str(model_dir)), load_tokenizer(str(model_dir)),
                   pooling=pooling or saved.get("pooling", "mean"),
                   max_length=max_length or saved.get("max_length", 75), **kwargs)

    # ------------------------------------------------------------------ graph side
    def call(self, inputs: dict, training: bool = False) -> tf.Tensor:
        """Pooled embeddings ``[batch, dim]`` for ``input_ids`` and ``attention_mask``."""
        outputs = self.backbone(input_ids=inputs["input_ids"],
                                attention_mask=inputs["attention_mask"], training=training)
        return self._pool(outputs[0], inputs["attention_mask"])

    @property
    def embedding_dim(self) -> int:
        """Size of the pooled embedding."""
        return int(self.backbone.config.hidden_size if hasattr(self.backbone.config, "hidden_size")
                   else self.backbone.config.dim)

    # ------------------------------------------------------------------ Python side
    def tokenize(self, texts: Sequence[str], padding: str | bool = "longest") -> dict:
        """Tokenizes ``texts`` to int32 NumPy ``input_ids`` and ``attention_mask``."""
        encoded = self.tokenizer(list(texts), max_length=self.max_length, truncation=True,
                                 padding=padding, return_tensors="np")
        return {"input_ids": encoded["input_ids"].astype(np.int32),
                "attention_mask": encoded["attention_mask"].astype(np.int32)}

    def encode(self, texts: Sequence[str], batch_size: int = 64, normalize: bool = False,
               show_progress: bool = False,
               on_batch: Optional[Callable[[int], None]] = None) -> np.ndarray:
        """Embeds ``texts``; returns a float32 array ``[len(texts), dim]`` in input order.

        Sentences are batched by length (less padding, faster) and put back in input order.

        Args:
            texts: sentences to embed.
            batch_size: sentences per forward pass.
            normalize: L2-normalise each vector.
            show_progress: show a progress bar.
            on_batch: called with the number of sentences after each batch (progress hooks).
        """
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.embedding_dim), np.float32)
        lengths = [len(ids) for ids in self.tokenizer(
            texts, max_length=self.max_length, truncation=True)["input_ids"]]
        order = np.argsort(lengths, kind="stable")[::-1]
        embed = self._get_embed_function()
        vectors = np.zeros((len(texts), self.embedding_dim), np.float32)
        from tqdm.auto import tqdm

        starts = range(0, len(texts), batch_size)
        for start in tqdm(starts, desc="encoding", unit="batch", disable=not show_progress,
                          leave=False):
            index = order[start:start + batch_size]
            batch = self.tokenize([texts[i] for i in index])
            vectors[index] = embed(tf.constant(batch["input_ids"]),
                                   tf.constant(batch["attention_mask"])).numpy()
            if on_batch is not None:
                on_batch(len(index))
        if normalize:
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    def _get_embed_function(self):
        if self._embed_function is None:
            spec = tf.TensorSpec([None, None], tf.int32)

            @tf.function(input_signature=[spec, spec])
            def embed(input_ids, attention_mask):
                return tf.cast(self({"input_ids": input_ids, "attention_mask": attention_mask},
                                    training=False), tf.float32)

            self._embed_function = embed
        return self._embed_function

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | os.PathLike) -> Path:
        """Writes a folder that ``TFAutoModel``/``AutoTokenizer.from_pretrained`` load.

        Besides the transformers files it holds ``ct_encoder.json`` (pooling, max length).
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.backbone.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)
        (directory / ENCODER_CONFIG).write_text(json.dumps(
            {"pooling": self.pooling, "max_length": self.max_length}, indent=2) + "\n")
        return directory
