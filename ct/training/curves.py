"""``curves.png``: the loss, the stage's other metrics (CT: positive/negative loss; NLI:
accuracy) and the selection metric (STS-B dev by default) of the model(s) against steps."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ct.training.dev_evaluation import (DEFAULT_SELECTION_METRIC, selection_key,
                                        selection_label)
from ct.training.metrics_log import read_metrics


def plot_training_curves(metrics_path: str | Path, output_path: str | Path,
                         title: str = "CT", kept: Optional[dict] = None) -> Path:
    """Draws the training curves of a run from its ``metrics.jsonl``.

    ``kept`` (``{"model", "step", "selection_metric", "score"}``) marks the kept model on the
    curve of its selection metric (STS-B dev by default), and says so when it is the
    untouched starting model (step 0).

    Example:
        >>> plot_training_curves("runs/ct/metrics.jsonl", "runs/ct/curves.png")
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train, evaluations = read_metrics(metrics_path)
    figure, axes = plt.subplots(1, 3, figsize=(15, 4))
    steps = [r["step"] for r in train]
    axes[0].plot(steps, [r["loss"] for r in train], color="black")
    axes[0].set_title(f"{title} loss (mean per example)")
    if train and "positive_loss" in train[0]:
        axes[1].plot(steps, [r["positive_loss"] for r in train], label="positive pairs")
        axes[1].plot(steps, [r["negative_loss"] for r in train], label="negative pairs")
        axes[1].set_title("loss by pair type")
        axes[1].legend()
    elif train and "accuracy" in train[0]:
        axes[1].plot(steps, [r["accuracy"] for r in train], color="black")
        axes[1].set_title("NLI training accuracy")
    else:
        axes[1].text(0.5, 0.5, "no other training metric", ha="center", va="center")
    metric = (kept or {}).get("selection_metric", DEFAULT_SELECTION_METRIC)
    key_prefix = selection_key(metric) + "_model_"
    score = (kept or {}).get("score", (kept or {}).get("stsb_dev_spearman"))
    if evaluations:
        eval_steps = [r["step"] for r in evaluations]
        models = sorted(k for k in evaluations[0] if k.startswith(key_prefix))
        for key in models:
            axes[2].plot(eval_steps, [r[key] for r in evaluations], marker="o",
                         label="model " + key[len(key_prefix):])
        if kept and score is not None:
            label = (f"kept: model {kept['model']} at step {kept['step']}"
                     + (" (the starting model)" if kept["step"] == 0 else ""))
            axes[2].scatter([kept["step"]], [score], s=160,
                            facecolors="none", edgecolors="red", linewidths=2, zorder=5,
                            label=label)
            axes[2].axvline(kept["step"], color="red", alpha=0.3, linestyle="--")
        axes[2].legend()
    else:
        axes[2].text(0.5, 0.5, "no evaluation", ha="center", va="center")
    axes[2].set_title("STS-B dev Spearman x100" if metric == DEFAULT_SELECTION_METRIC
                      else f"{selection_label(metric)} (selection metric)")
    for axis in axes:
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
    figure.tight_layout()
    output_path = Path(output_path)
    figure.savefig(output_path, dpi=100)
    plt.close(figure)
    return output_path
