import numpy as np
import pytest

from ct._keras import tf
from ct.data.corpus import Corpus
from ct.data.ct_dataset import build_ct_dataset
from ct.data.ct_sampling import arrange_ct_batch, sentences_per_batch
from ct.modeling.loading import load_tokenizer


def test_sentences_per_batch_paper_defaults():
    # 16 pairs, K=7: 2 positives + 2 * 14 different negatives = 30 sentences
    assert sentences_per_batch(16, 7) == 30
    assert sentences_per_batch(8, 3) == 2 * 7


def test_layout_positives_then_k_different_negatives_per_model():
    sentences = [f"s{i}" for i in range(30)]
    texts_1, texts_2, labels = arrange_ct_batch(tf.constant(sentences), num_negatives=7)
    texts_1 = [t.decode() for t in texts_1.numpy()]
    texts_2 = [t.decode() for t in texts_2.numpy()]
    assert labels.numpy().tolist() == ([1.0] + [0.0] * 7) * 2
    assert len(texts_1) == len(texts_2) == 16
    # positives: the same sentence to both models, first in each group of K + 1
    assert texts_1[0] == texts_2[0] == "s0"
    assert texts_1[8] == texts_2[8] == "s1"
    # negatives: each model gets its own sentences, never shared with the other model
    negatives_1 = texts_1[1:8] + texts_1[9:16]
    negatives_2 = texts_2[1:8] + texts_2[9:16]
    assert not set(negatives_1) & set(negatives_2)
    assert all(a != b for a, b in zip(negatives_1, negatives_2))
    assert sorted(negatives_1 + negatives_2 + ["s0", "s1"], key=lambda s: int(s[1:])) == sentences


def _first_batches(corpus_file, tokenizer, seed, count=3):
    dataset = build_ct_dataset(Corpus.from_patterns([str(corpus_file)]), tokenizer,
                               batch_size=16, num_negatives=7, max_length=32, seed=seed,
                               shuffle_buffer=500)
    return list(dataset.take(count).as_numpy_iterator())


def test_dataset_batches_follow_layout_and_are_seeded(corpus_file, tiny_bert_dir):
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    batches = _first_batches(corpus_file, tokenizer, seed=1)
    for features, labels in batches:
        assert labels.tolist() == ([1.0] + [0.0] * 7) * 2
        assert features["input_ids_1"].shape[0] == 16
        for row in range(16):
            same = np.array_equal(features["input_ids_1"][row], features["input_ids_2"][row])
            assert same == (labels[row] == 1.0)
    again = _first_batches(corpus_file, tokenizer, seed=1)
    other = _first_batches(corpus_file, tokenizer, seed=2)
    for (a, _), (b, _) in zip(batches, again):
        np.testing.assert_array_equal(a["input_ids_1"], b["input_ids_1"])
    assert any(a["input_ids_1"].shape != b["input_ids_1"].shape
               or not np.array_equal(a["input_ids_1"], b["input_ids_1"])
               for (a, _), (b, _) in zip(batches, other))


def test_start_position_resumes_the_same_stream(corpus_file, tiny_bert_dir):
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    corpus = Corpus.from_patterns([str(corpus_file)])
    full = list(build_ct_dataset(corpus, tokenizer, seed=3, shuffle_buffer=500)
                .take(3).as_numpy_iterator())
    skipped = list(build_ct_dataset(corpus, tokenizer, seed=3, shuffle_buffer=500,
                                    start_position=2).take(1).as_numpy_iterator())
    np.testing.assert_array_equal(full[2][0]["input_ids_2"], skipped[0][0]["input_ids_2"])
    # a variable is read when iteration starts, not when the dataset is built
    position = tf.Variable(0, dtype=tf.int64)
    dataset = build_ct_dataset(corpus, tokenizer, seed=3, shuffle_buffer=500,
                               start_position=position)
    position.assign(1)
    first = next(iter(dataset))
    np.testing.assert_array_equal(full[1][0]["input_ids_1"], first[0]["input_ids_1"].numpy())


def _unpadded_rows(ids):
    return [tuple(int(t) for t in row if t != 0) for row in ids]


@pytest.mark.parametrize("pipelines", [1, 2])
def test_replica_split_reproduces_the_global_batch(corpus_file, tiny_bert_dir, pipelines):
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    corpus = Corpus.from_patterns([str(corpus_file)])
    common = dict(batch_size=16, num_negatives=3, seed=4, shuffle_buffer=500)
    (features, labels), = build_ct_dataset(corpus, tokenizer, **common).take(1)
    parts = []
    for pipeline in range(pipelines):
        per_pipeline = list(build_ct_dataset(
            corpus, tokenizer, num_replicas=4, input_pipeline_id=pipeline,
            num_input_pipelines=pipelines, **common).take(4 // pipelines))
        parts.extend(per_pipeline)
    for part_features, part_labels in parts:
        assert part_labels.numpy().tolist() == [1.0, 0.0, 0.0, 0.0]
    for side in ("input_ids_1", "input_ids_2"):
        rows = [r for f, _ in parts for r in _unpadded_rows(f[side].numpy())]
        assert rows == _unpadded_rows(features[side].numpy())


def test_ct_ibn_batches_give_both_models_the_same_distinct_sentences(corpus_file,
                                                                     tiny_bert_dir):
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    corpus = Corpus.from_patterns([str(corpus_file)])
    assert sentences_per_batch(12, 7, "ct_ibn") == 12
    for features, labels in (build_ct_dataset(corpus, tokenizer, batch_size=12, seed=1,
                                              shuffle_buffer=500, objective="ct_ibn")
                             .take(2).as_numpy_iterator()):
        assert labels.tolist() == [1.0] * 12
        np.testing.assert_array_equal(features["input_ids_1"], features["input_ids_2"])
        rows = {tuple(row) for row in features["input_ids_1"]}
        assert len(rows) == 12  # distinct sentences: the other rows are true negatives
