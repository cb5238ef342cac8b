import json

import numpy as np
import pytest

from ct.cli import main
from ct.errors import DataError
from ct.inference import encode_file
from ct.modeling.encoder import SentenceEncoder


@pytest.fixture(scope="module")
def encoder(tiny_bert_dir):
    return SentenceEncoder.from_pretrained(str(tiny_bert_dir))


def test_npy_and_jsonl_rows_follow_input_lines(tmp_path, encoder, corpus_sentences):
    lines = corpus_sentences[:37] + [""] + corpus_sentences[37:45]
    source = tmp_path / "in.txt"
    source.write_text("\n".join(lines) + "\n")
    report = encode_file(encoder, source, tmp_path / "out.npy", batch_size=8, chunk_size=10,
                         show_progress=False)
    vectors = np.load(tmp_path / "out.npy")
    assert report["sentences"] == len(lines) and vectors.shape == (len(lines), 32)
    np.testing.assert_allclose(vectors, encoder.encode(lines), atol=1e-5)

    encode_file(encoder, source, tmp_path / "out.jsonl", normalize=True, show_progress=False)
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["text"] for r in records] == lines
    normalised = np.array([r["embedding"] for r in records])
    np.testing.assert_allclose(normalised, vectors / np.linalg.norm(vectors, axis=1,
                                                                      keepdims=True), atol=1e-5)


def test_bad_encode_inputs(tmp_path, encoder):
    with pytest.raises(DataError, match="must end in .npy or .jsonl"):
        encode_file(encoder, tmp_path / "in.txt", tmp_path / "out.csv")
    with pytest.raises(DataError, match="input file not found"):
        encode_file(encoder, tmp_path / "missing.txt", tmp_path / "out.npy")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(DataError, match="is empty"):
        encode_file(encoder, tmp_path / "empty.txt", tmp_path / "out.npy")


def test_encode_command_with_pooling_choice(tmp_path, capsys, tiny_bert_dir, encoder):
    source = tmp_path / "in.txt"
    source.write_text("the cat sat\na dog ran far away\n")
    status = main(["encode", str(tiny_bert_dir), "--input", str(source), "--output",
                   str(tmp_path / "cls.npy"), "--pooling", "cls", "-q"])
    assert status == 0 and "encoded 2 sentences" in capsys.readouterr().out
    cls = SentenceEncoder.from_pretrained(str(tiny_bert_dir), pooling="cls")
    np.testing.assert_allclose(np.load(tmp_path / "cls.npy"),
                               cls.encode(["the cat sat", "a dog ran far away"]), atol=1e-5)
    assert not np.allclose(np.load(tmp_path / "cls.npy"),
                           encoder.encode(["the cat sat", "a dog ran far away"]))
