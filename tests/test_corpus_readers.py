"""Corpora as users have them: many shards, folders and globs, compressed text, Parquet, Arrow
and `datasets` folders; each checked against the plain text file it is a copy of."""

import bz2
import gc
import gzip
import json
import lzma
import os
import pickle
import resource
import subprocess
import sys

import numpy as np
import pytest
import zstandard

from ct.data.corpus import Corpus
from ct.data.corpus_index import DESCRIPTORS, MAX_OPEN_FILES
from ct.errors import DataError
from helpers import REPO_ROOT, wiki_sentences

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

PAPER = REPO_ROOT / "configs" / "ct_paper.yaml"


def _all(corpus):
    return corpus.read(np.arange(len(corpus)))


def _lines():
    """Wikipedia sentences with blank, whitespace-only, CRLF and padded lines among them."""
    lines = []
    for i, sentence in enumerate(wiki_sentences(300)):
        lines.append(sentence if i % 7 else f"  {sentence}\r")
        if i % 11 == 0:
            lines.append("" if i % 2 else " \t ")
    return lines


def _expected(lines):  # what a text file gives, read line by line
    return [line.strip() for line in lines if line.strip()]


def _write_parquet(path, lines, row_group_size=37):
    pq.write_table(pa.table({"id": list(range(len(lines))), "text": lines}), path,
                   row_group_size=row_group_size)


def _write_datasets_folder(folder, lines, shards=2):
    """The layout of `datasets.Dataset.save_to_disk`: Arrow IPC streams and state.json."""
    folder.mkdir()
    cut = np.array_split(np.arange(len(lines)), shards)
    names = [f"data-{i:05d}-of-{shards:05d}.arrow" for i in range(shards)]
    for name, rows in zip(names, cut):
        table = pa.table({"text": [lines[r] for r in rows], "label": [0] * len(rows)})
        with pa.OSFile(str(folder / name), "wb") as sink:
            with pa.ipc.new_stream(sink, table.schema) as writer:
                for batch in table.to_batches(max_chunksize=25):
                    writer.write_batch(batch)
    (folder / "state.json").write_text(json.dumps({
        "_data_files": [{"filename": name} for name in names], "_fingerprint": "x",
        "_format_type": None, "_split": "train"}))
    (folder / "dataset_info.json").write_text(json.dumps({"features": {
        "text": {"dtype": "string", "_type": "Value"}}}))


def test_every_format_gives_the_plain_files_sentences_in_order(tmp_path):
    lines = _lines()
    text = "\n".join(lines) + "\n"
    plain = tmp_path / "corpus.txt"
    plain.write_text(text)
    copies = {"gz": tmp_path / "corpus.txt.gz", "bz2": tmp_path / "corpus.txt.bz2",
              "xz": tmp_path / "corpus.txt.xz"}
    copies["gz"].write_bytes(gzip.compress(text.encode()))
    copies["bz2"].write_bytes(bz2.compress(text.encode()))
    copies["xz"].write_bytes(lzma.compress(text.encode()))
    copies["zst"] = tmp_path / "corpus.txt.zst"  # two frames, as pzstd writes
    half = len(text.encode()) // 2
    copies["zst"].write_bytes(zstandard.compress(text.encode()[:half])
                              + zstandard.compress(text.encode()[half:]))
    copies["parquet"] = tmp_path / "corpus.parquet"
    _write_parquet(copies["parquet"], lines)
    copies["jsonl.gz"] = tmp_path / "corpus.jsonl.gz"
    copies["jsonl.gz"].write_bytes(gzip.compress(
        "".join(json.dumps({"text": line}) + "\n" for line in lines).encode()))
    copies["arrow file"] = tmp_path / "corpus.arrow"
    with pa.OSFile(str(copies["arrow file"]), "wb") as sink:  # the IPC file format too
        with pa.ipc.new_file(sink, pa.schema([("text", pa.string())])) as writer:
            writer.write_table(pa.table({"text": lines}))
    copies["datasets folder"] = tmp_path / "saved"
    _write_datasets_folder(copies["datasets folder"], lines)
    expected = _expected(lines)
    assert _all(Corpus.from_patterns([str(plain)])) == expected
    for name, path in copies.items():
        assert _all(Corpus.from_patterns([str(path)])) == expected, name


def test_a_value_holding_several_lines_gives_them_as_sentences(tmp_path):
    path = tmp_path / "articles.parquet"
    _write_parquet(path, ["first paragraph\nsecond paragraph\n\nthird", None, "  ", "last"])
    assert _all(Corpus.from_patterns([str(path)])) == ["first paragraph", "second paragraph",
                                                       "third", "last"]


def test_a_compressed_file_is_decompressed_once_into_the_index_cache(tmp_path, monkeypatch):
    from ct.data.readers import compression

    path = tmp_path / "corpus.txt.gz"
    path.write_bytes(gzip.compress(b"one\ntwo\nthree\n"))
    cache = tmp_path / "cache"
    assert len(Corpus.from_patterns([str(path)], index_dir=str(cache))) == 3
    opened = []
    monkeypatch.setattr(compression, "DecompressedFile",
                        lambda *a: opened.append(a) or pytest.fail("decompressed again"))
    again = Corpus.from_patterns([str(path)], index_dir=str(cache))
    assert _all(again) == ["one", "two", "three"] and not opened
    assert [p.name for p in cache.glob("*/texts.bin")] == ["texts.bin"]


def test_ct_sample_gives_the_plain_files_pairs_for_compressed_and_parquet_copies(tmp_path):
    from ct.cli import main

    lines = wiki_sentences(400)
    text = "\n".join(lines) + "\n"
    plain = tmp_path / "wiki.txt"
    plain.write_text(text)
    gz = tmp_path / "wiki.txt.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    zst = tmp_path / "wiki.txt.zst"
    zst.write_bytes(zstandard.compress(text.encode()))
    parquet = tmp_path / "wiki.parquet"
    _write_parquet(parquet, lines, row_group_size=64)
    samples = []
    for corpus in (plain, gz, zst, parquet):
        out = tmp_path / f"{corpus.name}.jsonl"
        assert main(["sample", str(PAPER), "--set", f"corpus={corpus}", "--set", "sts_dev=null",
                     "--steps", "20", "--start-step", "11", "--out", str(out), "-q"]) == 0
        samples.append(out.read_text())
    assert samples[0].count("\n") == 20 * 16
    assert samples[1:] == [samples[0]] * 3


def test_folders_and_double_star_globs(tmp_path):
    for name, text in [("b/x.txt", "b-x\n"), ("a/c/y.txt", "a-c-y\n"), ("a/z.txt", "a-z\n"),
                       ("a/.hidden.txt", "hidden\n"), (".git/HEAD", "ref\n"),
                       ("a-top.txt", "a-top\n")]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    in_order = ["a-top", "a-c-y", "a-z", "b-x"]  # sorted by path, as a glob's matches
    assert _all(Corpus.from_patterns([str(tmp_path)])) == in_order
    assert _all(Corpus.from_patterns([str(tmp_path / "**" / "*.txt")])) == in_order
    assert _all(Corpus.from_patterns([str(tmp_path / "a" / "**" / "*.txt")])) == ["a-c-y",
                                                                                  "a-z"]


def test_thousands_of_files_keep_a_few_descriptors_open(tmp_path):
    folder = tmp_path / "shards"
    folder.mkdir()
    for shard in range(300):
        (folder / f"wiki_{shard:04d}").write_text("".join(f"s{shard} l{line}\n"
                                                          for line in range(5)))
    corpus = Corpus.from_patterns([str(folder)], index_dir=str(tmp_path / "cache"))
    DESCRIPTORS.close_all()
    DESCRIPTORS.peak = 0
    before = len(os.listdir("/proc/self/fd"))
    ids = np.random.default_rng(0).permutation(len(corpus))
    texts = [text for chunk in np.array_split(ids, 50) for text in corpus.read(chunk)]
    during = len(os.listdir("/proc/self/fd"))
    assert len(texts) == 1500
    assert texts == [f"s{i // 5} l{i % 5}" for i in ids]
    assert DESCRIPTORS.peak <= MAX_OPEN_FILES and during - before <= MAX_OPEN_FILES
    assert pickle.loads(pickle.dumps(corpus)).read(np.array([7]))[0] == "s1 l2"
    corpus.close()
    assert len(DESCRIPTORS) == 0 and len(os.listdir("/proc/self/fd")) <= before
    # a later start reads the corpus' manifest, not 300 meta.json files; a changed shard
    # changes the manifest's key
    manifests = list((tmp_path / "cache").glob("corpus-*.json"))
    assert len(manifests) == 1
    again = Corpus.from_patterns([str(folder)], index_dir=str(tmp_path / "cache"))
    assert again.read(ids[:20]) == texts[:20] and not any(i.built_now for i in again.indexes)
    (folder / "wiki_0007").write_text("changed\n")
    os.utime(folder / "wiki_0007", ns=(10**18, 10**18))
    changed = Corpus.from_patterns([str(folder)], index_dir=str(tmp_path / "cache"))
    assert len(changed) == 1496 and "changed" in changed.read(np.arange(30, 40))


def _ct_error(tmp_path, corpus, *extra):
    """``ct sample`` on ``corpus``: its exit status and standard error (in process)."""
    from ct.cli import main

    out = tmp_path / "out.jsonl"
    args = ["sample", str(PAPER), "--set", f"corpus={corpus}", "--set", "sts_dev=null",
            *extra, "--steps", "1", "--out", str(out)]
    return main(args)


@pytest.mark.parametrize("case", ["truncated gz", "corrupt bz2", "truncated xz",
                                  "truncated zst", "corrupt zst",
                                  "parquet without the column", "not parquet",
                                  "broken link in a folder", "datasets dict"])
def test_bad_input_is_one_error_line_naming_the_file(tmp_path, capsys, case):
    text = ("".join(f"sentence number {i}\n" for i in range(2000))).encode()
    if case == "truncated gz":
        bad = tmp_path / "c.txt.gz"
        bad.write_bytes(gzip.compress(text)[:-200])
        expected = [str(bad), "truncated or corrupt gzip file"]
    elif case == "corrupt bz2":
        bad = tmp_path / "c.txt.bz2"
        data = bytearray(bz2.compress(text))
        data[len(data) // 2] ^= 0xFF
        bad.write_bytes(bytes(data))
        expected = [str(bad), "truncated or corrupt bzip2 file"]
    elif case == "truncated xz":
        bad = tmp_path / "c.txt.xz"
        bad.write_bytes(lzma.compress(text)[:-30])
        expected = [str(bad), "truncated or corrupt xz file"]
    elif case == "truncated zst":  # zstandard's stream reader would just stop early
        bad = tmp_path / "c.txt.zst"
        bad.write_bytes(zstandard.compress(text)[:-30])
        expected = [str(bad), "truncated or corrupt zstd file", "ends inside a frame"]
    elif case == "corrupt zst":
        bad = tmp_path / "c.txt.zst"
        bad.write_bytes(b"not zstd at all" * 20)
        expected = [str(bad), "truncated or corrupt zstd file"]
    elif case == "parquet without the column":
        bad = tmp_path / "c.parquet"
        pq.write_table(pa.table({"id": [1], "sentence": ["x"], "url": ["u"]}), bad)
        expected = [str(bad), "no column 'text'; its columns: id, sentence, url"]
    elif case == "not parquet":
        bad = tmp_path / "c.parquet"
        _write_parquet(bad, ["a"] * 100)
        bad.write_bytes(bad.read_bytes()[:-20])
        expected = [str(bad), "not a readable Parquet file"]
    elif case == "broken link in a folder":
        bad = tmp_path / "shards"
        bad.mkdir()
        (bad / "a.txt").write_text("fine\n")
        (bad / "b.txt").symlink_to(tmp_path / "gone.txt")
        expected = [str(bad / "b.txt"), "cannot be read"]
    else:
        bad = tmp_path / "dict"
        bad.mkdir()
        (bad / "dataset_dict.json").write_text('{"splits": ["train", "test"]}')
        expected = [str(bad / "train"), "DatasetDict"]
    assert _ct_error(tmp_path, bad) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ct: error: "), err
    assert all(part in err[0] for part in expected), err[0]


def test_skip_keeps_its_meaning_in_compressed_files(tmp_path):
    path = tmp_path / "noisy.txt.gz"
    path.write_bytes(gzip.compress(b"".join(f"line {i}\n".encode() for i in range(200))
                                   + b"bad \xff line\n" + b"last\n"))
    with pytest.raises(DataError, match=r"noisy.txt.gz:201: undecodable bytes"):
        Corpus.from_patterns([str(path)]).validate(min_distinct=30)
    stats = Corpus.from_patterns([str(path)], on_bad_line="skip").validate(min_distinct=30)
    assert (stats.num_sentences, stats.num_bad_lines) == (201, 1)


def test_ct_sample_on_1500_shards_in_two_folders_under_ulimit_256(tmp_path):
    """Each shard's lines name the shard; the drawn sentences fall evenly in the tenths of
    the shards (chi-square), with the open-file limit at 256."""
    from scipy import stats

    shards = 1500
    for shard in range(shards):
        folder = tmp_path / ("part-a" if shard < 700 else "part-b")
        folder.mkdir(exist_ok=True)
        (folder / f"wiki_{shard:04d}.txt").write_text(
            "".join(f"{shard} {line} words here\n" for line in range(8)))
    out = tmp_path / "sample.jsonl"

    def limit_descriptors():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    result = subprocess.run(
        [sys.executable, "-m", "ct", "sample", str(PAPER), "--set",
         f"corpus=[{tmp_path / 'part-a'}, {tmp_path / 'part-b'}]", "--set", "sts_dev=null",
         "--steps", "200", "--out", str(out), "-q"],
        capture_output=True, text=True, preexec_fn=limit_descriptors,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    drawn = []
    for line in out.read_text().splitlines():
        record = json.loads(line)
        drawn.append(int(record["text_1"].split()[0]))
        if record["label"] == 0:
            drawn.append(int(record["text_2"].split()[0]))
    assert len(drawn) == 200 * 30 and len(set(drawn)) > 1400
    tenths = np.bincount(np.array(drawn) * 10 // shards, minlength=10)
    assert stats.chisquare(tenths).pvalue > 0.01, tenths


def test_align_and_nli_read_compressed_files_folders_and_globs(tmp_path):
    from ct.data.align_data import read_align_examples
    from ct.data.nli import read_nli_files
    from ct.data.sts import read_sts_file

    folder = tmp_path / "align"
    (folder / "b").mkdir(parents=True)
    (folder / "a.txt.gz").write_bytes(gzip.compress(b"first\nsecond\n"))
    (folder / "b" / "c.txt.xz").write_bytes(lzma.compress(b"third\n\nfourth\n"))
    examples = read_align_examples([str(folder)])
    assert examples.texts == ["first", "second", "third", "fourth"]
    assert examples.rows.tolist() == [0, 1, 2, 4]  # blank lines keep their target row

    rows = [("A man sleeps.", "A person rests.", "entailment"),
            ("A dog runs.", "A cat sleeps.", "contradiction")]
    nli = tmp_path / "nli" / "deep"
    nli.mkdir(parents=True)
    (nli / "train.jsonl.gz").write_bytes(gzip.compress("".join(
        json.dumps({"sentence1": a, "sentence2": b, "gold_label": c}) + "\n"
        for a, b, c in rows).encode()))
    for pattern in (tmp_path / "nli", tmp_path / "nli" / "**" / "*.jsonl.gz"):
        pairs = read_nli_files([str(pattern)])
        assert (pairs.premises, pairs.hypotheses, pairs.labels) == (
            ["A man sleeps.", "A dog runs."], ["A person rests.", "A cat sleeps."], [0, 2])

    plain = REPO_ROOT / "ct" / "resources" / "stsbenchmark" / "sts-dev.csv"
    for packed, compress in ((tmp_path / "sts-dev.csv.bz2", bz2.compress),
                             (tmp_path / "sts-dev.csv.zst", zstandard.compress)):
        packed.write_bytes(compress(plain.read_bytes()))
        assert read_sts_file(str(packed)).sentences_1 == read_sts_file(str(plain)).sentences_1
        assert read_sts_file(str(packed)).scores == read_sts_file(str(plain)).scores


def _write_arrow_stream(path, table, rows_per_batch=2):
    with pa.OSFile(str(path), "wb") as sink:
        with pa.ipc.new_stream(sink, table.schema) as writer:
            for batch in table.to_batches(max_chunksize=rows_per_batch):
                writer.write_batch(batch)


def test_nli_sts_and_align_read_parquet_arrow_and_datasets_folders_as_their_text_files(
        tmp_path):
    from ct.data.align_data import read_align_examples
    from ct.data.nli import read_nli_files
    from ct.data.sts import read_sts_file

    # NLI: ct's column names with label names, the Hugging Face names with label ids
    rows = [("A man sleeps.", "A person rests.", "entailment"),
            ("A man sleeps.", "Nobody rests.", "-"),
            ("A dog runs.", "A cat sleeps.", "contradiction"),
            ("A dog runs.", "An animal moves.", "neutral")]
    jsonl = tmp_path / "nli.jsonl"
    jsonl.write_text("".join(json.dumps({"sentence1": a, "sentence2": b, "gold_label": c})
                             + "\n" for a, b, c in rows))
    ours = tmp_path / "nli.parquet"
    pq.write_table(pa.table({"gold_label": [c for *_, c in rows], "id": [1, 2, 3, 4],
                             "sentence1": [a for a, *_ in rows],
                             "sentence2": [b for _, b, _ in rows]}), ours, row_group_size=3)
    ids = {"entailment": 0, "neutral": 1, "contradiction": 2, "-": -1}
    hub = tmp_path / "nli-hub.arrow"
    _write_arrow_stream(hub, pa.table({"premise": [a for a, *_ in rows],
                                       "hypothesis": [b for _, b, _ in rows],
                                       "label": [ids[c] for *_, c in rows]}))
    expected = read_nli_files([str(jsonl)])
    assert len(expected) == 3 and expected.num_skipped == 1
    for copy in (ours, hub):
        pairs = read_nli_files([str(copy)])
        assert (pairs.premises, pairs.hypotheses, pairs.labels, pairs.num_skipped) == (
            expected.premises, expected.hypotheses, expected.labels, 1), copy
    with pytest.raises(DataError, match=r"nli-bad.parquet: no column 'sentence2' or "
                                        r"'hypothesis'; its columns: sentence1, label, x"):
        bad = tmp_path / "nli-bad.parquet"
        pq.write_table(pa.table({"sentence1": ["a"], "label": [0], "x": [1]}), bad)
        read_nli_files([str(bad)])
    truncated = tmp_path / "nli-truncated.parquet"
    truncated.write_bytes(ours.read_bytes()[:-40])
    with pytest.raises(DataError, match=r"nli-truncated.parquet: not a readable Parquet file"):
        read_nli_files([str(truncated)])

    # STS-B: the bundled dev file, as Parquet (GLUE's names) and as a datasets folder
    plain = read_sts_file(str(REPO_ROOT / "ct" / "resources" / "stsbenchmark" / "sts-dev.csv"))
    table = pa.table({"sentence1": plain.sentences_1, "sentence2": plain.sentences_2,
                      "label": plain.scores, "idx": list(range(len(plain)))})
    pq.write_table(table, tmp_path / "stsb-dev.parquet", row_group_size=500)
    folder = tmp_path / "stsb-dev"
    folder.mkdir()
    _write_arrow_stream(folder / "data-00000-of-00001.arrow",
                        table.rename_columns(["sentence1", "sentence2", "score", "idx"]), 300)
    (folder / "state.json").write_text(json.dumps(
        {"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}))
    for copy in (tmp_path / "stsb-dev.parquet", folder):
        pairs = read_sts_file(str(copy))
        assert (pairs.sentences_1, pairs.sentences_2, pairs.scores) == (
            plain.sentences_1, plain.sentences_2, plain.scores), copy

    # align: one sentence a row (a null row keeps its target row), or parallel columns
    pq.write_table(pa.table({"text": ["first", None, "second "]}), tmp_path / "a.parquet")
    examples = read_align_examples([str(tmp_path / "a.parquet")])
    assert (examples.texts, examples.rows.tolist(), examples.num_lines) == (
        ["first", "second"], [0, 2], 3)
    parallel = tmp_path / "parallel"
    parallel.mkdir()
    pq.write_table(pa.table({"source": ["a cat", "a dog"], "translation": ["eine Katze",
                                                                        "ein Hund"]}),
                   parallel / "part.parquet")
    (tmp_path / "parallel.tsv").write_text("a cat\teine Katze\na dog\tein Hund\n")
    from_text = read_align_examples([str(tmp_path / "parallel.tsv")])
    from_table = read_align_examples([str(parallel)])
    assert from_table.parallel and (from_table.texts, from_table.rows.tolist()) == (
        from_text.texts, from_text.rows.tolist())


def test_parquet_is_read_one_row_group_at_a_time(tmp_path, monkeypatch):
    """Indexing a Parquet file decodes its row groups one by one, the text column alone, and
    Arrow memory stays at one row group's decoding (measured: about 3x its column, the pages
    and their decoded values) whatever the number of row groups: far from the whole file."""
    path = tmp_path / "big.parquet"
    groups, rows = 20, 1000
    lines = [f"sentence {i} " + "x" * 200 for i in range(groups * rows)]
    pq.write_table(pa.table({"text": lines, "other": lines}), path, row_group_size=rows)
    group_bytes = pq.ParquetFile(path).read_row_group(0, columns=["text"]).nbytes
    calls, peak = [], [0]
    original = pq.ParquetFile.read_row_group

    def spy(self, group, columns=None, **kwargs):
        peak[0] = max(peak[0], pa.total_allocated_bytes())
        calls.append((group, tuple(columns)))
        return original(self, group, columns=columns, **kwargs)

    def whole_file(*args, **kwargs):
        pytest.fail("the whole file was read")

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", spy)
    monkeypatch.setattr(pq.ParquetFile, "read", whole_file)
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", whole_file)
    monkeypatch.setattr(pq, "read_table", whole_file)
    from ct.data.readers import columns

    seen = []
    real_iter = columns.ColumnLines.__iter__

    def measured(self):  # memory while each batch's sentences are handed on
        for line in real_iter(self):
            seen.append(pa.total_allocated_bytes())
            yield line

    monkeypatch.setattr(columns.ColumnLines, "__iter__", measured)
    gc.collect()  # Arrow objects earlier tests left in reference cycles
    before = pa.total_allocated_bytes()
    corpus = Corpus.from_patterns([str(path)], index_dir=str(tmp_path / "cache"))
    assert _all(corpus) == [line.strip() for line in lines]
    assert calls == [(group, ("text",)) for group in range(groups)]
    used = max(max(seen), peak[0]) - before
    assert used < 4 * group_bytes, (used, before, group_bytes)


def test_each_worker_reads_its_share_of_a_parquet_corpus_as_of_the_text_file(tmp_path,
                                                                             tiny_bert_dir):
    """Two input pipelines (multi-worker) over a Parquet copy get the text file's batches."""
    from ct.data.ct_dataset import build_ct_dataset
    from ct.modeling.loading import load_tokenizer

    lines = wiki_sentences(200)
    plain = tmp_path / "wiki.txt"
    plain.write_text("\n".join(lines) + "\n")
    _write_parquet(tmp_path / "wiki.parquet", lines, row_group_size=50)
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    shares = {}
    for path in (plain, tmp_path / "wiki.parquet"):
        corpus = Corpus.from_patterns([str(path)], index_dir=str(tmp_path / "cache"))
        shares[path.suffix] = [
            [f["input_ids_1"].numpy().tolist() for f, _ in build_ct_dataset(
                corpus, tokenizer, batch_size=8, num_negatives=3, seed=5, num_replicas=2,
                input_pipeline_id=worker, num_input_pipelines=2).take(3)]
            for worker in range(2)]
    assert shares[".parquet"] == shares[".txt"]
    assert shares[".txt"][0] != shares[".txt"][1]  # each worker its own share


@pytest.mark.parametrize("stage, columns, expected", [
    ("nli", {"premise": ["a"], "label": [0], "idx": [1]},
     "NLI file {path}: no column 'sentence2' or 'hypothesis'; its columns: premise, label, idx"),
    ("stsb", {"sentence1": ["a"], "sentence2": ["b"], "idx": [1]},
     "STS file {path}: no column 'score' or 'label' or 'relatedness_score'; its columns: "
     "sentence1, sentence2, idx"),
    ("align", {"sentence": ["a"]},
     "align.train file {path}: no column 'text'; its columns: sentence")],
    ids=["nli", "stsb", "align"])
def test_a_stage_table_without_a_column_is_one_error_line_naming_those_it_has(
        tmp_path, capsys, stage, columns, expected):
    from ct.cli import main

    path = tmp_path / f"{stage}.parquet"
    pq.write_table(pa.table(columns), path)
    config = REPO_ROOT / "configs" / ("align_precomputed.yaml" if stage == "align"
                                      else "ct_paper.yaml")
    overrides = {"nli": ["stages=[nli]", f"nli.train=[{path}]"],
                 "stsb": ["stages=[stsb]", f"stsb.train=[{path}]"],
                 "align": [f"align.train=[{path}]"]}[stage]
    args = ["train", str(config), "--set", f"output_dir={tmp_path / 'run'}"]
    for override in overrides:
        args += ["--set", override]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["ct: error: " + expected.format(path=path)], err
