"""Configs: the schema (:mod:`ct.config.schema`) and its loader (:mod:`ct.config.loader`).

Example:
    >>> config = load_config("configs/ct_paper.yaml", overrides=["steps=100"])
    >>> config.steps
    100
"""

from ct.config.loader import (build_config, config_from_dict, config_to_dict, load_config,
                              parse_override, read_config_data, set_dotted, with_defaults)
from ct.config.schema import (NOT_PART_OF_A_RUN, STAGE_NAMES, AlignStageConfig, NLIStageConfig,
                              OptimizerConfig, STSBStageConfig, TFDSSource, TrainConfig,
                              choices, supervised_optimizer)

__all__ = ["AlignStageConfig", "NLIStageConfig", "NOT_PART_OF_A_RUN", "OptimizerConfig",
           "STAGE_NAMES", "STSBStageConfig", "TFDSSource", "TrainConfig", "build_config",
           "choices", "config_from_dict", "config_to_dict", "load_config", "parse_override",
           "read_config_data", "set_dotted", "supervised_optimizer", "with_defaults"]
