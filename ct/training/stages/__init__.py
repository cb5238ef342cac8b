"""Training stages: what differs between CT, NLI, STS-B and align training.

- ``ct``: Contrastive Tension on an unlabelled corpus (the top level of the config);
- ``nli``: Sentence-BERT NLI training (``nli:``), before CT in the paper's NLI-CT models;
- ``stsb``: STS-B regression (``stsb:``), after CT in the paper's CT-STSb models;
- ``align``: a student learns a teacher's (or precomputed) vectors (``align:``).

Example:
    >>> stage = make_stage(load_config("configs/ct_stsb.yaml", ["stages=[stsb]"]))
    >>> stage.steps, stage.eval_every
"""

from ct.config import TrainConfig
from ct.errors import ConfigError
from ct.training.stages.align import AlignStage
from ct.training.stages.base import Stage
from ct.training.stages.ct_stage import CTStage
from ct.training.stages.supervised import NLIStage, STSBStage, SupervisedStage

STAGES = {"ct": CTStage, "nli": NLIStage, "stsb": STSBStage, "align": AlignStage}

__all__ = ["AlignStage", "CTStage", "NLIStage", "STAGES", "STSBStage", "Stage",
           "SupervisedStage", "make_stage"]


def make_stage(config: TrainConfig) -> Stage:
    """The stage a single-stage config runs (``config.stages`` holds one name)."""
    if len(config.stages) != 1:
        raise ConfigError(f"a trainer runs one stage, got stages {config.stages}; "
                          "run several with ct.training.pipeline.TrainingPipeline")
    return STAGES[config.stages[0]](config)
