import json

import numpy as np
import pytest

from ct._keras import tf
from ct.data.corpus import Corpus
from ct.data.ct_dataset import build_ct_dataset
from ct.data.ct_sampling import arrange_ct_batch, sentences_per_batch
from ct.data.ct_dataset import sample_batches
from ct.data.ct_sampling import CTBatchSampler
from ct.modeling.loading import load_tokenizer
from helpers import REPO_ROOT

PAPER = REPO_ROOT / "configs" / "ct_paper.yaml"


def test_sentences_per_batch_paper_defaults():
    # 16 pairs, K=7: 2 positives + 2 * 14 different negatives = 30 sentences
    assert sentences_per_batch(16, 7) == 30
    assert sentences_per_batch(8, 3) == 2 * 7


def test_layout_positives_then_k_different_negatives_per_model():
    sentences = [f"s{i}" for i in range(30)]
    texts_1, texts_2, labels = arrange_ct_batch(np.array(sentences), num_negatives=7)
    texts_1, texts_2 = texts_1.tolist(), texts_2.tolist()
    assert labels.tolist() == ([1.0] + [0.0] * 7) * 2
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
                               batch_size=16, num_negatives=7, max_length=32, seed=seed)
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
    full = list(build_ct_dataset(corpus, tokenizer, seed=3)
                .take(3).as_numpy_iterator())
    skipped = list(build_ct_dataset(corpus, tokenizer, seed=3,
                                    start_position=2).take(1).as_numpy_iterator())
    np.testing.assert_array_equal(full[2][0]["input_ids_2"], skipped[0][0]["input_ids_2"])
    # a variable is read when iteration starts, not when the dataset is built
    position = tf.Variable(0, dtype=tf.int64)
    dataset = build_ct_dataset(corpus, tokenizer, seed=3,
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
    common = dict(batch_size=16, num_negatives=3, seed=4)
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
    for features, labels in (build_ct_dataset(corpus, tokenizer, batch_size=12, seed=1, objective="ct_ibn")
                             .take(2).as_numpy_iterator()):
        assert labels.tolist() == [1.0] * 12
        np.testing.assert_array_equal(features["input_ids_1"], features["input_ids_2"])
        rows = {tuple(row) for row in features["input_ids_1"]}
        assert len(rows) == 12  # distinct sentences: the other rows are true negatives


def _drawn_ids(corpus, steps, start=0, seed=42):
    """The sentence numbers of ``steps`` global batches, in stream order (texts are the line
    numbers, so the text of a sentence is its number)."""
    ids = []
    sampler = CTBatchSampler(len(corpus), 16, 7, seed)
    for texts_1, texts_2, labels in sample_batches(corpus, sampler, start, steps):
        for text_1, text_2, label in zip(texts_1, texts_2, labels):
            ids.append(int(text_1))
            if label == 0:
                ids.append(int(text_2))
    return ids


def _numbered_corpus(tmp_path, lines, name="numbered.txt"):
    path = tmp_path / name
    path.write_text("".join(f"{i}\n" for i in range(lines)))
    return Corpus.from_patterns([str(path)])


def test_each_epoch_draws_every_sentence_exactly_once(tmp_path):
    corpus = _numbered_corpus(tmp_path, 300)
    ids = _drawn_ids(corpus, steps=20, seed=5)  # 20 x 30 = 600 sentences: two epochs
    assert sorted(ids[:300]) == list(range(300)) and sorted(ids[300:]) == list(range(300))
    assert ids[:300] != ids[300:]  # each epoch has its own order
    assert ids[:300] != sorted(ids[:300])


def test_sampling_is_uniform_over_a_large_corpus(tmp_path):
    """The bias the issue found: with a shuffle buffer, the first draws of a 1M-line corpus all
    came from its start. Here the first 3,000 draws of a 100,000-line corpus spread evenly."""
    from scipy import stats

    corpus = _numbered_corpus(tmp_path, 100_000)
    ids = np.array(_drawn_ids(corpus, steps=100, seed=42))
    tenths = np.histogram(ids, bins=10, range=(0, 100_000))[0]
    assert stats.chisquare(tenths).pvalue > 0.01, tenths
    assert (ids >= 50_000).mean() > 0.4


def test_starting_at_a_late_step_reads_nothing_before_it(tmp_path, monkeypatch):
    corpus = _numbered_corpus(tmp_path, 1000)
    reads = []
    original = Corpus.read
    monkeypatch.setattr(Corpus, "read", lambda self, ids: reads.append(len(ids))
                        or original(self, ids))
    late = _drawn_ids(corpus, steps=1, start=10**9, seed=3)
    # two reads (model 1's and model 2's sentences) for the one batch
    assert len(late) == 30 and sum(reads) == 2 * 16
    # the same step drawn from an earlier start is the same batch
    assert _drawn_ids(corpus, steps=2, start=10**9 - 1, seed=3)[30:] == late


def _sampled(out):
    return [json.loads(line) for line in out.read_text().splitlines()]


@pytest.mark.parametrize("grouping", [[], ["group_batches=2"]], ids=["plain", "grouped"])
def test_ct_sample_writes_exactly_what_ct_train_trains_on(tmp_path, monkeypatch,
                                                          train_overrides, grouping):
    """The same config, through `ct sample` and through `ct train` (on 2 virtual replicas the
    global batches are the same, so one device is enough here): every text the training
    stream tokenizes for steps 1..3, model 1's column then model 2's, equals the sample;
    with length grouping too (its lengths are token counts, from the same tokenizer)."""
    from ct.cli import main
    from ct.data import tokenization

    overrides = [*train_overrides, "steps=3", "sts_dev=null", "checkpoint_every=0", *grouping]
    args = [arg for item in overrides for arg in ("--set", item)]
    out = tmp_path / "sample.jsonl"
    assert main(["sample", str(PAPER), *args, "--steps", "3", "--out", str(out)]) == 0
    sample = _sampled(out)
    assert [(r["step"], r["pair"]) for r in sample] == [(s, p) for s in (1, 2, 3)
                                                        for p in range(16)]
    assert [r["label"] for r in sample[:16]] == [1] + [0] * 7 + [1] + [0] * 7

    tokenized = []  # the texts of a chunk of batches, in the order the pipeline tokenizes them
    original = tokenization.make_ragged_tokenizer

    def recording(tokenizer, *args, **kwargs):
        tokenize = original(tokenizer, *args, **kwargs)

        def keep(texts):
            tokenized.append([t.decode() for t in texts])
            return texts

        def record(texts):
            kept = tf.numpy_function(keep, [texts], tf.string, stateful=True)
            return tokenize(tf.ensure_shape(kept, [None]))
        return record

    monkeypatch.setattr("ct.data.batching.make_ragged_tokenizer", recording)
    assert main(["train", str(PAPER), *args, "--output-dir", str(tmp_path / "run"), "-q"]) == 0
    # chunks and columns are tokenized in parallel threads: find each step's batches in them
    batches = [chunk[i:i + 16] for chunk in tokenized for i in range(0, len(chunk), 16)]
    for step in (1, 2, 3):
        rows = [r for r in sample if r["step"] == step]
        assert [r["text_1"] for r in rows] in batches
        assert [r["text_2"] for r in rows] in batches

    # --start-step gives the same steps as a longer sample from the start
    later = tmp_path / "later.jsonl"
    assert main(["sample", str(PAPER), *args, "--steps", "1", "--start-step", "3",
                 "--out", str(later)]) == 0
    assert _sampled(later) == [r for r in sample if r["step"] == 3]


def test_length_grouping_regroups_a_window_by_length_and_keeps_every_sentence(tmp_path):
    path = tmp_path / "lengths.txt"
    rng = np.random.default_rng(1)
    path.write_text("".join(f"{i} " + "w" * int(rng.integers(1, 200)) + "\n"
                            for i in range(600)))
    corpus = Corpus.from_patterns([str(path)])
    plain = CTBatchSampler(len(corpus), 16, 7, seed=5)
    grouped = CTBatchSampler(len(corpus), 16, 7, seed=5, group_batches=4,
                             lengths=corpus.byte_lengths)
    window_plain = np.concatenate([plain.sentence_ids(b) for b in range(4)])
    window_grouped = [grouped.sentence_ids(b) for b in range(4)]
    # the same sentences, regrouped
    assert sorted(np.concatenate(window_grouped).tolist()) == sorted(window_plain.tolist())
    spread = [np.ptp(corpus.byte_lengths(ids)) for ids in window_grouped]
    assert max(spread) < np.ptp(corpus.byte_lengths(window_plain)) / 2
    # batch order inside the window is not sorted by length every time
    orders = [[int(np.mean(corpus.byte_lengths(grouped.sentence_ids(w * 4 + b))))
               for b in range(4)] for w in range(5)]
    assert any(order != sorted(order) for order in orders)
    ids_1, ids_2, labels = grouped.ids(2)
    assert labels.tolist() == ([1.0] + [0.0] * 7) * 2 and ids_1[0] == ids_2[0]


@pytest.mark.parametrize("objective, batch_size, group", [("ct_ibn", 8, 4), ("ct", 16, 3)])
def test_length_grouping_keeps_every_sentence_once_per_epoch(tmp_path, objective, batch_size,
                                                             group):
    """100 sentences, windows of 32 (ct_ibn: 4 batches of 8) or 90 (ct: 3 batches of 30)
    sentences: epochs end inside windows (and mid-batch), yet positions e x 100 .. e x 100
    + 99 of the grouped stream hold every sentence once, a batch inside an epoch never
    repeats a sentence, and a run started at any batch (resume, `ct sample --start-step`)
    gets the batches of a run from the start."""
    from ct.data.ct_dataset import ct_id_chunks

    path = tmp_path / "hundred.txt"
    rng = np.random.default_rng(2)
    path.write_text("".join(f"{i} " + "w" * int(rng.integers(1, 90)) + "\n"
                            for i in range(100)))
    corpus = Corpus.from_patterns([str(path)])
    n = len(corpus)

    def sampler():
        return CTBatchSampler(n, batch_size, 7, seed=11, objective=objective,
                              group_batches=group, lengths=corpus.byte_lengths)

    size = sentences_per_batch(batch_size, 7, objective)
    batches = [sampler().sentence_ids(b) for b in range(5 * n // size + 1)]
    from_start = sampler()
    assert all(np.array_equal(from_start.sentence_ids(b), ids) for b, ids in enumerate(batches))
    stream = np.concatenate(batches)
    for epoch in range(5):
        assert sorted(stream[epoch * n:(epoch + 1) * n].tolist()) == list(range(n)), epoch
    for b, ids in enumerate(batches):
        if (b * size) // n == ((b + 1) * size - 1) // n:  # within one epoch
            assert len(set(ids.tolist())) == size, b
    # grouping still groups: a window's batches are narrower in length than plain ones
    plain = CTBatchSampler(n, batch_size, 7, seed=11, objective=objective)
    spread = [np.ptp(corpus.byte_lengths(ids)) for ids in batches]
    plain_spread = [np.ptp(corpus.byte_lengths(plain.sentence_ids(b)))
                    for b in range(len(batches))]
    assert np.mean(spread) < 0.6 * np.mean(plain_spread)

    # resume inside the window that holds the first epoch's end, and right after it
    boundary_window = (n // size) // group
    for start in (boundary_window * group + 1, (boundary_window + 1) * group):
        fresh = sampler()
        resumed = [[t.numpy() for t in element]
                   for element in ct_id_chunks(fresh, start, chunk=2).unbatch().take(3)]
        for offset, (ids_1, ids_2, labels) in enumerate(resumed):
            expected = from_start.ids(start + offset)
            for got, want in zip((ids_1, ids_2, labels), expected):
                np.testing.assert_array_equal(got, want)
        sampled = list(sample_batches(corpus, sampler(), start, 3))
        assert [texts_1 for texts_1, _, _ in sampled] == \
            [corpus.read(from_start.ids(start + offset)[0]) for offset in range(3)]


def test_length_grouping_by_token_count_leaves_the_least_padding(tmp_path, tiny_bert_dir):
    """Training and `ct sample` group by token counts (make_sampler with the tokenizer): words
    of very different byte lengths make byte lengths a poor proxy, token counts are exact."""
    from ct.data.ct_dataset import make_sampler
    from ct.data.tokenization import token_counts

    rng = np.random.default_rng(3)
    words = ["a", "the", "sentence", "extraordinarily", "counterintuitive", "b"]
    path = tmp_path / "mixed.txt"
    path.write_text("".join(" ".join(rng.choice(words, int(rng.integers(1, 12)))) + "\n"
                            for _ in range(2000)))
    corpus = Corpus.from_patterns([str(path)])
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    tokens = dict(zip(range(len(corpus)), token_counts(tokenizer, corpus.read(
        np.arange(len(corpus))), max_length=64)))

    def padding(sampler):
        real = computed = 0
        for batch in range(16):
            for ids in sampler.ids(batch)[:2]:
                counts = [tokens[i] for i in ids]
                real, computed = real + sum(counts), computed + max(counts) * len(counts)
        return 1 - real / computed

    layout = dict(batch_size=16, num_negatives=7, seed=1, objective="ct", group_batches=8)
    by_tokens = make_sampler(corpus, tokenizer=tokenizer, max_length=64, **layout)
    by_bytes = make_sampler(corpus, **layout)
    plain = make_sampler(corpus, **{**layout, "group_batches": 0})
    assert padding(by_tokens) < padding(by_bytes) < padding(plain)

    def token_ranges(sampler, window):
        return sorted((min(tokens[i] for i in ids), max(tokens[i] for i in ids))
                      for ids in (sampler.sentence_ids(window * 8 + b) for b in range(8)))

    def overlapping(ranges):
        return sum(high > next_low for (_, high), (next_low, _) in zip(ranges, ranges[1:]))

    # by token count, a window's batches are consecutive slices of its sentences sorted by
    # token count: their token ranges do not overlap (the least padding a window allows)
    assert all(overlapping(token_ranges(by_tokens, w)) == 0 for w in range(4))
    assert sum(overlapping(token_ranges(by_bytes, w)) for w in range(4)) > 0
    # every sentence of the window is still drawn once, and grouping is repeatable
    window = np.concatenate([by_tokens.sentence_ids(b) for b in range(8)])
    plain_window = np.concatenate([plain.sentence_ids(b) for b in range(8)])
    assert sorted(window.tolist()) == sorted(plain_window.tolist())
    again = make_sampler(corpus, tokenizer=tokenizer, max_length=64, **layout)
    assert [again.sentence_ids(b).tolist() for b in (9, 3)] == \
        [by_tokens.sentence_ids(b).tolist() for b in (9, 3)]


class _OneCallAtATime:
    """A tokenizer that fails, as a fast tokenizer does ("Already borrowed"), when two
    threads call it at once."""

    def __init__(self, tokenizer):
        self.tokenizer, self.busy = tokenizer, False

    def __deepcopy__(self, memo):  # a copy is a tokenizer of its own, not in use
        import copy

        return _OneCallAtATime(copy.deepcopy(self.tokenizer, memo))

    def __getattr__(self, name):  # padding_side, pad_token_id, ...: the real tokenizer's
        if name == "tokenizer":  # not set yet (copy.deepcopy builds a bare object first)
            raise AttributeError(name)
        return getattr(self.tokenizer, name)

    def __call__(self, *args, **kwargs):
        import time

        if self.busy:
            raise RuntimeError("Already borrowed")
        self.busy = True
        try:
            time.sleep(0.005)
            return self.tokenizer(*args, **kwargs)
        finally:
            self.busy = False


def test_the_pipeline_never_shares_a_tokenizer_between_threads(corpus_file, tiny_bert_dir):
    """tf.data runs the sampler (which counts tokens) and the pipeline's tokenization in
    threads of their own while the main thread may tokenize too (STS evaluation during
    training): each has a copy of the tokenizer."""
    corpus = Corpus.from_patterns([str(corpus_file)])
    tokenizer = _OneCallAtATime(load_tokenizer(str(tiny_bert_dir)))
    dataset = build_ct_dataset(corpus, tokenizer, batch_size=8, num_negatives=3,
                               max_length=32, group_batches=2)
    iterator = iter(dataset)
    for _ in range(40):
        features, _ = next(iterator)
        assert features["input_ids_1"].shape[0] == 8
        tokenizer(["the main thread tokenizes too"], max_length=16, truncation=True)


@pytest.mark.parametrize("objective", ["ct", "ct_ibn"])
def test_chunk_ids_are_each_batch_ids(objective):
    """The pipeline asks for a chunk of batches per call (one permutation over all of them,
    across an epoch's end): each row is what the batch alone gives."""
    from ct.data.ct_sampling import arrange_batch
    sampler = CTBatchSampler(100, 16, 7, seed=3, objective=objective)
    numbers = np.arange(1, 10)  # 30 (ct) or 16 (ct_ibn) sentences a batch: epochs end inside
    ids_1, ids_2, labels = sampler.chunk_ids(numbers)
    for row, number in enumerate(numbers):
        for got, want in zip((ids_1[row], ids_2[row], labels[row]),
                             arrange_batch(sampler.sentence_ids(int(number)), 7, objective)):
            np.testing.assert_array_equal(got, want)
