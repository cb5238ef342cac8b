"""The CT model: two independently initialised encoders and the CT training step.

Carlsson et al. (ICLR 2021) re-tune a pretrained encoder by making two copies of it, both
initialised from the same checkpoint but with separate variables, and training them to give a
high dot product for the same sentence and a low one for two different sentences.

``train_step`` is the single implementation of the update: the custom training loop calls it
through ``strategy.run`` and Keras ``fit`` calls it directly.

Example:
    >>> model = ContrastiveTensionModel.from_pretrained("bundled:all-MiniLM-L6-v2")
    >>> model.compile(optimizer=build_optimizer(OptimizerConfig()))
"""

from __future__ import annotations

import math
from typing import Optional

from ct._keras import keras, tf
from ct.losses.contrastive_tension import (contrastive_tension_logits, contrastive_tension_loss,
                                           split_positive_negative)
from ct.losses.contrastive_tension_ibn import contrastive_tension_ibn_loss, in_batch_accuracy
from ct.modeling.cross_replica import gather_global_batch
from ct.modeling.encoder import SentenceEncoder
from ct.modeling.guarded_update import apply_finite_update, count_tokens, loss_and_gradients
from ct.modeling.loading import load_tokenizer

FEATURE_KEYS = ("input_ids_1", "attention_mask_1", "input_ids_2", "attention_mask_2")


class ContrastiveTensionModel(keras.Model):
    """Two sentence encoders trained with the CT objective.

    Args:
        encoder_1: model 1 of the paper.
        encoder_2: model 2 (the paper reports it is usually the better one after training).
        dropout: run the backbones in training mode. The original code trains with
            ``training=False``, i.e. dropout off, which the paper's results rely on.
        objective: ``"ct"`` (the paper's) or ``"ct_ibn"`` (in-batch negatives: both models
            embed the same sentences; see :mod:`ct.losses.contrastive_tension_ibn`).
        ibn_similarity, ibn_scale, ibn_learn_scale: ``ct_ibn``'s similarity (cosine or dot),
            its scale, and whether ``log(scale)`` is trained (as in sentence-transformers).

    Inputs to ``call``/``train_step``: a dict with ``input_ids_1``, ``attention_mask_1``
    (what model 1 sees) and ``input_ids_2``, ``attention_mask_2`` (what model 2 sees), and
    for ``train_step`` a float label per pair (1 = same sentence, 0 = different).
    """

    def __init__(self, encoder_1: SentenceEncoder, encoder_2: SentenceEncoder,
                 dropout: bool = False, jit_compile: bool = False, objective: str = "ct",
                 ibn_similarity: str = "cosine", ibn_scale: float = 20.0,
                 ibn_learn_scale: bool = True, **kwargs):
        super().__init__(**kwargs)
        if objective not in ("ct", "ct_ibn"):
            raise ValueError(f"objective must be 'ct' or 'ct_ibn', got {objective!r}")
        self.encoder_1 = encoder_1
        self.encoder_2 = encoder_2
        self.dropout = dropout
        self.objective = objective
        self.ibn_similarity = ibn_similarity
        # train_step returns each replica's share of the global means: fit must sum them.
        self.distribute_reduction_method = "sum"
        if objective == "ct_ibn":
            self.metric_names = ("loss", "accuracy")
            self.log_scale = tf.Variable(math.log(ibn_scale), trainable=ibn_learn_scale,
                                         dtype=tf.float32, name="ibn_log_scale")
        else:
            self.metric_names = ("loss", "positive_loss", "negative_loss")
        self._gradient_function = (tf.function(self._loss_and_gradients, jit_compile=True)
                                   if jit_compile else self._loss_and_gradients)

    @classmethod
    def from_pretrained(cls, name_or_path: str, pooling: str = "mean", max_length: int = 75,
                        dropout: bool = False, tokenizer=None, jit_compile: bool = False,
                        **objective_options) -> "ContrastiveTensionModel":
        """Loads the checkpoint twice, into two encoders with separate variables.

        ``objective_options``: ``objective`` and the ``ibn_*`` options of the constructor."""
        tokenizer = tokenizer or load_tokenizer(name_or_path)
        # Each copy is loaded on its own (separate variables), with any saved projection.
        encoders = [SentenceEncoder.from_pretrained(name_or_path, pooling=pooling,
                                                    max_length=max_length, tokenizer=tokenizer,
                                                    name=f"encoder_{i}")
                    for i in (1, 2)]
        return cls(*encoders, dropout=dropout, jit_compile=jit_compile, **objective_options)

    @property
    def encoders(self) -> tuple[SentenceEncoder, SentenceEncoder]:
        """``(encoder_1, encoder_2)``."""
        return self.encoder_1, self.encoder_2

    def embed_pairs(self, inputs: dict, training: Optional[bool] = False):
        """``(model 1's embeddings of texts_1, model 2's embeddings of texts_2)``."""
        backbone_training = bool(training) and self.dropout
        embeddings_1 = self.encoder_1({"input_ids": inputs["input_ids_1"],
                                       "attention_mask": inputs["attention_mask_1"]},
                                      training=backbone_training)
        embeddings_2 = self.encoder_2({"input_ids": inputs["input_ids_2"],
                                       "attention_mask": inputs["attention_mask_2"]},
                                      training=backbone_training)
        return embeddings_1, embeddings_2

    def call(self, inputs: dict, training: Optional[bool] = False) -> tf.Tensor:
        """CT logits ``[batch]``: dot products of the two models' pooled embeddings."""
        return contrastive_tension_logits(*self.embed_pairs(inputs, training=training))

    def _ibn_loss(self, features: dict):
        """``ct_ibn``: per-sentence losses and in-batch accuracy, with every replica's
        sentences as negatives (embeddings are all-gathered; the gather is differentiable,
        so the update equals the single-device one)."""
        embeddings_1, embeddings_2 = self.embed_pairs(features, training=True)
        (all_1, all_2), offset = gather_global_batch(embeddings_1, embeddings_2)
        per_sentence = contrastive_tension_ibn_loss(
            embeddings_1, embeddings_2, tf.exp(self.log_scale), self.ibn_similarity,
            all_embeddings_1=all_1, all_embeddings_2=all_2, offset=offset)
        correct = in_batch_accuracy(tf.stop_gradient(embeddings_1), tf.stop_gradient(all_2),
                                    self.ibn_similarity, offset)
        return per_sentence, correct

    def _loss_and_gradients(self, features: dict, labels: tf.Tensor):
        """Per-pair losses (``ct``) or per-sentence accuracy (``ct_ibn``), this replica's
        loss and the (unscaled) gradients.

        XLA-compiled when ``jit_compile`` is on; the optimizer update stays outside, where
        gradients are summed across replicas.
        """
        def compute_loss():
            if self.objective == "ct_ibn":
                per_sentence, correct = self._ibn_loss(features)
                return correct, tf.nn.compute_average_loss(per_sentence)
            per_pair_loss = contrastive_tension_loss(self(features, training=True), labels)
            return per_pair_loss, tf.nn.compute_average_loss(per_pair_loss)

        return loss_and_gradients(self.optimizer, self.trainable_variables, compute_loss)

    def train_step(self, data) -> dict:
        """One CT update on a (per-replica) batch; returns this replica's share of the metrics.

        The loss is averaged over the *global* batch (``tf.nn.compute_average_loss``), so
        summing the returned values over replicas gives the global means, and gradients summed
        by the optimizer across replicas equal the single-device gradient. ``tokens`` counts
        the real (non-padding) tokens both models processed; ``nonfinite`` is 1 (summed) when
        the loss or a gradient was NaN/inf and the update was dropped.
        """
        features, labels = data
        per_pair, loss, gradients = self._gradient_function(features, labels)
        nonfinite = apply_finite_update(self.optimizer, gradients, self.trainable_variables,
                                        loss)
        if self.objective == "ct_ibn":
            return {"loss": loss, "accuracy": tf.nn.compute_average_loss(per_pair),
                    "tokens": count_tokens(features), "nonfinite": nonfinite}
        per_pair_loss = per_pair
        positive_sum, negative_sum, num_positive, num_negative = split_positive_negative(
            per_pair_loss, labels)
        replicas = tf.cast(tf.distribute.get_strategy().num_replicas_in_sync, tf.float32)
        return {
            "loss": loss,
            "positive_loss": positive_sum / (num_positive * replicas),
            "negative_loss": negative_sum / (num_negative * replicas),
            "tokens": count_tokens(features),
            "nonfinite": nonfinite,
        }
