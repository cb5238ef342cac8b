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

    def _token_counts(self, encoded: np.ndarray, batch_size: int) -> np.ndarray:
        """The export's token count of each UTF-8 sentence in ``encoded``, counted in chunks."""
        chunk = max(batch_size, 1024)
        return np.concatenate([np.zeros(0, np.int64)] + [
            np.asarray(self._count_tokens(encoded[start:start + chunk]), np.int64)
            for start in range(0, len(encoded), chunk)])

    def encode(self, texts: Sequence[str], batch_size: int = 64, normalize: bool = False,
               show_progress: bool = False,
               on_batch: Optional[Callable[[int], None]] = None) -> np.ndarray:
        """Embeds ``texts``; returns float32 ``[len(texts), dim]`` in input order."""
        vectors = np.zeros((len(texts), self.embedding_dim), np.float32)
        encoded = np.array([text.encode("utf-8") for text in texts], dtype=object)
        lengths = (self._token_counts(encoded, batch_size) if self._count_tokens is not None
                   else [len(text) for text in texts])
        order = np.argsort(lengths, kind="stable")[::-1]
        progress = Progress("encoding", total=len(texts), unit="sentence",
                            mode=as_mode(show_progress), every=batch_size * 50, leave=False)
        for start in range(0, len(texts), batch_size):
            index = order[start:start + batch_size]
            vectors[index] = self._embed(encoded[index])
            progress.advance(len(index))
            if on_batch is not None:
                on_batch(len(index))
        progress.close()
        if normalize:
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors
