"""Train a sentence encoder with Contrastive Tension on your own corpus.

Like the original repository's ExampleTraining.py, but on real text: give a file with one
sentence per line (or several files / a glob), and a BERT-family checkpoint (a local directory,
a hub name, or the packaged all-MiniLM-L6-v2). The kept model is written to OUTPUT/final and
then used to embed a few sentences.

    python examples/ExampleTraining.py my_corpus.txt --steps 2000 --output runs/my-ct
    python examples/ExampleTraining.py "data/*.txt" --model path/to/bert-base-uncased
"""

import argparse
from pathlib import Path

import numpy as np

from ct.logging_setup import configure_logging

configure_logging()  # first, before TensorFlow loads: ct's lines as [ct] ..., TensorFlow's quiet

from ct import CTTrainer, SentenceEncoder, load_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="+", help="text file(s) or glob(s), one sentence a line")
    parser.add_argument("--model", default="bundled:all-MiniLM-L6-v2")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--output", default="runs/example-training")
    args = parser.parse_args()

    # The paper's hyperparameters, with our model, corpus and training length.
    paper_config = Path(__file__).resolve().parents[1] / "configs" / "ct_paper.yaml"
    config = load_config(paper_config, overrides=[
        f"model={args.model}", f"steps={args.steps}", f"eval_every={max(args.steps // 5, 1)}"])
    config.corpus = list(args.corpus)
    summary = CTTrainer(config, args.output).train()
    print("STS-B dev before:", summary["stsb_dev"]["before"])
    print("STS-B dev after: ", summary["stsb_dev"]["after"])
    print("kept:", summary["kept"])
    print("training curves:", Path(args.output) / "curves.png")

    encoder = SentenceEncoder.from_pretrained(summary["final_model"])
    sentences = ["A man is playing a guitar.", "Someone plays an instrument.",
                 "The stock market fell sharply today."]
    vectors = encoder.encode(sentences, normalize=True)
    print("cosine similarities:\n", np.round(vectors @ vectors.T, 3))


if __name__ == "__main__":
    main()
