"""``curves.png``: loss, positive/negative loss and STS-B dev of both models against steps."""

from __future__ import annotations

from pathlib import Path

from ct.training.metrics_log import read_metrics


def plot_training_curves(metrics_path: str | Path, output_path: str | Path) -> Path:
    """Draws the training curves of a run from its ``metrics.jsonl``.

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
    axes[0].set_title("CT loss (mean per pair)")
    axes[1].plot(steps, [r["positive_loss"] for r in train], label="positive pairs")
    axes[1].plot(steps, [r["negative_loss"] for r in train], label="negative pairs")
    axes[1].set_title("loss by pair type")
    axes[1].legend()
    if evaluations:
        eval_steps = [r["step"] for r in evaluations]
        for model in (1, 2):
            axes[2].plot(eval_steps, [r[f"stsb_dev_model_{model}"] for r in evaluations],
                         marker="o", label=f"model {model}")
        axes[2].legend()
    else:
        axes[2].text(0.5, 0.5, "no STS-B dev evaluation", ha="center", va="center")
    axes[2].set_title("STS-B dev Spearman x100")
    for axis in axes:
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
    figure.tight_layout()
    output_path = Path(output_path)
    figure.savefig(output_path, dpi=100)
    plt.close(figure)
    return output_path
