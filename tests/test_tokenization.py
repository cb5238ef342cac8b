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
