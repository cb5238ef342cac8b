"""Corpora: files, formats, the cached line index, validation messages."""

import json
import logging
import os

import numpy as np
import pytest

from ct.data.corpus import Corpus
from ct.data.corpus_index import index_key
from ct.errors import DataError


def _all(corpus):
    return corpus.read(np.arange(len(corpus)))


def test_text_files_glob_sorted_and_blank_lines_skipped(tmp_path):
    (tmp_path / "b.txt").write_text("third\n\n   \nfourth\n")
    (tmp_path / "a.txt").write_text("  first  \n\t\nsecond")
    corpus = Corpus.from_patterns([str(tmp_path / "*.txt")])
    assert [f.name for f in corpus.files] == ["a.txt", "b.txt"]
    assert _all(corpus) == ["first", "second", "third", "fourth"]


def test_line_endings_unicode_and_whitespace_only_lines(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes("crlf line\r\n\r\n\u3000\u00a0\nna\u00efve caf\u00e9\n\u00a0spaced\u00a0\n"
                     "last without newline".encode("utf-8"))
    corpus = Corpus.from_patterns([str(path)])
    assert _all(corpus) == ["crlf line", "na\u00efve caf\u00e9", "spaced",
                            "last without newline"]


def test_a_text_index_matches_reading_line_by_line_across_chunks(tmp_path, monkeypatch):
    from ct.data import corpus_index

    monkeypatch.setattr(corpus_index, "_CHUNK_BYTES", 64)  # many chunks, lines across them
    rng = np.random.default_rng(0)
    lines = []
    for i in range(500):
        kind = rng.integers(0, 5)
        lines.append("" if kind == 0 else "  \t" if kind == 1 else
                     f"sentence {i} " + "x" * int(rng.integers(0, 150)))
    path = tmp_path / "lines.txt"
    path.write_text("\n".join(lines) + "\n")
    expected = [line.strip() for line in lines if line.strip()]
    assert _all(Corpus.from_patterns([str(path)])) == expected


def test_jsonl_field_and_csv_column(tmp_path):
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text("\n".join(json.dumps({"id": i, "sentence": f"s{i}"}) for i in range(3)))
    assert _all(Corpus.from_patterns([str(jsonl)], text_field="sentence")) == ["s0", "s1", "s2"]
    csv_file = tmp_path / "c.csv"
    csv_file.write_text('id,text\n1,"hello, world"\n2,"multi\nline"\n3,\n')
    assert _all(Corpus.from_patterns([str(csv_file)])) == ["hello, world", "multi\nline"]


def test_the_index_is_built_once_and_rebuilt_when_the_file_changes(tmp_path, caplog):
    cache = tmp_path / "cache"
    path = tmp_path / "corpus.txt"
    path.write_text("one\ntwo\n")
    with caplog.at_level(logging.DEBUG, logger="ct"):
        assert len(Corpus.from_patterns([str(path)], index_dir=str(cache))) == 2
        assert len(Corpus.from_patterns([str(path)], index_dir=str(cache))) == 2
    assert sum("indexing" in r.message for r in caplog.records) == 1
    path.write_text("one\ntwo\nthree\n")
    os.utime(path, ns=(10**18, 10**18))
    changed = Corpus.from_patterns([str(path)], index_dir=str(cache))
    assert _all(changed) == ["one", "two", "three"] and len(list(cache.iterdir())) == 2
    recorded = Corpus.from_patterns([str(path)], index_dir=str(cache)).fingerprint()
    path.write_text("one\n")
    assert changed.changed_files(recorded)[0].startswith(str(path.resolve()))


def test_an_unwritable_cache_falls_back_to_a_temporary_one(tmp_path, caplog):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    path = tmp_path / "corpus.txt"
    path.write_text("a\nb\n")
    try:
        with caplog.at_level(logging.WARNING, logger="ct"):
            corpus = Corpus.from_patterns([str(path)], index_dir=str(locked / "cache"))
            assert _all(corpus) == ["a", "b"]
    finally:
        locked.chmod(0o700)
    if os.geteuid() != 0:  # root writes anywhere: no fallback to see
        assert any("is not usable" in r.message for r in caplog.records)


def test_killed_index_builds_leave_nothing_half_written(tmp_path, monkeypatch):
    from ct.data.readers import text_reader

    path = tmp_path / "corpus.txt"
    path.write_text("a\nb\n")
    cache = tmp_path / "cache"

    def dies(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(text_reader, "build_text_index", dies)
    with pytest.raises(KeyboardInterrupt):
        len(Corpus.from_patterns([str(path)], index_dir=str(cache)))
    assert list(cache.iterdir()) == []
    monkeypatch.undo()
    assert len(Corpus.from_patterns([str(path)], index_dir=str(cache))) == 2


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"\n  \n\t\n", "is empty"),
    (b"same\nsame\nother\n", "only 2 distinct sentences; one CT batch needs 30"),
    (b"good line\nbad \xff\xfe bytes\n", r":2: undecodable bytes \(not UTF-8\) at byte 4 of the"),
])
def test_bad_corpora_are_refused_with_clear_messages(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        Corpus.from_patterns([str(path)]).validate(min_distinct=30)


def test_a_corpus_repeating_itself_is_counted_beyond_the_sample(tmp_path):
    path = tmp_path / "repetitive.txt"
    path.write_text("same\n" * 10_000 + "".join(f"other {i}\n" for i in range(40)))
    stats = Corpus.from_patterns([str(path)]).validate(min_distinct=30)
    assert stats.num_distinct >= 30 and stats.num_sentences == 10_040


def test_missing_files_and_bad_records(tmp_path):
    with pytest.raises(DataError, match="not found"):
        Corpus.from_patterns([str(tmp_path / "missing.txt")])
    with pytest.raises(DataError, match="matches no file"):
        Corpus.from_patterns([str(tmp_path / "*.txt")])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": broken\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2: not valid JSON"):
        Corpus.from_patterns([str(bad)]).validate(min_distinct=1)
    wrong_field = tmp_path / "wrong.jsonl"
    wrong_field.write_text('{"body": "x"}\n')
    with pytest.raises(DataError, match="no field 'text'"):
        Corpus.from_patterns([str(wrong_field)]).validate(min_distinct=1)
    no_column = tmp_path / "rows.csv"
    no_column.write_text("id,body\n1,x\n")
    with pytest.raises(DataError, match="rows.csv:1: no column 'text' in the header"):
        Corpus.from_patterns([str(no_column)]).validate(min_distinct=1)


def test_skipped_bad_lines_are_counted(tmp_path):
    path = tmp_path / "noisy.jsonl"
    path.write_bytes(b"".join(json.dumps({"text": f"s{i}"}).encode() + b"\n" for i in range(200))
                     + b"{broken\n" + b"\xff\n")
    corpus = Corpus.from_patterns([str(path)], on_bad_line="skip")
    stats = corpus.validate(min_distinct=30)
    assert (stats.num_sentences, stats.num_bad_lines) == (200, 2)
    assert "noisy.jsonl:201: not valid JSON" in stats.first_bad_line


def test_index_keys_depend_on_what_identifies_the_content():
    base = {"path": "/a", "size": 1, "mtime_ns": 2, "format": "text"}
    assert index_key(base) == index_key(dict(base))
    assert len({index_key({**base, "size": 3}), index_key({**base, "mtime_ns": 5}),
                index_key({**base, "format": "jsonl"}), index_key(base)}) == 4
