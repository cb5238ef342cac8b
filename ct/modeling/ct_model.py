"""The CT model: two copies of one checkpoint, with separate variables, and the CT objective.

Carlsson et al. (ICLR 2021) re-tune a pretrained encoder by making two copies of it, both
initialised from the same checkpoint but with separate variables, and training them to give a
high dot product for the same sentence and a low one for two different sentences.

``train_step`` (from :class:`ct.modeling.training_model.TrainingModel`) is the single
implementation of the update: the custom training loop calls it through ``strategy.run`` and
Keras ``fit`` calls it directly.

Example:
    >>> model = ContrastiveTensionModel.from_pretrained("bundled:all-MiniLM-L6-v2")
    >>> model.compile(optimizer=build_optimizer(OptimizerConfig()))
"""

from __future__ import annotations

import math
from typing import Optional

from ct._keras import tf
from ct.config.schema import CTObjective, choices
from ct.losses.contrastive_tension import (contrastive_tension_logits, contrastive_tension_loss,
                                           split_positive_negative)
from ct.losses.contrastive_tension_ibn import contrastive_tension_ibn_loss, in_batch_accuracy
from ct.losses.similarity import pairwise_similarities
from ct.modeling.cross_replica import gather_global_batch
from ct.modeling.encoder import SentenceEncoder
from ct.modeling.loading import load_tokenizer
from ct.modeling.training_model import TrainingModel


class ContrastiveTensionModel(TrainingModel):
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
        jit_compile, loss_scale_initial, loss_scale_growth_steps, seed: see
            :class:`ct.modeling.training_model.TrainingModel`.

    Inputs to ``call``/``train_step``: a dict with ``input_ids_1``, ``attention_mask_1``
    (what model 1 sees) and ``input_ids_2``, ``attention_mask_2`` (what model 2 sees), and
    for ``train_step`` a float label per pair (1 = same sentence, 0 = different).
    """

    def __init__(self, encoder_1: SentenceEncoder, encoder_2: SentenceEncoder,
                 dropout: bool = False, jit_compile: bool = False, objective: str = "ct",
                 ibn_similarity: str = "cosine", ibn_scale: float = 20.0,
                 ibn_learn_scale: bool = True, **kwargs):
        super().__init__(jit_compile=jit_compile, **kwargs)
        if objective not in choices(CTObjective):
            raise ValueError(f"objective must be one of {choices(CTObjective)}, got "
                             f"{objective!r}")
        self.encoder_1 = encoder_1
        self.encoder_2 = encoder_2
        self.dropout = dropout
        self.objective = objective
        self.ibn_similarity = ibn_similarity
        if objective == "ct_ibn":
            self.metric_names = ("loss", "accuracy")
            self.log_scale = tf.Variable(math.log(ibn_scale), trainable=ibn_learn_scale,
                                         dtype=tf.float32, name="ibn_log_scale")
        else:
            self.metric_names = ("loss", "positive_loss", "negative_loss")
        self.attach_encoders()

    @classmethod
    def from_pretrained(cls, name_or_path: str, pooling: str = "mean", max_length: int = 75,
                        dropout: bool = False, tokenizer=None, jit_compile: bool = False,
                        **objective_options) -> "ContrastiveTensionModel":
        """Loads the checkpoint twice, into two encoders with separate variables.

        ``objective_options``: ``objective``, the ``ibn_*`` and ``loss_scale_*`` options of the
        constructor."""
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
        """The objective's logits: ``[batch]`` dot products of the two models' pooled
        embeddings (``ct``), or the ``[batch, batch]`` scaled similarity matrix of model 1's
        sentences against model 2's (``ct_ibn``)."""
        embeddings_1, embeddings_2 = self.embed_pairs(inputs, training=training)
        if self.objective == "ct_ibn":
            return pairwise_similarities(embeddings_1, embeddings_2, self.ibn_similarity,
                                         tf.exp(self.log_scale))
        return contrastive_tension_logits(embeddings_1, embeddings_2)

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

    def replica_loss(self, features: dict, labels: tf.Tensor):
        """``(per-pair losses, loss)`` for ``ct``; ``(per-sentence accuracy, loss)`` for
        ``ct_ibn``."""
        if self.objective == "ct_ibn":
            per_sentence, correct = self._ibn_loss(features)
            return correct, tf.nn.compute_average_loss(per_sentence)
        embeddings_1, embeddings_2 = self.embed_pairs(features, training=True)
        per_pair_loss = contrastive_tension_loss(
            contrastive_tension_logits(embeddings_1, embeddings_2), labels)
        return per_pair_loss, tf.nn.compute_average_loss(per_pair_loss)

    def step_metrics(self, outputs, loss: tf.Tensor, labels: tf.Tensor) -> dict:
        """``loss`` and ``positive_loss``/``negative_loss`` (the mean loss over positive and
        over negative pairs, as the original code logs), or ``accuracy`` for ``ct_ibn``."""
        if self.objective == "ct_ibn":
            return {"loss": loss, "accuracy": tf.nn.compute_average_loss(outputs)}
        positive_sum, negative_sum, num_positive, num_negative = split_positive_negative(
            outputs, labels)
        replicas = tf.cast(tf.distribute.get_strategy().num_replicas_in_sync, tf.float32)
        return {"loss": loss,
                "positive_loss": positive_sum / (num_positive * replicas),
                "negative_loss": negative_sum / (num_negative * replicas)}
