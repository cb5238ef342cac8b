"""The CT batch layout: positives and K negatives, with different negatives for each model.

Following the CT paper (Carlsson et al., ICLR 2021, appendix A.1) and the authors' code, a batch
of ``batch_size`` sentence pairs is made of ``batch_size / (K + 1)`` groups. Each group is one
positive pair (the same sentence to model 1 and model 2, label 1) followed by K negative pairs
(label 0) in which model 1 and model 2 each get their *own* random sentences. A group therefore
consumes ``1 + 2K`` sentences from the stream. With the paper's 16 pairs and K=7: 2 positives,
14 negatives, 30 sentences. With ``objective: ct_ibn`` a batch is ``batch_size`` sentences that
both models see (the negatives come from the batch itself, see ct/losses).
"""

from __future__ import annotations

import threading

import numpy as np

from ct.data.permutation import permute, stream_items


def sentences_per_batch(batch_size: int, num_negatives: int, objective: str = "ct") -> int:
    """Sentences a batch consumes: ``(batch_size / (K + 1)) * (1 + 2K)`` for CT;
    ``batch_size`` for ``ct_ibn`` (both models embed the same sentences)."""
    if objective == "ct_ibn":
        return batch_size
    groups = batch_size // (num_negatives + 1)
    return groups * (1 + 2 * num_negatives)


def arrange_ct_batch(sentences: np.ndarray, num_negatives: int):
    """Turns a flat batch of sentences (or sentence numbers) into the two models' inputs and
    the labels.

    Args:
        sentences: ``[groups * (1 + 2K)]``: the first ``groups`` are the positives, the rest
            are negatives.
        num_negatives: K.

    Returns:
        ``(texts_1, texts_2, labels)``, each ``[groups * (K + 1)]``; per group the positive
        comes first, then model 1's and model 2's K different negatives.

    Example:
        >>> texts_1, texts_2, labels = arrange_ct_batch(np.array(list("abcdefghij")), 2)
    """
    sentences = np.asarray(sentences)
    k = num_negatives
    groups = len(sentences) // (1 + 2 * k)
    positives = sentences[:groups][:, np.newaxis]
    negatives = sentences[groups:groups * (1 + 2 * k)].reshape(groups, 2, k)
    texts_1 = np.concatenate([positives, negatives[:, 0]], axis=1).reshape(-1)
    texts_2 = np.concatenate([positives, negatives[:, 1]], axis=1).reshape(-1)
    labels = np.tile(np.array([1.0] + [0.0] * k, np.float32), groups)
    return texts_1, texts_2, labels


def arrange_ibn_batch(sentences: np.ndarray):
    """The ``ct_ibn`` layout: both models see the same sentences, in the same order.

    Returns ``(texts_1, texts_2, labels)`` with ``texts_1 == texts_2 == sentences`` and labels
    all 1 (pair ``i`` is a positive; its negatives are the batch's other sentences).
    """
    sentences = np.asarray(sentences)
    return sentences, sentences.copy(), np.ones(len(sentences), np.float32)


def arrange_batch(sentences: np.ndarray, num_negatives: int, objective: str = "ct"):
    """The batch layout of ``objective``: :func:`arrange_ct_batch` or :func:`arrange_ibn_batch`."""
    if objective == "ct_ibn":
        return arrange_ibn_batch(sentences)
    return arrange_ct_batch(sentences, num_negatives)


class CTBatchSampler:
    """Which sentences each global batch of a CT run holds: the one definition that training
    (:func:`ct.data.ct_dataset.build_ct_dataset`) and ``ct sample`` both use.

    Global batch ``b`` (0-based; step ``b + 1``) takes positions ``b x S .. (b + 1) x S - 1``
    of the stream of epochs, each a seeded uniform permutation of the ``num_sentences``
    sentences (:func:`ct.data.permutation.stream_items`), and arranges them into pairs.

    **Length grouping** (``group_batches`` = G > 1, an option: it changes which sentences share
    a batch): the sentences of G consecutive batches are sorted by length and cut into G
    batches of similar-length sentences, taken in a seeded random order. Every sentence is
    still drawn once per epoch and a batch's positives and negatives are still random among
    its group; only padding shrinks. Lengths come from ``lengths(ids)``: in training and
    ``ct sample`` the sentences' token counts (:func:`ct.data.ct_dataset.make_sampler` reads and
    tokenizes the window's sentences once; batches of equal token count leave almost no
    padding), else any proxy such as the lines' byte lengths. The window's order is kept
    between calls, so a window's G batches cost one length computation.

    A window never mixes two epochs: where an epoch ends inside a window (the corpus size is
    rarely a multiple of ``G x S``), each epoch's part of the window is regrouped on its own,
    so positions ``e x n .. (e + 1) x n - 1`` of the grouped stream still hold every sentence
    exactly once. Otherwise a sentence drawn at the end of epoch ``e`` and again at the start
    of epoch ``e + 1`` could be sorted into one batch (a false negative under ``ct_ibn``),
    and epoch ``e + 1`` would lose sentences to epoch ``e``. The batch that holds an epoch's
    end takes its two parts from both sides of the boundary, as without grouping.

    Args:
        num_sentences: the corpus size.
        batch_size, num_negatives, objective: the batch layout.
        seed: the run's seed.
        group_batches: G (0 or 1: no grouping).
        lengths: ``lengths(ids) -> array`` of sentence lengths (needed with grouping).
    """

    def __init__(self, num_sentences: int, batch_size: int = 16, num_negatives: int = 7,
                 seed: int = 42, objective: str = "ct", group_batches: int = 0,
                 lengths=None):
        if group_batches > 1 and lengths is None:
            raise ValueError("length grouping needs the sentences' lengths")
        self.group_batches = max(int(group_batches), 1)
        self.lengths = lengths
        self.num_sentences = int(num_sentences)
        self.num_negatives = num_negatives
        self.objective = objective
        self.seed = seed
        self.sentences_per_batch = sentences_per_batch(batch_size, num_negatives, objective)
        self.pairs_per_batch = batch_size
        self._window = (None, None)  # (window number, its regrouped sentences)
        self._window_lock = threading.Lock()

    def ids(self, batch_number: int):
        """``(ids_1, ids_2, labels)`` of global batch ``batch_number``: the sentence numbers
        model 1 and model 2 see for each pair (int64), and 1.0 for positive pairs."""
        ids_1, ids_2, labels = self.chunk_ids(np.array([batch_number]))
        return ids_1[0], ids_2[0], labels[0]

    def chunk_ids(self, batch_numbers: np.ndarray):
        """:meth:`ids` of several batches at once, each ``[len(batch_numbers), pairs]``
        (the stream's permutation computed for all of them in one go: the pipeline asks for
        a chunk of consecutive batches per call)."""
        numbers = np.asarray(batch_numbers, dtype=np.int64).reshape(-1)
        size = self.sentences_per_batch
        if self.group_batches == 1:
            positions = numbers[:, np.newaxis] * size + np.arange(size, dtype=np.int64)
            sentences = stream_items(positions.reshape(-1), self.num_sentences, self.seed)
            sentences = sentences.reshape(len(numbers), size)
        else:
            sentences = [self.sentence_ids(int(number)) for number in numbers]
        batches = [arrange_batch(row, self.num_negatives, self.objective) for row in sentences]
        if not batches:
            return tuple(np.zeros((0, self.pairs_per_batch), dtype)
                         for dtype in (np.int64, np.int64, np.float32))
        ids_1, ids_2, labels = (np.stack(column) for column in zip(*batches))
        return ids_1.astype(np.int64), ids_2.astype(np.int64), labels.astype(np.float32)

    def sentence_ids(self, batch_number: int) -> np.ndarray:
        """The ``sentences_per_batch`` sentence numbers of a batch, in drawing order."""
        size, group = self.sentences_per_batch, self.group_batches
        if group == 1:
            positions = batch_number * size + np.arange(size, dtype=np.int64)
            return stream_items(positions, self.num_sentences, self.seed)
        window, index = divmod(batch_number, group)
        return self._regrouped_window(window)[index * size:(index + 1) * size]

    def _regrouped_window(self, window: int) -> np.ndarray:
        """The ``G x S`` sentences of a window after length grouping (batch ``i`` of the
        window is slice ``i``); the last window's is kept."""
        with self._window_lock:
            cached_window, cached = self._window
            if cached_window == window:
                return cached
            size = self.group_batches * self.sentences_per_batch
            start, end = window * size, (window + 1) * size
            # epoch boundaries inside the window cut it into parts regrouped on their own
            cuts = [start, *range((start // self.num_sentences + 1) * self.num_sentences,
                                  end, self.num_sentences), end]
            regrouped = np.concatenate([
                self._regroup(first, last, window if part == 0 else ~first)
                for part, (first, last) in enumerate(zip(cuts, cuts[1:]))])
            self._window = (window, regrouped)
            return regrouped

    def _regroup(self, first: int, last: int, key: int) -> np.ndarray:
        """Stream positions ``first .. last - 1`` (within one epoch) regrouped: sorted by
        length, cut into pieces the sizes of the batches' shares of the range, and the
        pieces dealt to those shares in a seeded order (``key`` seeds it)."""
        size = self.sentences_per_batch
        drawn = stream_items(np.arange(first, last, dtype=np.int64), self.num_sentences,
                             self.seed)
        by_length = np.argsort(np.asarray(self.lengths(drawn)), kind="stable")
        edges = np.array([first, *range((first // size + 1) * size, last, size), last]) - first
        shares = np.diff(edges)
        # share i gets the rank[i]-th piece of the sorted sentences
        rank = permute(np.arange(len(shares)), len(shares), self.seed ^ 0x5EED, key)
        dealt = np.argsort(rank)  # the shares in the order they take their pieces
        offsets = np.empty(len(shares), np.int64)
        offsets[dealt] = np.cumsum(shares[dealt]) - shares[dealt]
        out = np.empty(last - first, np.int64)
        for share, (offset, count) in enumerate(zip(offsets, shares)):
            members = np.sort(by_length[offset:offset + count])  # back in drawing order
            out[edges[share]:edges[share + 1]] = drawn[members]
        return out
