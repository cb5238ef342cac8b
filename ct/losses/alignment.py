"""Alignment objectives: train a student encoder to land in another model's vector space.

Inputs: the student's embeddings ``[batch, dim]`` (after the optional projection) and the
target vectors ``[batch, dim]`` of the same sentences (a teacher encoder's, or precomputed);
output: one loss per example.

- ``mse``: mean squared error over the dimensions. Multilingual-CLIP (Carlsson et al., LREC
  2022) trains its text encoders this way against the CLIP text encoder; it is also Reimers &
  Gurevych's (2020) multilingual knowledge distillation. Prefer it to copy a teacher exactly.
- ``cosine``: ``1 - cos(student, target)``; only the direction is learned, for targets whose
  norm carries no meaning.
- ``contrastive``: symmetric in-batch InfoNCE between students and targets (each student
  vector must pick its own target among the batch's, and each target its student), the
  image-text objective of CLIP, LiT and KoCLIP. Prefer it when targets come from another
  modality or model family and only relative similarities matter; it needs larger batches.
"""

from __future__ import annotations

from ct._keras import tf
from ct.losses.contrastive_tension_ibn import contrastive_tension_ibn_loss
from ct.losses.similarity import normalize


def mse_alignment_loss(student: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """``[batch]`` mean over dimensions of ``(student - target)^2``."""
    student, targets = tf.cast(student, tf.float32), tf.cast(targets, tf.float32)
    return tf.reduce_mean(tf.square(student - targets), axis=-1)


def cosine_alignment_loss(student: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """``[batch]`` ``1 - cos(student, target)``."""
    return 1.0 - tf.reduce_sum(normalize(student) * normalize(targets), axis=-1)


def contrastive_alignment_loss(student: tf.Tensor, targets: tf.Tensor, scale: float = 20.0,
                               all_student=None, all_targets=None, offset=0) -> tf.Tensor:
    """``[batch]`` symmetric InfoNCE over scaled cosine similarities: (student -> targets
    cross-entropy + target -> students cross-entropy) / 2, the diagonal being the positive.

    ``all_student``/``all_targets``/``offset``: every replica's vectors and this replica's
    position, so that the negatives are the whole global batch.
    """
    return contrastive_tension_ibn_loss(student, targets, scale, "cosine",
                                        all_embeddings_1=all_student,
                                        all_embeddings_2=all_targets, offset=offset)
