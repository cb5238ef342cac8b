"""ct: Contrastive Tension (Carlsson et al., "Semantic Re-tuning with Contrastive Tension",
ICLR 2021) for TensorFlow 2 and Hugging Face encoders.

The public API:

    >>> from ct import CTTrainer, SentenceEncoder, load_config
    >>> summary = CTTrainer(load_config("configs/ct_paper.yaml"), "runs/ct").train()
    >>> encoder = SentenceEncoder.from_pretrained("runs/ct/final")
    >>> vectors = encoder.encode(["A sentence.", "Another one."])
"""

from ct.version import __version__  # noqa: E402,F401

_EXPORTS = {
    "TrainConfig": "ct.config",
    "OptimizerConfig": "ct.config",
    "load_config": "ct.config",
    "CTError": "ct.errors",
    "SentenceEncoder": "ct.modeling.encoder",
    "ContrastiveTensionModel": "ct.modeling.ct_model",
    "mean_pooling": "ct.modeling.pooling",
    "contrastive_tension_loss": "ct.losses.contrastive_tension",
    "Corpus": "ct.data.corpus",
    "build_ct_dataset": "ct.data.ct_dataset",
    "STSEvaluator": "ct.evaluation.sts",
    "CTTrainer": "ct.training.trainer",
    "TrainingPipeline": "ct.training.pipeline",
    "export_model": "ct.export.save",
    "HyperparameterSearch": "ct.tuning.search",
    "push_to_hub": "ct.export.hub",
    "configure_logging": "ct.logging_setup",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    # Lazy: ``import ct`` and ``ct --help`` stay fast; TensorFlow loads on first use.
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ct' has no attribute {name!r}")
