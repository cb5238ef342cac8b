"""Batch inference: embed every line of a text file into ``.npy`` or ``.jsonl``.

Output row ``i`` is the embedding of input line ``i`` (blank lines included, so rows stay
aligned with lines). The file is processed in chunks, each sorted by length for fast batching
and restored to input order; ``.npy`` output is written through a memory map, so collections
larger than memory work.

Example:
    >>> encoder = SentenceEncoder.from_pretrained("runs/ct/final")
    >>> encode_file(encoder, "sentences.txt", "vectors.npy", normalize=True)
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from ct.data.text_files import iter_decoded_lines
from ct.errors import DataError
from ct.progress import Progress, as_mode

OUTPUT_FORMATS = (".npy", ".jsonl")


def _chunks(path: str | Path, size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for _, line in iter_decoded_lines(path, "input file"):
        chunk.append(line)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def encode_file(encoder, input_path: str | Path, output_path: str | Path, batch_size: int = 64,
                normalize: bool = False, chunk_size: int = 50_000,
                show_progress: bool = True) -> dict:
    """Embeds each line of ``input_path`` and writes ``output_path`` (``.npy`` or ``.jsonl``).

    Args:
        encoder: a :class:`ct.SentenceEncoder`.
        input_path: UTF-8 text, one sentence per line.
        output_path: ``.npy`` (a ``[lines, dim]`` float32 array) or ``.jsonl``
            (``{"text": ..., "embedding": [...]}`` per line).
        batch_size: sentences per forward pass.
        normalize: L2-normalise the vectors.
        chunk_size: lines held in memory at once.
        show_progress: show progress (sentences): True or a mode of :mod:`ct.progress`.

    Returns:
        ``{"sentences", "dim", "seconds", "sentences_per_s", "output"}``.

    Raises:
        DataError: unreadable input, an empty file, or an unsupported output suffix.
    """
    output_path = Path(output_path)
    if output_path.suffix not in OUTPUT_FORMATS:
        raise DataError(f"output {output_path} must end in {' or '.join(OUTPUT_FORMATS)}")
    total = sum(1 for _ in iter_decoded_lines(input_path, "input file"))
    if total == 0:
        raise DataError(f"input file {input_path} is empty")
    output_path.parent.mkdir(parents=True, exist_ok=True)
    progress = Progress("encoding", total=total, unit="sentence", mode=as_mode(show_progress),
                        every=max(chunk_size // 5, batch_size))
    start, written = time.perf_counter(), 0
    if output_path.suffix == ".npy":
        array = np.lib.format.open_memmap(output_path, mode="w+", dtype=np.float32,
                                          shape=(total, encoder.embedding_dim))
        for chunk in _chunks(input_path, chunk_size):
            array[written:written + len(chunk)] = encoder.encode(
                chunk, batch_size=batch_size, normalize=normalize, on_batch=progress.advance)
            written += len(chunk)
        array.flush()
        del array
    else:
        with open(output_path, "w", encoding="utf-8") as handle:
            for chunk in _chunks(input_path, chunk_size):
                vectors = encoder.encode(chunk, batch_size=batch_size, normalize=normalize,
                                         on_batch=progress.advance)
                for text, vector in zip(chunk, vectors):
                    handle.write(json.dumps({"text": text, "embedding": vector.tolist()}) + "\n")
                written += len(chunk)
    progress.close()
    seconds = time.perf_counter() - start
    return {"sentences": written, "dim": encoder.embedding_dim, "seconds": seconds,
            "sentences_per_s": written / max(seconds, 1e-9), "output": str(output_path)}
