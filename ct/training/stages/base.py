"""The stage interface: what differs between CT, NLI, STS-B and align training.

The trainer (:class:`ct.training.trainer.CTTrainer`) runs any stage the same way (strategy,
loop or ``fit``, evaluation on STS-B dev, checkpoints, best-model keeping); a stage supplies
its data, its model and its length. Every stage reads and checks its data when it is created,
before any weights load, so bad input fails in one line.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ct.config import OptimizerConfig, TrainConfig

# length_buckets: 0 on a CPU: 4 sub-batches (measured fastest on 2 cores; see the option's help).
CPU_LENGTH_BUCKETS = 4

logger = logging.getLogger(__name__)


class Stage:
    """Base class. Subclasses set the attributes below and implement the methods.

    Attributes:
        name: ``ct``, ``nli``, ``stsb`` or ``align``.
        title: how logs and progress bars name it (``CT``, ``CT-IBN``, ``NLI``, ...).
        steps: the stage's length in optimizer steps.
        batch_size: global examples (pairs or sentences) per step.
        eval_every: steps between STS-B dev evaluations (the end is always evaluated).
        optimizer: the optimizer section that applies.
        group_size: per-replica batches must hold whole groups of this many examples.
        num_models: the encoders the stage trains (CT: 2).
        parallel_passes: independent encoder passes per step (CT's two models, a pair's two
            columns, a triplet's three; the align stage's one).
        metric_names: what ``train_step`` reports besides ``tokens`` and the update status.
    """

    name = ""
    title = ""
    group_size = 1
    num_models = 1
    parallel_passes = 2
    metric_names: tuple[str, ...] = ("loss",)

    def __init__(self, config: TrainConfig):
        self.config = config
        self.steps = 0
        self.batch_size = 0
        self.eval_every = 0
        self.optimizer: OptimizerConfig = config.optimizer

    @property
    def batch_key(self) -> str:
        """The config key of the batch size (for messages)."""
        return "batch_size" if self.name == "ct" else f"{self.name}.batch_size"

    def model_options(self) -> dict:
        """Options every training model takes (XLA, float16 loss scaling, the dropout
        seed)."""
        config = self.config
        return {"jit_compile": config.jit_compile, "seed": config.seed,
                "loss_scale_initial": config.loss_scale_initial,
                "loss_scale_growth_steps": config.loss_scale_growth_steps}

    def length_buckets(self, accelerated: bool = False) -> int:
        """Sub-batches of similar length per padded batch (1 where shapes must stay fixed).

        ``length_buckets: 0`` (the default) means 4 on CPUs and 1 on GPUs and TPUs
        (``accelerated``), where sub-batches multiply kernel launches for work that is cheap
        there: padding costs a CPU its time, a GPU mostly idle lanes."""
        config = self.config
        if config.jit_compile or config.padding == "max_length":
            return 1
        if config.length_buckets == 0:
            return 1 if accelerated else CPU_LENGTH_BUCKETS
        return config.length_buckets

    def log_data(self) -> None:
        """Logs what the stage trains on (called once every check has passed)."""

    def on_run_start(self, run_dir: Path, resuming: bool) -> None:
        """Called before training starts or resumes, with the run folder (the CT stage records
        its corpus there and checks it has not changed on resume)."""

    def prepare(self, output_dir: Path, progress_mode: str = "off") -> None:
        """Heavy preparation once every check has passed, before the model is built (the
        align stage's teacher encodes the training sentences here)."""

    def build_model(self, model_dir: str, tokenizer):
        """The stage's :class:`ct.modeling.training_model.TrainingModel` (call inside the
        strategy scope)."""
        raise NotImplementedError

    def dataset_fn(self, tokenizer, start_position):
        """``dataset_fn(input_context)`` of the stage's endless training stream."""
        raise NotImplementedError

    def data_summary(self) -> dict:
        """What the stage trained on, for ``summary.json``."""
        raise NotImplementedError

    def close(self) -> None:
        """Releases what reading the data holds open (called when the run ends)."""
