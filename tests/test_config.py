from pathlib import Path

import pytest

from ct.config import TrainConfig, load_config
from ct.errors import ConfigError
from ct.resources import resolve_path
from helpers import REPO_ROOT

PAPER = REPO_ROOT / "configs" / "ct_paper.yaml"


def test_paper_config_holds_the_paper_values():
    config = load_config(PAPER)
    assert (config.batch_size, config.num_negatives, config.max_length) == (16, 7, 75)
    assert config.optimizer.name == "rmsprop" and config.optimizer.learning_rate == 1e-5
    assert config.optimizer.lr_boundaries == [500, 1000, 1500, 2000]
    assert config.optimizer.lr_values == [8e-6, 6e-6, 4e-6, 2e-6]
    assert config.dropout is False and config.pooling == "mean"
    assert config.positives_per_batch == 2
    assert load_config(None) == config  # the YAML restates the dataclass defaults


def test_layers_yaml_then_set(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("steps: 10\noptimizer:\n  learning_rate: 2.0e-5\n")
    config = load_config(path, ["steps=7", "optimizer.learning_rate=3e-5", "corpus=a.txt",
                                "text_field=body", "dropout=true"])
    assert config.steps == 7
    assert config.optimizer.learning_rate == pytest.approx(3e-5)
    assert config.corpus == ["a.txt"]
    assert config.text_field == "body" and config.dropout is True
    assert config.optimizer.lr_values == TrainConfig().optimizer.lr_values


@pytest.mark.parametrize("overrides, message", [
    (["stepz=3"], "unknown config key 'stepz'; did you mean 'steps'"),
    (["optimizer.learning_rat=1"], "unknown config key 'optimizer.learning_rat'; did you mean "
                                   "'optimizer.learning_rate'"),
    (["steps=ten"], "'steps' must be int, got 'ten'"),
    (["dropout=maybe"], "'dropout' must be bool"),
    (["pooling=max"], "'pooling' must be one of 'mean', 'cls'"),
    (["batch_size=12"], "must be a multiple of num_negatives \\+ 1"),
    (["steps=0"], "steps must be > 0"),
    (["optimizer.lr_values=[1e-5]"], "must have the same length"),
    (["nonsense"], "--set expects key=value"),
    (["objective=ct_ibn", "batch_size=1"], "batch_size must be >= 2 with objective: ct_ibn"),
    (["objective=ct_ibn", "ibn_scale=0"], "ibn_scale must be > 0"),
    (["objective=simcse"], "'objective' must be one of 'ct', 'ct_ibn'"),
])
def test_bad_values_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(PAPER, overrides)


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("steps: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


def test_ct_ibn_batches_need_no_negative_groups():
    config = load_config(PAPER, ["objective=ct_ibn", "batch_size=12"])
    assert config.positives_per_batch == 12  # every sentence is a positive pair


def test_saved_config_from_an_older_version_gets_the_new_defaults():
    """A run saved before an option existed resumes: the option's default is what it used."""
    from ct.config import config_to_dict, with_defaults
    from ct.training.run_dir import config_differences

    current = config_to_dict(load_config(PAPER))
    saved = {k: v for k, v in current.items() if k not in ("objective", "align")}
    saved["optimizer"] = {k: v for k, v in current["optimizer"].items() if k != "clipnorm"}
    assert config_differences(saved, current)
    assert config_differences(with_defaults(saved), current) == []
    changed = config_to_dict(load_config(PAPER, ["objective=ct_ibn"]))
    assert config_differences(with_defaults(saved), changed) == ["objective: 'ct' -> 'ct_ibn'"]


def test_the_options_reference_is_generated_from_the_config_classes():
    import dataclasses

    from ct.config.reference import options_reference

    reference = options_reference()
    assert (REPO_ROOT / "docs" / "config.md").read_text() == reference, \
        "docs/config.md is stale: python -m ct.config.reference > docs/config.md"
    for field in dataclasses.fields(TrainConfig):
        assert f"| `{field.name}` |" in reference and field.metadata["help"]
    for key in ("optimizer.lr_boundaries", "nli.optimizer.learning_rate", "align.teacher",
                "corpus_tfds.split", "nli.train_tfds.name"):
        assert f"| `{key}` |" in reference, key


def test_the_options_reference_shows_each_sections_real_defaults():
    """Nested sections document the defaults of the default config, not of their class: the
    supervised stages' optimizers are Sentence-BERT's AdamW, the CT stage's RMSprop; the tune:
    section is there with its defaults."""
    import dataclasses

    from ct.config import supervised_optimizer
    from ct.config.reference import options_reference
    from ct.config.tune import TuneConfig

    rows = {line.split(" | ")[0][3:-1]: line.split(" | ")
            for line in options_reference().splitlines() if line.startswith("| `")}

    def default(key):
        return rows[key][2].strip("`")

    for stage in ("nli", "stsb", "align"):
        for field in dataclasses.fields(supervised_optimizer()):
            value = getattr(supervised_optimizer(), field.name)
            expected = ("null" if value is None else str(value).lower()
                        if isinstance(value, bool) else str(value))
            assert default(f"{stage}.optimizer.{field.name}") == expected, (stage, field.name)
    assert default("nli.optimizer.name") == "adamw" and default("optimizer.name") == "rmsprop"
    assert default("optimizer.learning_rate") == "1e-05"
    assert default("nli.optimizer.weight_decay") == "0.01"
    for field in dataclasses.fields(TuneConfig):
        assert f"tune.{field.name}" in rows and field.metadata["help"], field.name
    assert default("tune.tuner") == "random" and default("tune.max_trials") == "10"
    assert "CT corpus" not in rows["nli.train_tfds.text_field"][3]


def test_removed_options_say_what_replaced_them():
    with pytest.raises(ConfigError, match="shuffle_buffer was removed: every pass over the "
                                          "corpus is now a seeded permutation"):
        load_config(PAPER, ["shuffle_buffer=1000"])


def test_validation_is_per_stage():
    # CT's options are not checked when CT does not run, and vice versa
    load_config(PAPER, ["stages=[stsb]", "batch_size=12"])
    with pytest.raises(ConfigError, match="must be a multiple of num_negatives"):
        load_config(PAPER, ["stages=[stsb, ct]", "batch_size=12"])
    load_config(PAPER, ["nli.batch_size=0"])
    with pytest.raises(ConfigError, match="nli.batch_size must be > 0"):
        load_config(PAPER, ["stages=[nli]", "nli.batch_size=0",
                            "nli.train=x.jsonl"])


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "configs").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_shipped_config_loads_and_validates(path):
    """A config in configs/ that no longer matches the schema fails here, not for a user."""
    if "tune:" in path.read_text():  # read by ct tune: its training part must build
        from ct.config.loader import build_config
        from ct.tuning.config import load_tune_config

        data, tune, where = load_tune_config(path)
        config = build_config(data, where=where)
    else:
        config = load_config(path)
    for reference in [config.model, config.sts_dev, *config.corpus, *config.align.train]:
        if reference.startswith("bundled:") and "MiniLM" not in reference:
            assert Path(resolve_path(reference)).is_file(), reference
