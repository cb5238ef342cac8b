"""Running an exported model that takes strings (SavedModel, TFLite) from ct: ``ct encode``
uses it, so an export can be checked before it ships.

Example:
    >>> encoder = get_export_format("saved_model").module().load_encoder("exports/ct-sm")
    >>> encoder.encode(["A man is playing a guitar."]).shape
    (1, 384)
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np

from ct.progress import Progress, as_mode


class StringEncoder:
    """Batches sentences through ``embed`` (a ``[n]`` bytes array -> ``[n, dim]`` float32).

    Sentences are batched by token count, as :meth:`ct.SentenceEncoder.encode` does, when the
    export counts them (its ``token_counts`` signature: ``count_tokens``), else by character
    length, and put back in input order; tokenization, truncation and the model's own
    normalisation happen inside the export.
    """

    def __init__(self, embed: Callable[[np.ndarray], np.ndarray], embedding_dim: int,
                 description: str,
                 count_tokens: Optional[Callable[[np.ndarray], np.ndarray]] = None):
        self._embed = embed
        self._count_tokens = count_tokens
        self.embedding_dim = int(embedding_dim)
        self.description = description

    def _lengths(self, texts: Sequence[str], batch_size: int) -> list:
        """What sentences are sorted by: token counts (in chunks), or characters."""
        if self._count_tokens is None:
            return [len(text) for text in texts]
        chunk = max(batch_size, 1024)
        return [int(count) for start in range(0, len(texts), chunk)
                for count in self._count_tokens(np.array(
                    [text.encode("utf-8") for text in texts[start:start + chunk]],
                    dtype=object))]

    def encode(self, texts: Sequence[str], batch_size: int = 64, normalize: bool = False,
               show_progress: bool = False,
               on_batch: Optional[Callable[[int], None]] = None) -> np.ndarray:
        """Embeds ``texts``; returns float32 ``[len(texts), dim]`` in input order."""
        vectors = np.zeros((len(texts), self.embedding_dim), np.float32)
        order = np.argsort(self._lengths(texts, batch_size), kind="stable")[::-1]
        progress = Progress("encoding", total=len(texts), unit="sentence",
                            mode=as_mode(show_progress), every=batch_size * 50, leave=False)
        for start in range(0, len(texts), batch_size):
            index = order[start:start + batch_size]
            batch = np.array([texts[i].encode("utf-8") for i in index], dtype=object)
            vectors[index] = self._embed(batch)
            progress.advance(len(index))
            if on_batch is not None:
                on_batch(len(index))
        progress.close()
        if normalize:
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors
