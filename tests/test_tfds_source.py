"""Data from tensorflow-datasets, without network: ``tfds.testing.mock_data`` for the real
dataset names, and a tiny dataset built and prepared here for splits and preparation."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from ct.config import TFDSSource, load_config
from ct.data.corpus import Corpus
from ct.data.nli import NLI_LABELS
from ct.data.tfds_source import iter_tfds_sentences, tfds_nli_pairs, tfds_sts_pairs
from ct.errors import DataError
from ct.training.pipeline import TrainingPipeline
from helpers import REPO_ROOT

CT_STSB = REPO_ROOT / "configs" / "ct_stsb.yaml"


class CtTestSts(tfds.core.GeneratorBasedBuilder):
    """A prepared-on-disk STS dataset with train and validation splits (no download)."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
            "sentence1": tfds.features.Text(), "sentence2": tfds.features.Text(),
            "label": np.float32}))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(20), "validation": self._generate_examples(6)}

    def _generate_examples(self, count):
        for i in range(count):
            yield i, {"sentence1": f"sentence number {i}", "sentence2": f"another one {i}",
                      "label": float(i % 6) if i < count - 1 else -1.0}


@pytest.fixture(scope="module")
def prepared_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tfds")
    CtTestSts(data_dir=str(directory)).download_and_prepare()
    return directory


def test_snli_and_multi_nli_by_name(tmp_path):
    with tfds.testing.mock_data(num_examples=12):
        for name in ("snli", "multi_nli"):
            pairs = tfds_nli_pairs(TFDSSource(name=name, split="train"), "nli.train_tfds")
            assert len(pairs) + pairs.num_skipped == 12
            assert set(pairs.labels) <= {0, 1, 2} and pairs.sources == [f"tfds:{name}[train]"]
            assert all(isinstance(p, str) and p for p in pairs.premises)


def test_tfds_label_names_map_to_ct_label_ids():
    """TFDS snli's ClassLabel order is ours; the mapping goes through the names."""
    names = tfds.builder("snli").info.features["label"].names
    assert tuple(names) == NLI_LABELS


def test_glue_stsb_by_name():
    with tfds.testing.mock_data(num_examples=10):
        pairs, skipped = tfds_sts_pairs(TFDSSource(name="glue/stsb", split="train"),
                                        "stsb.train_tfds")
    assert len(pairs) + skipped == 10 and len(pairs) > 0
    assert all(0.0 <= s for s in pairs.scores)


def test_wikipedia_as_ct_corpus():
    config = load_config(CT_STSB, ["corpus_tfds.name=wikipedia/20230601.en",
                                   "corpus_tfds.text_field=text"])
    with tfds.testing.mock_data(num_examples=50):
        corpus = Corpus.from_config(config)
        stats = corpus.validate(min_distinct=30)
    assert corpus.tfds_source is not None and stats.num_sentences >= 50
    assert corpus.description == "tfds:wikipedia/20230601.en[train]"


def test_corpus_text_field_must_be_named_when_ambiguous():
    with tfds.testing.mock_data(num_examples=3):
        with pytest.raises(DataError, match="text features sentence1, sentence2; set "
                                            "corpus_tfds.text_field"):
            list(iter_tfds_sentences(TFDSSource(name="glue/stsb")))
        sentences = list(iter_tfds_sentences(TFDSSource(name="glue/stsb",
                                                        text_field="sentence2")))
    assert len(sentences) >= 3


def test_prepared_dataset_split_and_unlabelled_pairs(prepared_dir):
    source = TFDSSource(name="ct_test_sts", split="validation", data_dir=str(prepared_dir))
    pairs, skipped = tfds_sts_pairs(source, "stsb.train_tfds")
    assert len(pairs) == 5 and skipped == 1  # the last example has no gold score (-1)
    assert sorted(pairs.sentences_1)[0] == "sentence number 0"
    sliced = TFDSSource(name="ct_test_sts", split="train[:10]", data_dir=str(prepared_dir))
    pairs, skipped = tfds_sts_pairs(sliced, "stsb.train_tfds")
    assert len(pairs) + skipped == 10  # TFDS shuffles examples when it writes them


def test_split_that_does_not_exist(prepared_dir):
    source = TFDSSource(name="ct_test_sts", split="test", data_dir=str(prepared_dir))
    with pytest.raises(DataError, match="has no split 'test'; splits: train, validation"):
        tfds_sts_pairs(source, "stsb.train_tfds")


def test_dataset_that_is_not_prepared(tmp_path):
    source = TFDSSource(name="ct_test_sts", data_dir=str(tmp_path / "empty"))
    with pytest.raises(DataError, match="is not prepared in .*tfds build ct_test_sts"):
        tfds_sts_pairs(source, "stsb.train_tfds")


def test_name_that_does_not_exist():
    with pytest.raises(DataError, match="no dataset named 'snlii'; did you mean 'snli'"):
        tfds_nli_pairs(TFDSSource(name="snlii"), "nli.train_tfds")
    with pytest.raises(DataError, match="wikipedia/nonsense"):
        list(iter_tfds_sentences(TFDSSource(name="wikipedia/nonsense")))


def test_non_nli_dataset_is_refused(prepared_dir):
    source = TFDSSource(name="ct_test_sts", data_dir=str(prepared_dir))
    with pytest.raises(DataError, match="is not an NLI dataset"):
        tfds_nli_pairs(source, "nli.train_tfds")


def test_nli_stage_trains_from_tfds(tmp_path, train_overrides):
    """Training from a TFDS dataset is training on the pairs it holds: the same pairs
    written to an SNLI JSONL file give the same losses and the same STS scores."""
    import json

    from helpers import logged_losses

    common = [*train_overrides, "stages=[nli]", "nli.steps=2", "nli.batch_size=4",
              "nli.eval_every=2"]
    with tfds.testing.mock_data(num_examples=16):
        from_tfds = TrainingPipeline(load_config(CT_STSB, [*common,
                                                           "nli.train_tfds=[{name: snli}]"]),
                                     tmp_path / "tfds").run()
        pairs = tfds_nli_pairs(TFDSSource(name="snli"), "nli.train_tfds")
    assert from_tfds["data"]["sources"] == ["tfds:snli[train]"]
    assert from_tfds["steps"] == 2 and len(pairs) >= 8
    lines = tmp_path / "snli.jsonl"
    lines.write_text("".join(json.dumps({"gold_label": NLI_LABELS[label], "sentence1": premise,
                                         "sentence2": hypothesis}) + "\n"
                             for premise, hypothesis, label in
                             zip(pairs.premises, pairs.hypotheses, pairs.labels)))
    from_file = TrainingPipeline(load_config(CT_STSB, [*common, f"nli.train={lines}"]),
                                 tmp_path / "file").run()
    assert from_file["data"]["pairs"] == from_tfds["data"]["pairs"] == len(pairs)
    losses = logged_losses(tmp_path / "tfds")
    assert len(losses) == 2 and np.isfinite(losses).all()
    np.testing.assert_allclose(losses, logged_losses(tmp_path / "file"), atol=1e-6)
    assert from_tfds["stsb_dev"] == from_file["stsb_dev"]


def test_bad_tfds_name_on_the_command_line(tmp_path, capsys, corpus_file):
    from ct.cli import main

    status = main(["train", str(CT_STSB), "--set", f"corpus={corpus_file}",
                   "--set", "stsb.train=[]", "--set", "stsb.train_tfds=[{name: glue/stsbb}]",
                   "--output-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert err.startswith("ct: error: stsb.train_tfds.name: 'glue/stsbb'")
