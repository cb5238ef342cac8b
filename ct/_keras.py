"""The project's single Keras import point.

transformers' TensorFlow models are tf-keras (Keras 2) models, while TensorFlow >= 2.16 ships
Keras 3 as ``tf.keras``. Mixing the two breaks models in subtle ways, so every module imports
``keras`` and ``tf`` from here and never from ``tensorflow.keras``.
"""

import os

# transformers' TF models need Keras 2: this must be set before TensorFlow and transformers
# are imported, so it is (the one environment change importing ct makes). How much TensorFlow
# itself logs is left to the application: the CLI and the examples quiet it through
# ct.logging_setup.configure_logging.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

__all__ = ["tf", "keras"]
