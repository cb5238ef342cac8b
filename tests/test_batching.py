"""The CT stream is cut per replica in chunks of batches: the same per-replica batches, in the
same order, as cutting each global batch on its own (``split_for_replicas``)."""

import numpy as np
import pytest

from ct._keras import tf
from ct.data.batching import split_chunks_for_replicas, split_for_replicas


@pytest.mark.parametrize("replicas, pipelines", [(2, 1), (4, 1), (4, 2), (2, 2)])
def test_chunks_split_per_replica_as_batches_are(replicas, pipelines):
    batches, pairs = 7, 8
    ids = np.arange(batches * pairs, dtype=np.int64).reshape(batches, pairs)
    targets = np.arange(batches * pairs * 3, dtype=np.float32).reshape(batches, pairs, 3)
    for pipeline in range(pipelines):
        want = list(split_for_replicas(tf.data.Dataset.from_tensor_slices((ids, targets)),
                                       replicas, pipeline, pipelines).as_numpy_iterator())
        chunks = split_chunks_for_replicas(  # chunks of 3 batches: the last one partial
            tf.data.Dataset.from_tensor_slices((ids, targets)).batch(3), replicas, pipeline,
            pipelines)
        got = list(chunks.unbatch().as_numpy_iterator())
        assert len(got) == len(want) == batches * replicas // pipelines
        for (got_ids, got_targets), (want_ids, want_targets) in zip(got, want):
            np.testing.assert_array_equal(got_ids, want_ids)
            np.testing.assert_array_equal(got_targets, want_targets)
