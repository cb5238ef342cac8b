import json

import pytest

from ct.data.corpus import Corpus
from ct.errors import DataError


def test_text_files_glob_sorted_and_blank_lines_skipped(tmp_path):
    (tmp_path / "b.txt").write_text("third\n\n   \nfourth\n")
    (tmp_path / "a.txt").write_text("  first  \n\t\nsecond")
    corpus = Corpus.from_patterns([str(tmp_path / "*.txt")])
    assert [f.name for f in corpus.files] == ["a.txt", "b.txt"]
    assert list(corpus.iter_sentences()) == ["first", "second", "third", "fourth"]


def test_jsonl_field_and_csv_column(tmp_path):
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text("\n".join(json.dumps({"id": i, "sentence": f"s{i}"}) for i in range(3)))
    assert list(Corpus.from_patterns([str(jsonl)], text_field="sentence").iter_sentences()) == \
        ["s0", "s1", "s2"]
    csv_file = tmp_path / "c.csv"
    csv_file.write_text('id,text\n1,"hello, world"\n2,"multi\nline"\n3,\n')
    assert list(Corpus.from_patterns([str(csv_file)]).iter_sentences()) == \
        ["hello, world", "multi\nline"]


def test_stream_reads_line_by_line(tmp_path):
    # The first sentence arrives before the bad second line is read: nothing is loaded whole.
    path = tmp_path / "big.txt"
    path.write_bytes(b"ok line\n\xff\xfe\n")
    sentences = Corpus.from_patterns([str(path)]).iter_sentences()
    assert next(sentences) == "ok line"
    with pytest.raises(DataError, match="big.txt:2: undecodable"):
        next(sentences)


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"\n  \n\t\n", "is empty"),
    (b"same\nsame\nother\n", "only 2 distinct sentences; one CT batch needs 30"),
    (b"good line\nbad \xff\xfe bytes\n", ":2: undecodable bytes"),
])
def test_bad_corpora_are_refused_with_clear_messages(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        Corpus.from_patterns([str(path)]).validate(min_distinct=30)


def test_missing_files_and_bad_records(tmp_path):
    with pytest.raises(DataError, match="not found"):
        Corpus.from_patterns([str(tmp_path / "missing.txt")])
    with pytest.raises(DataError, match="matches no file"):
        Corpus.from_patterns([str(tmp_path / "*.txt")])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": broken\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2: not valid JSON"):
        list(Corpus.from_patterns([str(bad)]).iter_sentences())
    wrong_field = tmp_path / "wrong.jsonl"
    wrong_field.write_text('{"body": "x"}\n')
    with pytest.raises(DataError, match="no field 'text'"):
        list(Corpus.from_patterns([str(wrong_field)]).iter_sentences())
