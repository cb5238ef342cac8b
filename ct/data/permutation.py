"""Seeded permutations of ``[0, n)`` computed one index at a time, for any ``n``.

Every pass over a corpus (an *epoch*) visits its sentences in a fresh random order, without
materialising the order: position ``p`` of the stream is sentence ``permute(p mod n)`` of epoch
``p div n``. A run can therefore start at any step in constant time and two processes compute
the same stream independently.

The permutation is a balanced Feistel network on the smallest power of four covering ``n``,
with six rounds whose round function is the SplitMix64 finaliser keyed by (seed, epoch,
round), and cycle-walking back into ``[0, n)`` (Black & Rogaway, "Ciphers with Arbitrary Finite
Domains", 2002). TensorFlow's ``tf.random.experimental.index_shuffle`` does the same job, but
its permutations of consecutive indices are visibly non-uniform (measured: the first 150,000
of 10,000,000 positions fall in the ten tenths of the range with a chi-square p-value below
1e-40), which is exactly the access pattern of a training stream.

Example:
    >>> order = permute(np.arange(10), size=10, seed=42, epoch=0)
    >>> sorted(order.tolist()) == list(range(10))
    True
"""

from __future__ import annotations

import numpy as np

_ROUNDS = 6
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser (a bijective 64-bit mixer with full avalanche)."""
    with np.errstate(over="ignore"):
        values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return values ^ (values >> np.uint64(31))


def _round_keys(seed: int, epoch: int) -> np.ndarray:
    base = _splitmix64(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
    base = _splitmix64(np.array([base ^ np.uint64(epoch & 0xFFFFFFFFFFFFFFFF)],
                                dtype=np.uint64))[0]
    with np.errstate(over="ignore"):
        return _splitmix64(base + _GOLDEN * np.arange(1, _ROUNDS + 1, dtype=np.uint64))


def _half_bits(size: int) -> int:
    bits = max(int(size - 1).bit_length(), 2)
    return (bits + 1) // 2


def _feistel(values: np.ndarray, keys: np.ndarray, half: int) -> np.ndarray:
    mask = np.uint64((1 << half) - 1)
    shift = np.uint64(half)
    left, right = values >> shift, values & mask
    for key in keys:
        with np.errstate(over="ignore"):
            mixed = _splitmix64(right ^ key) & mask
        left, right = right, left ^ mixed
    return (left << shift) | right


def permute(indices: np.ndarray, size: int, seed: int, epoch: int = 0) -> np.ndarray:
    """Where each of ``indices`` (in ``[0, size)``) goes in the ``(seed, epoch)`` permutation.

    Args:
        indices: integers in ``[0, size)``.
        size: the number of items permuted.
        seed: the run's seed.
        epoch: which pass over the items (each has its own order).

    Returns:
        int64 array of the same shape: distinct inputs give distinct outputs.
    """
    if size <= 0:
        raise ValueError(f"size must be > 0, got {size}")
    values = np.asarray(indices, dtype=np.int64)
    if values.size and (values.min() < 0 or values.max() >= size):
        raise ValueError(f"indices must lie in [0, {size})")
    keys = _round_keys(int(seed), int(epoch))
    half = _half_bits(size)
    out = _feistel(values.astype(np.uint64).ravel(), keys, half)
    outside = out >= np.uint64(size)
    while outside.any():  # cycle-walking: at most a few rounds (the domain is < 4 x size)
        out[outside] = _feistel(out[outside], keys, half)
        outside = out >= np.uint64(size)
    return out.astype(np.int64).reshape(values.shape)


def stream_items(positions: np.ndarray, size: int, seed: int) -> np.ndarray:
    """The item at each position of the endless stream of epochs: position ``p`` is
    ``permute(p mod size, epoch = p div size)``."""
    positions = np.asarray(positions, dtype=np.int64)
    epochs, offsets = np.divmod(positions, size)
    out = np.empty_like(positions)
    for epoch in np.unique(epochs):
        where = epochs == epoch
        out[where] = permute(offsets[where], size, seed, int(epoch))
    return out
