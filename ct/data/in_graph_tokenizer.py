"""The model's tokenizer as TensorFlow ops (``tensorflow-text``): strings in, BERT inputs out.

A SavedModel or TFLite model that takes strings needs its tokenizer inside the graph. The
Hugging Face fast tokenizer is read (its ``tokenizer.json`` description) and rebuilt with the
``tensorflow-text`` op that does the same thing:

- **WordPiece** (BERT, DistilBERT, MiniLM, ...): :class:`tensorflow_text.FastBertTokenizer`,
  with ``lower_case_nfd_strip_accents`` for an uncased vocabulary (lower-casing and accent
  stripping, as ``BertNormalizer`` does), the same vocabulary, ``##`` prefix, unknown token
  and longest-word limit;
- **SentencePiece** (XLM-R): :class:`tensorflow_text.FastSentencepieceTokenizer` over the
  folder's ``sentencepiece.bpe.model``, its ids mapped onto the Hugging Face ids (XLM-R shifts
  them by one and moves ``<unk>``).

Then the ids are cut at ``max_length - 2`` and framed by the tokenizer's ``[CLS]``/``[SEP]``
(or ``<s>``/``</s>``), and the batch is padded with its pad id, as the Hugging Face tokenizer
does with ``truncation=True, padding="longest"``. A prompt template is applied first.

Anything else (a BPE tokenizer, a normaliser tf-text has no op for) gets no in-graph
tokenizer: :func:`build_in_graph_tokenizer` says why, and the export keeps the token-id
signature only. Every tokenizer built here is checked against the Hugging Face tokenizer on
:data:`PROBE_SENTENCES` before it is used.

Example:
    >>> tokenizer, reason = build_in_graph_tokenizer(encoder.tokenizer, model_dir, 256)
    >>> ids, mask = tokenizer(tf.constant(["A man is playing a guitar."]))
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional

from ct._keras import tf
from ct.errors import ExportError

# Checked at export: an in-graph tokenizer that differs from the Hugging Face one on any of
# these is not used (plain text, accents, CJK, emoji, punctuation, control characters). Where
# the two may still differ (compatibility characters such as "ﬁ", "ａ", "™", and "ß", which
# tf-text folds and Hugging Face does not) is measured by tests/test_in_graph_tokenizer.py and
# listed in docs/guides/tensorflow-deployment.md.
PROBE_SENTENCES = (
    "A man is playing a guitar.",
    "Café déjà vu, naïve façade: ÉCOLE Ñandú!",
    "東京は日本の首都です。北京欢迎你",
    "Emoji 🙂👍🏽 and symbols © → ∑",
    "tabs\tand\nnewlines,\u200b zero-width and \x07 bell",
    "",
)


def import_tensorflow_text():
    """``tensorflow_text``, or an ExportError that names the ``pip install`` line."""
    try:
        import tensorflow_text
    except ImportError:
        raise ExportError("exporting with the tokenizer in the graph needs tensorflow-text "
                          "(the version matching TensorFlow): pip install "
                          f"tensorflow-text=={tf.__version__.rsplit('.', 1)[0]}.*") from None
    return tensorflow_text


class InGraphTokenizer(tf.Module):
    """Strings ``[n]`` -> ``(input_ids, attention_mask)``, int32 ``[n, longest]``.

    Args:
        tokenize: strings ``[n]`` -> ragged int ids ``[n, (tokens)]`` without special tokens.
        cls_id, sep_id, pad_id: the ids framing and padding each sentence.
        max_length: truncation length in tokens, special tokens included.
        template: a prompt template (``"query: {}"``) applied to each string first.
        kind: what it is, for messages (``"WordPiece"``).
    """

    def __init__(self, tokenize: Callable, cls_id: int, sep_id: int, pad_id: int,
                 max_length: int, template: Optional[str] = None, kind: str = ""):
        super().__init__(name="in_graph_tokenizer")
        self._tokenize = tokenize
        self.cls_id, self.sep_id, self.pad_id = int(cls_id), int(sep_id), int(pad_id)
        self.max_length = int(max_length)
        before, _, after = (template or "{}").partition("{}")
        self.template_parts = (before, after)
        self.kind = kind

    def __call__(self, sentences: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        before, after = self.template_parts
        if before or after:
            sentences = tf.strings.join([before, sentences, after])
        tokens = self._tokenize(sentences)
        # Framed and padded from the ragged ids' flat values and row splits with dense ops
        # only (gather, where): TFLite runs them as builtins, no select-ops (Flex) needed.
        starts = tokens.row_splits
        for inner in tokens.nested_row_splits[1:]:  # [n, (words), (pieces)] -> [n, (pieces)]
            starts = tf.gather(inner, starts)
        values = tf.concat([tf.cast(tokens.flat_values, tf.int32), [self.pad_id]], axis=0)
        lengths = tf.minimum(starts[1:] - starts[:-1], self.max_length - 2)
        lengths = tf.cast(lengths, tf.int32)[:, None]
        width = tf.reduce_max(tf.concat([lengths, [[0]]], axis=0)) + 2
        position = tf.range(width)[None, :]
        index = tf.cast(starts[:-1], tf.int32)[:, None] + position - 1
        index = tf.clip_by_value(index, 0, tf.shape(values)[0] - 1)
        ids = tf.where(position == 0, self.cls_id,
                       tf.where(position <= lengths, tf.gather(values, index),
                                tf.where(position == lengths + 1, self.sep_id, self.pad_id)))
        return ids, tf.cast(position <= lengths + 1, tf.int32)

    def framed(self, sentences: tf.Tensor) -> tf.RaggedTensor:
        """The ids of ``sentences`` ``[n]`` as a ragged int32 ``[n, (tokens)]``: truncated and
        framed as :meth:`__call__` does, not padded (ragged ops: for ``tf.data``, not TFLite)."""
        before, after = self.template_parts
        if before or after:
            sentences = tf.strings.join([before, sentences, after])
        tokens = self._tokenize(sentences)
        if tokens.ragged_rank > 1:  # [n, (words), (pieces)] -> [n, (pieces)]
            tokens = tokens.merge_dims(1, -1)
        tokens = tf.cast(tokens[:, :self.max_length - 2], tf.int32)
        count = tokens.nrows()
        cls = tf.fill([count, 1], self.cls_id)
        sep = tf.fill([count, 1], self.sep_id)
        return tf.concat([cls, tokens, sep], axis=1)


def _wordpiece(spec: dict, text) -> Callable:
    """A FastBertTokenizer with the vocabulary and normaliser of a WordPiece ``tokenizer.json``;
    raises _NoEquivalent for a normaliser or pre-tokeniser it cannot reproduce."""
    normalizer, pre = spec.get("normalizer") or {}, spec.get("pre_tokenizer") or {}
    if normalizer.get("type") != "BertNormalizer" or pre.get("type") != "BertPreTokenizer":
        raise _NoEquivalent(f"normaliser {normalizer.get('type')} / pre-tokeniser "
                            f"{pre.get('type')} (tf-text reproduces BertNormalizer + "
                            "BertPreTokenizer)")
    lower = bool(normalizer.get("lowercase"))
    strip = normalizer.get("strip_accents")
    strip = lower if strip is None else bool(strip)  # BERT: strip accents when lower-casing
    if lower != strip:
        raise _NoEquivalent(f"lowercase={lower} with strip_accents={strip} (tf-text's "
                            "FastBertTokenizer does both or neither)")
    if not normalizer.get("handle_chinese_chars", True):
        raise _NoEquivalent("handle_chinese_chars=false (tf-text always splits CJK)")
    model = spec["model"]
    vocab = _vocab_list(model["vocab"])
    return text.FastBertTokenizer(
        vocab=vocab, suffix_indicator=model.get("continuing_subword_prefix", "##"),
        max_bytes_per_word=int(model.get("max_input_chars_per_word", 100)),
        token_out_type=tf.int64, unknown_token=model.get("unk_token", "[UNK]"),
        lower_case_nfd_strip_accents=lower)


def _vocab_list(vocab: dict) -> list[str]:
    tokens = [None] * len(vocab)
    for token, index in vocab.items():
        if not 0 <= index < len(tokens) or tokens[index] is not None:
            raise _NoEquivalent("a vocabulary whose ids are not 0..size-1")
        tokens[index] = token
    return tokens


def _sentencepiece(hf_tokenizer, model_dir: Path, text) -> Callable:
    """A SentencepieceTokenizer over the folder's SentencePiece model, ids mapped onto the
    Hugging Face vocabulary; raises _NoEquivalent without a ``.model`` file."""
    files = sorted(Path(model_dir).glob("*.model"))
    if not files:
        raise _NoEquivalent("a SentencePiece tokenizer without its .model file in the folder "
                            "(e.g. sentencepiece.bpe.model)")
    model = files[0].read_bytes()
    # The pieces, to map SentencePiece ids onto the Hugging Face vocabulary (at export only).
    pieces = text.SentencepieceTokenizer(model=model).id_to_string(
        tf.range(int(text.SentencepieceTokenizer(model=model).vocab_size()))).numpy()
    vocab, unk = hf_tokenizer.get_vocab(), hf_tokenizer.unk_token_id
    ids = [vocab.get(piece.decode("utf-8"), unk) for piece in pieces]
    ids[0] = unk  # SentencePiece's <unk> is its id 0; the Hugging Face unk id differs (XLM-R)
    # FastSentencepieceTokenizer: the variant with a TFLite kernel.
    holder = tf.Module(name="sentencepiece")  # its attributes are saved with the model
    holder.tokenizer = text.FastSentencepieceTokenizer(model)
    holder.table = tf.constant(ids, tf.int32)

    def tokenize(sentences):
        pieces = holder.tokenizer.tokenize(sentences)
        return pieces.with_flat_values(tf.gather(holder.table, pieces.flat_values))

    return tokenize


class _NoEquivalent(Exception):
    """The tokenizer has no tensorflow-text equivalent (the message says why)."""


def build_in_graph_tokenizer(hf_tokenizer, model_dir: str | Path, max_length: int,
                             template: Optional[str] = None
                             ) -> tuple[Optional[InGraphTokenizer], str]:
    """The in-graph equivalent of ``hf_tokenizer``, or None and the reason there is none.

    Args:
        hf_tokenizer: the model's Hugging Face fast tokenizer.
        model_dir: the model folder (for a SentencePiece model file).
        max_length: truncation length in tokens.
        template: the model's prompt template, applied in the graph.

    Returns:
        ``(tokenizer, "")`` when it gives the Hugging Face ids on :data:`PROBE_SENTENCES`,
        else ``(None, reason)``.
    """
    text = import_tensorflow_text()
    if not getattr(hf_tokenizer, "is_fast", False):
        return None, "the tokenizer is not a Hugging Face fast tokenizer"
    spec = json.loads(hf_tokenizer.backend_tokenizer.to_str())
    kind = spec["model"]["type"]
    ids = [hf_tokenizer.cls_token_id, hf_tokenizer.sep_token_id, hf_tokenizer.pad_token_id]
    if None in ids:
        return None, "the tokenizer lacks a CLS, SEP or pad token"
    try:
        if kind == "WordPiece":
            inner = _wordpiece(spec, text).tokenize  # [n, (word pieces)]
        elif kind == "Unigram":
            inner = _sentencepiece(hf_tokenizer, Path(model_dir), text)
            kind = "SentencePiece"
        else:
            raise _NoEquivalent(f"a {kind} tokenizer (tf-text has WordPiece and SentencePiece)")
    except _NoEquivalent as reason:
        return None, f"{kind}: {reason}"
    # tf-text's ops need no AutoGraph: not converting their source saves seconds per trace.
    inner = tf.autograph.experimental.do_not_convert(inner)
    tokenizer = InGraphTokenizer(inner, *ids, max_length=max_length, template=template,
                                 kind=kind)
    mismatch = first_mismatch(tokenizer, hf_tokenizer, PROBE_SENTENCES, max_length, template)
    if mismatch is not None:
        return None, f"{kind}: tf-text's ids differ from the Hugging Face ones on {mismatch!r}"
    return tokenizer, ""


def hf_ids(hf_tokenizer, sentences, max_length: int, template: Optional[str] = None) -> list:
    """The Hugging Face tokenizer's ids for ``sentences`` (template applied, truncated)."""
    before, _, after = (template or "{}").partition("{}")
    texts = [before + s + after for s in sentences]
    return hf_tokenizer(texts, max_length=max_length, truncation=True)["input_ids"]


def in_graph_ids(tokenizer: InGraphTokenizer, sentences) -> list:
    """The in-graph tokenizer's ids for ``sentences``, padding removed."""
    ids, mask = tokenizer(tf.constant(list(sentences), tf.string))
    return [row[m.astype(bool)].tolist() for row, m in zip(ids.numpy(), mask.numpy())]


def first_mismatch(tokenizer: InGraphTokenizer, hf_tokenizer, sentences, max_length: int,
                   template: Optional[str] = None) -> Optional[str]:
    """The first sentence on which the two tokenizers' ids differ, or None."""
    sentences = list(sentences)
    expected = hf_ids(hf_tokenizer, sentences, max_length, template)
    for sentence, want, got in zip(sentences, expected, in_graph_ids(tokenizer, sentences)):
        if list(want) != got:
            return sentence
    return None
