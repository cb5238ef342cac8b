"""Float32 copies of encoders trained under a mixed-precision policy, for model selection.

Under ``mixed_bfloat16`` or ``mixed_float16`` the encoders compute in 16 bits, while the
models a run publishes (``best/``, ``final/``) hold the same float32 weights and compute in
float32 wherever they are loaded. Scoring the 16-bit encoders would keep a checkpoint by a
score the published model does not have (they differ in the second decimal of STS-B
Spearman). Model selection therefore scores a float32 copy of each encoder, refreshed with the
training weights before every evaluation: the kept score is the exported model's score.

Example:
    >>> copy = Float32Copy(encoder)
    >>> evaluator(copy.refreshed())
"""

from __future__ import annotations

from ct._keras import keras
from ct.modeling.encoder import SentenceEncoder
from ct.modeling.loading import backbone_from_config
from ct.modeling.projection import build_projection


def computes_in_float32(encoder: SentenceEncoder) -> bool:
    """True if the encoder's backbone computes in float32 (no mixed-precision policy)."""
    return encoder.backbone.compute_dtype == "float32"


class Float32Copy:
    """A float32 twin of ``encoder`` (same architecture, pooling, max length, projection and
    template) that takes the encoder's weights on :meth:`refreshed`."""

    def __init__(self, encoder: SentenceEncoder):
        self.source = encoder
        previous = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy("float32")
        try:
            backbone = backbone_from_config(encoder.backbone.config)
            projection = (build_projection(encoder.hidden_size, int(encoder.projection.units))
                          if encoder.projection is not None else None)
            self.encoder = SentenceEncoder(backbone, encoder.tokenizer, pooling=encoder.pooling,
                                           max_length=encoder.max_length,
                                           projection=projection, template=encoder.template,
                                           name=f"{encoder.name}_float32")
        finally:
            keras.mixed_precision.set_global_policy(previous)
        self.encoder.training_record = encoder.training_record

    def refreshed(self) -> SentenceEncoder:
        """The float32 copy, holding the source encoder's current weights."""
        pairs = [(self.encoder.backbone, self.source.backbone)]
        if self.source.projection is not None:
            pairs.append((self.encoder.projection, self.source.projection))
        for target, source in pairs:
            weights = source.get_weights()
            shapes = [w.shape for w in weights], [tuple(v.shape) for v in target.weights]
            if shapes[0] != shapes[1]:
                raise RuntimeError(f"float32 copy of {self.source.name}: weight shapes differ")
            target.set_weights(weights)
        return self.encoder


def scoring_encoder(encoder: SentenceEncoder, copies: dict) -> SentenceEncoder:
    """The encoder to score for model selection: ``encoder`` itself in float32, else its
    float32 copy (kept in ``copies``, by encoder name) with the current weights."""
    if computes_in_float32(encoder):
        return encoder
    if encoder.name not in copies:
        copies[encoder.name] = Float32Copy(encoder)
    return copies[encoder.name].refreshed()
