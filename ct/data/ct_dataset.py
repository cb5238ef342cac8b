"""The CT training pipeline on ``tf.data``: stream, shuffle, arrange, tokenize.

Sentences are streamed from the corpus, repeated, shuffled with a seeded buffer, grouped into
the sentences one batch consumes, arranged into positive/negative pairs and tokenized. The same
seed gives the same batches. With ``shuffle_buffer`` at least the corpus size, sampling is a
uniform random permutation per pass, like the original code's sampling from the whole corpus.
"""

from __future__ import annotations

from ct._keras import tf
from ct.data.corpus import Corpus
from ct.data.ct_sampling import arrange_ct_batch, sentences_per_batch
from ct.data.tokenization import make_pair_tokenizer


def build_ct_dataset(corpus: Corpus, tokenizer, *, batch_size: int = 16, num_negatives: int = 7,
                     max_length: int = 75, seed: int = 42, shuffle_buffer: int = 100_000,
                     padding: str = "longest", skip_batches: int = 0) -> tf.data.Dataset:
    """An endless dataset of ``(features, labels)`` CT batches.

    Args:
        corpus: where the sentences come from.
        tokenizer: transformers tokenizer of the encoder.
        batch_size: sentence pairs per batch (CT paper: 16).
        num_negatives: K negative pairs per positive pair (CT paper: 7).
        max_length: truncation length in tokens (CT paper: 75).
        seed: shuffling seed.
        shuffle_buffer: sentences held in the shuffle buffer.
        padding: ``"longest"`` or ``"max_length"``.
        skip_batches: batches to skip first (cheap: before tokenization), to resume a run.

    Returns:
        A ``tf.data.Dataset``; features are ``input_ids_1``, ``attention_mask_1``,
        ``input_ids_2``, ``attention_mask_2`` (int32 ``[batch, length]``), labels float32.
    """
    sentences = tf.data.Dataset.from_generator(
        corpus.iter_sentences, output_signature=tf.TensorSpec([], tf.string))
    dataset = (sentences.repeat()
               .shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
               .batch(sentences_per_batch(batch_size, num_negatives), drop_remainder=True))
    if skip_batches:
        dataset = dataset.skip(skip_batches)
    dataset = (dataset
               .map(lambda batch: arrange_ct_batch(batch, num_negatives))
               .map(make_pair_tokenizer(tokenizer, max_length, padding))
               .prefetch(tf.data.AUTOTUNE))
    options = tf.data.Options()
    options.deterministic = True
    return dataset.with_options(options)
