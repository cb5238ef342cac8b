"""The align stage: data, teacher vs precomputed targets, training, projection, bad input."""

import json

import numpy as np
import pytest

from ct.cli import main
from ct.config import load_config
from ct.data.align_data import read_align_examples
from ct.errors import DataError
from ct.modeling.encoder import SentenceEncoder
from ct.training.stages import AlignStage
from ct.training.trainer import CTTrainer
from helpers import REPO_ROOT, save_tiny_model, wiki_sentences

PAPER = REPO_ROOT / "configs" / "ct_paper.yaml"


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory, corpus_sentences):
    """A tiny teacher with 48-dimensional vectors (the student has 32: a projection is needed)."""
    return save_tiny_model(tmp_path_factory.mktemp("teacher"), "bert", corpus_sentences, seed=7,
                           hidden_size=48)


@pytest.fixture(scope="module")
def align_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("align")
    sentences = wiki_sentences(400)
    (folder / "train.txt").write_text("\n".join(sentences[:96]) + "\n")
    (folder / "heldout.txt").write_text("\n".join(sentences[300:340]) + "\n")
    return folder


def _overrides(student, train, *extra):
    return [f"model={student}", "stages=[align]", f"align.train={train}", "sts_dev=null",
            "align.batch_size=16", "log_every=1", "checkpoint_every=0", "seed=5",
            "align.optimizer.learning_rate=2e-3", "align.optimizer.warmup_ratio=0.0",
            *extra]


def _first_batches(stage, tokenizer, count=3):
    dataset = stage.dataset_fn(tokenizer, None)(_one_pipeline())
    return list(dataset.take(count).as_numpy_iterator())


def _one_pipeline():
    from ct._keras import tf

    return tf.distribute.InputContext(num_input_pipelines=1, input_pipeline_id=0,
                                      num_replicas_in_sync=1)


def test_parallel_lines_train_both_sides_against_the_source_row(tmp_path):
    path = tmp_path / "parallel.tsv"
    path.write_text("A dog runs.\tEin Hund rennt.\n\nA cat sleeps.\tUne chatte dort.\n")
    examples = read_align_examples([str(path)])
    assert examples.parallel and examples.num_lines == 3 and examples.blank_lines == 1
    assert examples.texts == ["A dog runs.", "Ein Hund rennt.", "A cat sleeps.",
                              "Une chatte dort."]
    assert examples.rows.tolist() == [0, 0, 2, 2]
    assert examples.sentences == ["A dog runs.", "", "A cat sleeps."]
    path.write_text("A dog runs.\tEin Hund rennt.\nno tab here\n")
    with pytest.raises(DataError, match="parallel.tsv:2: a parallel line must be"):
        read_align_examples([str(path)])


def test_teacher_and_precomputed_targets_give_the_same_batches(tmp_path, tiny_bert_dir,
                                                               teacher_dir, align_files):
    train = align_files / "train.txt"
    teacher_stage = AlignStage(load_config(PAPER, _overrides(
        tiny_bert_dir, train, f"align.teacher={teacher_dir}")))
    teacher_stage.prepare(tmp_path / "teacher-run")
    assert (tmp_path / "teacher-run" / "teacher_targets.npy").exists()

    teacher = SentenceEncoder.from_pretrained(str(teacher_dir))
    np.save(tmp_path / "targets.npy", teacher.encode(train.read_text().splitlines()))
    file_stage = AlignStage(load_config(PAPER, _overrides(
        tiny_bert_dir, train, f"align.targets={tmp_path / 'targets.npy'}")))
    file_stage.prepare(tmp_path / "file-run")

    from ct.modeling.loading import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_bert_dir))
    for (features_a, targets_a), (features_b, targets_b) in zip(
            _first_batches(teacher_stage, tokenizer), _first_batches(file_stage, tokenizer)):
        np.testing.assert_array_equal(features_a["input_ids_1"], features_b["input_ids_1"])
        assert targets_a.shape == (16, 48)
        np.testing.assert_allclose(targets_a, targets_b, atol=1e-6)


def test_tiny_student_moves_towards_the_teacher_and_exports_its_projection(
        tmp_path, capsys, tiny_bert_dir, teacher_dir, align_files):
    heldout = align_files.joinpath("heldout.txt").read_text().splitlines()
    teacher_vectors = SentenceEncoder.from_pretrained(str(teacher_dir)).encode(heldout)
    config = load_config(PAPER, _overrides(tiny_bert_dir, align_files / "train.txt",
                                           f"align.teacher={teacher_dir}", "align.epochs=8",
                                           'align.template="a sentence: {}"'))
    summary = CTTrainer(config, tmp_path / "run").train()
    assert summary["stage"] == "align" and summary["steps"] == 48  # 96 lines / 16 x 8
    assert summary["data"]["target_dim"] == 48

    student = SentenceEncoder.from_pretrained(str(tmp_path / "run" / "final"))
    assert student.projection is not None and student.embedding_dim == 48
    assert student.template == "a sentence: {}"
    # Before training, the same student with a fresh (random) projection.
    untrained = SentenceEncoder.from_pretrained(str(tiny_bert_dir), template="a sentence: {}")
    untrained.add_projection(48)
    before = np.mean((untrained.encode(heldout) - teacher_vectors) ** 2)
    after = np.mean((student.encode(heldout) - teacher_vectors) ** 2)
    assert after < 0.5 * before, (before, after)

    settings = json.loads((tmp_path / "run" / "final" / "ct_encoder.json").read_text())
    assert settings["projection"] and settings["embedding_dim"] == 48
    card = (tmp_path / "run" / "final" / "README.md").read_text()
    assert "projection | linear, to 48 dimensions" in card and "a sentence: {}" in card
    # A teacher given by path is published as "a local model" (no local path in the card).
    assert "alignment to teacher a local model: mse loss" in card and str(teacher_dir) not in card
    # ct encode applies the template and the projection.
    sentences = tmp_path / "s.txt"
    sentences.write_text("\n".join(heldout[:5]) + "\n")
    assert main(["encode", str(tmp_path / "run" / "final"), "--input", str(sentences),
                 "--output", str(tmp_path / "v.npy"), "-q"]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "v.npy"), student.encode(heldout[:5]),
                               atol=1e-5)
    assert main(["encode", str(tmp_path / "run" / "final"), "--input", str(sentences),
                 "--output", str(tmp_path / "w.npy"), "--template", "{}", "-q"]) == 0
    assert not np.allclose(np.load(tmp_path / "w.npy"), np.load(tmp_path / "v.npy"))


def _one_line_error(capsys, status, message):
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.startswith("ct: error: ") and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("make_args, message", [
    (lambda d: [f"align.targets={d / 'short.npy'}"], "has 5 rows but align.train has 96 lines"),
    (lambda d: [f"align.targets={d / 'targets.npy'}", "align.projection=none"],
     "the student's embeddings have 32 dimensions and the targets 48"),
    (lambda d: [f"align.teacher={d / 'no-teacher'}"], "model directory not found"),
    (lambda d: [], "needs exactly one source of target vectors"),
    (lambda d: [f"align.targets={d / 'targets.npy'}", "align.template=no slot"],
     "align.template must contain {}"),
], ids=["rows", "dimension", "teacher", "no targets", "template"])
def test_bad_align_input_is_one_line(tmp_path, capsys, tiny_bert_dir, align_files, make_args,
                                     message):
    np.save(tmp_path / "short.npy", np.zeros((5, 48), np.float32))
    np.save(tmp_path / "targets.npy", np.zeros((96, 48), np.float32))
    args = ["train", str(PAPER), "--output-dir", str(tmp_path / "out")]
    for item in _overrides(tiny_bert_dir, align_files / "train.txt", *make_args(tmp_path)):
        args += ["--set", item]
    _one_line_error(capsys, main(args), message)
    assert not (tmp_path / "out" / "metrics.jsonl").exists()


def test_ct_then_align_on_npz_targets_with_contrastive_loss(tmp_path, train_overrides,
                                                            align_files):
    """A pipeline [ct, align]: the align stage starts from CT's kept model (which does not exist
    when the pipeline is checked), reads a named .npz array, adds a projection even for equal
    sizes (projection: linear) and trains the contrastive loss."""
    from ct.training.pipeline import TrainingPipeline

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "targets.npz", other=np.zeros((3, 2)),
             clip=rng.normal(size=(96, 32)).astype(np.float32))
    overrides = [*train_overrides, "stages=[ct, align]", "checkpoint_every=0",
                 f"align.train={align_files / 'train.txt'}",
                 f"align.targets={tmp_path / 'targets.npz'}", "align.targets_key=clip",
                 "align.loss=contrastive", "align.projection=linear", "align.batch_size=16",
                 "align.optimizer.learning_rate=1e-3"]
    summary = TrainingPipeline(load_config(PAPER, overrides), tmp_path / "run").run()
    ct_row, align_row = summary["stages"]
    assert align_row["start_model"] == ct_row["final_model"] and align_row["steps"] == 6
    student = SentenceEncoder.from_pretrained(str(tmp_path / "run" / "final"))
    assert student.projection is not None and student.embedding_dim == 32
    losses = [json.loads(line)["loss"] for line in (tmp_path / "run" / "stage-2-align" /
              "metrics.jsonl").read_text().splitlines() if '"loss"' in line]
    assert len(losses) == 6 and all(np.isfinite(losses))
    # An .npz with several arrays needs the key; a wrong key is named.
    with pytest.raises(DataError, match="holds 2 arrays \\(other, clip\\)"):
        AlignStage(load_config(PAPER, [*overrides, "stages=[align]", "align.targets_key=null"]))
    with pytest.raises(DataError, match="has no array 'text'"):
        AlignStage(load_config(PAPER, [*overrides, "stages=[align]", "align.targets_key=text"]))


def test_template_without_a_slot_is_refused_by_encode(tmp_path, capsys, tiny_bert_dir):
    (tmp_path / "s.txt").write_text("a sentence\n")
    status = main(["encode", str(tiny_bert_dir), "--input", str(tmp_path / "s.txt"),
                   "--output", str(tmp_path / "v.npy"), "--template", "no slot"])
    _one_line_error(capsys, status, "--template must contain {}")
