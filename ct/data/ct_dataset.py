"""The CT training pipeline on ``tf.data``: stream, shuffle, arrange, split, tokenize.

Sentences are streamed from the corpus, repeated, shuffled with a seeded buffer, grouped into
the sentences one *global* batch consumes and arranged into positive/negative pairs. With
several replicas, each global batch is cut into one contiguous per-replica batch per replica
(whole groups of 1 positive + K negatives each), so any number of replicas trains on exactly the
batches a single device would see. The same seed gives the same batches. With ``shuffle_buffer``
at least the corpus size, each pass is a uniform random permutation, like the original code's
sampling from the whole corpus.

The position in the stream can be a variable (``start_position``), read when iteration starts:
a run restored from a checkpoint sets it to the restored step and the stream continues where
it stopped (skipping happens before tokenization, so it is cheap).
"""

from __future__ import annotations

from typing import Optional, Union

from ct._keras import tf
from ct.data.corpus import Corpus
from ct.data.ct_sampling import arrange_ct_batch, sentences_per_batch
from ct.data.tokenization import make_pair_tokenizer


def build_ct_dataset(corpus: Corpus, tokenizer, *, batch_size: int = 16, num_negatives: int = 7,
                     max_length: int = 75, seed: int = 42, shuffle_buffer: int = 100_000,
                     padding: str = "longest",
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
        seed: shuffling seed.
        shuffle_buffer: sentences held in the shuffle buffer.
        padding: ``"longest"`` or ``"max_length"``.
        start_position: global batches to skip first; an int, or a variable read when
            iteration starts (used to resume).
        num_replicas: replicas in sync; each element is then one replica's batch of
            ``batch_size / num_replicas`` pairs, in replica order.
        input_pipeline_id, num_input_pipelines: with several workers, this pipeline keeps
            only the per-replica batches of its own replicas.

    Returns:
        A ``tf.data.Dataset``; features are ``input_ids_1``, ``attention_mask_1``,
        ``input_ids_2``, ``attention_mask_2`` (int32 ``[batch, length]``), labels float32.
    """
    sentences = tf.data.Dataset.from_generator(
        corpus.iter_sentences, output_signature=tf.TensorSpec([], tf.string))
    dataset = (sentences.repeat()
               .shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
               .batch(sentences_per_batch(batch_size, num_negatives), drop_remainder=True))
    dataset = _skip(dataset, start_position)
    dataset = dataset.map(lambda batch: arrange_ct_batch(batch, num_negatives))
    if num_replicas > 1:
        dataset = _split_for_replicas(dataset, num_replicas, input_pipeline_id,
                                      num_input_pipelines)
    dataset = (dataset.map(make_pair_tokenizer(tokenizer, max_length, padding))
               .prefetch(tf.data.AUTOTUNE))
    options = tf.data.Options()
    options.deterministic = True
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return dataset.with_options(options)


def _skip(dataset: tf.data.Dataset, start_position) -> tf.data.Dataset:
    if isinstance(start_position, int):
        return dataset.skip(start_position) if start_position else dataset
    # Read the variable per element: it stays constant until training starts, and the stream
    # runs ahead of training afterwards (index >= steps taken), so only the start is skipped.
    return (dataset.enumerate()
            .filter(lambda index, _: index >= tf.cast(start_position, tf.int64))
            .map(lambda _, batch: batch))


def _split_for_replicas(dataset: tf.data.Dataset, num_replicas: int, input_pipeline_id: int,
                        num_input_pipelines: int) -> tf.data.Dataset:
    def split(texts_1, texts_2, labels):
        parts = [tf.reshape(t, [num_replicas, -1]) for t in (texts_1, texts_2, labels)]
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


def make_dataset_fn(corpus: Corpus, tokenizer, start_position: Optional[tf.Variable] = None,
                    **kwargs):
    """A ``dataset_fn(input_context)`` for ``distribute_datasets_from_function`` and Keras'
    ``DatasetCreator``: one pipeline per worker, split into per-replica batches."""

    def dataset_fn(input_context: tf.distribute.InputContext) -> tf.data.Dataset:
        return build_ct_dataset(
            corpus, tokenizer, start_position=start_position if start_position is not None else 0,
            num_replicas=input_context.num_replicas_in_sync,
            input_pipeline_id=input_context.input_pipeline_id,
            num_input_pipelines=input_context.num_input_pipelines, **kwargs)

    return dataset_fn
