"""Corpora as users have them: many shards, folders and globs, compressed text, Parquet, Arrow
and `datasets` folders; each checked against the plain text file it is a copy of."""

import bz2
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
    parquet = tmp_path / "wiki.parquet"
    _write_parquet(parquet, lines, row_group_size=64)
    samples = []
    for corpus in (plain, gz, parquet):
        out = tmp_path / f"{corpus.name}.jsonl"
        assert main(["sample", str(PAPER), "--set", f"corpus={corpus}", "--set", "sts_dev=null",
                     "--steps", "20", "--start-step", "11", "--out", str(out), "-q"]) == 0
        samples.append(out.read_text())
    assert samples[0].count("\n") == 20 * 16
    assert samples[1] == samples[0] and samples[2] == samples[0]


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
    packed = tmp_path / "sts-dev.csv.bz2"
    packed.write_bytes(bz2.compress(plain.read_bytes()))
    assert read_sts_file(str(packed)).sentences_1 == read_sts_file(str(plain)).sentences_1
    assert read_sts_file(str(packed)).scores == read_sts_file(str(plain)).scores
