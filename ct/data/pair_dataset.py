"""The training stream of the supervised stages: labelled pairs (or triplets) held in memory.

Each pass over the examples is a fresh seeded permutation (see :mod:`ct.data.permutation`),
cut into global batches; like the CT stream, the position can be a variable read when
iteration starts (to resume, at no cost), each global batch is split into per-replica batches,
and every text column is tokenized.

Example:
    >>> dataset = build_pair_dataset((premises, hypotheses), labels, tokenizer, batch_size=16)
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np

from ct._keras import tf
from ct.data.batching import (batch_numbers, epoch_example_ids, make_stream_fn,
                              split_for_replicas, tokenize_and_finish)


def build_pair_dataset(columns: Sequence[np.ndarray], labels: np.ndarray, tokenizer, *,
                       batch_size: int = 16, max_length: int = 75, seed: int = 42,
                       padding: str = "longest", start_position: Union[int, tf.Variable] = 0,
                       num_replicas: int = 1, input_pipeline_id: int = 0,
                       num_input_pipelines: int = 1) -> tf.data.Dataset:
    """An endless dataset of ``(features, labels)`` batches of labelled examples.

    Args:
        columns: text columns of equal length (2 for pairs, 3 for triplets).
        labels: one label per example (int NLI labels or float scores).
        tokenizer: transformers tokenizer of the encoder.
        batch_size: global examples per step; the last partial batch of an epoch is dropped
            (so every step has the same size), a different one each epoch.
        max_length, padding: as for CT (see :func:`ct.data.tokenization.make_pair_tokenizer`).
        seed: shuffling seed.
        start_position, num_replicas, input_pipeline_id, num_input_pipelines: as in
            :func:`ct.data.ct_dataset.build_ct_dataset`.

    Returns:
        Features ``input_ids_i``/``attention_mask_i`` per column i (int32 ``[batch, length]``)
        and the labels.
    """
    count = len(labels)
    tables = (*(tf.constant(list(column), dtype=tf.string) for column in columns),
              tf.constant(labels))

    def lookup(batch_number):
        ids = epoch_example_ids(batch_number, count, batch_size, seed)
        return tuple(tf.gather(table, ids) for table in tables)

    dataset = batch_numbers(start_position).map(lookup)
    dataset = split_for_replicas(dataset, num_replicas, input_pipeline_id, num_input_pipelines)
    return tokenize_and_finish(dataset, tokenizer, max_length, padding)


def make_pair_dataset_fn(columns: Sequence[np.ndarray], labels: np.ndarray, tokenizer,
                         start_position: Optional[tf.Variable] = None, **kwargs):
    """A ``dataset_fn(input_context)`` of :func:`build_pair_dataset` for the strategies."""
    return make_stream_fn(
        lambda **where: build_pair_dataset(columns, labels, tokenizer, **kwargs, **where),
        start_position)
