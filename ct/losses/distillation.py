"""Distillation that transfers the teacher's *ranking* of similarities, not only its vectors.

Inputs: the student's embeddings ``[batch, dim]``, the teacher's vectors of the same
sentences ``[batch, dim_t]`` (any dimension: only each side's own cosine similarities are
compared), and optionally every replica's (so the lists span the global batch). Output: one
loss per example. Each example's list is its row of in-batch cosine similarities, itself left
out.

- ``listwise_distillation_loss`` (ListNet; RankCSE, Liu et al., ACL 2023): KL divergence from
  the teacher's softmax over the row (similarities / temperature) to the student's. Prefer it
  to MSE alone when the student's absolute positions matter less than its neighbourhoods
  (retrieval, STS): it was RankCSE's strongest single term.
- ``listmle_loss`` (ListMLE, Xia et al., ICML 2008; RankCSE): the negative log-likelihood of
  the teacher's order of the row under a Plackett-Luce model of the student's scores. Stricter
  than ListNet about the order at the top.
- ``layer_matching_loss``: mean squared error between the student's and the teacher's
  mean-pooled layer outputs, layer by layer (a student taken from the teacher's own layers
  can mimic each of them; TinyBERT and MiniLM match intermediate representations too).
"""

from __future__ import annotations

from ct._keras import tf
from ct.losses.similarity import pairwise_similarities

# Added to a row's own similarity so that it drops out of the softmax.
_LEAVE_OUT = -1e4


def _rows(student, teacher, temperature, all_student, all_teacher, offset):
    """``(student_logits, teacher_logits)`` ``[b, B]``: each local row against the (global)
    batch, / temperature, its own entry left out."""
    if all_student is None:
        all_student, all_teacher = student, teacher
    scale = 1.0 / temperature
    student_logits = pairwise_similarities(student, all_student, "cosine", scale)
    teacher_logits = pairwise_similarities(teacher, all_teacher, "cosine", scale)
    own = tf.one_hot(tf.cast(offset, tf.int32) + tf.range(tf.shape(student)[0]),
                     tf.shape(all_student)[0], on_value=_LEAVE_OUT, off_value=0.0)
    return student_logits + own, tf.stop_gradient(teacher_logits + own)


def listwise_distillation_loss(student: tf.Tensor, teacher: tf.Tensor, temperature: float = 0.05,
                               all_student=None, all_teacher=None, offset=0) -> tf.Tensor:
    """``[batch]`` KL(teacher row distribution || student row distribution).

    Example:
        >>> listwise_distillation_loss(tf.eye(3), tf.eye(3)).numpy().round(6).tolist()
        [0.0, 0.0, 0.0]
    """
    student_logits, teacher_logits = _rows(student, teacher, temperature, all_student,
                                           all_teacher, offset)
    teacher_p = tf.nn.softmax(teacher_logits, axis=-1)
    return tf.reduce_sum(teacher_p * (tf.nn.log_softmax(teacher_logits, axis=-1)
                                      - tf.nn.log_softmax(student_logits, axis=-1)), axis=-1)


def listmle_loss(student: tf.Tensor, teacher: tf.Tensor, temperature: float = 0.05,
                 all_student=None, all_teacher=None, offset=0) -> tf.Tensor:
    """``[batch]`` ListMLE of each row: sum over ranks k of ``logsumexp(s[k:]) - s[k]`` with
    the student's scores ``s`` in the teacher's order, averaged over the list."""
    student_logits, teacher_logits = _rows(student, teacher, temperature, all_student,
                                           all_teacher, offset)
    order = tf.argsort(teacher_logits, axis=-1, direction="DESCENDING", stable=True)
    ordered = tf.gather(student_logits, order, batch_dims=1)[:, :-1]  # the row's own: last
    tails = tf.reverse(tf.math.cumulative_logsumexp(tf.reverse(ordered, [1]), axis=1), [1])
    return tf.reduce_mean(tails - ordered, axis=-1)


def layer_matching_loss(student_layers: tf.Tensor, teacher_layers: tf.Tensor) -> tf.Tensor:
    """``[batch]`` mean squared error over layers and dimensions of ``[batch, layers x
    hidden]`` pooled layer outputs."""
    return tf.reduce_mean(tf.square(tf.cast(student_layers, tf.float32)
                                    - tf.cast(teacher_layers, tf.float32)), axis=-1)
