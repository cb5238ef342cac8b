"""The model card (``README.md``) of an exported model.

It says what the model is (base model, pooling, max length), how it was trained (each stage's
objective, key hyperparameters and data), what the run measured (STS-B dev Spearman before and
after each stage; the selection metric and the kept model's scores on the user's own dev sets
when it was kept by one), and how to load it from ``sentence-transformers``, PyTorch ``transformers``,
TF ``transformers`` and ``ct``. The YAML header is what the Hugging Face hub reads.

Example:
    >>> write_model_card("runs/ct/final", read_training_record("runs/ct/final"), "me/my-model")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from ct.export.training_record import LOCAL_MODEL
from ct.modeling.model_folder import read_encoder_settings
from ct.modeling.sentence_transformers_layout import template_prefix

MODEL_CARD = "README.md"
# Packaged checkpoints and the hub models they are copies of.
_BUNDLED_HUB_IDS = {"bundled:all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2"}


def _base_model(reference: Optional[str]) -> tuple[str, Optional[str]]:
    """(how to name the base model, its hub id if it has one)."""
    if not reference:
        return "unknown", None
    if reference == LOCAL_MODEL:
        return "a local checkpoint", None
    if reference in _BUNDLED_HUB_IDS:
        hub_id = _BUNDLED_HUB_IDS[reference]
        return f"{hub_id} (ct's packaged copy, `{reference}`)", hub_id
    looks_like_hub_id = (reference.count("/") <= 1 and not reference.startswith((".", "/", "~"))
                         and not Path(reference).exists())
    if looks_like_hub_id:
        return reference, reference
    return f"a local checkpoint (`{Path(reference).name}`)", None


_STSB_METRIC = "stsb_dev:spearman"
# The figures the card shows of each kind of dev set (ct eval --task reports more).
_CARD_METRICS = {"retrieval": ("ndcg@10", "mrr@10", "map@100", "recall@10", "recall@100",
                               "accuracy@1"),
                 "reranking": ("map", "mrr@10", "ndcg@10"),
                 "pairs": ("ap", "f1", "accuracy"), "sts": ("spearman", "pearson")}


def _selection_section(stages: list) -> list[str]:
    """The Selection section: the metric each stage kept its model by, and the kept model's
    scores on the user's dev sets (``eval_tasks``)."""
    lines = ["## Selection", "",
             "The metric each stage's model was kept by, on the user's own dev set (with "
             "keep: best, the evaluated model and step with its best value, the starting model "
             "included); metrics are fractions with sentence-transformers' definitions (cosine "
             "similarity).", "",
             "| stage | selection metric | before | after (kept) | kept |", "|---|---|---|---|---|"]
    for stage in stages:
        kept = stage.get("kept") or {}
        kept_text = f"model {kept.get('model')} at step {kept.get('step')}" if kept else "-"
        metric = stage.get("selection_metric", _STSB_METRIC)
        shown = _score if metric == _STSB_METRIC else _fraction
        lines.append(f"| {stage['stage']}. {stage['name']} | `{metric}` | "
                     f"{shown(stage.get('selection_before'))} | "
                     f"{shown(stage.get('selection_after'))} | {kept_text} |")
    tasks = stages[-1].get("eval_tasks") or {}
    if tasks:
        lines += ["", "The kept model on each dev set:", "", "| task | kind | scores |",
                  "|---|---|---|"]
        for name, result in tasks.items():
            scores = ", ".join(f"{key} {_fraction(result.get(key))}"
                               for key in _CARD_METRICS.get(result.get("kind"), ())
                               if key in result)
            lines.append(f"| {name} | {result.get('kind')} | {scores} |")
    return lines + [""]


def _fraction(value) -> str:
    return f"{value:.4f}" if value is not None else "-"


def _score(value) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) else "-"


def _format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(_format_value(v) for v in value) + "]"
    return str(value)


def _hyperparameters(hyperparameters: dict) -> str:
    parts = []
    for key, value in hyperparameters.items():
        if value is None:
            continue
        if key == "optimizer":
            parts.append("optimizer " + ", ".join(f"{k}={_format_value(v)}"
                                                  for k, v in value.items()
                                                  if v not in ([], None)))
        else:
            parts.append(f"{key}={_format_value(value)}")
    return "; ".join(parts)


def _data(data: dict) -> str:
    if "corpus" in data:
        files = ", ".join(data["corpus"]) or "-"
        sentences = data.get("sentences")
        return f"{files} ({sentences:,} sentences)" if sentences else files
    sources = ", ".join(data.get("sources", [])) or "-"
    count = data.get("pairs") or data.get("examples")
    if "parallel" in data:  # align: sentences, or (source, translation) lines
        count = data.get("lines", 0) - data.get("blank_lines_skipped", 0)
        unit = "sentence pairs" if data["parallel"] else "sentences"
        return f"{sources} ({count:,} {unit})" if count else sources
    return f"{sources} ({count:,} pairs)" if count else sources


def _usage(model_id: str, pooling: str, max_length: int, settings: dict) -> str:
    if pooling == "cls":
        torch_pool = "embeddings = output.last_hidden_state[:, 0]"
        tf_pool = "embeddings = output.last_hidden_state[:, 0]"
    else:
        torch_pool = ("mask = batch[\"attention_mask\"].unsqueeze(-1).float()\n"
                      "embeddings = (output.last_hidden_state * mask).sum(1) / "
                      "mask.sum(1).clamp(min=1e-9)")
        tf_pool = ("mask = tf.cast(batch[\"attention_mask\"], tf.float32)[:, :, None]\n"
                   "embeddings = tf.reduce_sum(output.last_hidden_state * mask, 1) / "
                   "tf.reduce_sum(mask, 1)")
    notes = []
    if settings.get("projection"):
        notes.append("then the projection: `embeddings @ W.T + b`, with `linear.weight` (W) and "
                     "`linear.bias` (b) from `2_Dense/model.safetensors`")
    if settings.get("template"):
        notes.append(f"fill in the prompt template `{settings['template']}` first")
    extra = ("With `transformers`: " + "; ".join(notes) + ". `ct` does both; "
             "sentence-transformers applies the projection, and the template when it is a "
             "prefix.\n\n") if notes else ""
    return f"""## How to use

With [sentence-transformers](https://www.sbert.net):

```python
from sentence_transformers import SentenceTransformer

model = SentenceTransformer("{model_id}")
embeddings = model.encode(["A man is playing a guitar.", "Someone plays music."])
```

With PyTorch `transformers` ({pooling} pooling, as in training):

```python
import torch
from transformers import AutoModel, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("{model_id}")
model = AutoModel.from_pretrained("{model_id}")
batch = tokenizer(["A man is playing a guitar."], padding=True, truncation=True,
                  max_length={max_length}, return_tensors="pt")
with torch.no_grad():
    output = model(**batch)
{torch_pool}
```

With TensorFlow `transformers` (4.x; version 5 has no TensorFlow classes):

```python
import tensorflow as tf
from transformers import AutoTokenizer, TFAutoModel

tokenizer = AutoTokenizer.from_pretrained("{model_id}")
# use_safetensors=False reads tf_model.h5; without it transformers converts the PyTorch
# weights, which needs torch
model = TFAutoModel.from_pretrained("{model_id}", use_safetensors=False)
batch = tokenizer(["A man is playing a guitar."], padding=True, truncation=True,
                  max_length={max_length}, return_tensors="tf")
output = model(**batch)
{tf_pool}
```

With `ct`:

```python
from ct import SentenceEncoder

encoder = SentenceEncoder.from_pretrained("{model_id}")
embeddings = encoder.encode(["A man is playing a guitar."])
```

{extra}"""


def build_model_card(record: Optional[dict], model_id: str,
                     encoder_settings: Optional[dict] = None) -> str:
    """Returns the model card's Markdown.

    Args:
        record: the training record (``ct_training.json``), or None for a model exported
            without a ``ct`` training run.
        model_id: what users pass to ``from_pretrained`` (a hub repo id or a folder).
        encoder_settings: the folder's ``ct_encoder.json``: how the model encodes (pooling,
            max length, projection, template).
    """
    record = record or {}
    settings = encoder_settings or {}
    pooling = settings.get("pooling") or record.get("pooling") or "mean"
    max_length = settings.get("max_length") or record.get("max_length") or 75
    base_name, base_hub_id = _base_model(record.get("base_model"))
    stages = record.get("stages", [])
    # ct trains at the paper's 75 tokens; the model serves at its base model's length
    trained_length = (f" (trained at {record['max_length']})" if stages and record.get(
        "max_length") and record["max_length"] != max_length else "")
    header = ["---", "library_name: sentence-transformers", "pipeline_tag: sentence-similarity",
              "tags:", "- sentence-transformers", "- feature-extraction",
              "- sentence-similarity", "- contrastive-tension", "- ct"]
    if base_hub_id:
        header.append(f"base_model: {base_hub_id}")
    header.append("---")
    title = model_id.rstrip("/").split("/")[-1]
    lines = [*header, "", f"# {title}", ""]
    if stages:
        names = " then ".join(stage["name"].upper() if stage["name"] != "stsb" else "STS-B"
                              for stage in stages)
        lines += [f"A sentence encoder trained with `ct` ({names}, Contrastive Tension for TensorFlow) from "
                  f"{base_name}. It maps a sentence to a vector; compare vectors with cosine "
                  "similarity.", ""]
    else:
        lines += [f"A sentence encoder exported by ct from {base_name}; it was not trained "
                  "by ct.", ""]
    lines += ["| | |", "|---|---|", f"| base model | {base_name} |",
              f"| pooling | {pooling} (over non-padding tokens) |" if pooling == "mean"
              else f"| pooling | {pooling} |",
              f"| max length | {max_length} tokens{trained_length} |", "| similarity | cosine |"]
    if settings.get("projection"):
        lines.append(f"| projection | linear, to {settings.get('embedding_dim')} dimensions "
                     "(`2_Dense/`, a sentence-transformers Dense module) |")
    template = settings.get("template")
    if template:
        prefix = template_prefix(template)
        how = ("sentence-transformers applies it as its default prompt" if prefix is not None
               else "apply it yourself outside ct: sentence-transformers prompts are prefixes")
        lines.append(f"| prompt template | `{template}` (`ct` fills it in; {how}) |")
    lines.append("")
    if stages:
        lines += ["## Training", "",
                  "| stage | objective | steps | data | hyperparameters |",
                  "|---|---|---|---|---|"]
        for stage in stages:
            lines.append(f"| {stage['stage']}. {stage['name']} | {stage['objective']} | "
                         f"{stage.get('steps_trained')} | {_data(stage.get('data', {}))} | "
                         f"{_hyperparameters(stage.get('hyperparameters', {}))} |")
        custom = [stage for stage in stages
                  if stage.get("selection_metric", _STSB_METRIC) != _STSB_METRIC]
        kept_by = ("the kept model is the one with the best score" if not custom else
                   f"the kept model is the one with the best `{custom[-1]['selection_metric']}`"
                   " (see Selection)")
        lines += ["", "## Results", "",
                  f"Spearman correlation x100 of cosine similarity with the gold scores on "
                  f"STS-B dev (`{record.get('sts_dev') or 'not evaluated'}`), measured by the "
                  f"training run before and after each stage; {kept_by}.", "",
                  "| stage | STS-B dev before | STS-B dev after (kept) | kept |",
                  "|---|---|---|---|"]
        for stage in stages:
            kept = stage.get("kept") or {}
            kept_text = (f"model {kept.get('model')} at step {kept.get('step')}"
                         if kept else "-")
            lines.append(f"| {stage['stage']}. {stage['name']} | "
                         f"{_score(stage.get('stsb_dev_before'))} | "
                         f"{_score(stage.get('stsb_dev_after'))} | {kept_text} |")
        lines.append("")
        if custom:
            lines += _selection_section(stages)
    lines.append(_usage(model_id, pooling, max_length, settings))
    lines += ["## Citation", "", "Contrastive Tension: Fredrik Carlsson, Amaru Cuba Gyllensten, "
              "Evangelia Gogoulou, Erik Ylipää Hellqvist, Magnus Sahlgren. *Semantic Re-tuning "
              "with Contrastive Tension*. ICLR 2021.", ""]
    return "\n".join(lines)


def write_model_card(directory: str | Path, record: Optional[dict],
                     model_id: Optional[str] = None) -> Path:
    """Writes ``README.md`` into a saved model folder (read for its ``ct_encoder.json``);
    ``model_id`` defaults to the folder's path."""
    directory = Path(directory)
    settings = read_encoder_settings(directory)
    path = directory / MODEL_CARD
    path.write_text(build_model_card(record, model_id or str(directory), settings))
    return path
