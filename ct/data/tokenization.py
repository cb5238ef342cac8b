"""Tokenization that can be mapped over a ``tf.data`` pipeline.

transformers tokenizers run in Python, so they are wrapped in ``tf.py_function`` /
``tf.numpy_function``; the output shapes are declared so downstream code sees
``[batch, None]`` int32 tensors.

Training streams use :func:`make_ragged_tokenizer`: the texts of many batches at once, most of
them by tensorflow-text's WordPiece op inside the graph (checked to give the Hugging Face ids
on the characters it takes), the rest by the Hugging Face tokenizer (:func:`make_chunk_tokenizer`,
one call for all of them, a copy of the tokenizer per concurrent call); then a chunk of batches
is padded at once and cut into batches (:func:`pad_chunk`), each exactly as
:func:`tokenize_batch` pads it (on the right, ``pad_token_id``, ``longest`` or ``max_length``).
"""

from __future__ import annotations

import copy
import logging
import queue
import unicodedata

import numpy as np

from ct._keras import tf

logger = logging.getLogger(__name__)


def tokenize_batch(tokenizer, texts, max_length: int, padding="longest"):
    """``(input_ids, attention_mask)``, int32 ``[len(texts), length]``, padded at the end of
    each row whatever the tokenizer's ``padding_side``.

    Every batch ct encodes goes through here. Length buckets
    (:mod:`ct.modeling.length_buckets`) trim padding from the end of the rows, and BERT-family
    models number positions from the first column, so a checkpoint whose tokenizer pads on
    the left (``padding_side: left`` in its tokenizer config) is still encoded as its
    pretraining saw it: real tokens from position 0.

    Example:
        >>> ids, mask = tokenize_batch(tokenizer, ["a sentence", "another"], max_length=75)
    """
    encoded = tokenizer(list(texts), max_length=max_length, truncation=True, padding=padding,
                        padding_side="right", return_tensors="np")
    return encoded["input_ids"].astype(np.int32), encoded["attention_mask"].astype(np.int32)


def token_counts(tokenizer, texts, max_length: int) -> np.ndarray:
    """How many tokens each text becomes (special tokens included, truncated at
    ``max_length``): the length a batch is padded to, used for length grouping."""
    encoded = tokenizer(list(texts), max_length=max_length, truncation=True,
                        return_attention_mask=False, return_token_type_ids=False)
    return np.array([len(ids) for ids in encoded["input_ids"]], dtype=np.int64)


def make_pair_tokenizer(tokenizer, max_length: int, padding: str = "longest"):
    """Returns ``fn(texts_1, ..., texts_n, labels) -> (features, labels)`` for ``Dataset.map``.

    Each text column ``i`` (1-based) becomes ``input_ids_i`` and ``attention_mask_i``: two
    columns for CT and sentence pairs, three for (anchor, positive, hard negative) triplets.

    Args:
        tokenizer: a transformers tokenizer.
        max_length: truncation length (CT paper: 75).
        padding: ``"longest"`` pads to the longest sentence of each column (fast on CPU/GPU);
            ``"max_length"`` gives fixed shapes (for XLA and TPUs).

    The pipeline tokenizes with a copy of ``tokenizer``: it runs in a tf.data thread while
    the main thread may use the original (STS evaluation during training), and a fast
    tokenizer called by two threads at once with different settings fails.
    """
    tokenizer = copy.deepcopy(tokenizer)

    def encode(texts: tf.Tensor):
        decoded = [t.decode("utf-8", errors="replace") for t in texts.numpy()]
        return tokenize_batch(tokenizer, decoded, max_length, padding)

    def tokenize_columns(*columns):
        *texts, labels = columns
        features = {}
        for index, column in enumerate(texts, start=1):
            ids, mask = tf.py_function(encode, [column], [tf.int32, tf.int32])
            features[f"input_ids_{index}"] = ids
            features[f"attention_mask_{index}"] = mask
        for tensor in features.values():
            tensor.set_shape([None, None])
        # one label per example: a number, or a vector (the align stage's targets)
        return features, tf.ensure_shape(labels, [None, *labels.shape[1:]])

    return tokenize_columns


def make_chunk_tokenizer(tokenizer, max_length: int):
    """Returns ``fn(texts) -> (token_ids, lengths)`` for ``tf.numpy_function``: the tokens of
    every text of a ``[chunk, batch]`` string array (truncated at ``max_length``, special
    tokens included, no padding) flattened row after row, and each text's length.

    Each call tokenizes with a copy of the tokenizer that no other call is using (a fast
    tokenizer is not safe to call from two threads at once), so the function can run in a
    parallel ``map``; copies are reused (as many are made as calls ever ran at once, not one
    per thread: TensorFlow runs such functions on any of its many threads).
    """
    idle = queue.SimpleQueue()

    def encode(texts: np.ndarray):
        decoded = [t.decode("utf-8", errors="replace") for t in texts.reshape(-1)]
        if not decoded:
            return np.zeros(0, np.int32), np.zeros(0, np.int64)
        try:
            own = idle.get_nowait()
        except queue.Empty:
            own = copy.deepcopy(tokenizer)
        try:
            rows = own(decoded, max_length=max_length, truncation=True,
                       return_attention_mask=False, return_token_type_ids=False)["input_ids"]
        finally:
            idle.put(own)
        lengths = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))
        flat = [token for row in rows for token in row]
        return np.asarray(flat, dtype=np.int32), lengths

    return encode


# The texts the in-graph tokenizer takes: printable ASCII, tabs and line breaks (tf-text and
# Hugging Face differ on the other ASCII control characters: Hugging Face drops them,
# tf-text splits words there) ...
_ASCII_TEXT = "[\\t\\n\\r\\x20-\\x7e]*"
_ASCII_CHARACTERS = "\t\n\r" + "".join(chr(c) for c in range(32, 127))
# ... and, once each is checked, the Latin-1 and Latin Extended-A letters and symbols and the
# usual dashes and quotes (most of what is not ASCII in English Wikipedia), in texts without
# a run of 34 or more characters between spaces: WordPiece gives up on words of over 100
# characters (Hugging Face) or 100 bytes (tf-text), and 33 characters are at most 99 bytes.
_LATIN_CANDIDATES = "".join(chr(c) for c in range(0xA0, 0x180)) + "\u2013\u2014\u2018\u2019" \
    "\u201c\u201d\u2026"
_LONG_RUN = "(?s).*[^\\t\\n\\r ]{34,}.*"


def _probes(character: str) -> tuple[str, str]:
    """Texts that show how a character is normalised, split and cut into word pieces: alone,
    inside words, repeated, beside upper and lower case letters and digits."""
    c = character
    return f"a{c}b {c} x{c}{c}Y 7{c}", f"{c}tion re{c}s {c}{c}{c} É{c}é"


# Checked before the in-graph tokenizer trains on anything (all must agree): the ASCII
# characters' probes; punctuation; words at the WordPiece length limit (100 characters) and
# past it; a text longer than any max_length (truncation on the same side).
_ASCII_PROBES = (
    *(probe for c in _ASCII_CHARACTERS for probe in _probes(c)),
    "Hello, World! 1,234.56 (test) [x] {y} <z> a/b\\c 'q' \"r\" ~`@#$%^&*-_=+|;:? ALL CAPS",
    " ".join(["x" * 99, "y" * 100, "z" * 101, "Q" * 150, "end."]),
    " ".join(f"w{i}ord" for i in range(600)),
)


def make_ragged_tokenizer(tokenizer, max_length: int):
    """Returns ``fn(texts) -> ids`` mapping strings ``[n]`` to ragged int32 ``[n, (tokens)]``:
    each text's ids as ``tokenizer(texts, max_length=max_length, truncation=True)`` gives them
    (special tokens included, no padding), for a parallel ``tf.data`` map.

    For a WordPiece tokenizer that ``tensorflow-text`` reproduces
    (:func:`ct.data.in_graph_tokenizer.build_in_graph_tokenizer`), most texts are tokenized
    by its C++ op (about 10x faster than the Hugging Face tokenizer called from Python, and
    without Python's global lock): those made only of characters on which the two were
    checked to agree when this function is called (printable ASCII, tabs and line breaks;
    Latin-1 and Latin Extended-A letters and symbols, dashes and quotes, each checked in
    several contexts; no long words). The others go to the Hugging Face tokenizer: the two
    differ on some characters ("ß", "ﬁ", fullwidth forms: see
    docs/guides/tensorflow-deployment.md; ASCII control characters). If the op differs on
    any ASCII probe, long words or a truncated text, or for any other kind of tokenizer, the
    Hugging Face tokenizer takes every text. Either way the ids are the Hugging Face
    tokenizer's.
    """
    encode = make_chunk_tokenizer(tokenizer, max_length)

    def hf_rows(texts: tf.Tensor) -> tf.RaggedTensor:
        ids, lengths = tf.numpy_function(encode, [texts], [tf.int32, tf.int64], stateful=False)
        return tf.RaggedTensor.from_row_lengths(tf.ensure_shape(ids, [None]),
                                                tf.ensure_shape(lengths, [None]))

    in_graph, latin = in_graph_wordpiece(tokenizer, max_length)
    if in_graph is None:
        return hf_rows
    latin_text = "[\\t\\n\\r\\x20-\\x7e" + "".join(f"\\x{{{ord(c):04x}}}" for c in latin) + "]*"

    def rows(texts: tf.Tensor) -> tf.RaggedTensor:
        checked = tf.logical_or(
            tf.strings.regex_full_match(texts, _ASCII_TEXT),
            tf.logical_and(tf.strings.regex_full_match(texts, latin_text),
                           tf.logical_not(tf.strings.regex_full_match(texts, _LONG_RUN))))
        fast, slow = tf.where(checked)[:, 0], tf.where(~checked)[:, 0]
        merged = tf.concat([in_graph.framed(tf.gather(texts, fast)),
                            hf_rows(tf.gather(texts, slow))], axis=0)
        # merged holds the checked texts' rows then the others': put them back in order
        return tf.gather(merged, tf.math.invert_permutation(tf.concat([fast, slow], axis=0)))

    return rows


def in_graph_wordpiece(tokenizer, max_length: int):
    """``(in_graph, characters)``: the in-graph WordPiece tokenizer equal to ``tokenizer`` on
    ASCII text (checked) and the non-ASCII candidates on which it agrees too; or ``(None,
    "")`` (no tensorflow-text, another kind of tokenizer, or a difference on ASCII)."""
    from ct.errors import ExportError
    from ct.data.in_graph_tokenizer import build_in_graph_tokenizer, first_mismatch, \
        hf_ids, in_graph_ids
    try:
        in_graph, reason = build_in_graph_tokenizer(tokenizer, "", max_length)
    except ExportError as error:  # tensorflow-text missing
        in_graph, reason = None, str(error)
    if in_graph is not None and in_graph.kind != "WordPiece":
        in_graph, reason = None, f"a {in_graph.kind} tokenizer"
    if in_graph is not None:
        mismatch = first_mismatch(in_graph, tokenizer, _ASCII_PROBES, max_length)
        if mismatch is not None:
            in_graph, reason = None, f"its ids differ on {mismatch[:60]!r}"
    if in_graph is None:
        logger.debug("training input tokenized by the Hugging Face tokenizer only "
                     "(no in-graph equivalent: %s)", reason)
        return None, ""
    candidates = [c for c in _LATIN_CANDIDATES
                  # no combining marks, nor characters that decompose into a mark first
                  if not unicodedata.combining(unicodedata.normalize("NFD", c)[0])]
    probes = [probe for c in candidates for probe in _probes(c)]
    agree = [list(want) == got for want, got in zip(hf_ids(tokenizer, probes, max_length),
                                                     in_graph_ids(in_graph, probes))]
    latin = "".join(c for i, c in enumerate(candidates) if agree[2 * i] and agree[2 * i + 1])
    return in_graph, latin


def pad_chunk(rows: tf.RaggedTensor, batches: tf.Tensor, tokenizer, max_length: int,
              padding: str) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """``(input_ids, attention_mask, widths)`` of a chunk of ``batches`` equal batches from
    their texts' ids ``rows`` (``[batches x batch, (tokens)]``, see
    :func:`make_ragged_tokenizer`): ids and mask ``[batches, batch, longest]`` padded to the
    chunk's longest text, and each batch's own width ``[batches]``: the batch's longest text,
    or ``max_length``. ``input_ids[b, :, :widths[b]]`` is then batch ``b`` padded as
    :func:`tokenize_batch` pads it: with the tokenizer's ``pad_token_id``, at the end of each
    row whatever the tokenizer's ``padding_side``."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    lengths = tf.cast(rows.row_lengths(), tf.int32)
    width = max_length if padding == "max_length" else None
    ids = rows.to_tensor(default_value=pad, shape=[None, width])
    mask = tf.sequence_mask(lengths, tf.shape(ids)[1], dtype=tf.int32)
    per_batch = tf.concat([[batches, -1], tf.shape(ids)[1:]], axis=0)
    if padding == "max_length":
        widths = tf.fill([batches], max_length)
    else:
        widths = tf.reduce_max(tf.reshape(lengths, [batches, -1]), axis=1)
    return tf.reshape(ids, per_batch), tf.reshape(mask, per_batch), widths
