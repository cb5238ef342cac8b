"""Training data from tensorflow-datasets: NLI pairs, STS pairs and CT sentences.

Any stage can read its data from TFDS by name and split (``snli``, ``multi_nli``,
``glue/stsb``, ``wikipedia/20230601.en``, ...). ct never downloads unless asked
(``download: true``): a dataset that is not prepared in ``data_dir`` is reported with the
command that prepares it. Features are recognised by their usual names:

- NLI: ``premise``/``hypothesis`` (or ``sentence1``/``sentence2``) and a ``label``
  ``ClassLabel`` whose names are entailment, neutral and contradiction; label -1 (no gold
  label) is skipped and counted.
- STS: ``sentence1``/``sentence2`` and a float ``label`` from 0 to 5 (``glue/stsb``); -1 (the
  unlabelled test split) is skipped and counted.
- CT corpus: one text feature (``text_field``, or the dataset's only text feature); each value
  is split into lines, so a Wikipedia article gives one sentence-like unit per paragraph
  (truncated to ``max_length`` tokens in training).

Example:
    >>> pairs = tfds_nli_pairs(TFDSSource(name="snli", split="train"), key="nli.train_tfds")
"""

from __future__ import annotations

import difflib
import logging
import re
from pathlib import Path
from typing import Iterator

import numpy as np

from ct._keras import tf
from ct.config import TFDSSource
from ct.data.nli import NLI_LABELS, NLIPairs
from ct.data.sts import STSPairs
from ct.errors import DataError

logger = logging.getLogger(__name__)

_PAIR_FIELDS = (("premise", "hypothesis"), ("sentence1", "sentence2"))


def import_tfds():
    """Imports tensorflow_datasets, or raises a DataError with the install line."""
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise DataError("reading data from tensorflow-datasets needs the package: "
                        "pip install tensorflow-datasets") from None
    return tfds


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split("\n")[0].split())


def load_tfds(source: TFDSSource, key: str):
    """Opens ``source`` as a ``tf.data.Dataset`` of feature dicts, in a fixed order.

    Args:
        source: name, split, data_dir and download flag.
        key: the config key, for error messages (``nli.train_tfds``).

    Returns:
        ``(dataset, features)``: the split and the builder's ``FeaturesDict``.

    Raises:
        DataError: an unknown name, config or split; a dataset not prepared (with the command
            that prepares it); a failed download.
    """
    tfds = import_tfds()
    if not source.name:
        raise DataError(f"{key}.name is empty: name a tensorflow-datasets dataset")
    try:
        builder = tfds.builder(source.name, data_dir=source.data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        known = tfds.list_builders()
        close = difflib.get_close_matches(source.name.split("/")[0], known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise DataError(f"{key}.name: tensorflow-datasets has no dataset named "
                        f"{source.name!r}{hint}") from None
    except (ValueError, AssertionError) as exc:  # unknown config or version
        raise DataError(f"{key}.name: {source.name!r}: {_one_line(exc)}") from None
    if source.download:
        try:
            builder.download_and_prepare()
        except Exception as exc:  # network, disk, manual-download datasets
            raise DataError(f"{key}: could not download and prepare {source.name!r}: "
                            f"{_one_line(exc)}") from None
    _check_split(builder, source, key)
    try:
        dataset = builder.as_dataset(split=source.split, shuffle_files=False)
    except AssertionError:
        folder = source.data_dir or "~/tensorflow_datasets"
        raise DataError(
            f"{key}: tensorflow-datasets {source.name!r} is not prepared in {folder}; prepare "
            f"it once with `tfds build {source.name} --data_dir {folder}` (needs network) or "
            f"set {key}.download: true") from None
    except (ValueError, KeyError) as exc:
        raise DataError(f"{key}.split {source.split!r} of {source.name!r}: "
                        f"{_one_line(exc)}") from None
    options = _deterministic_options()
    return dataset.with_options(options), builder.info.features


def _deterministic_options():
    options = tf.data.Options()
    options.deterministic = True
    return options


def _check_split(builder, source: TFDSSource, key: str) -> None:
    """Names the available splits when the requested one does not exist (prepared data)."""
    available = list(builder.info.splits.keys())
    if not available:  # not prepared yet (or mocked): as_dataset decides
        return
    for part in source.split.split("+"):
        name = re.split(r"[\[(]", part, maxsplit=1)[0].strip()
        if name not in available:
            raise DataError(f"{key}.split: {source.name!r} has no split {name!r}; splits: "
                            f"{', '.join(sorted(available))}")


def _iter_examples(dataset) -> Iterator[dict]:
    tfds = import_tfds()
    return iter(tfds.as_numpy(dataset))


def _text(value) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _text_features(features) -> list[str]:
    tfds = import_tfds()
    return [name for name, feature in features.items()
            if isinstance(feature, tfds.features.Text)
            or getattr(feature, "dtype", None) == np.dtype(object)
            or str(getattr(feature, "dtype", "")) in ("string", "<dtype: 'string'>")]


def _pair_fields(features, source: TFDSSource, key: str) -> tuple[str, str]:
    for first, second in _PAIR_FIELDS:
        if first in features and second in features:
            return first, second
    raise DataError(f"{key}: {source.name!r} has no sentence-pair features (premise/hypothesis "
                    f"or sentence1/sentence2); features: {', '.join(features.keys())}")


def tfds_nli_pairs(source: TFDSSource, key: str) -> NLIPairs:
    """Reads an NLI dataset (``snli``, ``multi_nli``, ...) into :class:`NLIPairs`.

    Raises:
        DataError: see :func:`load_tfds`; no pair features; a label feature whose names are not
            entailment/neutral/contradiction.
    """
    dataset, features = load_tfds(source, key)
    first, second = _pair_fields(features, source, key)
    label_feature = features["label"] if "label" in features else None
    names = list(getattr(label_feature, "names", None) or [])
    if sorted(names) != sorted(NLI_LABELS):
        raise DataError(f"{key}: {source.name!r} is not an NLI dataset: its label feature has "
                        f"names {names or 'none'}; expected {', '.join(NLI_LABELS)}")
    to_ours = {index: NLI_LABELS.index(name) for index, name in enumerate(names)}
    premises, hypotheses, labels, skipped = [], [], [], 0
    for example in _iter_examples(dataset):
        label = int(example["label"])
        premise, hypothesis = _text(example[first]).strip(), _text(example[second]).strip()
        if label not in to_ours or not premise or not hypothesis:
            skipped += 1
            continue
        premises.append(premise)
        hypotheses.append(hypothesis)
        labels.append(to_ours[label])
    where = f"tfds:{source.name}[{source.split}]"
    if not labels:
        raise DataError(f"{key}: {where} holds no labelled NLI pairs")
    return NLIPairs(premises=premises, hypotheses=hypotheses,
                    labels=labels, num_skipped=skipped,
                    sources=[where])


def tfds_sts_pairs(source: TFDSSource, key: str) -> tuple[STSPairs, int]:
    """Reads an STS dataset (``glue/stsb``) into :class:`STSPairs`; returns it and the number
    of pairs skipped for having no gold score."""
    dataset, features = load_tfds(source, key)
    first, second = _pair_fields(features, source, key)
    if "label" not in features:
        raise DataError(f"{key}: {source.name!r} has no 'label' feature with the gold score")
    where = f"tfds:{source.name}[{source.split}]"
    pairs, skipped = STSPairs([], [], [], where), 0
    for example in _iter_examples(dataset):
        score = float(example["label"])
        sentence_1, sentence_2 = _text(example[first]).strip(), _text(example[second]).strip()
        if score < 0 or not sentence_1 or not sentence_2:
            skipped += 1
            continue
        pairs.add(sentence_1, sentence_2, score)
    if not len(pairs):
        raise DataError(f"{key}: {where} holds no scored pairs (glue/stsb's test split is "
                        "unlabelled; use train or validation)")
    return pairs, skipped


def tfds_text_field(source: TFDSSource, key: str, features) -> str:
    """The feature that holds a CT corpus' text: ``text_field``, or the only text feature."""
    texts = _text_features(features)
    if source.text_field:
        if source.text_field not in features:
            raise DataError(f"{key}.text_field: {source.name!r} has no feature "
                            f"{source.text_field!r}; text features: {', '.join(texts) or 'none'}")
        return source.text_field
    if len(texts) == 1:
        return texts[0]
    if "text" in texts:
        return "text"
    raise DataError(f"{key}: {source.name!r} has text features {', '.join(texts) or 'none'}; "
                    f"set {key}.text_field to the one holding the corpus")


def iter_tfds_sentences(source: TFDSSource, key: str = "corpus_tfds") -> Iterator[str]:
    """Yields the non-empty lines of a text feature, example after example."""
    dataset, features = load_tfds(source, key)
    field = tfds_text_field(source, key, features)
    for example in _iter_examples(dataset.map(lambda example: example[field])):
        for line in _text(example).split("\n"):
            yield line


def tfds_identity(source: TFDSSource) -> dict:
    """What identifies a TFDS corpus' content for its index: name (with the prepared
    version), split, data folder and text field."""
    tfds = import_tfds()
    try:
        version = str(tfds.builder(source.name, data_dir=source.data_dir).version)
    except Exception:  # an unknown name is reported by load_tfds with a proper message
        version = None
    return {"tfds": source.name, "version": version, "split": source.split,
            "data_dir": str(Path(source.data_dir).expanduser().resolve())
            if source.data_dir else None, "text_field": source.text_field}
