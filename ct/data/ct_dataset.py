"""The CT training stream on ``tf.data``: number, sample, arrange, split, read, tokenize.

Sampling: the corpus' sentences are drawn as an endless sequence of epochs, each a seeded
uniform permutation of *all* sentences of all files (:mod:`ct.data.permutation`); a batch
takes the next ``sentences_per_batch`` of them. This is the authors' sampling from the whole
corpus, without replacement within an epoch, so every sentence is used once before any is
used again; and since position ``p`` of the stream is computed from ``p`` alone, a run starts
(or resumes at step N) without reading anything before it.

Global batch ``b`` is arranged into positive and negative pairs of sentence *numbers*, cut into
one contiguous per-replica batch per replica (whole groups of 1 positive + K negatives each, so
any number of replicas trains on exactly the batches a single device would see), and only then
are the texts read: each worker reads only its own share. ``ct sample`` writes the batches of
:func:`ct_text_batches`, the same stream before the replica split.

Example:
    >>> dataset = build_ct_dataset(corpus, tokenizer, batch_size=16, num_negatives=7)
    >>> features, labels = next(iter(dataset))
"""

from __future__ import annotations

from typing import Iterator, Optional, Union

import numpy as np

from ct._keras import tf
from ct.data.batching import (TOKENIZE_CHUNK, batch_numbers, make_stream_fn,
                              split_chunks_for_replicas, tokenize_chunks)
from ct.data.corpus import Corpus
from ct.data.ct_sampling import CTBatchSampler
from ct.data.tokenization import make_ragged_tokenizer


def ct_id_chunks(sampler: CTBatchSampler, start_position: Union[int, tf.Variable] = 0,
                 chunk: int = TOKENIZE_CHUNK) -> tf.data.Dataset:
    """Global batches of sentence numbers, ``(ids_1, ids_2, labels)``, from ``start_position``
    on (see :class:`ct.data.ct_sampling.CTBatchSampler`), in chunks of ``chunk`` consecutive
    batches: each column ``[chunk, pairs]``."""
    pairs = sampler.pairs_per_batch

    def chunk_ids(numbers):
        ids_1, ids_2, labels = tf.numpy_function(sampler.chunk_ids, [numbers],
                                                 [tf.int64, tf.int64, tf.float32],
                                                 stateful=False)
        return (tf.ensure_shape(ids_1, [None, pairs]), tf.ensure_shape(ids_2, [None, pairs]),
                tf.ensure_shape(labels, [None, pairs]))

    # One call at a time: with length grouping, consecutive chunks share the sampler's window.
    return batch_numbers(start_position, chunk).map(chunk_ids)


def read_texts(corpus: Corpus):
    """``fn(ids_1, ids_2, labels) -> (texts_1, texts_2, labels)`` reading from ``corpus``
    (ids of any shape, e.g. ``[chunk, pairs]``; both columns in one read)."""

    def read(ids_1: np.ndarray, ids_2: np.ndarray) -> np.ndarray:
        texts = corpus.read(np.concatenate([ids_1.reshape(-1), ids_2.reshape(-1)]))
        return np.array([text.encode("utf-8") for text in texts],
                        dtype=object).reshape(2, *ids_1.shape)

    def texts(ids_1, ids_2, labels):
        both = tf.numpy_function(read, [ids_1, ids_2], tf.string, stateful=False)
        both = tf.reshape(both, tf.concat([[2], tf.shape(ids_1)], axis=0))
        return both[0], both[1], labels

    return texts


def make_sampler(corpus: Corpus, *, batch_size: int, num_negatives: int, seed: int,
                 objective: str, group_batches: int = 0, tokenizer=None,
                 max_length: int = 75) -> CTBatchSampler:
    """The :class:`ct.data.ct_sampling.CTBatchSampler` of a corpus and batch layout.

    Length grouping (``group_batches``) sorts by the sentences' token counts when
    ``tokenizer`` is given (what training and ``ct sample`` do), else by their lines' byte
    lengths: token counts leave about 2% padding where byte lengths leave about 22% (the
    bundled Wikipedia sample, MiniLM's tokenizer, 64 batches per window).
    """
    if tokenizer is None:
        lengths = corpus.byte_lengths
    else:
        # The pipeline's tokenizer (tf-text in the graph where it gives the same ids),
        # compiled: the counts of token_counts(tokenizer, ...), several times faster.
        tokenize = make_ragged_tokenizer(tokenizer, max_length)
        counts = tf.function(lambda texts: tokenize(texts).row_lengths(),
                             input_signature=[tf.TensorSpec([None], tf.string)])

        def lengths(ids: np.ndarray) -> np.ndarray:
            return counts(tf.constant(corpus.read(ids), dtype=tf.string)).numpy()
    return CTBatchSampler(len(corpus), batch_size, num_negatives, seed, objective,
                          group_batches=group_batches, lengths=lengths)


def sample_batches(corpus: Corpus, sampler: CTBatchSampler, start_position: int,
                   steps: int) -> Iterator[tuple[list[str], list[str], np.ndarray]]:
    """``(texts_1, texts_2, labels)`` of ``steps`` global batches from ``start_position`` on:
    what a run trains on (the same sampler and reader as :func:`build_ct_dataset`, without
    TensorFlow; ``ct sample`` writes these)."""
    for batch_number in range(start_position, start_position + steps):
        ids_1, ids_2, labels = sampler.ids(batch_number)
        yield corpus.read(ids_1), corpus.read(ids_2), labels


def build_ct_dataset(corpus: Corpus, tokenizer, *, batch_size: int = 16, num_negatives: int = 7,
                     max_length: int = 75, seed: int = 42, padding: str = "longest",
                     objective: str = "ct", group_batches: int = 0,
                     start_position: Union[int, tf.Variable] = 0,
                     num_replicas: int = 1, input_pipeline_id: int = 0,
                     num_input_pipelines: int = 1) -> tf.data.Dataset:
    """An endless dataset of ``(features, labels)`` CT batches.

    Args:
        corpus: where the sentences come from.
        tokenizer: transformers tokenizer of the encoder.
        batch_size: global sentence pairs per step (CT paper: 16).
        num_negatives: K negative pairs per positive pair (CT paper: 7).
        max_length: truncation length in tokens (CT paper: 75).
        seed: the sampling seed.
        padding: ``"longest"`` or ``"max_length"``.
        objective: ``"ct"`` (the paper's batch layout) or ``"ct_ibn"`` (``batch_size``
            sentences, the same to both models).
        group_batches: length grouping over this many batches (see
            :class:`ct.data.ct_sampling.CTBatchSampler`); 0: off.
        start_position: the global batch to start at (the steps already trained); an int, or
            a variable read when iteration starts (used to resume).
        num_replicas: replicas in sync; each element is then one replica's batch of
            ``batch_size / num_replicas`` pairs, in replica order.
        input_pipeline_id, num_input_pipelines: with several workers, this pipeline keeps
            (and reads) only the per-replica batches of its own replicas.

    Returns:
        A ``tf.data.Dataset``; features are ``input_ids_1``, ``attention_mask_1``,
        ``input_ids_2``, ``attention_mask_2`` (int32 ``[batch, length]``), labels float32.
    """
    sampler = make_sampler(corpus, batch_size=batch_size, num_negatives=num_negatives,
                           seed=seed, objective=objective, group_batches=group_batches,
                           tokenizer=tokenizer, max_length=max_length)
    # Everything per chunk of batches (one Python call each); cut per replica before
    # reading, so a worker reads only its own replicas' sentences.
    dataset = ct_id_chunks(sampler, start_position)
    dataset = split_chunks_for_replicas(dataset, num_replicas, input_pipeline_id,
                                        num_input_pipelines)
    dataset = dataset.map(read_texts(corpus), num_parallel_calls=tf.data.AUTOTUNE,
                          deterministic=True)
    return tokenize_chunks(dataset, tokenizer, max_length, padding)


def make_dataset_fn(corpus: Corpus, tokenizer, start_position: Optional[tf.Variable] = None,
                    **kwargs):
    """A ``dataset_fn(input_context)`` for ``distribute_datasets_from_function`` and Keras'
    ``DatasetCreator``: one pipeline per worker, split into per-replica batches."""
    return make_stream_fn(lambda **where: build_ct_dataset(corpus, tokenizer, **kwargs, **where),
                          start_position)
