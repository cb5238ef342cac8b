"""``ct export``: the export folder, the model card with the run's numbers, the hub push."""

import json
import shutil

import numpy as np
import pytest

from ct.cli import main
from ct.config import load_config
from ct.export.hub import push_to_hub
from ct.modeling.pytorch_layout import pytorch_state_dict
from ct.export.save import check_export_complete
from ct.modeling.encoder import SentenceEncoder
from ct.training.trainer import CTTrainer
from helpers import REPO_ROOT

PAPER = REPO_ROOT / "configs" / "ct_paper.yaml"


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, tiny_bert_dir, corpus_file, small_sts_file):
    run = tmp_path_factory.mktemp("export") / "run"
    overrides = [f"model={tiny_bert_dir}", f"corpus={corpus_file}", f"sts_dev={small_sts_file}",
                 "steps=4", "eval_every=2", "log_every=1",
                 "optimizer.learning_rate=1e-3", "optimizer.lr_boundaries=[]",
                 "optimizer.lr_values=[]", "checkpoint_every=0"]
    summary = CTTrainer(load_config(PAPER, overrides), run).train()
    return run, summary


class FakeHfApi:
    """Stands in for ``huggingface_hub.HfApi`` at the network boundary; records calls."""

    calls: list = []
    fail_upload = False

    def __init__(self, *args, **kwargs):
        pass

    def create_repo(self, repo_id, **kwargs):
        FakeHfApi.calls.append(("create_repo", repo_id, kwargs))

    def create_branch(self, repo_id, **kwargs):
        FakeHfApi.calls.append(("create_branch", repo_id, kwargs))

    def upload_folder(self, *, folder_path, repo_id, allow_patterns=None, **kwargs):
        from fnmatch import fnmatch
        from pathlib import Path

        # As huggingface_hub filters: only paths matching one of allow_patterns are uploaded.
        files = sorted(name for name in (str(p.relative_to(folder_path))
                                         for p in Path(folder_path).rglob("*") if p.is_file())
                       if allow_patterns is None or any(fnmatch(name, pattern)
                                                        for pattern in allow_patterns))
        card = (Path(folder_path) / "README.md").read_text()
        FakeHfApi.calls.append(("upload_folder", repo_id,
                                {**kwargs, "folder_path": folder_path, "files": files,
                                 "card": card}))
        if FakeHfApi.fail_upload:
            raise ConnectionError("connection reset by peer")
        return f"https://huggingface.co/{repo_id}/commit/abc123"


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    import huggingface_hub

    FakeHfApi.calls = []
    FakeHfApi.fail_upload = False
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    # No stored `huggingface-cli login` token either.
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    return FakeHfApi


def _one_line_error(capsys, status, expected_status, message):
    err = capsys.readouterr().err
    assert status == expected_status, err
    assert err.startswith("ct: error: ") and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_saved_encoder_holds_every_format(tmp_path, tiny_bert_dir):
    encoder = SentenceEncoder.from_pretrained(str(tiny_bert_dir), pooling="cls", max_length=40)
    out = encoder.save(tmp_path / "saved")
    for name in ("config.json", "tf_model.h5", "model.safetensors", "vocab.txt",
                 "tokenizer_config.json", "ct_encoder.json"):
        assert (out / name).exists(), name
    modules = json.loads((out / "modules.json").read_text())
    assert [m["path"] for m in modules] == ["", "1_Pooling"]
    assert json.loads((out / "sentence_bert_config.json").read_text())["max_seq_length"] == 40
    pooling = json.loads((out / "1_Pooling" / "config.json").read_text())
    assert pooling["word_embedding_dimension"] == 32
    assert pooling["pooling_mode_cls_token"] and not pooling["pooling_mode_mean_tokens"]

    from safetensors.numpy import load_file

    stored = load_file(str(out / "model.safetensors"))
    expected = pytorch_state_dict(encoder.backbone)
    assert set(stored) == set(expected) and "embeddings.word_embeddings.weight" in stored
    kernel = stored["encoder.layer.0.attention.self.query.weight"]
    tf_kernel = next(w for w in encoder.backbone.weights
                     if "layer_._0/attention/self/query/kernel" in w.name).numpy()
    np.testing.assert_array_equal(kernel, tf_kernel.T)  # PyTorch's [out, in] layout

    # The PyTorch-layout weights alone give the same vectors.
    (out / "tf_model.h5").unlink()
    texts = ["a tiny test sentence", "another one, a little longer than the first"]
    np.testing.assert_allclose(SentenceEncoder.from_pretrained(str(out)).encode(texts),
                               encoder.encode(texts), atol=1e-5)


def test_run_final_is_a_complete_export_with_the_runs_numbers(finished_run):
    run, summary = finished_run
    final = run / "final"
    check_export_complete(final)
    record = json.loads((final / "ct_training.json").read_text())
    (stage,) = record["stages"]
    assert stage["name"] == "ct" and stage["steps_trained"] == 4
    assert stage["stsb_dev_after"] == summary["kept"]["stsb_dev_spearman"]
    assert stage["hyperparameters"]["batch_size"] == 16
    assert stage["hyperparameters"]["num_negatives"] == 7
    card = (final / "README.md").read_text()
    before = max(summary["stsb_dev"]["before"].values())
    assert f"{before:.2f}" in card and f"{summary['kept']['stsb_dev_spearman']:.2f}" in card
    assert "Contrastive Tension" in card and "corpus.txt (400 sentences)" in card
    for loader in ("SentenceTransformer(", "AutoModel.from_pretrained(",
                   "TFAutoModel.from_pretrained(", "SentenceEncoder.from_pretrained("):
        assert loader in card


def test_ct_export_of_a_run_folder(tmp_path, capsys, finished_run):
    run, summary = finished_run
    out = tmp_path / "export"
    assert main(["export", str(run), "--out", str(out)]) == 0
    check_export_complete(out)
    card = (out / "README.md").read_text()
    assert f"{summary['kept']['stsb_dev_spearman']:.2f}" in card
    assert f'SentenceTransformer("{out}")' in card
    texts = ["the first sentence", "a second, different sentence"]
    np.testing.assert_allclose(SentenceEncoder.from_pretrained(str(out)).encode(texts),
                               SentenceEncoder.from_pretrained(str(run / "final")).encode(texts),
                               atol=1e-6)
    # An existing export is not overwritten unless asked.
    status = main(["export", str(run), "--out", str(out)])
    _one_line_error(capsys, status, 2, "exists and is not empty")
    assert main(["export", str(run), "--out", str(out), "--overwrite"]) == 0


def test_dry_run_lists_every_file_and_the_destination(tmp_path, capsys, finished_run, fake_hub):
    run, _ = finished_run
    out = tmp_path / "export"
    assert main(["export", str(run), "--out", str(out), "--push-to-hub", "me/tiny-ct",
                 "--revision", "v1", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "https://huggingface.co/me/tiny-ct/tree/v1" in printed
    files = [str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()]
    assert len(files) >= 12
    for name in files:
        assert f"  {name}\n" in printed + "\n", name
    assert fake_hub.calls == []  # nothing uploaded, no token needed


def test_push_calls_the_hub_with_the_repo_folder_and_options(tmp_path, capsys, finished_run,
                                                              fake_hub):
    run, _ = finished_run
    out = tmp_path / "export"
    assert main(["export", str(run), "--out", str(out), "--push-to-hub", "me/tiny-ct",
                 "--private", "--revision", "v2", "--commit-message", "first CT model",
                 "--token", "hf_secret"]) == 0
    assert "https://huggingface.co/me/tiny-ct/commit/abc123" in capsys.readouterr().out
    (create, branch, upload) = fake_hub.calls
    assert create == ("create_repo", "me/tiny-ct", {"token": "hf_secret", "private": True,
                                                    "repo_type": "model", "exist_ok": True})
    assert branch[:2] == ("create_branch", "me/tiny-ct") and branch[2]["branch"] == "v2"
    assert upload[1] == "me/tiny-ct"
    assert upload[2]["folder_path"] == str(out) and upload[2]["revision"] == "v2"
    assert upload[2]["commit_message"] == "first CT model" and upload[2]["token"] == "hf_secret"
    assert "model.safetensors" in upload[2]["files"] and "README.md" in upload[2]["files"]
    assert 'SentenceTransformer("me/tiny-ct")' in upload[2]["card"]


def test_token_from_hf_token_and_an_export_pushed_as_is(tmp_path, capsys, finished_run,
                                                        fake_hub, monkeypatch):
    run, _ = finished_run
    out = tmp_path / "export"
    assert main(["export", str(run), "--out", str(out)]) == 0
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")
    assert main(["export", str(out), "--push-to-hub", "me/tiny-ct"]) == 0
    (create, upload) = fake_hub.calls
    assert create[2]["token"] == "hf_from_env" and create[2]["private"] is False
    assert upload[2]["revision"] == "main" and upload[2]["folder_path"] == str(out)
    # Only a complete export can be pushed without --out.
    status = main(["export", str(run), "--push-to-hub", "me/tiny-ct"])
    _one_line_error(capsys, status, 2, "not a complete ct export")


def test_failed_upload_is_one_line_and_leaves_the_export_complete(tmp_path, capsys,
                                                                  finished_run, fake_hub,
                                                                  monkeypatch):
    run, _ = finished_run
    out = tmp_path / "export"
    fake_hub.fail_upload = True
    monkeypatch.setenv("HF_TOKEN", "t")
    status = main(["export", str(run), "--out", str(out), "--push-to-hub", "me/tiny-ct"])
    _one_line_error(capsys, status, 1, "ConnectionError: connection reset by peer")
    check_export_complete(out)


@pytest.mark.parametrize("args, message", [
    (["--push-to-hub", "not-a-namespace"], "must be namespace/name"),
    (["--push-to-hub", "me/tiny-ct"], "no Hugging Face token"),
    (["--private"], "only apply with --push-to-hub"),
    ([], "give --out DIR"),
], ids=["repo name", "missing token", "hub flag without push", "no out"])
def test_bad_push_input_is_one_line_before_any_export(tmp_path, capsys, finished_run, fake_hub,
                                                      args, message):
    run, _ = finished_run
    out = tmp_path / "export"
    out_args = ["--out", str(out)] if message != "give --out DIR" else []
    status = main(["export", str(run), *out_args, *args])
    _one_line_error(capsys, status, 2, message)
    assert not out.exists() and fake_hub.calls == []


def test_exporting_a_folder_that_is_not_a_model(tmp_path, capsys):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("hello")
    status = main(["export", str(tmp_path / "notes"), "--out", str(tmp_path / "out")])
    _one_line_error(capsys, status, 2, "is not a model")
    status = main(["export", str(tmp_path / "missing"), "--out", str(tmp_path / "out")])
    _one_line_error(capsys, status, 2, "no such file or directory")


def test_encoder_push_to_hub(tmp_path, finished_run, fake_hub):
    run, summary = finished_run
    encoder = SentenceEncoder.from_pretrained(str(run / "final"))
    url = push_to_hub(encoder, "me/api-push", token="t", private=True)
    assert url.endswith("/commit/abc123")
    create, upload = fake_hub.calls
    assert create[2]["private"] is True and upload[1] == "me/api-push"
    assert {"tf_model.h5", "model.safetensors", "modules.json", "README.md",
            "ct_training.json"} <= set(upload[2]["files"])
    assert f"{summary['kept']['stsb_dev_spearman']:.2f}" in upload[2]["card"]


def test_unfinished_run_is_not_exported(tmp_path, capsys, finished_run):
    run, _ = finished_run
    stopped = tmp_path / "stopped"
    shutil.copytree(run, stopped)
    summary = json.loads((stopped / "summary.json").read_text())
    summary.update(status="stopped", reason="non-finite loss at step 3")
    (stopped / "summary.json").write_text(json.dumps(summary))
    status = main(["export", str(stopped), "--out", str(tmp_path / "out")])
    _one_line_error(capsys, status, 2, "did not finish")


def test_pushing_an_existing_export_rewrites_its_card_for_the_repo(tmp_path, capsys,
                                                                   finished_run, fake_hub,
                                                                   monkeypatch):
    run, _ = finished_run
    out = tmp_path / "export"
    assert main(["export", str(run), "--out", str(out)]) == 0
    assert str(out) in (out / "README.md").read_text()
    capsys.readouterr()
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    assert main(["export", str(out), "--push-to-hub", "me/tiny-ct", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "would rewrite" in printed and "token: none found" in printed
    assert str(out) in (out / "README.md").read_text()  # a dry run changes nothing
    assert main(["export", str(out), "--push-to-hub", "me/tiny-ct", "--token", "t"]) == 0
    card = (out / "README.md").read_text()
    assert "# tiny-ct" in card and 'from_pretrained("me/tiny-ct"' in card
    assert str(out) not in card
    monkeypatch.setenv("HF_TOKEN", "hf_x")
    assert main(["export", str(out), "--push-to-hub", "me/tiny-ct", "--dry-run"]) == 0
    assert "token: found in HF_TOKEN" in capsys.readouterr().out


def test_a_push_publishes_only_what_ct_wrote_and_nothing_local(tmp_path, capsys, finished_run,
                                                              fake_hub, monkeypatch):
    run, _ = finished_run
    out = tmp_path / "export"
    assert main(["export", str(run), "--out", str(out)]) == 0
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    (out / ".notes.swp").write_text("editor leftover")
    (out / "scratch.txt").write_text("a user's notes")
    (out / "1_Pooling" / ".hidden").write_text("x")
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")
    assert main(["export", str(out), "--push-to-hub", "me/tiny-ct"]) == 0
    upload = fake_hub.calls[-1]
    assert upload[2]["files"] == written
    record = (out / "ct_training.json").read_text()
    assert json.loads(record)["base_model"] == "a local model"
    assert json.loads(record)["sts_dev"] == "a local file"
    for name in written:  # no path of this machine in any published text file
        if name.endswith((".json", ".md", ".txt")):
            assert str(tmp_path.parent) not in (out / name).read_text(), name
    capsys.readouterr()
    assert main(["export", str(out), "--push-to-hub", "me/tiny-ct", "--token", "t"]) == 0
    assert "--token puts the token in your shell history" in capsys.readouterr().err


def test_public_reference_keeps_hub_ids_and_hides_local_paths(tmp_path):
    from ct.export.training_record import public_record, public_reference

    assert public_reference("sentence-transformers/all-MiniLM-L6-v2") == (
        "sentence-transformers/all-MiniLM-L6-v2")
    assert public_reference("bert-base-uncased") == "bert-base-uncased"
    assert public_reference("bundled:all-MiniLM-L6-v2") == "bundled:all-MiniLM-L6-v2"
    for local in ("/home/me/models/base", "~/models/base", "./base", str(tmp_path)):
        assert public_reference(local) == "a local model", local
    old = {"base_model": "/home/me/base", "sts_dev": "/data/sts-dev.csv", "stages": [
        {"objective": "alignment to teacher /home/me/teacher: mse loss"}]}
    assert public_record(old) == {"base_model": "a local model", "sts_dev": "a local file",
                                  "stages": [{"objective": "alignment to teacher a local "
                                                           "model: mse loss"}]}
