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
from ct.data.batching import make_stream_fn, skip_batches, split_for_replicas, tokenize_and_finish
from ct.data.corpus import Corpus
from ct.data.ct_sampling import arrange_batch, sentences_per_batch


def build_ct_dataset(corpus: Corpus, tokenizer, *, batch_size: int = 16, num_negatives: int = 7,
                     max_length: int = 75, seed: int = 42, shuffle_buffer: int = 100_000,
                     padding: str = "longest", objective: str = "ct",
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
        objective: ``"ct"`` (the paper's batch layout) or ``"ct_ibn"`` (``batch_size``
            sentences, the same to both models).
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
               .batch(sentences_per_batch(batch_size, num_negatives, objective),
                      drop_remainder=True))
    dataset = skip_batches(dataset, start_position)
    dataset = dataset.map(lambda batch: arrange_batch(batch, num_negatives, objective))
    dataset = split_for_replicas(dataset, num_replicas, input_pipeline_id, num_input_pipelines)
    return tokenize_and_finish(dataset, tokenizer, max_length, padding)


def make_dataset_fn(corpus: Corpus, tokenizer, start_position: Optional[tf.Variable] = None,
                    **kwargs):
    """A ``dataset_fn(input_context)`` for ``distribute_datasets_from_function`` and Keras'
    ``DatasetCreator``: one pipeline per worker, split into per-replica batches."""
    return make_stream_fn(lambda **where: build_ct_dataset(corpus, tokenizer, **kwargs, **where),
                          start_position)
