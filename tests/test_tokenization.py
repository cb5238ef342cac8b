"""The pipeline's chunked, parallel tokenization gives exactly the batches of tokenizing each
batch on its own, padded on the right whatever the tokenizer's ``padding_side`` (as every batch
ct encodes: :func:`ct.data.tokenization.tokenize_batch`)."""

import numpy as np
import pytest
import transformers

from ct._keras import tf
from ct.data.batching import tokenize_and_finish
from helpers import wiki_sentences


@pytest.mark.parametrize("padding", ["longest", "max_length"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_chunked_tokenization_matches_the_tokenizer_batch_by_batch(tiny_bert_dir, padding, side):
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tiny_bert_dir))
    tokenizer.padding_side = side
    texts = wiki_sentences(7 * 6 * 2)
    batches = [(texts[i:i + 6], texts[i + 6:i + 12]) for i in range(0, len(texts), 12)]
    labels = np.arange(len(batches) * 6, dtype=np.float32).reshape(-1, 6)
    dataset = tf.data.Dataset.from_tensor_slices(
        ([b[0] for b in batches], [b[1] for b in batches], labels))
    # 7 batches in chunks of 3: a partial chunk at the end too
    out = list(tokenize_and_finish(dataset, tokenizer, max_length=20, padding=padding, chunk=3))
    assert len(out) == len(batches)
    for (features, got_labels), (column_1, column_2), want_labels in zip(out, batches, labels):
        for index, column in ((1, column_1), (2, column_2)):
            want = tokenizer(column, max_length=20, truncation=True, padding=padding,
                             padding_side="right", return_tensors="np")
            np.testing.assert_array_equal(features[f"input_ids_{index}"], want["input_ids"])
            np.testing.assert_array_equal(features[f"attention_mask_{index}"],
                                          want["attention_mask"])
            assert (want["attention_mask"][:, 0] == 1).all()  # real tokens from column 0
        np.testing.assert_array_equal(got_labels, want_labels)


@pytest.fixture(scope="module")
def minilm_tokenizer():
    from ct.modeling.loading import load_tokenizer
    from ct.resources import resolve_path
    return load_tokenizer(resolve_path("bundled:all-MiniLM-L6-v2"))


def _random_texts(count: int, seed: int) -> list[str]:
    """Texts of Latin, ASCII control and ordinary characters, combining marks, CJK and the
    characters tf-text folds differently (ß, ligatures, fullwidth forms), with long words."""
    from ct.data.tokenization import _LATIN_CANDIDATES
    rng = np.random.default_rng(seed)
    alphabet = (list(_LATIN_CANDIDATES) + [chr(c) for c in range(128)] + list("abcdefg    ") * 6
                + ["\u0301", "\u0327", "\u200b", "\u3000", "東", "ß", "ﬁ", "ａ", "İ", "Σ", "…"])
    return ["".join(rng.choice(alphabet, size=int(rng.integers(0, 120)))) for _ in range(count)]


def test_ragged_tokenizer_gives_the_hugging_face_ids_on_any_text(minilm_tokenizer):
    """Most texts go through tf-text's op (checked characters only), the rest through the
    Hugging Face tokenizer: every text gets exactly the Hugging Face ids."""
    from ct.data.tokenization import in_graph_wordpiece, make_ragged_tokenizer
    in_graph, latin = in_graph_wordpiece(minilm_tokenizer, 30)
    assert in_graph is not None and "é" in latin and "–" in latin
    assert not {"ß", "ĳ", "…", "²"} & set(latin)  # compatibility forms: tf-text folds them
    texts = wiki_sentences(300) + _random_texts(1500, seed=0) + ["x" * 40 + "é", ""]
    got = make_ragged_tokenizer(minilm_tokenizer, 30)(tf.constant(texts)).to_list()
    want = minilm_tokenizer(texts, max_length=30, truncation=True)["input_ids"]
    assert [list(row) for row in want] == got


def test_ragged_tokenizer_falls_back_to_hugging_face_when_the_op_differs(minilm_tokenizer):
    """A tokenizer that truncates on the left (tf-text cuts on the right) fails the start
    check: every text then goes through the Hugging Face tokenizer."""
    import copy
    from ct.data.tokenization import in_graph_wordpiece, make_ragged_tokenizer
    left = copy.deepcopy(minilm_tokenizer)
    left.truncation_side = "left"
    assert in_graph_wordpiece(left, 12) == (None, "")
    texts = wiki_sentences(40)
    got = make_ragged_tokenizer(left, 12)(tf.constant(texts)).to_list()
    assert [list(row) for row in left(texts, max_length=12, truncation=True)["input_ids"]] == got
