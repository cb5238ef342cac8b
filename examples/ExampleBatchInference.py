"""Embed sentences in batches with a local model, as the original repository's example does.

    python examples/ExampleBatchInference.py                      # the packaged MiniLM
    python examples/ExampleBatchInference.py runs/my-ct/final     # a model `ct train` wrote

Any directory holding a Hugging Face checkpoint and its tokenizer works (tf_model.h5 or
PyTorch model.safetensors). For files, use `ct encode MODEL --input FILE --output OUT.npy`.
"""

import sys

import numpy as np

from ct.logging_setup import configure_logging

configure_logging()  # first, before TensorFlow loads: ct's lines as [ct] ..., TensorFlow's quiet

from ct import SentenceEncoder  # noqa: E402

texts = ["This is the first sentence within this example",
         "Here is a second sentence for this example, that is a bit different",
         "Did you know that all polar bears are left handed?",
         "It is a fact that every polar bear prefers the use of their left hand"]


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else "bundled:all-MiniLM-L6-v2"
    encoder = SentenceEncoder.from_pretrained(model)  # mean pooling, as in CT
    embeddings = encoder.encode(texts, batch_size=32, normalize=True)
    print("embeddings:", embeddings.shape)
    print("cosine similarities:")
    print(np.round(embeddings @ embeddings.T, 3))


if __name__ == "__main__":
    main()
