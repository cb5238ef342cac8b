"""In-batch negatives across replicas: every replica sees the whole global batch.

In-batch objectives (``ct_ibn``, the ``contrastive`` alignment loss) use the other examples of
the batch as negatives. With several replicas each holds a slice of the global batch; gathering
the embeddings of all replicas (a differentiable all-gather) makes the negatives, and so the
loss and the update, the same as on one device.
"""

from __future__ import annotations

from ct._keras import tf


def gather_global_batch(*local: tf.Tensor):
    """Returns ``(all_tensors, offset)``: each ``[b, ...]`` tensor gathered over the replicas
    in replica order (itself with one replica), and the index of this replica's first example
    in the global batch."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return list(local), 0
    gathered = [context.all_gather(tensor, axis=0) for tensor in local]
    offset = context.replica_id_in_sync_group * tf.shape(local[0])[0]
    return gathered, offset
