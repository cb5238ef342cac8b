import pytest

from ct.config import TrainConfig, load_config
from ct.errors import ConfigError
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
