"""A checkpoint whose tokenizer pads on the left encodes and trains as the right-padded one.

Length buckets trim padding from the end of each row and BERT numbers positions from the first
column, so ct pads every batch on the right whatever the tokenizer's ``padding_side``
(:func:`ct.data.tokenization.tokenize_batch`)."""

import json
import shutil

import numpy as np
import pytest

from ct._keras import tf
from ct.config import OptimizerConfig
from ct.data.corpus import Corpus
from ct.data.ct_dataset import build_ct_dataset
from ct.evaluation.sts import STSEvaluator
from ct.modeling.ct_model import ContrastiveTensionModel
from ct.modeling.encoder import SentenceEncoder
from ct.modeling.loading import load_tokenizer
from ct.training.optimization import build_optimizer


@pytest.fixture(scope="module")
def left_padded_dir(tmp_path_factory, tiny_bert_dir):
    """The tiny model, its tokenizer config saying ``padding_side: left``."""
    directory = tmp_path_factory.mktemp("left") / "model"
    shutil.copytree(tiny_bert_dir, directory)
    config_path = directory / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config_path.write_text(json.dumps({**config, "padding_side": "left"}))
    return directory


def _raw_tokenizer(directory):
    """The tokenizer as transformers loads it (its own padding side, not ct's)."""
    import transformers

    return transformers.AutoTokenizer.from_pretrained(str(directory))


def test_the_left_padded_tokenizer_really_pads_on_the_left(left_padded_dir):
    mask = _raw_tokenizer(left_padded_dir)(["a", "a much longer sentence"], padding=True,
                                           return_tensors="np")["attention_mask"]
    assert mask[0, 0] == 0 and mask[0, -1] == 1
    # ct's own loading turns it to the right, so a model ct saves pads on the right too
    assert load_tokenizer(str(left_padded_dir)).padding_side == "right"


def test_encode_and_evaluation_do_not_depend_on_the_padding_side(tiny_bert_dir, left_padded_dir,
                                                                corpus_sentences,
                                                                small_sts_file):
    texts = [corpus_sentences[i][: 5 + 23 * i] for i in range(12)]  # very different lengths
    right = SentenceEncoder.from_pretrained(str(tiny_bert_dir))
    expected = right.encode(texts, batch_size=5)
    for left in (SentenceEncoder.from_pretrained(str(left_padded_dir)),
                 SentenceEncoder.from_pretrained(str(left_padded_dir),
                                                 tokenizer=_raw_tokenizer(left_padded_dir))):
        np.testing.assert_allclose(left.encode(texts, batch_size=5), expected, atol=1e-5)
        batch = {k: tf.constant(v) for k, v in left.tokenize(texts).items()}
        for buckets in (1, 4):
            np.testing.assert_allclose(left(batch, length_buckets=buckets).numpy(), expected,
                                       atol=1e-5)
    evaluator = STSEvaluator.from_file(str(small_sts_file))
    assert evaluator(left)["spearman"] == pytest.approx(evaluator(right)["spearman"], abs=1e-6)


@pytest.mark.parametrize("buckets", [1, 4])
def test_training_does_not_depend_on_the_padding_side(tiny_bert_dir, left_padded_dir,
                                                      corpus_file, buckets):
    corpus = Corpus.from_patterns([str(corpus_file)])
    optimizer = OptimizerConfig(learning_rate=1e-3, lr_boundaries=[], lr_values=[])

    def losses(directory, tokenizer):
        model = ContrastiveTensionModel.from_pretrained(str(directory), max_length=32,
                                                        tokenizer=tokenizer)
        model.use_length_buckets(buckets)
        model.compile(optimizer=build_optimizer(optimizer, total_steps=10))
        dataset = build_ct_dataset(corpus, tokenizer, batch_size=16, num_negatives=7,
                                   max_length=32, seed=3)
        # eagerly: tracing the step of two encoders in 4 buckets costs 10x these 3 steps
        return [float(model.train_step(batch)["loss"]) for batch in dataset.take(3)]

    expected = losses(tiny_bert_dir, load_tokenizer(str(tiny_bert_dir)))
    np.testing.assert_allclose(losses(left_padded_dir, _raw_tokenizer(left_padded_dir)),
                               expected, atol=1e-5)
