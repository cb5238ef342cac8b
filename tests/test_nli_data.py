import collections
import json

import pytest

from ct.data.nli import NLI_LABELS, NLIPairs, nli_triplets, read_nli_file, read_nli_files
from ct.errors import DataError
from helpers import TEST_DATA

SNLI_FILES = ["snli_1.0_dev_sample.jsonl", "snli_1.0_test_sample.jsonl"]  # tests/data
SNLI_TXT_HEADER = ["gold_label", "sentence1_binary_parse", "sentence2_binary_parse",
                   "sentence1_parse", "sentence2_parse", "sentence1", "sentence2", "captionID",
                   "pairID", "label1", "label2", "label3", "label4", "label5"]


def snli_path(name):
    return TEST_DATA / name


def snli_records(name):
    with open(snli_path(name), encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(dict(zip(("sentence1", "sentence2", "gold_label"), row)))
                            + "\n" for row in rows))
    return path


@pytest.mark.parametrize("name", SNLI_FILES)
def test_snli_sample_counts_match_an_independent_count(name):
    records = snli_records(name)
    no_consensus = sum(record["gold_label"] == "-" for record in records)
    empty = sum(record["gold_label"] != "-" and not (record["sentence1"].strip()
                                                     and record["sentence2"].strip())
                for record in records)
    expected = collections.Counter(record["gold_label"] for record in records
                                   if record["gold_label"] != "-"
                                   and record["sentence1"].strip() and record["sentence2"].strip())
    assert no_consensus > 0  # the sample really has pairs to skip

    pairs = read_nli_file(snli_path(name))

    assert pairs.num_skipped == no_consensus + empty
    assert len(pairs) == sum(expected.values())
    assert len(pairs) + pairs.num_skipped == len(records)
    assert pairs.label_counts() == {label: expected[label] for label in NLI_LABELS}
    assert set(pairs.labels) == {0, 1, 2}
    assert pairs.sources == [str(snli_path(name))]
    kept = [r for r in records if r["gold_label"] != "-"]
    assert (pairs.premises[0], pairs.hypotheses[0], NLI_LABELS[pairs.labels[0]]) == \
        (kept[0]["sentence1"].strip(), kept[0]["sentence2"].strip(), kept[0]["gold_label"])


def test_snli_txt_layout_parses_like_the_jsonl(tmp_path):
    records = snli_records("snli_1.0_dev_sample.jsonl")
    # Quotes inside sentences, one opening a field: csv quoting would drop them (QUOTE_NONE).
    records.append({"gold_label": "contradiction", "sentence1": 'A sign reads "open" all day.',
                    "sentence2": '"Closed" sign hangs there.', "captionID": "x",
                    "pairID": "y"})
    lines = ["\t".join(SNLI_TXT_HEADER)]
    for r in records:
        values = {"sentence1_binary_parse": "( ( A b ) . )", "sentence1_parse": "(ROOT (S))",
                  "captionID": r.get("captionID", ""), "pairID": r.get("pairID", ""),
                  "label1": r["gold_label"], **r}
        lines.append("\t".join(str(values.get(column, "")) for column in SNLI_TXT_HEADER))
    txt = tmp_path / "snli_1.0_dev.txt"
    txt.write_text("\n".join(lines) + "\n", encoding="utf-8")
    jsonl = tmp_path / "snli_1.0_dev.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    from_txt, from_jsonl = read_nli_file(txt), read_nli_file(jsonl)

    assert len(from_jsonl) == len(records) - sum(r["gold_label"] == "-" for r in records)
    assert from_txt.premises == from_jsonl.premises
    assert from_txt.hypotheses == from_jsonl.hypotheses
    assert from_txt.labels == from_jsonl.labels
    assert from_txt.num_skipped == from_jsonl.num_skipped > 0
    assert from_txt.hypotheses[-1] == '"Closed" sign hangs there.'
    assert from_txt.premises[-1] == 'A sign reads "open" all day.'


def test_tsv_with_label_column_any_order_and_case_insensitive_labels(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("id\tlabel\tsentence2\tsentence1\n"
                    "1\t Entailment \tH one\tP one\n"
                    "\n"
                    "2\tCONTRADICTION\tH two\tP one\n"
                    "3\tneutral\t  \tP three\n"  # empty hypothesis: skipped
                    "4\t\tH four\tP four\n")  # empty label: skipped
    pairs = read_nli_file(path)
    assert pairs.premises == ["P one", "P one"]
    assert pairs.hypotheses == ["H one", "H two"]
    assert pairs.labels == [0, 2]
    assert pairs.num_skipped == 2


def test_jsonl_blank_lines_ignored_and_labels_case_insensitive(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n" + json.dumps({"sentence1": "p", "sentence2": "h", "gold_label": "NEUTRAL"})
                    + "\n   \n\n" + json.dumps({"sentence1": "p", "sentence2": "g",
                                                "gold_label": " Contradiction"}) + "\n\n")
    pairs = read_nli_file(path)
    assert pairs.labels == [1, 2]
    assert pairs.num_skipped == 0
    assert pairs.label_counts() == {"entailment": 0, "neutral": 1, "contradiction": 1}


def test_globs_are_sorted_and_files_concatenated(tmp_path):
    write_jsonl(tmp_path / "b.jsonl", [("pb", "hb", "neutral"), ("x", "y", "-")])
    write_jsonl(tmp_path / "a.jsonl", [("pa", "ha", "entailment")])
    (tmp_path / "c.txt").write_text("sentence1\tsentence2\tgold_label\npc\thc\tcontradiction\n")
    pairs = read_nli_files([str(tmp_path / "*.jsonl"), str(tmp_path / "c.txt")])
    assert pairs.premises == ["pa", "pb", "pc"]
    assert pairs.labels == [0, 1, 2]
    assert pairs.num_skipped == 1
    assert [p.rsplit("/", 1)[-1] for p in pairs.sources] == ["a.jsonl", "b.jsonl", "c.txt"]


def test_extend_and_concatenate():
    a = NLIPairs(["p1"], ["h1"], [0], num_skipped=1, sources=["a"])
    b = NLIPairs(["p2"], ["h2"], [2], num_skipped=2, sources=["b"])
    both = NLIPairs.concatenate([a, b])
    assert (both.premises, both.labels, both.num_skipped, both.sources) == \
        (["p1", "p2"], [0, 2], 3, ["a", "b"])
    assert len(a) == 1  # concatenate copies
    a.extend(b)
    assert len(a) == 2 and a.num_skipped == 3
    assert len(NLIPairs.concatenate([])) == 0


def test_unknown_label_names_file_line_and_label(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [("p", "h", "entailment"), ("p", "h", "hidden")])
    with pytest.raises(DataError, match=r"bad\.jsonl:2: unknown NLI label 'hidden'; expected "
                                        r"entailment, neutral or contradiction"):
        read_nli_file(path)


@pytest.mark.parametrize("name, content, message", [
    ("bad.jsonl", '{"sentence1": "p", "sentence2": "h", "gold_label": "neutral"}\n{oops\n',
     r"bad\.jsonl:2: not valid JSON"),
    ("bad.jsonl", '\n{"sentence1": "p", "gold_label": "neutral"}\n',
     r"bad\.jsonl:2: no key 'sentence2'"),
    ("bad.jsonl", '{"sentence1": "p", "sentence2": 3, "gold_label": "neutral"}\n',
     r"bad\.jsonl:1: 'sentence2' is int, not a string"),
    ("bad.txt", "premise\thypothesis\tgold_label\np\th\tneutral\n",
     r"bad\.txt:1: the header row must name sentence1, sentence2 and gold_label"),
    ("bad.tsv", "gold_label\tsentence1\tsentence2\nneutral\tp\n",
     r"bad\.tsv:2: expected at least 3 tab-separated columns, got 2"),
    ("bad.csv", "sentence1,sentence2,gold_label\n", r"unknown format '\.csv'"),
])
def test_malformed_files_are_refused_naming_file_and_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_nli_file(path)


def test_missing_files_empty_globs_and_unlabelled_files(tmp_path):
    with pytest.raises(DataError, match="NLI file not found: .*missing.jsonl"):
        read_nli_files([str(tmp_path / "missing.jsonl")])
    with pytest.raises(DataError, match=r"NLI glob .*\*\.jsonl matches no file"):
        read_nli_files([str(tmp_path / "*.jsonl")])
    only_dash = write_jsonl(tmp_path / "dash.jsonl", [("p", "h", "-"), ("q", "g", "-")])
    with pytest.raises(DataError, match=r"no labelled NLI pairs found in .*dash\.jsonl"):
        read_nli_files([str(only_dash)])


TOY = NLIPairs(
    premises=["A dog runs.", "A dog runs.", "A dog runs.", "A dog runs.", "Cats sleep.",
              "Birds fly.", "Birds fly."],
    hypotheses=["An animal moves.", "A dog is outside.", "A cat sits.", "A dog is fast.",
                "Cats rest.", "Birds are in the air.", "Birds are sitting."],
    labels=[0, 0, 2, 1, 1, 0, 2])


def test_triplets_from_handcrafted_pairs():
    anchors, positives, negatives = nli_triplets(TOY, seed=3)
    assert anchors == ["A dog runs.", "A dog runs.", "Birds fly."]
    assert positives == ["An animal moves.", "A dog is outside.", "Birds are in the air."]
    assert negatives == ["A cat sits.", "A cat sits.", "Birds are sitting."]


def test_triplets_are_deterministic_per_seed():
    pairs = NLIPairs(["p"] * 6, ["e1", "e2", "e3", "c1", "c2", "c3"], [0, 0, 0, 2, 2, 2])
    first = nli_triplets(pairs, seed=7)
    assert nli_triplets(pairs, seed=7) == first
    assert first[1] == ["e1", "e2", "e3"]
    assert set(first[2]) <= {"c1", "c2", "c3"}
    draws = {tuple(nli_triplets(pairs, seed=s)[2]) for s in range(10)}
    assert len(draws) > 1  # the seed really picks the negatives


def test_no_triplet_possible_is_an_error():
    pairs = NLIPairs(["p", "p", "q"], ["a", "b", "c"], [0, 1, 2], sources=["only.jsonl"])
    with pytest.raises(DataError, match="in_batch_negatives objective needs premises with "
                                        "both an entailment and a contradiction"):
        nli_triplets(pairs)


def test_triplets_on_the_snli_sample_agree_with_the_source_labels():
    name = "snli_1.0_dev_sample.jsonl"
    labels = collections.defaultdict(set)
    for record in snli_records(name):
        labels[(record["sentence1"].strip(), record["sentence2"].strip())].add(
            record["gold_label"])
    anchors, positives, negatives = nli_triplets(read_nli_file(snli_path(name)), seed=0)
    assert len(anchors) > 0
    assert len(anchors) == len(positives) == len(negatives)
    for anchor, positive, negative in zip(anchors, positives, negatives):
        assert "entailment" in labels[(anchor, positive)]
        assert "contradiction" in labels[(anchor, negative)]
    assert nli_triplets(read_nli_file(snli_path(name)), seed=0) == \
        (anchors, positives, negatives)
