"""Model selection by the user's own dev set: ``eval_tasks`` scored at every evaluation and
``selection_metric`` deciding the kept model, reported in summary.json and the model card."""

from __future__ import annotations

import json

import pytest

from ct.cli import main
from ct.config import load_config
from ct.errors import ConfigError
from ct.evaluation.retrieval import RetrievalEvaluator
from ct.modeling.encoder import SentenceEncoder
from ct.training.pipeline import TrainingPipeline
from ct.tuning.objectives import get_objective
from eval_task_fixtures import write_pairs_set, write_retrieval_set
from helpers import REPO_ROOT

PAPER = REPO_ROOT / "configs" / "ct_paper.yaml"


@pytest.fixture
def dev_sets(tmp_path):
    return {"retrieval": write_retrieval_set(tmp_path / "beir", num_docs=60, num_queries=15),
            "pairs": write_pairs_set(tmp_path / "pairs.tsv", num_pairs=40)}


def _task_overrides(dev_sets, metric="retrieval:ndcg@10"):
    return [f"eval_tasks=[{{kind: retrieval, path: {dev_sets['retrieval']}}}, "
            f"{{kind: pairs, path: {dev_sets['pairs']}, name: paraphrase}}]",
            f"selection_metric={metric}"]


def test_a_ct_run_keeps_its_best_model_by_a_retrieval_metric(tmp_path, capsys, dev_sets,
                                                             train_overrides):
    run = tmp_path / "run"
    assert main(["train", str(PAPER), "--output-dir", str(run), "-q",
                 *(f"--set={o}" for o in train_overrides + _task_overrides(dev_sets))]) == 0
    out = capsys.readouterr().out
    summary = json.loads((run / "summary.json").read_text())
    kept = summary["kept"]
    assert summary["selection_metric"] == kept["selection_metric"] == "retrieval:ndcg@10"
    evaluations = summary["stsb_dev"]["evaluations"]
    assert [e["step"] for e in evaluations] == [0, 2, 4]
    # Both models scored on every dev set at every evaluation (STS-B dev too).
    for record in evaluations:
        for key in ("stsb_dev", "retrieval:ndcg@10", "retrieval:recall@100", "paraphrase:ap"):
            assert {f"{key}_model_1", f"{key}_model_2"} <= set(record), key
    scores = [(e[f"retrieval:ndcg@10_model_{m}"], e["step"], m) for e in evaluations
              for m in (1, 2)]
    best = max(score for score, _, _ in scores)
    assert kept["score"] == best
    first_best = min((step, -model) for score, step, model in scores if score == best)
    assert (kept["step"], -kept["model"]) == first_best  # earliest step, later model on a tie
    kept_record = next(e for e in evaluations if e["step"] == kept["step"])
    assert kept["stsb_dev_spearman"] == kept_record[f"stsb_dev_model_{kept['model']}"]
    assert summary["selection"]["metric"] == "retrieval:ndcg@10"
    assert summary["eval_tasks"]["retrieval"]["ndcg@10"] == kept["score"]
    assert summary["eval_tasks"]["paraphrase"]["kind"] == "pairs"
    assert "retrieval:ndcg@10" in out and f"{kept['score']:.4f}" in out
    card = (run / "final" / "README.md").read_text()
    assert "## Selection" in card and "`retrieval:ndcg@10`" in card
    assert f"{kept['score']:.4f}" in card and "| paraphrase | pairs |" in card
    assert (run / "curves.png").stat().st_size > 10_000
    # The kept score is the published model's score.
    encoder = SentenceEncoder.from_pretrained(str(run / "final"))
    rescored = RetrievalEvaluator.from_path(str(dev_sets["retrieval"]))(encoder)["ndcg@10"]
    assert rescored == pytest.approx(kept["score"], abs=1e-5)


@pytest.mark.parametrize("overrides, message", [
    (["selection_metric=reranking:map"], "names task 'reranking', which is not evaluated"),
    (["selection_metric=retrieval:spearman"], "a retrieval task reports"),
    (["selection_metric=retrieval"], "expected TASK:METRIC"),
    (["selection_metric=paraphrase:f1_threshold"], "not a score to maximise"),
    (["selection_metric=stsb_dev:spearman", "sts_dev=null"], "needs sts_dev"),
    (["eval_tasks=[{kind: retrieval}]"], "eval_tasks[0] needs kind"),
    (["eval_tasks=[{kind: ranking, path: x}]"], "'eval_tasks[0].kind' must be one of"),
])
def test_bad_selection_configs_name_the_option(dev_sets, overrides, message):
    base = _task_overrides(dev_sets)
    with pytest.raises(ConfigError) as error:
        load_config(PAPER, base[:1] + overrides if overrides[0].startswith("selection")
                    else overrides + base[1:])
    assert message in str(error.value)


def test_tune_objective_reads_a_dev_set_metric_of_the_kept_model(tmp_path, dev_sets):
    config = load_config(PAPER, _task_overrides(dev_sets))
    objective = get_objective("paraphrase:ap", config)
    assert objective.direction == "max"
    (tmp_path / "summary.json").write_text(json.dumps({
        "kept": {"selection_metric": "retrieval:ndcg@10", "score": 0.5},
        "eval_tasks": {"paraphrase": {"kind": "pairs", "ap": 0.75}}}))
    assert objective.read(tmp_path) == 0.75
    assert get_objective("retrieval:ndcg@10", config).read(tmp_path) == 0.5
    with pytest.raises(ConfigError, match="names task 'sts'"):
        get_objective("sts:spearman", config)


@pytest.mark.slow
def test_every_stage_of_a_pipeline_keeps_its_model_by_the_selection_metric(
        tmp_path, dev_sets, train_overrides, small_stsb_train):
    run = tmp_path / "run"
    overrides = [*train_overrides, "stages=[ct, stsb]", f"stsb.train={small_stsb_train}",
                 "stsb.epochs=1", "stsb.eval_every=2", "sts_dev=null",
                 *_task_overrides(dev_sets, "paraphrase:ap")]
    summary = TrainingPipeline(load_config(PAPER, overrides), run).run()
    rows = summary["stages"]
    for row, folder in zip(rows, ["stage-1-ct", "stage-2-stsb"]):
        stage = json.loads((run / folder / "summary.json").read_text())
        evaluations = stage["stsb_dev"]["evaluations"]
        best = max(e[f"paraphrase:ap_model_{m}"] for e in evaluations
                   for m in (1, 2) if f"paraphrase:ap_model_{m}" in e)
        assert stage["kept"]["selection_metric"] == "paraphrase:ap"
        assert stage["kept"]["score"] == best == row["selection_after"]
        assert not any(key.startswith("stsb_dev_model") for e in evaluations for key in e)
    # The second stage starts from the first one's kept model: its step 0 is that score.
    assert rows[1]["selection_before"] == pytest.approx(rows[0]["selection_after"], abs=1e-6)
    assert summary["selection"] == {"metric": "paraphrase:ap",
                                    "before": rows[0]["selection_before"],
                                    "after": rows[1]["selection_after"]}
    card = (run / "final" / "README.md").read_text()
    assert "| 1. ct | `paraphrase:ap` |" in card and "| 2. stsb | `paraphrase:ap` |" in card
