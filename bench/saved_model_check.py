"""Embeds sentences with a ct SavedModel export using only tensorflow and tensorflow-text.

Nothing from ct or transformers is imported (with ``--block``, importing them, tf-keras,
torch or sentence-transformers fails): this is what a TensorFlow user's environment runs. Run
it in a fresh venv with just ``tensorflow==2.20.0 tensorflow-text==2.20.1`` to check an
export before shipping it, or from the tests (tests/test_saved_model.py).

    python bench/saved_model_check.py exports/minilm-savedmodel --input held_out.txt \
        --out vectors.npy [--ids ids.npz --ids-out from_ids.npy] [--block]
"""

import argparse
import importlib.abc
import sys

BLOCKED = ("ct", "transformers", "tf_keras", "torch", "sentence_transformers")


class _Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked: the export must run without it")
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="a SavedModel folder written by ct export")
    parser.add_argument("--input", required=True, help="UTF-8 text, one sentence a line")
    parser.add_argument("--out", required=True, help="embeddings of serving_default (.npy)")
    parser.add_argument("--ids", help="an .npz with input_ids and attention_mask for from_ids")
    parser.add_argument("--ids-out", help="embeddings of from_ids (.npy)")
    parser.add_argument("--block", action="store_true",
                        help="fail on any import of " + ", ".join(BLOCKED))
    args = parser.parse_args()
    if args.block:
        sys.meta_path.insert(0, _Blocker())
    import numpy as np
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer ops)

    model = tf.saved_model.load(args.model)
    with open(args.input, encoding="utf-8") as handle:
        sentences = handle.read().split("\n")  # not splitlines(): "\u2028" is in a line
    if sentences[-1] == "":
        sentences.pop()
    embed = model.signatures["serving_default"]
    vectors = [embed(sentences=tf.constant(sentences[i:i + 64]))["embeddings"].numpy()
               for i in range(0, len(sentences), 64)]
    np.save(args.out, np.concatenate(vectors))
    if args.ids:
        ids = np.load(args.ids)
        out = model.signatures["from_ids"](input_ids=tf.constant(ids["input_ids"]),
                                           attention_mask=tf.constant(ids["attention_mask"]))
        np.save(args.ids_out, out["embeddings"].numpy())
    print(f"tensorflow {tf.__version__}, tensorflow-text {tensorflow_text.__version__}: "
          f"{len(sentences)} sentences -> {args.out}; loaded modules from ct/transformers: "
          f"{sorted(m for m in sys.modules if m.split('.')[0] in BLOCKED)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
