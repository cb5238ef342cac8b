"""A sentence encoder: a Hugging Face TF backbone, its tokenizer and a pooling mode.

One encoder object serves training (its ``call`` is differentiable and graph-friendly),
training-time evaluation and batch inference (``encode``), so embeddings are computed by one
code path everywhere.

Example:
    >>> encoder = SentenceEncoder.from_pretrained("bundled:all-MiniLM-L6-v2")
    >>> vectors = encoder.encode(["A man is playing a guitar.", "A dog runs."])
    >>> vectors.shape
    (2, 384)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from ct._keras import keras, tf
from ct.data.tokenization import token_counts, tokenize_batch
from ct.files import apply_ordinary_permissions
from ct.modeling.length_buckets import embed_in_length_buckets
from ct.modeling.loading import load_backbone, load_tokenizer, resolve_model_dir
from ct.modeling.model_folder import (read_encoder_settings, read_training_record,
                                      write_encoder_settings)
from ct.modeling.pooling import get_pooling
from ct.modeling.projection import build_projection, load_projection, save_projection
from ct.modeling.pytorch_layout import save_safetensors
from ct.modeling.sentence_transformers_layout import (NORMALIZE_MODULE,
                                                      write_sentence_transformers_files)
from ct.progress import Progress, as_mode
from ct.templates import fill_template


@tf.autograph.experimental.do_not_convert
def _call_backbone(backbone, **inputs):
    """``backbone(**inputs)`` without AutoGraph: a Hugging Face TF model's code has no tensor-
    dependent Python control flow, and converting its source in every traced step (train,
    evaluation, export) was about a third of a short run's time."""
    return backbone(**inputs)


logger = logging.getLogger(__name__)


class SentenceEncoder(keras.layers.Layer):
    """Backbone + tokenizer + pooling.

    Args:
        backbone: a transformers TF model (``TFAutoModel``).
        tokenizer: the matching transformers tokenizer.
        pooling: ``"mean"`` (attention-masked mean, the CT paper's choice) or ``"cls"``.
        max_length: truncation length in tokens (CT paper: 75).
        projection: an optional linear layer applied after pooling (the ``align`` stage's
            map onto a target dimension; see :mod:`ct.modeling.projection`).
        template: an optional prompt template such as ``"This is a photo of {}."``, applied
            to every text :meth:`encode` embeds (KoCLIP found templates help short queries).
        normalize_output: the model serves L2-normalised vectors (its sentence-transformers
            modules end in ``Normalize``, as all-MiniLM-L6-v2's do): kept on :meth:`save`, so
            an export serves as its base did, and applied by ``ct encode``. Training and
            :meth:`encode` (unless asked) use the unnormalised vectors.
        serving_max_length: the truncation length :meth:`save` writes (``max_seq_length`` of
            the sentence-transformers files and ct's own), when it differs from the one this
            encoder truncates at now: training truncates at the paper's 75 tokens, but the
            kept model serves at its base model's length (all-MiniLM-L6-v2: 256) unless the
            config's ``serve_max_length`` says otherwise. None: ``max_length``.

    :meth:`from_pretrained` records the length the folder declared in ``folder_max_length``
    (None if it declared none), whatever ``max_length`` it was asked to truncate at.
    """

    def __init__(self, backbone, tokenizer, pooling: str = "mean", max_length: int = 75,
                 projection=None, template: Optional[str] = None,
                 normalize_output: bool = False, serving_max_length: Optional[int] = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbone
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.max_length = max_length
        self.projection = projection
        self.template = template
        self.normalize_output = bool(normalize_output)
        self.serving_max_length = serving_max_length
        self.folder_max_length: Optional[int] = None  # from_pretrained sets it
        self.length_buckets = 1  # training sets it (see ct.modeling.length_buckets)
        self.jit_compile = False  # training sets it: XLA for call / embed_with_layers
        self._pool = get_pooling(pooling)
        self._embed_functions = {}

    @property
    def training_record(self) -> Optional[dict]:
        """How the loaded checkpoint was trained (its ``ct_training.json``), or None."""
        return self.__dict__.get("_ct_training_record")

    @training_record.setter
    def training_record(self, record: Optional[dict]) -> None:
        # Kept out of Keras' attribute tracking: a plain record, not part of the layer's state.
        self.__dict__["_ct_training_record"] = record

    @classmethod
    def from_pretrained(cls, name_or_path: str, pooling: Optional[str] = None,
                        max_length: Optional[int] = None, template: Optional[str] = None,
                        tokenizer=None, **kwargs) -> "SentenceEncoder":
        """Loads backbone, tokenizer and projection from a directory, hub name or
        ``bundled:`` name.

        Pooling, max length, template and output normalisation default to those saved by
        :meth:`save` (``ct_encoder.json``), else to those of the folder's sentence-transformers
        files (as ``SentenceTransformer`` would use them), else to mean pooling, 75 tokens, no
        template and no normalisation; a pooling other than the saved one is used with a warning. A saved
        projection (``2_Dense/``) is always loaded. ``tokenizer`` skips loading it again.
        """
        model_dir = resolve_model_dir(name_or_path)
        saved = read_encoder_settings(model_dir)
        if pooling and saved.get("pooling") and pooling != saved["pooling"]:
            logger.warning("%s was trained with %s pooling; encoding with %s pooling as asked",
                           name_or_path, saved["pooling"], pooling)
        encoder = cls(load_backbone(str(model_dir)), tokenizer or load_tokenizer(str(model_dir)),
                      pooling=pooling or saved.get("pooling", "mean"),
                      max_length=max_length or saved.get("max_length", 75),
                      projection=load_projection(model_dir),
                      template=template or saved.get("template"),
                      normalize_output=saved.get("normalize", False), **kwargs)
        encoder.training_record = read_training_record(model_dir)
        encoder.folder_max_length = saved.get("max_length")
        return encoder

    # ------------------------------------------------------------------ graph side
    def call(self, inputs: dict, training: bool = False,
             length_buckets: Optional[int] = None) -> tf.Tensor:
        """Pooled embeddings ``[batch, dim]`` for ``input_ids`` and ``attention_mask``.

        With ``length_buckets`` > 1 (default: the encoder's, which training sets), the batch
        is encoded in that many sub-batches of similar length (see
        :mod:`ct.modeling.length_buckets`): the same embeddings with less padding. ``encode``
        passes 1: its batches are already sorted by length."""
        return self._embed(inputs, training, (), length_buckets)

    def embed_with_layers(self, inputs: dict, training: bool = False, layers=None,
                          length_buckets: Optional[int] = None) -> tuple[tf.Tensor, tf.Tensor]:
        """``(embeddings [batch, dim], pooled layer outputs [batch, len(layers) x hidden])``:
        the embeddings of :meth:`call` and the pooled output of each of ``layers`` (0-based
        transformer layers; default all), for layer-matching distillation; in the encoder's
        length buckets, as :meth:`call`."""
        if layers is None:
            layers = range(int(self.backbone.config.num_hidden_layers))  # aliased per model
        both = self._embed(inputs, training, tuple(layers), length_buckets)
        return both[:, :self.embedding_dim], both[:, self.embedding_dim:]

    def _embed(self, inputs: dict, training: bool, layers: tuple,
               length_buckets: Optional[int], jit_compile: Optional[bool] = None) -> tf.Tensor:
        """The embeddings, then (with ``layers``) those layers' pooled outputs in float32,
        ``[batch, dim + len(layers) x hidden]``, in ``length_buckets`` sub-batches, each pass
        XLA-compiled with ``jit_compile`` (default: the encoder's, which training sets)."""
        jit_compile = self.jit_compile if jit_compile is None else jit_compile
        if jit_compile:
            embed = self._compiled_embed_batch(bool(training), layers)
        else:
            def embed(input_ids, attention_mask):
                return self._embed_batch(input_ids, attention_mask, training, layers)
        buckets = self.length_buckets if length_buckets is None else length_buckets
        return embed_in_length_buckets(embed, inputs["input_ids"], inputs["attention_mask"],
                                       buckets)

    def _embed_batch(self, input_ids, attention_mask, training: bool, layers: tuple):
        """One padded (sub-)batch through backbone, pooling and projection (see _embed)."""
        outputs = _call_backbone(self.backbone, input_ids=input_ids,
                                 attention_mask=attention_mask, training=training,
                                 output_hidden_states=bool(layers))
        pooled = self._pool(outputs[0], attention_mask)
        embeddings = self.projection(pooled) if self.projection is not None else pooled
        if not layers:
            return embeddings
        hidden = outputs.hidden_states[1:]  # [0] is the embedding layer's output
        return tf.concat([tf.cast(embeddings, tf.float32)]
                         + [tf.cast(self._pool(hidden[i], attention_mask), tf.float32)
                            for i in layers], axis=-1)

    def _compiled_embed_batch(self, training: bool, layers: tuple):
        """:meth:`_embed_batch` as an XLA-compiled ``tf.function`` (one per setting)."""
        key = f"xla:{training}:" + ",".join(map(str, layers))  # string keys: Keras tracks it
        if key not in self._embed_functions:
            def embed(input_ids, attention_mask):
                return self._embed_batch(input_ids, attention_mask, training, layers)

            self._embed_functions[key] = tf.function(embed, jit_compile=True)
        return self._embed_functions[key]

    @property
    def hidden_size(self) -> int:
        """Size of the pooled backbone output (before any projection)."""
        config = self.backbone.config
        return int(config.hidden_size if hasattr(config, "hidden_size") else config.dim)

    @property
    def embedding_dim(self) -> int:
        """Size of the embedding ``encode`` returns (the projection's, if there is one)."""
        return int(self.projection.units) if self.projection is not None else self.hidden_size

    def add_projection(self, units: int) -> None:
        """Adds a new (randomly initialised) linear projection onto ``units`` dimensions."""
        self.projection = build_projection(self.hidden_size, units)
        self._embed_functions = {}

    def apply_template(self, texts: Sequence[str]) -> list[str]:
        """``texts`` with the prompt template filled in (unchanged without a template)."""
        return fill_template(self.template, texts)

    # ------------------------------------------------------------------ Python side
    def tokenize(self, texts: Sequence[str], padding: str | bool = "longest") -> dict:
        """Tokenizes ``texts`` to int32 NumPy ``input_ids`` and ``attention_mask``, padded on
        the right (see :func:`ct.data.tokenization.tokenize_batch`)."""
        input_ids, attention_mask = tokenize_batch(self.tokenizer, texts, self.max_length,
                                                   padding)
        return {"input_ids": input_ids, "attention_mask": attention_mask}

    def encode(self, texts: Sequence[str], batch_size: int = 64, normalize: bool = False,
               show_progress: bool = False,
               on_batch: Optional[Callable[[int], None]] = None,
               layers: Sequence[int] = ()) -> np.ndarray:
        """Embeds ``texts``; returns a float32 array ``[len(texts), dim]`` in input order.

        Sentences are batched by length (less padding, faster) and put back in input order.

        Args:
            texts: sentences to embed.
            batch_size: sentences per forward pass.
            normalize: L2-normalise each vector.
            show_progress: show progress: True (a bar on a terminal, else lines) or a mode of
                :mod:`ct.progress`.
            on_batch: called with the number of sentences after each batch (progress hooks).
            layers: also return the mean-pooled output of each of these 0-based transformer
                layers, after the vector, from the same forward pass: ``[len(texts), dim +
                len(layers) x hidden]`` (a teacher's targets for layer matching; ``normalize``
                applies to the vector only).

        With a prompt ``template``, each text is embedded as the filled-in template.
        """
        texts = self.apply_template(texts)
        layers = tuple(int(i) for i in layers)
        width = self.embedding_dim + len(layers) * self.hidden_size
        if not texts:
            return np.zeros((0, width), np.float32)
        lengths = token_counts(self.tokenizer, texts, self.max_length)
        order = np.argsort(lengths, kind="stable")[::-1]
        embed = self._get_embed_function(layers)
        vectors = np.zeros((len(texts), width), np.float32)
        progress = Progress("encoding", total=len(texts), unit="sentence",
                            mode=as_mode(show_progress), every=batch_size * 50, leave=False)
        for start in range(0, len(texts), batch_size):
            index = order[start:start + batch_size]
            batch = self.tokenize([texts[i] for i in index])
            vectors[index] = embed(tf.constant(batch["input_ids"]),
                                   tf.constant(batch["attention_mask"])).numpy()
            progress.advance(len(index))
            if on_batch is not None:
                on_batch(len(index))
        progress.close()
        if normalize:
            head = vectors[:, :self.embedding_dim]
            head /= np.maximum(np.linalg.norm(head, axis=1, keepdims=True), 1e-12)
        return vectors

    def _get_embed_function(self, layers: tuple = ()):
        key = "layers:" + ",".join(map(str, layers))  # string keys: Keras tracks the dict
        if key not in self._embed_functions:
            spec = tf.TensorSpec([None, None], tf.int32)

            @tf.function(input_signature=[spec, spec])
            def embed(input_ids, attention_mask):
                inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
                return tf.cast(self._embed(inputs, False, layers, 1, jit_compile=False),
                               tf.float32)

            self._embed_functions[key] = embed
        return self._embed_functions[key]

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | os.PathLike) -> Path:
        """Writes a folder that loads in TF and PyTorch ``transformers`` and in
        ``sentence-transformers``, with the same vectors.

        The folder holds ``config.json``, the TF weights (``tf_model.h5``), the same weights in
        PyTorch layout (``model.safetensors``, converted with NumPy, no torch), the tokenizer,
        the sentence-transformers module files (pooling, the max length it serves at, the
        projection as a ``Dense`` module, and ``Normalize`` if the model normalises) and ``ct_encoder.json`` (pooling, max length,
        template, projection size) for ``ct``, with ordinary file permissions. A model card is
        added by :func:`ct.export.save.export_model` and at the end of ``ct train``; upload
        with :func:`ct.export.hub.push_to_hub`.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.backbone.save_pretrained(directory)
        save_safetensors(self.backbone, directory, write_config=False)
        self.tokenizer.save_pretrained(directory)
        extra_modules = ((save_projection(self.projection, directory),)
                         if self.projection is not None else ())
        if self.normalize_output:
            extra_modules += (NORMALIZE_MODULE,)
        max_length = self.serving_max_length or self.max_length
        write_sentence_transformers_files(directory, embedding_dim=self.hidden_size,
                                          pooling=self.pooling, max_length=max_length,
                                          extra_modules=extra_modules, template=self.template)
        settings = {"pooling": self.pooling, "max_length": max_length,
                    "template": self.template, "embedding_dim": self.embedding_dim,
                    "projection": self.projection is not None,
                    "normalize": self.normalize_output}
        write_encoder_settings(directory, settings)
        apply_ordinary_permissions(directory)
        return directory
