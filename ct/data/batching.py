"""Pipeline steps shared by every training stream (CT and the supervised stages).

A stream is a sequence of *global* batches of text columns plus labels, numbered from the
position a run starts at (any position costs the same, so resuming is immediate). These steps
number the batches, draw each epoch's examples in a seeded permutation, cut each global batch
into per-replica batches (so any number of replicas trains on exactly the batches one device
would see), tokenize, and fix the pipeline options.
"""

from __future__ import annotations

from typing import Union

from ct._keras import tf
from ct.data.permutation import permute
from ct.data.tokenization import make_ragged_tokenizer, pad_chunk


# Batches numbered from the start position on: effectively endless.
_ENDLESS = 2 ** 62


def batch_numbers(start_position: Union[int, tf.Variable], chunk: int = 0) -> tf.data.Dataset:
    """The global batch numbers ``start, start + 1, ...`` of a stream (with ``chunk``, in
    vectors of ``chunk`` consecutive numbers).

    ``start_position`` may be a variable, read when each element is produced: it must hold the
    step a run starts (or resumes) from when iteration begins and stay constant afterwards
    (the trainer sets it once, before the first step). Skipping to any position costs nothing.
    """
    numbers = tf.data.Dataset.range(_ENDLESS)
    if chunk:
        numbers = numbers.batch(chunk)
    if isinstance(start_position, int):
        return numbers.map(lambda number: number + start_position) if start_position \
            else numbers
    return numbers.map(lambda number: number + tf.cast(start_position, tf.int64))


def epoch_example_ids(batch_number: tf.Tensor, count: int, batch_size: int,
                      seed: int) -> tf.Tensor:
    """``[batch_size]`` example numbers of global batch ``batch_number`` when every epoch is
    a fresh seeded permutation of ``count`` examples cut into ``count // batch_size`` batches
    (the rest of an epoch is dropped, a different rest each epoch)."""
    per_epoch = count // batch_size
    epoch = batch_number // per_epoch
    offsets = (batch_number % per_epoch) * batch_size + tf.range(batch_size, dtype=tf.int64)

    def ids(epoch_value, offset_values):
        return permute(offset_values, count, seed, int(epoch_value))

    result = tf.numpy_function(ids, [epoch, offsets], tf.int64, stateful=False)
    return tf.ensure_shape(result, [batch_size])


def split_for_replicas(dataset: tf.data.Dataset, num_replicas: int, input_pipeline_id: int = 0,
                       num_input_pipelines: int = 1) -> tf.data.Dataset:
    """Cuts each global batch (a tuple of ``[batch]`` columns) into ``num_replicas`` contiguous
    per-replica batches, in replica order; with several input pipelines (workers), keeps only
    this pipeline's replicas."""
    if num_replicas <= 1:
        return dataset

    def split(*columns):
        # [batch, ...] -> [replicas, batch / replicas, ...] (labels may be vectors)
        parts = [tf.reshape(c, tf.concat([[num_replicas, -1], tf.shape(c)[1:]], axis=0))
                 for c in columns]
        return tf.data.Dataset.from_tensor_slices(tuple(parts))

    dataset = dataset.flat_map(split)
    replicas_per_pipeline = num_replicas // num_input_pipelines
    if num_input_pipelines > 1:
        first = input_pipeline_id * replicas_per_pipeline
        dataset = (dataset.enumerate()
                   .filter(lambda i, _: tf.logical_and(i % num_replicas >= first,
                                                        i % num_replicas < first
                                                        + replicas_per_pipeline))
                   .map(lambda _, batch: batch))
    return dataset


def split_chunks_for_replicas(dataset: tf.data.Dataset, num_replicas: int,
                              input_pipeline_id: int = 0,
                              num_input_pipelines: int = 1) -> tf.data.Dataset:
    """:func:`split_for_replicas` on chunks of global batches (tuples of ``[chunk, batch,
    ...]`` columns): each chunk becomes ``[chunk x replicas, batch / replicas, ...]``, this
    pipeline's per-replica batches in the order :func:`split_for_replicas` gives them."""
    if num_replicas <= 1:
        return dataset
    replicas_per_pipeline = num_replicas // num_input_pipelines
    first = input_pipeline_id * replicas_per_pipeline

    def split(*columns):
        parts = []
        for column in columns:
            shape = tf.shape(column)
            # [chunk, batch, ...] -> [chunk, replicas, batch / replicas, ...] -> this
            # pipeline's replicas -> [chunk x its replicas, batch / replicas, ...]
            column = tf.reshape(column, tf.concat([shape[:1], [num_replicas, -1], shape[2:]],
                                                  axis=0))
            column = column[:, first:first + replicas_per_pipeline]
            parts.append(tf.reshape(column, tf.concat([[-1], tf.shape(column)[2:]], axis=0)))
        return tuple(parts)

    return dataset.map(split)


# Batches tokenized per tokenizer call (see ct.data.tokenization.make_ragged_tokenizer).
TOKENIZE_CHUNK = 32


def tokenize_and_finish(dataset: tf.data.Dataset, tokenizer, max_length: int,
                        padding: str, chunk: int = 0) -> tf.data.Dataset:
    """Tokenizes every text column, prefetches, and makes the order deterministic; sharding is
    off because the stream is already split per replica.

    ``chunk`` consecutive batches are tokenized by one call, several chunks at once in
    parallel threads, and each batch is then padded on its own: the batches are exactly those
    of tokenizing batch by batch (``tokenizer(texts, padding=padding)``), in the same order.
    """
    return tokenize_chunks(dataset.batch(chunk or TOKENIZE_CHUNK), tokenizer, max_length,
                           padding)


def tokenize_chunks(dataset: tf.data.Dataset, tokenizer, max_length: int,
                    padding: str) -> tf.data.Dataset:
    """:func:`tokenize_and_finish` on a stream already in chunks of batches (tuples of
    ``[chunk, batch]`` text columns and ``[chunk, batch, ...]`` labels): yields the batches
    one by one."""
    tokenize = make_ragged_tokenizer(tokenizer, max_length)

    def tokenize_chunk(*columns):
        *texts, labels = columns
        padded = []
        for column in texts:  # [chunk, batch] strings
            rows = tokenize(tf.reshape(column, [-1]))
            padded.append(pad_chunk(rows, tf.shape(column)[0], tokenizer, max_length, padding))
        return (*padded, labels)

    def batch_columns(*columns):
        *padded, labels = columns
        features = {}
        for index, (ids, mask, width) in enumerate(padded, start=1):
            features[f"input_ids_{index}"] = ids[:, :width]
            features[f"attention_mask_{index}"] = mask[:, :width]
        # one label per example: a number, or a vector (the align stage's targets)
        return features, tf.ensure_shape(labels, [None, *labels.shape[1:]])

    # Tokenized and padded per chunk (in parallel), then cut into batches: each batch's
    # columns are trimmed to its own width, so a batch is what padding it alone gives.
    dataset = (dataset
               .map(tokenize_chunk, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
               .unbatch()
               .map(batch_columns)
               .prefetch(tf.data.AUTOTUNE))
    options = tf.data.Options()
    options.deterministic = True
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return dataset.with_options(options)


def make_stream_fn(build, start_position=None):
    """A ``dataset_fn(input_context)`` for ``distribute_datasets_from_function`` and Keras'
    ``DatasetCreator``: calls ``build(start_position=..., num_replicas=...,
    input_pipeline_id=..., num_input_pipelines=...)`` once per worker."""

    def dataset_fn(input_context: tf.distribute.InputContext) -> tf.data.Dataset:
        return build(start_position=start_position if start_position is not None else 0,
                     num_replicas=input_context.num_replicas_in_sync,
                     input_pipeline_id=input_context.input_pipeline_id,
                     num_input_pipelines=input_context.num_input_pipelines)

    return dataset_fn
