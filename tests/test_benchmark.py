import numpy as np
import pytest
from scipy import stats

from ct.errors import DataError
from ct.evaluation.benchmark import (discover_senteval, evaluate_senteval, evaluate_tasks,
                                     format_results_table, sts_file_tasks)
from ct.evaluation.sts import cosine_scores
from sts_fixtures import LookupEncoder, write_plain, write_senteval_layout, pairs


def _reference(encoder, pairs_):
    a = np.stack([encoder.vectors[s] for s in pairs_.sentences_1])
    b = np.stack([encoder.vectors[s] for s in pairs_.sentences_2])
    return cosine_scores(a, b), np.array(pairs_.scores)


def test_senteval_layout_scores_equal_scipy(tmp_path):
    root = write_senteval_layout(tmp_path / "senteval")
    tasks, missing = discover_senteval(root)
    assert set(tasks) == {"STS12", "STS14", "STSBenchmark-test", "SICK-R"}
    assert missing == ["STS13", "STS15", "STS16", "STSBenchmark-dev"]
    assert len(tasks["STS12"]["MSRpar"]) == 8  # the pair without gold is skipped

    encoder = LookupEncoder()
    results = evaluate_senteval(encoder, root)
    sts12 = results["tasks"]["STS12"]
    subset_spearman = []
    for name in ("MSRpar", "MSRvid"):
        cosine, gold = _reference(encoder, tasks["STS12"][name])
        expected = stats.spearmanr(cosine, gold)[0] * 100
        assert sts12["subsets"][name]["spearman"] == pytest.approx(expected)
        assert sts12["subsets"][name]["pearson"] == pytest.approx(
            stats.pearsonr(cosine, gold)[0] * 100)
        subset_spearman.append(expected)
    assert sts12["mean"]["spearman"] == pytest.approx(np.mean(subset_spearman))
    both = [_reference(encoder, tasks["STS12"][n]) for n in ("MSRpar", "MSRvid")]
    all_expected = stats.spearmanr(np.concatenate([c for c, _ in both]),
                                   np.concatenate([g for _, g in both]))[0] * 100
    assert sts12["all"]["spearman"] == pytest.approx(all_expected)
    assert sts12["all"]["num_pairs"] == 16

    cosine, gold = _reference(encoder, tasks["SICK-R"]["SICK-R"])
    assert results["tasks"]["SICK-R"]["spearman"] == pytest.approx(
        stats.spearmanr(cosine, gold)[0] * 100)

    avg = results["avg"]
    assert avg["tasks"] == ["STS12", "STS14", "STSBenchmark-test", "SICK-R"]
    assert not avg["complete"]
    assert avg["spearman"] == pytest.approx(np.mean([
        sts12["all"]["spearman"], results["tasks"]["STS14"]["all"]["spearman"],
        results["tasks"]["STSBenchmark-test"]["spearman"],
        results["tasks"]["SICK-R"]["spearman"]]))
    by_mean = evaluate_tasks(encoder, tasks, missing, avg_from="mean")["avg"]
    assert by_mean["sts12_16_figure"] == "mean" and by_mean["spearman"] != avg["spearman"]

    table = format_results_table(results)
    for label in ("MSRpar", "mean of subsets", "all (concatenated)", "STS13", "missing",
                  "avg of 4/7"):
        assert label in table


def test_single_files_and_bad_layouts(tmp_path):
    path = write_plain(tmp_path / "mine.tsv", pairs(0, 7))
    tasks = sts_file_tasks([str(path)])
    results = evaluate_tasks(LookupEncoder(), tasks)
    assert results["tasks"]["mine.tsv"]["num_pairs"] == 7
    assert results["avg"]["spearman"] is None and "avg" not in format_results_table(results)
    with pytest.raises(DataError, match="not found"):
        evaluate_senteval(LookupEncoder(), tmp_path / "nowhere")
    with pytest.raises(DataError, match="no SentEval STS task found"):
        evaluate_senteval(LookupEncoder(), tmp_path)
    orphan = tmp_path / "layout" / "STS" / "STS15-en-test"
    orphan.mkdir(parents=True)
    (orphan / "STS.input.images.txt").write_text("a\tb\n")
    with pytest.raises(DataError, match="has no gold file STS.gs.images.txt"):
        discover_senteval(tmp_path / "layout")
