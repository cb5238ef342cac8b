import pytest

from ct.data.sts import detect_sts_format, read_senteval_subset, read_sts_file
from ct.errors import DataError
from sts_fixtures import pairs, write_plain, write_senteval_subset, write_sick, write_stsb


@pytest.mark.parametrize("writer, name, expected", [
    (write_stsb, "sts-test.csv", "stsb"), (write_sick, "SICK_test.txt", "sick"),
    (write_plain, "pairs.tsv", "plain")])
def test_each_format_is_detected_and_read(tmp_path, writer, name, expected):
    rows = pairs(0, 5)
    path = writer(tmp_path / name, rows)
    assert detect_sts_format(str(path)) == expected
    read = read_sts_file(str(path))
    assert list(zip(read.sentences_1, read.sentences_2, read.scores)) == rows
    assert read_sts_file(str(path), format=expected).scores == read.scores


def test_senteval_subset_skips_pairs_without_gold(tmp_path):
    rows = pairs(0, 6)
    write_senteval_subset(tmp_path, "x", rows, no_gold={1, 4})
    read = read_senteval_subset(tmp_path / "STS.input.x.txt", tmp_path / "STS.gs.x.txt")
    kept = [row for i, row in enumerate(rows) if i not in (1, 4)]
    assert list(zip(read.sentences_1, read.sentences_2, read.scores)) == kept


def test_pair_count_mismatch_is_an_error(tmp_path):
    write_senteval_subset(tmp_path, "x", pairs(0, 6))
    gold = tmp_path / "STS.gs.x.txt"
    gold.write_text("".join(gold.read_text().splitlines(keepends=True)[:5]))
    with pytest.raises(DataError, match="has 6 pairs but .*STS.gs.x.txt has 5 gold lines"):
        read_senteval_subset(tmp_path / "STS.input.x.txt", gold)


@pytest.mark.parametrize("content, fmt, message", [
    ("g\tf\t2015\t1\t4.0\ta\tb\ng\tf\t2015\t2\t3.0\tonly-six\n", "stsb", r":2: expected 7"),
    ("pair_ID\tsentence_A\tsentence_B\trelatedness_score\n1\ta\tb\thigh\n", "sick",
     r":2: score 'high' is not a number"),
    ("4.0\ta\tb\n3.0\ta\n", "plain", r":2: expected score<TAB>sentence1<TAB>sentence2"),
    ("just some text\n", "auto", r":1: cannot tell the STS format"),
])
def test_malformed_lines_name_file_and_line(tmp_path, content, fmt, message):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_sts_file(str(path), fmt)


def test_undecodable_sts_file(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_bytes(b"4.0\ta\tb\n3.0\t\xff\tb\n")
    with pytest.raises(DataError, match=r"bad.tsv:2: undecodable bytes"):
        read_sts_file(str(path), "plain")


def test_bundled_stsb_train_sentences_hold_no_dev_or_test_sentence():
    """The distillation corpus is STS-B train's distinct sentences, none seen in dev or test."""
    from ct.resources import resolve_path

    def sentences(name):
        pairs = read_sts_file(resolve_path(f"bundled:{name}"))
        return [s.strip() for pair in zip(pairs.sentences_1, pairs.sentences_2) for s in pair]

    held_out = set(sentences("stsb-dev")) | set(sentences("stsb-test"))
    expected = list(dict.fromkeys(s for s in sentences("stsb-train") if s not in held_out))
    path = resolve_path("bundled:stsb_train_sentences")
    lines = open(path, encoding="utf-8").read().splitlines()
    assert lines == expected
    assert not held_out & set(lines)
