import numpy as np
import pytest
from scipy import stats

from ct.data.sts import read_sts_benchmark
from ct.errors import DataError
from ct.evaluation.sts import STSEvaluator, cosine_scores
from helpers import STSB_DIR


class LookupEncoder:
    """A stand-in encoder with fixed vectors, to check the evaluator's bookkeeping."""

    def __init__(self, vectors):
        self.vectors = vectors

    def encode(self, texts, batch_size=64):
        return np.stack([self.vectors[t] for t in texts])


def test_spearman_of_cosine_against_gold():
    rng = np.random.default_rng(0)
    sentences = [f"sentence {i}" for i in range(12)]
    vectors = {s: rng.normal(size=5) for s in sentences}
    pairs_1, pairs_2 = sentences[:8], sentences[4:]
    gold = rng.uniform(0, 5, size=8)
    from ct.data.sts import STSPairs

    evaluator = STSEvaluator(STSPairs(pairs_1, pairs_2, list(gold), "mem"))
    result = evaluator(LookupEncoder(vectors))
    cosines = cosine_scores(np.stack([vectors[s] for s in pairs_1]),
                            np.stack([vectors[s] for s in pairs_2]))
    assert result["spearman"] == pytest.approx(stats.spearmanr(cosines, gold)[0] * 100)
    assert result["pearson"] == pytest.approx(stats.pearsonr(cosines, gold)[0] * 100)
    assert result["primary_metric"] == "spearman" and result["num_pairs"] == 8


def test_reads_the_bundled_stsb_files_by_path_and_by_name():
    by_path = read_sts_benchmark(str(STSB_DIR / "sts-dev.csv"))
    bundled = read_sts_benchmark("bundled:stsb-dev")
    assert len(by_path) == len(bundled) == 1500
    assert by_path.scores[0] == 5.0 and by_path.sentences_1[0] == \
        "A man with a hard hat is dancing."
    assert len(read_sts_benchmark("bundled:stsb-train")) == 5749


def test_malformed_sts_lines_are_named(tmp_path):
    path = tmp_path / "sts.csv"
    path.write_text("g\tf\ty\t1\t4.0\ta\tb\ng\tf\ty\t2\tnot-a-score\ta\tb\n")
    with pytest.raises(DataError, match=r"sts.csv:2: score 'not-a-score'"):
        read_sts_benchmark(str(path))
    with pytest.raises(DataError, match="not found"):
        read_sts_benchmark(str(tmp_path / "missing.csv"))
