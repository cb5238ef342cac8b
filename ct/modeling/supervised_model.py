"""One sentence encoder trained on labelled pairs: the supervised NLI and STS-B stages.

The CT authors' strongest models chain CT with supervised stages (Carlsson et al., ICLR 2021,
"NLI-CT" and "CT-STSb"), trained as in Sentence-BERT (Reimers & Gurevych, EMNLP 2019). The
objectives (see ``ct.losses``):

- ``softmax_nli``: a softmax classifier over ``[u; v; |u-v|]`` predicts entailment / neutral /
  contradiction; the classifier is trained with the encoder and dropped afterwards;
- ``in_batch_negatives``: anchor, positive (entailment) and hard negative (contradiction);
  every other positive and negative in the batch is a negative too;
- ``cosine_similarity``: the cosine of the two embeddings regresses onto the gold STS score
  scaled to [0, 1];
- ``align_mse``, ``align_cosine``, ``align_contrastive``: the ``align`` stage; one text column,
  and the labels are the target vectors (see :mod:`ct.losses.alignment`).

Like :class:`ct.modeling.ct_model.ContrastiveTensionModel`, ``train_step`` is the one update
used by the custom loop and by Keras ``fit``.

Example:
    >>> model = SupervisedPairModel(encoder, objective="cosine_similarity")
    >>> model.compile(optimizer=build_optimizer(supervised_optimizer(), total_steps=1000))
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from ct._keras import keras, tf
from ct.config.schema import AlignLoss, choices
from ct.losses.alignment import (contrastive_alignment_loss, cosine_alignment_loss,
                                 mse_alignment_loss)
from ct.losses.cosine_similarity import cosine_similarity_loss
from ct.losses.distillation import (layer_matching_loss, listmle_loss,
                                    listwise_distillation_loss)
from ct.losses.in_batch_negatives import in_batch_negatives_loss
from ct.losses.softmax_nli import NUM_NLI_LABELS, nli_classifier_features, softmax_nli_loss
from ct.modeling.cross_replica import gather_global_batch
from ct.modeling.encoder import SentenceEncoder
from ct.modeling.training_model import TrainingModel

# The objectives of the nli, stsb and align stages (the align losses come from the config).
PAIR_OBJECTIVES = ("softmax_nli", "in_batch_negatives", "cosine_similarity",
                   *(f"align_{loss}" for loss in choices(AlignLoss)))


@dataclasses.dataclass
class Distillation:
    """How the align stage combines its terms (see :mod:`ct.losses.distillation`).

    Attributes:
        target_dim: the teacher vectors' size (labels hold them first, then, with layer
            matching, the teacher's pooled layer outputs).
        loss_weight: the vector loss (``align_mse``, ``align_cosine``, ...).
        listwise_weight, listmle_weight, rank_temperature: ranking distillation.
        layer_weight: intermediate-layer matching.
    """

    target_dim: int = 0
    loss_weight: float = 1.0
    listwise_weight: float = 0.0
    listmle_weight: float = 0.0
    rank_temperature: float = 0.05
    layer_weight: float = 0.0

    @property
    def active(self) -> bool:
        """True when anything besides the plain vector loss is trained."""
        return bool(self.listwise_weight or self.listmle_weight or self.layer_weight
                    or self.loss_weight != 1.0)


class SupervisedPairModel(TrainingModel):
    """A sentence encoder and a supervised pair objective.

    Args:
        encoder: the encoder being trained (the previous stage's kept model).
        objective: one of ``softmax_nli``, ``in_batch_negatives``, ``cosine_similarity``.
        scale: ``in_batch_negatives``: cosine similarities are multiplied by this (20, as in
            sentence-transformers' MultipleNegativesRankingLoss).
        dropout: run the backbone in training mode (Sentence-BERT fine-tunes with dropout on).
        jit_compile, loss_scale_initial, loss_scale_growth_steps, seed: see
            :class:`ct.modeling.training_model.TrainingModel`.

    Inputs to ``train_step``: ``input_ids_i``/``attention_mask_i`` for text column i (two
    columns; three for ``in_batch_negatives``: anchor, positive, hard negative) and labels:
    int NLI labels, float STS scores already scaled to [0, 1], or ignored.
    """

    def __init__(self, encoder: SentenceEncoder, objective: str, scale: float = 20.0,
                 dropout: bool = True, jit_compile: bool = False,
                 distillation: Optional[Distillation] = None, **kwargs):
        super().__init__(jit_compile=jit_compile, **kwargs)
        if objective not in PAIR_OBJECTIVES:
            raise ValueError(f"objective must be one of {PAIR_OBJECTIVES}, got {objective!r}")
        self.encoder = encoder
        self.objective = objective
        self.scale = scale
        self.dropout = dropout
        self.classifier: Optional[keras.layers.Dense] = None
        if objective == "softmax_nli":
            self.classifier = keras.layers.Dense(NUM_NLI_LABELS, name="nli_classifier",
                                                 dtype="float32")
            self.classifier.build([None, 3 * encoder.embedding_dim])
        self.metric_names = ("loss", "accuracy") if objective == "softmax_nli" else ("loss",)
        self.distillation = distillation or Distillation()
        self.attach_encoders()

    @property
    def encoders(self) -> tuple[SentenceEncoder]:
        """``(encoder,)``: the one model this stage trains and evaluates."""
        return (self.encoder,)

    @property
    def num_columns(self) -> int:
        """Text columns per example: 3 (triplets) for in_batch_negatives, 1 for align, else 2."""
        if self.objective.startswith("align_"):
            return 1
        return 3 if self.objective == "in_batch_negatives" else 2

    def call(self, inputs: dict, training: Optional[bool] = False) -> list[tf.Tensor]:
        """Pooled embeddings of each text column, ``[batch, dim]`` each."""
        backbone_training = bool(training) and self.dropout
        return [self.encoder({"input_ids": inputs[f"input_ids_{i}"],
                              "attention_mask": inputs[f"attention_mask_{i}"]},
                             training=backbone_training)
                for i in range(1, self.num_columns + 1)]

    def per_example_loss(self, embeddings: list[tf.Tensor], labels: tf.Tensor):
        """``(per-example loss [batch], logits or None)`` of the configured objective."""
        if self.objective == "softmax_nli":
            logits = self.classifier(nli_classifier_features(*embeddings))
            return softmax_nli_loss(logits, labels), logits
        if self.objective == "in_batch_negatives":
            # Every replica's positives and hard negatives are candidates: the loss and the
            # update are the single-device ones whatever the replica count.
            gathered, offset = gather_global_batch(*embeddings[1:])
            return in_batch_negatives_loss(*embeddings, scale=self.scale,
                                           all_candidates=gathered, offset=offset), None
        if self.objective == "align_mse":
            return mse_alignment_loss(embeddings[0], labels), None
        if self.objective == "align_cosine":
            return cosine_alignment_loss(embeddings[0], labels), None
        if self.objective == "align_contrastive":
            (all_student, all_targets), offset = gather_global_batch(embeddings[0], labels)
            return contrastive_alignment_loss(embeddings[0], labels, self.scale, all_student,
                                              all_targets, offset), None
        return cosine_similarity_loss(*embeddings, labels), None

    def replica_loss(self, features: dict, labels: tf.Tensor):
        """``(logits or None, loss)``: the NLI classifier's logits (for the accuracy) and this
        replica's share of the global mean loss."""
        if self.objective.startswith("align_") and self.distillation.active:
            return None, tf.nn.compute_average_loss(self._distillation_loss(features, labels))
        per_example, logits = self.per_example_loss(self(features, training=True), labels)
        return logits, tf.nn.compute_average_loss(per_example)

    def _distillation_loss(self, features: dict, labels: tf.Tensor) -> tf.Tensor:
        """``[batch]`` the weighted sum of the align stage's terms (see :class:`Distillation`):
        labels hold each sentence's teacher vector, then its pooled layer outputs."""
        settings = self.distillation
        inputs = {"input_ids": features["input_ids_1"],
                  "attention_mask": features["attention_mask_1"]}
        training = self.dropout
        if settings.layer_weight:
            student, student_layers = self.encoder.embed_with_layers(inputs, training=training)
        else:
            student, student_layers = self.encoder(inputs, training=training), None
        targets = labels[:, :settings.target_dim]
        total = tf.zeros(tf.shape(student)[:1], tf.float32)
        if settings.loss_weight:
            vector_loss, _ = self.per_example_loss([student], targets)
            total += settings.loss_weight * vector_loss
        if settings.listwise_weight or settings.listmle_weight:
            (all_student, all_targets), offset = gather_global_batch(student, targets)
            for weight, loss in ((settings.listwise_weight, listwise_distillation_loss),
                                 (settings.listmle_weight, listmle_loss)):
                if weight:
                    total += weight * loss(student, targets, settings.rank_temperature,
                                           all_student, all_targets, offset)
        if settings.layer_weight:
            total += settings.layer_weight * layer_matching_loss(
                student_layers, labels[:, settings.target_dim:])
        return total

    def step_metrics(self, logits, loss: tf.Tensor, labels: tf.Tensor) -> dict:
        """``loss``, and the classifier's ``accuracy`` for ``softmax_nli``."""
        metrics = {"loss": loss}
        if logits is not None:
            correct = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32),
                                       tf.cast(labels, tf.int32)), tf.float32)
            metrics["accuracy"] = tf.nn.compute_average_loss(correct)
        return metrics
