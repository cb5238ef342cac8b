"""Embedding an evaluation set's texts for cosine scoring: each distinct text once,
L2-normalised (a dot product of two rows is then their cosine similarity).

Example:
    >>> vectors, row = embed_distinct(encoder, ["a", "b", "a"])
    >>> float(vectors[row["a"]] @ vectors[row["b"]])     # cos(a, b)
"""

from __future__ import annotations

from typing import Iterable

import numpy as np


def embed_distinct(encoder, texts: Iterable[str], batch_size: int = 64,
                   show_progress=False) -> tuple[np.ndarray, dict[str, int]]:
    """``(vectors, row)``: unit-length float32 vectors of each distinct text, and the row of
    each text.

    Args:
        encoder: anything with ``encode(texts, batch_size=..., normalize=...) -> ndarray``
            (a :class:`ct.SentenceEncoder`).
        texts: the texts, repeats allowed.
        batch_size: sentences per forward pass.
        show_progress: passed to ``encode`` (True or a :mod:`ct.progress` mode).
    """
    row = {text: i for i, text in enumerate(dict.fromkeys(texts))}
    kwargs = {"show_progress": show_progress} if show_progress else {}
    vectors = encoder.encode(list(row), batch_size=batch_size, normalize=True, **kwargs)
    return np.asarray(vectors, np.float32), row
